//! The middleware that applies the per-IP and per-principal budgets.

use super::RateLimiter;
use crate::error::ApiError;
use crate::extract::{API_KEY, bearer_token};
use crate::middleware::async_middleware;
use crate::state::AppState;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{HttpMessage, web};
use sha2::{Digest, Sha256};

/// The credential endpoints: budgets per client IP (and, in the handlers, per email).
pub const CREDENTIAL_PATHS: [&str; 6] = [
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/auth/password/forgot",
    "/api/v1/auth/password/reset",
];

/// The middleware factory. Without a `web::Data<RateLimiter>` in the app
/// (rate limiting turned off) it lets everything through.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimit;

/// The client's address: the peer, or behind a trusted proxy the right-most
/// `X-Forwarded-For` entry (the one the proxy itself appended).
fn client_ip(req: &ServiceRequest, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|s| s.parse::<std::net::IpAddr>().is_ok());
    match forwarded {
        Some(ip) => ip.to_owned(),
        None => req.peer_addr().map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string()),
    }
}

/// Whose budget an API request spends: the user of a valid access token,
/// the API key presented (by hash: a made-up key gets a budget of its own
/// and a 401, never someone else's budget), or the client IP.
fn principal_subject(req: &ServiceRequest, ip: &str) -> String {
    if let Some(key) = req.headers().get(API_KEY) {
        let digest = Sha256::digest(key.as_bytes());
        return format!("key:{}", rivet_domain::hex(&digest[..16]));
    }
    let token = bearer_token(req.headers()).ok().flatten();
    let state = req.app_data::<web::Data<AppState>>();
    if let (Some(token), Some(state)) = (token, state)
        && let Ok(verified) = state.auth.verify(token)
    {
        let subject = format!("user:{}", verified.user());
        // The `Authenticated` extractor takes it from here: one signature check per request.
        req.extensions_mut().insert(verified);
        return subject;
    }
    format!("ip:{ip}")
}

async_middleware!(RateLimit, RateLimitService, |_this, service, req| {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let Some(limiter) = limiter.filter(|_| req.path().starts_with("/api/")) else {
        return service.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let budgets = limiter.budgets();
    let ip = client_ip(&req, budgets.trust_forwarded_for);
    let (policy, subject, limit) = if CREDENTIAL_PATHS.contains(&req.path()) {
        ("credential", format!("ip:{ip}"), budgets.credential_per_minute)
    } else {
        ("api", principal_subject(&req, &ip), budgets.api_per_minute)
    };
    let decision = match limiter.count(policy, &subject, limit).await {
        Ok(decision) => decision,
        Err(e) => return Ok(req.error_response(e)),
    };
    if let Some(d) = decision.filter(|d| !d.allowed) {
        return Ok(req.error_response(ApiError::RateLimited { limit: d.limit, reset_secs: d.reset_secs }));
    }
    let mut res = service.call(req).await?.map_into_boxed_body();
    if let Some(d) = decision {
        // A handler's own refusal (the per-email budget) keeps its headers.
        if !res.headers().contains_key(super::RATELIMIT_LIMIT) {
            for (name, value) in d.headers() {
                res.headers_mut().insert(name, value);
            }
        }
    }
    Ok(res)
});
