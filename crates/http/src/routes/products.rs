//! `/api/v1/products`: a public catalogue (active products, cacheable for 60
//! s by anyone) maintained by holders of `products:write`.

use super::{API_PREFIX, Endpoint, Routes};
use crate::collection::{Listing, PageBody, PagingParams, ProductPage};
use crate::conditional::{if_match, versioned};
use crate::dto::products::{AdjustStock, CreateProduct, ProductBody, ProductFilterParams, UpdateProduct};
use crate::dto::sets;
use crate::error::{ApiError, Location};
use crate::extract::{Authenticated, Json, MaybePrincipal, path_id};
use crate::idempotency;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, ETAG, LINK, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use rivet_auth::{Permission, Principal};
use rivet_domain::collection::{Sort, search_text};
use rivet_domain::product::{
    Currency, NewProductInput, ProductFilter, ProductId, ProductPatch, ProductQuery, ProductSort, StockAdjustment,
    price_cents,
};
use rivet_domain::{FieldError, ValidationErrors};
use sha2::{Digest, Sha256};

/// Everyone sees the same active catalogue, so shared caches may keep it.
const PUBLIC: &str = "public, max-age=60";
/// A view that may show inactive products is for its requester only.
const PRIVATE: &str = "private, no-cache";

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/products").get(list).post(create));
    routes.add(Endpoint::new("/api/v1/products/{id}").get(get).patch(update).delete(delete));
    routes.add(Endpoint::new("/api/v1/products/{id}/stock-adjustments").post(adjust_stock));
}

fn writer(who: &MaybePrincipal) -> bool {
    who.0.as_ref().is_some_and(|p: &Principal| p.has(Permission::ProductsWrite))
}

#[utoipa::path(
    get,
    path = "/api/v1/products",
    operation_id = "listProducts",
    tag = "products",
    summary = "The catalogue (public)",
    security((), ("bearer" = [])),
    params(PagingParams, ProductFilterParams),
    responses(
        (
            status = 200,
            description = "A page of products (sort: price_cents, name, created_at, stock; default name); cacheable \
                for 60 s",
            body = ProductPage,
        ),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
        (
            status = 401,
            description = "`include_inactive` without credentials, or a bad token",
            body = Problem,
            content_type = "application/problem+json",
        ),
        (
            status = 403,
            description = "`include_inactive` without `products:write`",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
    listing: Listing<ProductFilterParams>,
) -> Result<HttpResponse, ApiError> {
    let (sort, page) = listing.page(Sort::by(ProductSort::Name, false), &state.cursors)?;
    let f = listing.filter;
    let include_inactive = f.include_inactive.unwrap_or(false);
    if include_inactive {
        match &who.0 {
            None => return Err(ApiError::Unauthenticated),
            Some(p) => p.require(Permission::ProductsWrite)?,
        }
    }
    let mut errors = ValidationErrors::new();
    let q = errors.check("q", search_text(f.q.as_deref())).flatten();
    let currency = f.currency.as_deref().and_then(|c| errors.check("currency", Currency::parse(c)));
    for (field, price) in [("min_price", f.min_price), ("max_price", f.max_price)] {
        if let Some(p) = price {
            errors.check(field, price_cents(p));
        }
    }
    if let (Some(min), Some(max)) = (f.min_price, f.max_price)
        && min > max
    {
        errors.push(FieldError::new("min_price", "range", "must not exceed max_price"));
    }
    errors.into_result().map_err(|errors| ApiError::Invalid { location: Location::Query, errors })?;
    let filter = ProductFilter {
        include_inactive,
        category: f.category,
        min_price: f.min_price,
        max_price: f.max_price,
        in_stock: f.in_stock,
        q,
        currency,
    };
    let products = state.products.list(&ProductQuery { filter, sort, page }).await?;
    let next_cursor = products.next.as_ref().map(|p| state.cursors.encode(p));
    let body = PageBody {
        items: products.items.into_iter().map(ProductBody::from).collect(),
        next_cursor,
        total: products.total,
    };
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(Box::new(e)))?;
    // A list has no version: its tag is a digest of exactly what is sent.
    let digest = Sha256::digest(&bytes);
    let tag = format!("\"l{}\"", rivet_domain::hex(&digest[..12]));
    let cache = if include_inactive { PRIVATE } else { PUBLIC };
    if crate::conditional::not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((ETAG, tag))
            .insert_header((CACHE_CONTROL, cache))
            .finish());
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((ETAG, tag)).insert_header((CACHE_CONTROL, cache)).content_type("application/json");
    if let Some(link) = crate::collection::next_link(&req, body.next_cursor.as_deref()) {
        res.insert_header((LINK, link));
    }
    Ok(res.body(bytes))
}

#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    operation_id = "getProduct",
    tag = "products",
    summary = "A product (public)",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    responses(
        (status = 200, description = "The product, with its `ETag`", body = ProductBody),
        (status = 304, description = "Unchanged"),
        (status = 401, description = "A bad token", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let product = state.products.get(ProductId(path_id(&id)?), writer(&who)).await?;
    let mut res = HttpResponse::Ok();
    res.insert_header((CACHE_CONTROL, if product.is_active { PUBLIC } else { PRIVATE }));
    Ok(versioned(&req, res, product.version, &ProductBody::from(product)))
}

#[utoipa::path(
    post,
    path = "/api/v1/products",
    operation_id = "createProduct",
    tag = "products",
    summary = "Add a product (`products:write`)",
    security(("bearer" = [])),
    params(
        (
            "Idempotency-Key" = Option<sets::IdempotencyKey>,
            Header,
            description = "Replays the first answer for a repeated request (24 h)",
        ),
    ),
    request_body = CreateProduct,
    responses(
        (status = 201, description = "The new product", body = ProductBody),
        (
            status = 409,
            description = "The SKU is taken (`sku_taken`) or the Idempotency-Key is in use \
                (`idempotency_in_progress`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    body: Json<CreateProduct>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::ProductsWrite)?;
    idempotency::once(state.idempotency.as_ref(), &req, &who.0, &body.0, async {
        let CreateProduct { sku, name, description, price_cents, currency, category, stock, is_active } =
            body.0.clone();
        let input = NewProductInput { sku, name, description, price_cents, currency, category, stock, is_active };
        let product = state.products.create(input).await?;
        let mut res = HttpResponse::Created();
        res.insert_header((LOCATION, format!("{API_PREFIX}/products/{}", product.id)));
        Ok(versioned(&req, res, product.version, &ProductBody::from(product)))
    })
    .await
}

#[utoipa::path(
    patch,
    path = "/api/v1/products/{id}",
    operation_id = "updateProduct",
    tag = "products",
    summary = "Change a product (`products:write`)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    request_body = UpdateProduct,
    responses(
        (status = 200, description = "The changed product", body = ProductBody),
        (
            status = 409,
            description = "The SKU is taken (`sku_taken`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn update(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateProduct>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::ProductsWrite)?;
    let id = ProductId(path_id(&id)?);
    let UpdateProduct { sku, name, description, price_cents, currency, category, stock, is_active } = body.0;
    let patch = ProductPatch { sku, name, description, price_cents, currency, category, stock, is_active };
    let product = state.products.update(id, patch, &if_match(&req)).await?;
    Ok(versioned(&req, HttpResponse::Ok(), product.version, &ProductBody::from(product)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}",
    operation_id = "deleteProduct",
    tag = "products",
    summary = "Delete a product (`products:write`)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    responses(
        (status = 204, description = "Deleted"),
    ),
)]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::ProductsWrite)?;
    state.products.delete(ProductId(path_id(&id)?), &if_match(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/stock-adjustments",
    operation_id = "adjustProductStock",
    tag = "products",
    summary = "Adjust the stock atomically (`products:write`)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The resource id"),
        ("Idempotency-Key" = Option<sets::IdempotencyKey>, Header, description = "Applies a repeated adjustment once"),
    ),
    request_body = AdjustStock,
    responses(
        (status = 200, description = "The product with its new stock", body = ProductBody),
        (
            status = 409,
            description = "Stock would go below 0 (`insufficient_stock`) or above 1 000 000 (`conflict`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn adjust_stock(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<AdjustStock>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::ProductsWrite)?;
    let id = ProductId(path_id(&id)?);
    idempotency::once(state.idempotency.as_ref(), &req, &who.0, &body.0, async {
        let product = state
            .products
            .adjust_stock(id, StockAdjustment { delta: body.0.delta, reason: body.0.reason.clone() })
            .await?;
        Ok(versioned(&req, HttpResponse::Ok(), product.version, &ProductBody::from(product)))
    })
    .await
}
