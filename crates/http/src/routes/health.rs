//! Liveness and readiness.

use super::{Endpoint, Routes};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, web};
use serde_json::json;
use std::time::Duration;
use tracing::warn;

/// How long readiness waits for the database before calling it down.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/health/live").get(live));
    routes.add(Endpoint::new("/health/ready").get(ready));
}

/// 200 while the process can answer at all.
#[utoipa::path(get, path = "/health/live", tag = "operations", summary = "Liveness", responses((status = 200, description = "The process is running", body = serde_json::Value, example = json!({"status": "ok"}))))]
pub(crate) async fn live() -> HttpResponse {
    HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(json!({ "status": "ok" }))
}

/// 200 when the database answers a round trip in time; otherwise 503 with
/// the failing dependency named in `checks`.
#[utoipa::path(get, path = "/health/ready", tag = "operations", summary = "Readiness: the database answers", responses((status = 200, description = "Ready", body = serde_json::Value, example = json!({"status": "ok", "checks": {"database": "ok"}}))))]
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let failure = match tokio::time::timeout(READY_TIMEOUT, state.database.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {READY_TIMEOUT:?}")),
    };
    match failure {
        None => {
            HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(json!({ "status": "ok", "checks": { "database": "ok" } }))
        }
        Some(why) => {
            warn!(reason = %why, "readiness check failed: database");
            let mut p = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service unavailable",
                "the database is not answering",
            );
            p.extensions.insert("checks".into(), json!({ "database": "unavailable" }));
            p.into_response(vec![(RETRY_AFTER, HeaderValue::from_static("5")), (CACHE_CONTROL, HeaderValue::from_static("no-store"))])
        }
    }
}
