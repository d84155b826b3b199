//! The configuration's sections: the server, the database, authentication,
//! logging and the first administrator (`[server]`, `[database]`, `[auth]`,
//! `[log]`, `[bootstrap]`); background work, email and traffic protection
//! (`[jobs]`, `[email]`, `[rate_limit]`, `[cors]`); file storage
//! (`[storage]`) and the event log (`[events]`). [`crate::settings`] loads
//! and validates them as one.

use crate::secret::{Secret, masked_url};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[server]`
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    pub max_json_bytes: usize,
    /// The largest request header (name and value), 431 beyond, and the
    /// largest path and query, 414 beyond.
    pub max_header_bytes: usize,
    /// All request headers together; 431 beyond.
    pub max_headers_total_bytes: usize,
    /// The largest file upload (attachments, product images).
    pub max_upload_bytes: u64,
    pub allow_sqlite_in_production: bool,
    /// Where the client application lives; links in emails point under it.
    pub public_url: String,
    /// How long a request may take before it is answered 503.
    pub request_timeout_secs: u64,
    /// Send `Strict-Transport-Security` (only behind HTTPS).
    pub hsts: bool,
}

impl ServerSettings {
    /// How many HTTP worker threads serve requests: `workers`, or with 0
    /// (the default) one per CPU the process may use, as actix-web counts.
    pub fn http_workers(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get).min(512)
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DatabaseSettings {
    #[serde(serialize_with = "masked_url")]
    pub url: String,
    /// A session connection to the same database that bypasses the
    /// pooler, for migrations and the events `LISTEN`; empty: `url`.
    #[serde(default, serialize_with = "masked_url")]
    pub direct_url: String,
    /// What `url` goes through: `none` (direct, or a session-mode pooler)
    /// or `transaction` (a transaction-mode pooler).
    #[serde(default)]
    pub pooler: PoolerMode,
    pub max_connections: usize,
    pub connect_timeout_secs: u64,
    pub acquire_timeout_secs: u64,
    pub run_migrations: bool,
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuthConfig {
    pub jwt_secret: Secret,
    pub jwt_algorithm: String,
    #[serde(default)]
    pub jwt_private_key_file: Option<PathBuf>,
    #[serde(default)]
    pub jwt_public_key_file: Option<PathBuf>,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub jwt_leeway_secs: u64,
    pub bcrypt_cost: u32,
    pub max_concurrent_hashes: usize,
    pub revocation_check_secs: u64,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

/// `[bootstrap]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct BootstrapSettings {
    #[serde(default)]
    pub admin_email: Option<String>,
    #[serde(default)]
    pub admin_password: Option<Secret>,
}

/// `[jobs]`
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct JobSettings {
    /// Run a worker inside `rivet serve` (`rivet worker` runs one on its own).
    pub enabled: bool,
    /// How often an idle worker looks for due jobs.
    pub poll_interval_ms: u64,
    /// Jobs one worker runs at the same time.
    pub concurrency: usize,
    /// How long a claimed job stays with its worker without a heartbeat; a
    /// worker that died releases its jobs when this runs out.
    pub lease_secs: u64,
    /// How often the purge jobs are scheduled.
    pub purge_interval_secs: u64,
}

/// Email transport names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    File,
    Smtp,
    Log,
}

/// `[email]`
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EmailSettings {
    pub transport: EmailTransport,
    pub from: String,
    pub file_dir: PathBuf,
    /// `smtps://user:pass@host:465` or `smtp://user:pass@host:587?tls=required`.
    #[serde(default)]
    pub smtp_url: Secret,
}

/// Rate-limit counter stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitBackend {
    Memory,
    Redis,
}

/// `[rate_limit]`
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub backend: RateLimitBackend,
    #[serde(default)]
    pub redis_url: Secret,
    /// Per client IP, and per target email, on the credential endpoints.
    pub credential_per_minute: u32,
    /// Per principal (or per IP when anonymous) on everything else.
    pub api_per_minute: u32,
    /// Serve without limits while Redis is unreachable (true), or answer 503.
    pub fail_open: bool,
    /// Trust `X-Forwarded-For` (the right-most address) from a proxy in
    /// front; off, the peer address is the client.
    #[serde(default)]
    pub trust_forwarded_for: bool,
}

/// `[cors]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CorsSettings {
    /// Origins allowed to call the API from a browser; `*` allows any.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub allow_credentials: bool,
}

/// Blob store backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

/// `[storage]`: where uploaded files live.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    /// The directory of the `local` backend.
    pub dir: PathBuf,
    /// The `s3` backend's bucket; the rest fall back to the `AWS_*`
    /// environment variables when empty.
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub endpoint: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub secret_access_key: Secret,
    /// Bucket in the path (`endpoint/bucket/key`), as most self-hosted
    /// S3-compatible services need; false for virtual-hosted addressing.
    pub path_style: bool,
    /// What one user's attachments may take together.
    pub max_bytes_per_user: u64,
}

/// `[database] pooler`: what stands between Rivet and PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolerMode {
    /// A direct connection or a session-mode pooler: prepared statements.
    #[default]
    None,
    /// A transaction-mode pooler (PgBouncer `pool_mode = transaction`,
    /// Neon's `-pooler` host, Supabase, RDS Proxy): one-shot statements,
    /// and `direct_url` for what needs a session.
    Transaction,
}

/// How instances tell each other that the event log grew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventBackend {
    /// `postgres` on PostgreSQL, `memory` on SQLite.
    Auto,
    /// `LISTEN`/`NOTIFY` on the database itself.
    Postgres,
    /// Redis pub/sub.
    Redis,
    /// This process only (one instance; other writers are seen by polling).
    Memory,
}

/// `[events]`: the durable event log and its streams.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EventSettings {
    /// How long events are kept for streams to resume from.
    pub retention_hours: u32,
    pub backend: EventBackend,
    /// Redis for `backend = "redis"`; empty falls back to `rate_limit.redis_url`.
    #[serde(default)]
    pub redis_url: Secret,
    /// Events a subscriber may fall behind before it is closed.
    pub buffer: usize,
    /// A stream whose peer sent nothing (not even a pong) this long is closed.
    pub idle_timeout_secs: u64,
    /// The longest time between two reads of the log, whatever the fan-out says.
    pub poll_interval_ms: u64,
}
