//! The envelope around every request: an id, a tracing span, panic isolation.
//!
//! - The id is the client's `X-Request-Id` when it is well formed (1–128
//!   characters of `A-Z a-z 0-9 - _ . :`), otherwise a new UUIDv7. It is sent
//!   back in `X-Request-Id`, named in every log line of the request (they
//!   all happen inside its span) and in every problem body.
//! - The span carries method, status, latency, the route template (recorded
//!   once the request is routed, from its `RoutePattern`) and, once
//!   authenticated, the user id. Query strings and headers are never logged,
//!   so no token or password reaches a log line.
//! - A panic inside a handler is caught, logged with the request id, and
//!   answered with a 500 problem; the worker carries on.

use crate::error::ApiError;
use actix_web::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Ready, ready};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;
use tracing::{Instrument, Span, error, field, info, info_span, warn};

/// An endpoint's route template (`/api/v1/todos/{id}`), set as its
/// resource's data by [`crate::routes::Endpoint`]: read once the request is
/// routed, for the span and the metrics, where asking actix for the matched
/// pattern would walk the route table, and match its patterns, a second time.
#[derive(Debug, Clone)]
pub(crate) struct RoutePattern(pub(crate) Arc<str>);

/// The route template that answered `req`: its [`RoutePattern`], else
/// actix's matched pattern (routes mounted without an `Endpoint`), else
/// `unmatched`.
fn route_of(req: &actix_web::HttpRequest) -> Arc<str> {
    match req.app_data::<RoutePattern>() {
        Some(p) => p.0.clone(),
        None => req.match_pattern().map_or_else(|| Arc::from("unmatched"), Arc::from),
    }
}

/// The request-id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the current request is, for code that has no `HttpRequest` at hand.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub id: Arc<str>,
    pub path: String,
}

tokio::task_local! {
    static CURRENT: RequestInfo;
}

/// The request being served by the current task, if any.
pub fn current() -> Option<RequestInfo> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Records the authenticated user on the request's span.
pub fn record_user(user: &impl std::fmt::Display) {
    Span::current().record("user_id", field::display(user));
}

fn accepted_id(value: &HeaderValue) -> Option<Arc<str>> {
    let s = value.to_str().ok()?;
    let ok = (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| Arc::from(s))
}

/// Logs a caught panic and turns it into the error the client sees.
pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> ApiError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    error!(panic = %message, "handler panicked");
    ApiError::Internal("handler panicked".into())
}

/// The middleware factory; wrap the whole `App` with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContext;

impl<S, B> Transform<S, ServiceRequest> for RequestContext
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = RequestContextService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestContextService { service }))
    }
}

/// The middleware service; see [`RequestContext`].
#[derive(Debug)]
pub struct RequestContextService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for RequestContextService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(accepted_id)
            .unwrap_or_else(|| Arc::from(uuid::Uuid::now_v7().to_string()));
        let span = info_span!(
            "http.request",
            method = %req.method(),
            route = field::Empty,
            request_id = %id,
            status = field::Empty,
            latency_ms = field::Empty,
            user_id = field::Empty,
        );
        let info = RequestInfo { id: id.clone(), path: req.path().to_owned() };
        let metrics = req.app_data::<actix_web::web::Data<crate::metrics::Metrics>>().cloned();
        let method = req.method().clone();
        let fut = span.in_scope(|| CURRENT.sync_scope(info.clone(), || self.service.call(req)));
        // Handlers catch their own panics (see `routes::Endpoint`) and answer
        // within this scope; this is the last resort for a panic elsewhere,
        // answered by actix from the error.
        let work = CURRENT.scope(info.clone(), async move {
            match AssertUnwindSafe(fut).catch_unwind().await {
                Ok(result) => result.map(ServiceResponse::map_into_boxed_body),
                Err(panic) => Err(Error::from(panicked(panic.as_ref()))),
            }
        });
        let span_for_end = span.clone();
        async move {
            let mut res = work.await?;
            let route = route_of(res.request());
            span_for_end.record("route", &*route);
            let status = res.status();
            let latency = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
            span_for_end.record("status", status.as_u16());
            span_for_end.record("latency_ms", latency);
            if let Some(metrics) = metrics {
                metrics.observe(&method, route, status.as_u16(), started.elapsed().as_secs_f64());
            }
            let headers = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&id) {
                headers.insert(REQUEST_ID, v);
            }
            if !headers.contains_key(header::CACHE_CONTROL) {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
            }
            // Status and latency are on the span, and so on this line.
            // 503 and 507 say the service is down, overloaded or full, not
            // that it is broken: warnings, so an outage does not bury the
            // errors that are bugs.
            if matches!(status.as_u16(), 503 | 507) {
                warn!("request refused");
            } else if status.is_server_error() {
                error!("request failed");
            } else if status.is_client_error() {
                warn!("request rejected");
            } else {
                info!("request completed");
            }
            Ok(res)
        }
        .instrument(span)
        .boxed_local()
    }
}
