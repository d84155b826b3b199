//! Rate limiting (SPEC §2): fixed one-minute windows, counted in a
//! [`RateCounter`] — in memory for one instance, in Redis for many.
//!
//! Policies:
//! - **credential** endpoints (register, login, token, refresh, password
//!   forgot and reset): a budget per client IP, checked by the middleware,
//!   and a budget per target email, checked by the handlers once they have
//!   parsed the body ([`RateLimiter::check_email`]).
//! - **api**, everything else under `/api`: a budget per principal — the
//!   user of a valid access token, or the API key presented — and per client
//!   IP for anonymous requests. Health, metrics and the docs page are exempt.
//!
//! Every limited response carries `RateLimit-Limit`, `RateLimit-Remaining`
//! and `RateLimit-Reset`; a refused one is 429 problem+json with
//! `Retry-After`. When the counter store fails (Redis down), the request is
//! served without a limit (`fail_open`, the default) or refused with 503;
//! either way the failure is logged (at most every 10 s) and counted.

mod memory;
mod middleware;

use crate::error::ApiError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use rivet_domain::ports::RateCounter;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::warn;

pub use memory::MemoryCounter;
pub use middleware::RateLimit;

/// The window of every policy.
pub const WINDOW_SECS: u64 = 60;

pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The outcome of counting one request against a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window ends.
    pub reset_secs: u64,
}

impl Decision {
    /// The `RateLimit-*` headers of this decision.
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 3] {
        [
            (RATELIMIT_LIMIT, HeaderValue::from(self.limit)),
            (RATELIMIT_REMAINING, HeaderValue::from(self.remaining)),
            (RATELIMIT_RESET, HeaderValue::from(self.reset_secs)),
        ]
    }

    fn into_result(self) -> Result<Self, ApiError> {
        if self.allowed {
            Ok(self)
        } else {
            Err(ApiError::RateLimited { limit: self.limit, reset_secs: self.reset_secs })
        }
    }
}

/// Headers of a 429: the spent budget and when to come back.
pub(crate) fn rejection_headers(limit: u32, reset_secs: u64) -> Vec<(HeaderName, HeaderValue)> {
    let d = Decision { allowed: false, limit, remaining: 0, reset_secs };
    let mut headers = d.headers().to_vec();
    headers.push((header::RETRY_AFTER, HeaderValue::from(reset_secs.max(1))));
    headers
}

/// Budgets per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    pub credential_per_minute: u32,
    pub api_per_minute: u32,
    /// Serve without limits while the counter store fails.
    pub fail_open: bool,
    /// Take the client address from the right-most `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
}

/// Counts requests against budgets; registered as `web::Data<RateLimiter>`.
#[derive(Clone)]
pub struct RateLimiter {
    counter: Arc<dyn RateCounter>,
    /// `memory` or `redis`: readiness checks a shared store, never memory.
    store: &'static str,
    budgets: Budgets,
    rejected: Arc<AtomicU64>,
    store_errors: Arc<AtomicU64>,
    last_warning: Arc<AtomicU64>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("budgets", &self.budgets).finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl RateLimiter {
    /// A limiter counting in `counter`, a store named `store` in readiness
    /// answers (`redis`); a `memory` store is never checked.
    pub fn new(counter: Arc<dyn RateCounter>, store: &'static str, budgets: Budgets) -> Self {
        Self {
            counter,
            store,
            budgets,
            rejected: Arc::default(),
            store_errors: Arc::default(),
            last_warning: Arc::default(),
        }
    }

    /// The configured budgets.
    pub fn budgets(&self) -> Budgets {
        self.budgets
    }

    /// Requests refused with 429 since start, by policy (`credential`, `api`).
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Failures of the counter store since start.
    pub fn store_errors(&self) -> u64 {
        self.store_errors.load(Ordering::Relaxed)
    }

    /// The shared counter store to check for readiness, if any, with its name.
    pub fn shared_store(&self) -> Option<(&'static str, &Arc<dyn RateCounter>)> {
        (self.store != "memory").then_some((self.store, &self.counter))
    }

    /// Counts one request of `subject` against `limit`. `None` when the store
    /// failed and the limiter fails open.
    ///
    /// # Errors
    /// 503 when the store failed and the limiter fails closed.
    pub async fn count(&self, policy: &str, subject: &str, limit: u32) -> Result<Option<Decision>, ApiError> {
        let key = format!("{policy}:{subject}");
        match self.counter.hit(&key, WINDOW_SECS).await {
            Ok(hits) => {
                let decision = Decision {
                    allowed: hits <= u64::from(limit),
                    limit,
                    remaining: u32::try_from(u64::from(limit).saturating_sub(hits)).unwrap_or(0),
                    reset_secs: WINDOW_SECS - unix_now() % WINDOW_SECS,
                };
                if !decision.allowed {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(decision))
            }
            Err(e) => {
                self.store_errors.fetch_add(1, Ordering::Relaxed);
                let now = unix_now();
                if now.saturating_sub(self.last_warning.swap(now, Ordering::Relaxed)) >= 10 {
                    warn!(error = %e, fail_open = self.budgets.fail_open, "rate-limit store unavailable");
                }
                if self.budgets.fail_open {
                    Ok(None)
                } else {
                    Err(ApiError::Domain(rivet_domain::Error::Repo(rivet_domain::RepoError::Unavailable(e))))
                }
            }
        }
    }

    /// Checks the per-email budget of a credential endpoint. Emails are
    /// normalised as accounts store them, so `Ada@X.com` and `ada@x.com`
    /// share a budget; an unparseable address shares one per raw value.
    ///
    /// # Errors
    /// 429 `rate_limited` when the budget is spent.
    pub async fn check_email(&self, email: &str) -> Result<(), ApiError> {
        let normalised =
            rivet_domain::Email::parse(email).map_or_else(|_| email.trim().to_lowercase(), |e| e.as_str().to_owned());
        match self.count("email", &normalised, self.budgets.credential_per_minute).await? {
            Some(decision) => decision.into_result().map(drop),
            None => Ok(()),
        }
    }
}

/// Spends one request of `email`'s budget when rate limiting is on.
///
/// # Errors
/// 429 `rate_limited` when the budget is spent.
pub async fn spend_email_budget(req: &actix_web::HttpRequest, email: &str) -> Result<(), ApiError> {
    match req.app_data::<actix_web::web::Data<RateLimiter>>() {
        Some(limiter) => limiter.check_email(email).await,
        None => Ok(()),
    }
}
