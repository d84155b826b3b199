//! What an application hands the persistence layer: which database (the
//! URL's backend), what stands in front of it (a pooler), and the pool's
//! size and timeouts. Libraries read no environment; `rivet-app` fills
//! these from its settings.

use crate::error::{Error, Result};
use std::time::Duration;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// The backend a URL's scheme selects.
    ///
    /// # Errors
    /// [`Error::Url`] for any other scheme.
    pub fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            Err(Error::Url("expected a postgres://, postgresql:// or sqlite: URL".into()))
        }
    }

    /// Whether this build of the crate includes the backend (cargo features
    /// `postgres` and `sqlite`, both on by default).
    pub fn compiled_in(self) -> bool {
        match self {
            Self::Postgres => cfg!(feature = "postgres"),
            Self::Sqlite => cfg!(feature = "sqlite"),
        }
    }

    /// The name used in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// What stands between Rivet and PostgreSQL (`[database] pooler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooler {
    /// A direct connection, or a pooler in session mode: queries use named
    /// prepared statements, the fast path.
    #[default]
    None,
    /// A pooler in transaction mode (PgBouncer, Neon's `-pooler` host,
    /// Supabase, RDS Proxy): queries use the unnamed statement only, and
    /// whatever needs a session uses [`DbOptions::direct_url`].
    Transaction,
}

/// Pool settings, handed in by the application (libraries read no environment).
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub url: String,
    /// A session connection to the same database, bypassing the pooler, for
    /// migrations (and, in the application, the events `LISTEN`); `url`
    /// when unset.
    pub direct_url: Option<String>,
    pub pooler: Pooler,
    pub max_connections: usize,
    /// How many threads run requests on the pool, each with a
    /// single-threaded runtime of its own — an HTTP server's workers. Above
    /// 1, PostgreSQL's pool is split into one share per worker and one for
    /// other work (`max_connections` in all), so that a request's queries
    /// run their connection I/O on the request's own thread (see
    /// [`crate::pg_shares`]). 1, the default: one pool shared by all.
    pub worker_threads: usize,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// How long a request waits for a free connection before failing with
    /// "unavailable" (a 503) instead of queueing without bound.
    pub acquire_timeout: Duration,
}

impl DbOptions {
    /// Options with the defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            direct_url: None,
            pooler: Pooler::None,
            max_connections: 10,
            worker_threads: 1,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
        }
    }
}
