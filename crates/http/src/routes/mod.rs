//! Route tables. Each resource module mounts its endpoints through
//! [`Routes`], which records them: [`mounted_routes`] is the exact list of
//! (method, path) the server answers, compared with the OpenAPI document by a
//! test so neither can drift.

pub(crate) mod api_keys;
pub(crate) mod auth;
pub mod deprecation;
mod endpoint;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod health;
pub(crate) mod oauth;
pub(crate) mod products;
pub(crate) mod recovery;
pub(crate) mod todos;
pub(crate) mod users;

pub use endpoint::{Endpoint, Routes};

use crate::error::ApiError;
use actix_web::{App, web};

/// The API's base path.
pub const API_PREFIX: &str = "/api/v1";

fn register(cfg: &mut web::ServiceConfig, mounted: &mut Vec<(String, String)>) {
    {
        let mut routes = Routes::new(cfg, mounted);
        health::configure(&mut routes);
        auth::configure(&mut routes);
        api_keys::configure(&mut routes);
        oauth::configure(&mut routes);
        recovery::configure(&mut routes);
        users::configure(&mut routes);
        todos::configure(&mut routes);
        products::configure(&mut routes);
        files::configure(&mut routes);
        events::configure(&mut routes);
        crate::docs::register(&mut routes);
    }
    crate::docs::configure(cfg);
    cfg.default_service(web::to(not_found));
}

/// Mounts every route. The caller registers `web::Data<AppState>` and
/// `web::Data<HttpLimits>` and wraps the app in
/// [`RequestContext`](crate::context::RequestContext).
pub fn configure(cfg: &mut web::ServiceConfig) {
    register(cfg, &mut Vec::new());
}

/// Every (method, path template) the API mounts, the docs page excluded.
pub fn mounted_routes() -> Vec<(String, String)> {
    let mut mounted = Vec::new();
    let _ = App::new().configure(|cfg| register(cfg, &mut mounted));
    mounted
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}
