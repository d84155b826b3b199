//! Liveness and readiness.

use super::{Endpoint, Routes};
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::rate_limit::RateLimiter;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;
use tracing::warn;
use utoipa::ToSchema;

/// How long readiness waits for the database before calling it down.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health/live`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    #[schema(example = "ok")]
    status: &'static str,
}

/// `GET /health/ready` when every dependency answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ok")]
    status: &'static str,
    /// Each dependency and how it answered (`ok`, or why not).
    #[schema(value_type = std::collections::BTreeMap<String, String>, example = json!({"database": "ok"}))]
    checks: serde_json::Map<String, serde_json::Value>,
}

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/health/live").get(live));
    routes.add(Endpoint::new("/health/ready").get(ready));
    routes.add(Endpoint::new("/metrics").get(metrics));
}

/// Prometheus text: request counts and latency histograms by route template
/// and status, database pool, job queue depth by state, rate limiting.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "getMetrics",
    tag = "operations",
    summary = "Metrics in the Prometheus text format",
    responses(
        (
            status = 200,
            description = "Prometheus exposition format 0.0.4",
            body = String,
            content_type = "text/plain",
        ),
    ),
)]
pub(crate) async fn metrics(
    metrics: Option<web::Data<Metrics>>,
    limiter: Option<web::Data<RateLimiter>>,
) -> HttpResponse {
    let text = match metrics {
        Some(m) => m.render(limiter.as_ref().map(|l| l.get_ref())).await,
        None => String::new(),
    };
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// 200 while the process can answer at all.
#[utoipa::path(
    get,
    path = "/health/live",
    operation_id = "getLiveness",
    tag = "operations",
    summary = "Liveness",
    responses(
        (
            status = 200,
            description = "The process is running",
            body = Liveness,
        ),
    ),
)]
pub(crate) async fn live() -> HttpResponse {
    HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(Liveness { status: "ok" })
}

/// 200 when the database answers a round trip in time; otherwise 503 with
/// the failing dependency named in `checks`. A shared rate-limit store
/// (Redis) is checked too: when it is down and the limiter fails open the
/// instance still serves, so readiness stays 200 and says so; when the
/// limiter fails closed, readiness is 503. From SIGTERM on, while the
/// instance drains its requests, it is 503 `shutting_down`.
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "getReadiness",
    tag = "operations",
    summary = "Readiness: the database (and Redis, if used) answer",
    responses(
        (
            status = 200,
            description = "Ready",
            body = Readiness,
        ),
    ),
)]
pub(crate) async fn ready(
    state: web::Data<AppState>,
    limiter: Option<web::Data<RateLimiter>>,
    draining: Option<web::Data<crate::hardening::Draining>>,
) -> HttpResponse {
    if draining.is_some_and(|d| d.is_draining()) {
        let mut p = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "Shutting down",
            "this instance is finishing its requests before it stops; send new ones elsewhere",
        );
        p.extensions.insert("checks".into(), json!({ "server": "shutting down" }));
        return p.into_response(vec![
            (RETRY_AFTER, HeaderValue::from_static("5")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ]);
    }
    let database = match tokio::time::timeout(READY_TIMEOUT, state.database.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {READY_TIMEOUT:?}")),
    };
    let mut checks = serde_json::Map::new();
    checks.insert("database".into(), json!(if database.is_some() { "unavailable" } else { "ok" }));
    let mut failed = database.is_some();
    if let Some(why) = &database {
        warn!(reason = %why, "readiness check failed: database");
    }
    if let Some((name, store)) = limiter.as_ref().and_then(|l| l.shared_store()) {
        let up = matches!(tokio::time::timeout(READY_TIMEOUT, store.ping()).await, Ok(Ok(())));
        let fail_open = limiter.as_ref().is_some_and(|l| l.budgets().fail_open);
        let status = match (up, fail_open) {
            (true, _) => "ok",
            (false, true) => "unavailable (rate limiting fails open)",
            (false, false) => "unavailable",
        };
        checks.insert(name.into(), json!(status));
        if !up {
            warn!(dependency = name, fail_open, "readiness check: rate-limit store unavailable");
            failed |= !fail_open;
        }
    }
    if !failed {
        return HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(Readiness { status: "ok", checks });
    }
    let mut p = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "Service unavailable",
        "a dependency is not answering; see `checks`",
    );
    p.extensions.insert("checks".into(), serde_json::Value::Object(checks));
    p.into_response(vec![
        (RETRY_AFTER, HeaderValue::from_static("5")),
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ])
}
