//! Wiring of traffic protection from settings: security headers, CORS and
//! the rate limiter.

use crate::startup::StartupError;
use actix_cors::Cors;
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use rivet_app::settings::{CorsSettings, RateLimitBackend, Settings};
use rivet_domain::ports::RateCounter;
use rivet_http::rate_limit::{Budgets, MemoryCounter, RateLimiter};
use std::sync::Arc;

/// The rate limiter `[rate_limit]` describes, if it is enabled.
pub(crate) fn rate_limiter(settings: &Settings) -> Result<Option<RateLimiter>, StartupError> {
    let r = &settings.rate_limit;
    if !r.enabled {
        return Ok(None);
    }
    let counter: Arc<dyn RateCounter> = match rivet_app::shared_rate_counter(settings)? {
        Some(shared) => shared,
        None => Arc::new(MemoryCounter::new()),
    };
    let budgets = Budgets {
        credential_per_minute: r.credential_per_minute,
        api_per_minute: r.api_per_minute,
        fail_open: r.fail_open,
        trust_forwarded_for: r.trust_forwarded_for,
    };
    let store = match r.backend {
        RateLimitBackend::Memory => "memory",
        RateLimitBackend::Redis => "redis",
    };
    Ok(Some(RateLimiter::new(counter, store, budgets)))
}

/// Headers every response carries; HSTS only when `[server] hsts` says the
/// deployment is reached over HTTPS.
pub(crate) fn security_headers(hsts: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"));
    if hsts { headers.add(("Strict-Transport-Security", "max-age=31536000; includeSubDomains")) } else { headers }
}

/// CORS from the `[cors]` allow-list: preflights are answered here, and
/// browsers may read the headers clients need (pagination, versions,
/// rate limits, request ids, deprecation). With an empty list no
/// cross-origin browser call is allowed.
pub(crate) fn cors_middleware(c: &CorsSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-api-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("ratelimit-limit"),
            header::HeaderName::from_static("ratelimit-remaining"),
            header::HeaderName::from_static("ratelimit-reset"),
            header::HeaderName::from_static("deprecation"),
            header::HeaderName::from_static("sunset"),
        ])
        .max_age(3600);
    for origin in &c.allowed_origins {
        cors = if origin == "*" { cors.allow_any_origin().send_wildcard() } else { cors.allowed_origin(origin) };
    }
    if c.allow_credentials { cors.supports_credentials() } else { cors }
}
