//! What handlers share: the use cases and the limits.

use crate::collection::CursorCodec;
use crate::events::EventStreams;
use rivet_auth::{ApiKeyService, AuthService, StreamTickets};
use rivet_domain::Accounts;
use rivet_domain::files::Files;
use rivet_domain::ports::{HealthCheck, IdempotencyStore};
use rivet_domain::product::Products;
use rivet_domain::todo::Todos;
use std::sync::Arc;

/// The application's use cases, registered as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    pub accounts: Accounts,
    pub todos: Todos,
    pub products: Products,
    pub files: Files,
    pub auth: Arc<AuthService>,
    pub api_keys: ApiKeyService,
    /// The primary database, for readiness.
    pub database: Arc<dyn HealthCheck>,
    /// Answers of POST creates, for `Idempotency-Key`.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Signs the cursors of every collection.
    pub cursors: CursorCodec,
    /// The event hub behind the streams (`None`: the stream endpoints answer 500).
    pub events: Option<EventStreams>,
    /// Tickets that open an SSE stream.
    pub tickets: StreamTickets,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("auth", &self.auth).finish_non_exhaustive()
    }
}

/// Request limits, registered as `web::Data<HttpLimits>`.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest accepted JSON (or form) body.
    pub max_json_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { max_json_bytes: 1024 * 1024 }
    }
}
