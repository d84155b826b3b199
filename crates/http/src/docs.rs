//! The API description and the interactive docs page.
//!
//! `/docs` is Swagger UI, its assets compiled into the binary from the
//! `utoipa-swagger-ui-vendored` package (no CDN: it works offline). The page
//! gets a Content-Security-Policy that lets its own scripts and styles run;
//! every other response keeps the API's `default-src 'none'`.

use crate::routes::{Endpoint, Routes};
use actix_web::http::header::{CONTENT_SECURITY_POLICY, LOCATION};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// The docs page's policy: its own assets, the inline styles Swagger UI
/// sets, images from data URIs, and requests to this origin only.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; \
                        base-uri 'none'; form-action 'self'";

/// Any OpenAPI 3.1 document; this one describes Rivet.
#[derive(Debug)]
pub struct OpenApiDocument;

impl utoipa::PartialSchema for OpenApiDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::Type(utoipa::openapi::schema::Type::Object))
            .description(Some("An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)."))
            .into()
    }
}

impl utoipa::ToSchema for OpenApiDocument {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("OpenApiDocument")
    }
}

/// The OpenAPI document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "operations",
    responses(
        (
            status = 200,
            description = "The OpenAPI 3.1 document",
            body = OpenApiDocument,
            content_type = "application/json"
        ),
    ),
)]
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=60")).json(crate::openapi::document())
}

pub(crate) fn register(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/openapi.json").get(openapi_json));
}

/// Mounts Swagger UI at `/docs/` (and redirects `/docs` there).
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    let config = Config::new(["/api/v1/openapi.json"]).persist_authorization(true);
    cfg.service(web::resource("/docs").route(
        web::get().to(|| async { HttpResponse::PermanentRedirect().insert_header((LOCATION, "/docs/")).finish() }),
    ))
    .service(
        // Only `/docs/...` enters this scope, so no other answer (a 404
        // included) gets the docs page's looser policy.
        web::scope("")
            .guard(actix_web::guard::fn_guard(|ctx| ctx.head().uri.path().starts_with("/docs/")))
            .wrap(DefaultHeaders::new().add((CONTENT_SECURITY_POLICY, DOCS_CSP)))
            .service(SwaggerUi::new("/docs/{_:.*}").config(config)),
    );
}
