//! Liveness and readiness.

use super::Endpoint;
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

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/live").get(live).build()).service(Endpoint::new("/ready").get(ready).build());
}

/// 200 while the process can answer at all.
async fn live() -> HttpResponse {
    HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(json!({ "status": "ok" }))
}

/// 200 when the database answers a round trip in time; otherwise 503 with
/// the failing dependency named in `checks`.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
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
