//! A resource builder that remembers its methods, so a request with any other
//! method gets 405 problem+json with an `Allow` header listing them.

use super::deprecation::{DEPRECATED, Deprecation};
use crate::context::{RoutePattern, panicked};
use crate::error::ApiError;
use crate::hardening::Timeout;
use actix_web::{FromRequest, Handler, HttpResponse, Resource, Responder, web};
use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;
use std::panic::AssertUnwindSafe;

/// A handler whose panics become a logged 500 problem answered in the
/// request's own context (request id, span), leaving the worker running.
#[derive(Clone)]
struct Guarded<F>(F);

impl<F, Args> Handler<Args> for Guarded<F>
where
    F: Handler<Args>,
    F::Future: 'static,
    Args: 'static,
{
    type Output = Result<F::Output, ApiError>;
    type Future = LocalBoxFuture<'static, Self::Output>;

    fn call(&self, args: Args) -> Self::Future {
        let handler = self.0.clone();
        async move {
            AssertUnwindSafe(async move { handler.call(args).await })
                .catch_unwind()
                .await
                .map_err(|p| panicked(p.as_ref()))
        }
        .boxed_local()
    }
}

/// Builds one path's `Resource`.
#[allow(missing_debug_implementations)] // actix's `Resource` is not Debug
pub struct Endpoint {
    path: String,
    resource: Resource,
    allow: Vec<&'static str>,
    deprecations: &'static [Deprecation],
}

/// Mounts endpoints and records each (method, path) it mounts, so the route
/// table can be compared with the OpenAPI document.
#[allow(missing_debug_implementations)] // actix's `ServiceConfig` is not Debug
pub struct Routes<'a> {
    cfg: &'a mut web::ServiceConfig,
    mounted: &'a mut Vec<(String, String)>,
}

impl<'a> Routes<'a> {
    pub(crate) fn new(cfg: &'a mut web::ServiceConfig, mounted: &'a mut Vec<(String, String)>) -> Self {
        Self { cfg, mounted }
    }

    /// Mounts an endpoint.
    pub fn add(&mut self, endpoint: Endpoint) -> &mut Self {
        for m in &endpoint.allow {
            self.mounted.push(((*m).to_owned(), endpoint.path.clone()));
        }
        self.cfg.service(endpoint.build());
        self
    }
}

macro_rules! method {
    ($name:ident, $route:ident, $verb:literal) => {
        /// Routes this method to `handler`.
        pub fn $name<F, Args>(mut self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            let route = web::$route().to(Guarded(handler)).wrap(Timeout);
            let route = match Deprecation::find(self.deprecations, $verb, &self.path) {
                Some(d) => route.wrap(d.headers()),
                None => route,
            };
            self.resource = self.resource.route(route);
            self.allow.push($verb);
            self
        }
    };
}

impl Endpoint {
    /// A new endpoint at `path`.
    pub fn new(path: &str) -> Self {
        let resource = web::resource(path).app_data(RoutePattern(std::sync::Arc::from(path)));
        Self { path: path.to_owned(), resource, allow: Vec::new(), deprecations: DEPRECATED }
    }

    /// Looks deprecations up in `table` instead of [`DEPRECATED`] (call
    /// before adding methods).
    pub fn deprecations(mut self, table: &'static [Deprecation]) -> Self {
        self.deprecations = table;
        self
    }

    method!(get, get, "GET");
    method!(post, post, "POST");
    method!(put, put, "PUT");
    method!(patch, patch, "PATCH");
    method!(delete, delete, "DELETE");

    /// The finished resource.
    pub fn build(self) -> Resource {
        let allow = self.allow.join(", ");
        self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow }) }
        }))
    }
}
