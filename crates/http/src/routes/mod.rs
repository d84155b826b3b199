//! Route tables. Each resource module exposes `configure`; this module mounts
//! them under their prefixes and answers everything else.

mod auth;
mod endpoint;
mod health;
mod oauth;
mod products;
mod todos;
mod users;

pub use endpoint::Endpoint;

use crate::error::ApiError;
use actix_web::web;

/// The API's base path.
pub const API_PREFIX: &str = "/api/v1";

/// Mounts every route. The caller registers `web::Data<AppState>` and
/// `web::Data<HttpLimits>` and wraps the app in
/// [`RequestContext`](crate::context::RequestContext).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/health").configure(health::configure))
        .service(
            web::scope(API_PREFIX)
                .service(web::scope("/auth").configure(auth::configure).configure(oauth::configure))
                .service(web::scope("/users").configure(users::configure))
                .service(web::scope("/todos").configure(todos::configure))
                .service(web::scope("/products").configure(products::configure)),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}
