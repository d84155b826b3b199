//! Files: `/api/v1/todos/{id}/attachments` (the todo owner's, 404 to
//! everyone else) and `/api/v1/products/{id}/image` (public to read,
//! `products:write` to set). Uploads stream into the store; downloads stream
//! out with `Range`, `ETag` and `If-None-Match`.

use super::{API_PREFIX, Endpoint, Routes};
use crate::conditional::versioned;
use crate::dto::files::{AttachmentBody, AttachmentList, AttachmentUpload, FileBytes, ProductImageUpload};
use crate::dto::products::ProductBody;
use crate::error::ApiError;
use crate::extract::{Authenticated, path_id, path_id_named};
use crate::files::{Presentation, download, etag_of, file_part};
use crate::problem::Problem;
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use rivet_auth::Permission;
use rivet_domain::api_key::Scope;
use rivet_domain::files::AttachmentId;
use rivet_domain::product::ProductId;
use rivet_domain::todo::TodoId;

/// The media type of error bodies.
const PROBLEM: &str = "application/problem+json";
/// Attachments are their owner's alone.
const PRIVATE: &str = "private, no-cache";
/// Product images are public; `image_url` carries the content's digest, so
/// a replaced image gets a new URL.
const PUBLIC: &str = "public, max-age=3600";

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/todos/{id}/attachments").get(list_attachments).post(upload_attachment));
    routes.add(Endpoint::new("/api/v1/todos/{id}/attachments/{attachment_id}").get(download_attachment).delete(detach));
    routes.add(Endpoint::new("/api/v1/products/{id}/image").get(product_image).put(set_product_image));
}

fn ids(path: &(String, String)) -> Result<(TodoId, AttachmentId), ApiError> {
    Ok((TodoId(path_id(&path.0)?), AttachmentId(path_id_named(&path.1, "attachment_id")?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/todos/{id}/attachments",
    operation_id = "uploadTodoAttachment",
    tag = "todos",
    summary = "Attach a file to your todo",
    description = "The body streams into the file store; the stored type is detected from the content.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The todo's id")),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The attachment, with its `Location`", body = AttachmentBody),
        (
            status = 409,
            description = "The todo has 20 attachments (`conflict`) or your files would pass the quota \
                (`storage_quota_exceeded`)",
            body = Problem,
            content_type = PROBLEM,
        ),
    ),
)]
pub(crate) async fn upload_attachment(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosWrite)?;
    let todo = TodoId(path_id(&id)?);
    let part = file_part(req.headers(), form, "file").await?;
    let filename = part.filename.clone();
    let owner = who.0.user_id;
    let attachment = part.stream_into(|body| state.files.attach(owner, todo, &filename, body)).await?;
    let location = format!("{API_PREFIX}/todos/{todo}/attachments/{}", attachment.id);
    Ok(HttpResponse::Created().insert_header((LOCATION, location)).json(AttachmentBody::from(attachment)))
}

#[utoipa::path(
    get,
    path = "/api/v1/todos/{id}/attachments",
    operation_id = "listTodoAttachments",
    tag = "todos",
    summary = "The files attached to your todo",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The todo's id")),
    responses((status = 200, description = "Oldest first", body = AttachmentList)),
)]
pub(crate) async fn list_attachments(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosRead)?;
    let items = state.files.attachments(who.0.user_id, TodoId(path_id(&id)?)).await?;
    Ok(HttpResponse::Ok().json(AttachmentList { items: items.into_iter().map(AttachmentBody::from).collect() }))
}

#[utoipa::path(
    get,
    path = "/api/v1/todos/{id}/attachments/{attachment_id}",
    operation_id = "downloadTodoAttachment",
    tag = "todos",
    summary = "Download an attachment",
    description = "Served as `Content-Disposition: attachment` with the type detected at upload and \
        `X-Content-Type-Options: nosniff`. `Range` (one range) answers 206; `If-None-Match` with the `ETag` 304.",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The todo's id"),
        ("attachment_id" = Uuid, Path, description = "The attachment's id"),
        ("Range" = Option<String>, Header, description = "One byte range, `bytes=0-1023`"),
    ),
    responses(
        (status = 200, description = "The file, with its detected type", body = FileBytes, content_type = "*/*"),
        (status = 206, description = "The requested range", body = FileBytes, content_type = "*/*"),
        (status = 304, description = "Unchanged"),
        (
            status = 416,
            description = "The range is outside the file",
            body = Problem,
            content_type = PROBLEM,
        ),
    ),
)]
pub(crate) async fn download_attachment(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosRead)?;
    let (todo, id) = ids(&path)?;
    let attachment = state.files.attachment(who.0.user_id, todo, id).await?;
    let etag = etag_of(&attachment.sha256);
    let (content_type, filename) = (attachment.content_type.clone(), attachment.filename.clone());
    let p = Presentation {
        content_type: &content_type,
        etag: &etag,
        cache_control: PRIVATE,
        attachment_name: Some(&filename),
    };
    download(&state.files, &req, &p, &attachment.key, attachment.size_bytes).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/todos/{id}/attachments/{attachment_id}",
    operation_id = "deleteTodoAttachment",
    tag = "todos",
    summary = "Delete an attachment",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The todo's id"),
        ("attachment_id" = Uuid, Path, description = "The attachment's id"),
    ),
    responses((status = 204, description = "Deleted; the file goes shortly after")),
)]
pub(crate) async fn detach(
    state: web::Data<AppState>,
    who: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosWrite)?;
    let (todo, id) = ids(&path)?;
    state.files.detach(who.0.user_id, todo, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    put,
    path = "/api/v1/products/{id}/image",
    operation_id = "setProductImage",
    tag = "products",
    summary = "Set a product's image (`products:write`)",
    description = "PNG, JPEG or WebP, decided by the content's signature. Replacing an image removes the old one.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product's id")),
    request_body(content = ProductImageUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The product, with its new `image_url`", body = ProductBody),
        (
            status = 415,
            description = "Not multipart/form-data, or not a PNG, JPEG or WebP image",
            body = Problem,
            content_type = PROBLEM,
        ),
    ),
)]
pub(crate) async fn set_product_image(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::ProductsWrite)?;
    let id = ProductId(path_id(&id)?);
    let part = file_part(req.headers(), form, "image").await?;
    let url = req.path().to_owned();
    let product = part.stream_into(|body| state.files.set_product_image(id, &url, body)).await?;
    Ok(versioned(&req, HttpResponse::Ok(), product.version, &ProductBody::from(product)))
}

#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/image",
    operation_id = "getProductImage",
    tag = "products",
    summary = "A product's image (public)",
    security((), ("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The product's id"),
        ("Range" = Option<String>, Header, description = "One byte range, `bytes=0-1023`"),
    ),
    responses(
        (
            status = 200,
            description = "The image, with its type",
            content((FileBytes = "image/png"), (FileBytes = "image/jpeg"), (FileBytes = "image/webp")),
        ),
        (
            status = 206,
            description = "The requested range",
            content((FileBytes = "image/png"), (FileBytes = "image/jpeg"), (FileBytes = "image/webp")),
        ),
        (status = 304, description = "Unchanged"),
        (
            status = 416,
            description = "The range is outside the image",
            body = Problem,
            content_type = PROBLEM,
        ),
    ),
)]
pub(crate) async fn product_image(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ProductId(path_id(&id)?);
    let image = state.files.product_image(id).await?;
    let etag = etag_of(&image.sha256);
    let p = Presentation {
        content_type: image.image_type.mime(),
        etag: &etag,
        cache_control: PUBLIC,
        attachment_name: None,
    };
    download(&state.files, &req, &p, &image.key, image.size_bytes).await
}
