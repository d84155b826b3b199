//! Typed configuration, layered as SPEC §1 says (later wins):
//! compiled-in `config/default.toml` → compiled-in `config/{env}.toml` →
//! `default.toml` and `{env}.toml` from `RIVET_CONFIG_DIR` (or `./config`) →
//! `RIVET__SECTION__KEY` environment variables → `DATABASE_URL`.
//!
//! Unknown keys are logged and ignored (during a rolling deploy old and new
//! versions read the same environment); an invalid value of a known key is
//! fatal and names the key. Secrets are wrapped so they never print.

pub use crate::secret::{Secret, mask_url};
pub use crate::sections::{
    AuthConfig, BootstrapSettings, CorsSettings, DatabaseSettings, EmailSettings, EmailTransport, EventBackend,
    EventSettings, JobSettings, LogFormat, LogSettings, PoolerMode, RateLimitBackend, RateLimitSettings,
    ServerSettings, StorageBackend, StorageSettings,
};
use config::{Config, Environment as EnvSource, File, FileFormat};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const DEFAULT: &str = include_str!("../config/default.toml");
const DEVELOPMENT: &str = include_str!("../config/development.toml");
const TEST: &str = include_str!("../config/test.toml");
const PRODUCTION: &str = include_str!("../config/production.toml");

/// The development JWT secret; production refuses it.
pub const DEV_JWT_SECRET: &str = "rivet-development-secret-do-not-use-in-production";

/// The deployment environment, from `RIVET_ENV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunEnv {
    Development,
    Test,
    Production,
}

impl RunEnv {
    /// Parses `development`, `test` or `production`.
    ///
    /// # Errors
    /// A message naming the accepted values.
    pub fn parse(s: &str) -> Result<Self, SettingsError> {
        match s {
            "development" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" => Ok(Self::Production),
            other => {
                Err(SettingsError::Invalid(format!("RIVET_ENV={other:?}: expected development, test or production")))
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }

    fn compiled(self) -> &'static str {
        match self {
            Self::Development => DEVELOPMENT,
            Self::Test => TEST,
            Self::Production => PRODUCTION,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    #[serde(skip_deserializing, default = "default_env")]
    pub env: RunEnv,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthConfig,
    pub log: LogSettings,
    #[serde(default)]
    pub bootstrap: BootstrapSettings,
    pub jobs: JobSettings,
    pub email: EmailSettings,
    pub rate_limit: RateLimitSettings,
    #[serde(default)]
    pub cors: CorsSettings,
    pub storage: StorageSettings,
    pub events: EventSettings,
    /// Keys present in the sources that this version does not know.
    #[serde(skip)]
    pub unknown_keys: Vec<String>,
}

fn default_env() -> RunEnv {
    RunEnv::Development
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration error: {0}")]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("refusing to start in production: {0}")]
    Unsafe(String),
}

/// Where settings come from. The library never reads the process
/// environment itself: the binary passes the variables it wants layered.
#[derive(Debug, Clone)]
pub struct Sources {
    pub env: RunEnv,
    /// Directory with optional `default.toml` and `{env}.toml`.
    pub config_dir: PathBuf,
    /// Environment variables to layer over the files (`RIVET__*`, and
    /// `DATABASE_URL`); others are ignored. Empty: files only.
    pub vars: Vec<(String, String)>,
}

impl Sources {
    /// Only the compiled-in defaults of `env` (and the files of
    /// `config_dir`, if it exists): what tests and embedders start from.
    pub fn compiled(env: RunEnv, config_dir: impl Into<PathBuf>) -> Self {
        Self { env, config_dir: config_dir.into(), vars: Vec::new() }
    }
}

fn optional_file(dir: &Path, name: &str) -> File<config::FileSourceFile, FileFormat> {
    File::from(dir.join(name)).format(FileFormat::Toml).required(false)
}

impl Settings {
    /// Loads, layers and validates the settings.
    ///
    /// # Errors
    /// A malformed file, an invalid value (the key is named), or an unsafe
    /// production setting.
    pub fn load(sources: &Sources) -> Result<Self, SettingsError> {
        let env = sources.env;
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULT, FileFormat::Toml))
            .add_source(File::from_str(env.compiled(), FileFormat::Toml))
            .add_source(optional_file(&sources.config_dir, "default.toml"))
            .add_source(optional_file(&sources.config_dir, &format!("{}.toml", env.name())));
        if !sources.vars.is_empty() {
            let vars: config::Map<String, String> =
                sources.vars.iter().filter(|(k, _)| k.starts_with("RIVET__")).cloned().collect();
            let database_url = sources.vars.iter().find(|(k, v)| k == "DATABASE_URL" && !v.is_empty());
            builder = builder
                .add_source(
                    EnvSource::with_prefix("RIVET")
                        .prefix_separator("__")
                        .separator("__")
                        .try_parsing(true)
                        .list_separator(",")
                        .with_list_parse_key("cors.allowed_origins")
                        .source(Some(vars)),
                )
                .set_override_option("database.url", database_url.map(|(_, v)| v.clone()))?;
        }
        let config = builder.build()?;
        let mut unknown = Vec::new();
        let mut settings: Settings = serde_ignored::deserialize(config, |path| unknown.push(path.to_string()))?;
        settings.env = env;
        settings.unknown_keys = unknown;
        settings.validate()?;
        Ok(settings)
    }

    /// The event fan-out in use, with `auto` resolved by the database.
    pub fn event_backend(&self) -> EventBackend {
        match self.events.backend {
            EventBackend::Auto if self.database.url.starts_with("postgres") => EventBackend::Postgres,
            EventBackend::Auto => EventBackend::Memory,
            chosen => chosen,
        }
    }

    /// Redis for the event fan-out: `[events] redis_url`, else the rate limiter's.
    pub fn events_redis_url(&self) -> &str {
        match self.events.redis_url.expose() {
            "" => self.rate_limit.redis_url.expose(),
            url => url,
        }
    }

    /// Checks value ranges and, in production, refuses unsafe settings.
    ///
    /// # Errors
    /// The first problem found, naming its key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |m: &str| Err(SettingsError::Invalid(m.to_owned()));
        if !(4..=31).contains(&self.auth.bcrypt_cost) {
            return invalid("auth.bcrypt_cost must be between 4 and 31");
        }
        if self.auth.revocation_check_secs > 5 {
            return invalid("auth.revocation_check_secs must be at most 5");
        }
        if self.auth.access_token_ttl_secs == 0 || self.auth.refresh_token_ttl_secs == 0 {
            return invalid("auth.access_token_ttl_secs and auth.refresh_token_ttl_secs must be positive");
        }
        if rivet_auth::JwtAlgorithm::parse(&self.auth.jwt_algorithm).is_none() {
            return invalid("auth.jwt_algorithm must be HS256, RS256 or EdDSA");
        }
        if self.server.workers > 512 {
            return invalid("server.workers must be at most 512 (0: one per CPU)");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections must be at least 1");
        }
        if self.server.max_json_bytes < 1024 {
            return invalid("server.max_json_bytes must be at least 1024");
        }
        if self.server.max_header_bytes < 1024 || self.server.max_headers_total_bytes < self.server.max_header_bytes {
            return invalid("server.max_header_bytes must be at least 1024 and at most server.max_headers_total_bytes");
        }
        if self.server.max_headers_total_bytes > 120 * 1024 {
            return invalid(
                "server.max_headers_total_bytes must be at most 122880 (the HTTP parser refuses larger heads)",
            );
        }
        rivet_persistence::Backend::of_url(&self.database.url)
            .map_err(|e| SettingsError::Invalid(format!("database.url: {e}")))?;
        let postgres = |url: &str| {
            rivet_persistence::Backend::of_url(url).is_ok_and(|b| b == rivet_persistence::Backend::Postgres)
        };
        let direct = &self.database.direct_url;
        let direct_ok = direct.is_empty() || (postgres(&self.database.url) && postgres(direct));
        if !direct_ok {
            return invalid("database.direct_url is for PostgreSQL: a postgres:// URL beside a postgres:// url");
        }
        if self.database.pooler == PoolerMode::Transaction && !postgres(&self.database.url) {
            return invalid("database.pooler = \"transaction\" is for PostgreSQL");
        }
        self.validate_sections()?;
        if self.bootstrap.admin_email.is_some() != self.bootstrap.admin_password.is_some() {
            return invalid("bootstrap.admin_email and bootstrap.admin_password go together");
        }
        if self.env == RunEnv::Production {
            self.refuse_unsafe_production()?;
        }
        Ok(())
    }

    fn refuse_unsafe_production(&self) -> Result<(), SettingsError> {
        let unsafe_ = |m: &str| Err(SettingsError::Unsafe(m.to_owned()));
        if self.auth.jwt_algorithm == "HS256" {
            let secret = self.auth.jwt_secret.expose();
            if secret == DEV_JWT_SECRET {
                return unsafe_("auth.jwt_secret is the development default; set RIVET__AUTH__JWT_SECRET");
            }
            if secret.len() < 32 {
                return unsafe_("auth.jwt_secret is shorter than 32 bytes");
            }
        }
        let sqlite = rivet_persistence::Backend::of_url(&self.database.url)
            .is_ok_and(|b| b == rivet_persistence::Backend::Sqlite);
        if sqlite && !self.server.allow_sqlite_in_production {
            return unsafe_("database.url is SQLite; use PostgreSQL or set server.allow_sqlite_in_production = true");
        }
        if self.cors.allow_credentials && self.cors.allowed_origins.iter().any(|o| o == "*") {
            return unsafe_(
                "cors.allowed_origins contains \"*\" while cors.allow_credentials = true; list the origins",
            );
        }
        Ok(())
    }

    fn validate_sections(&self) -> Result<(), SettingsError> {
        let invalid = |m: &str| Err(SettingsError::Invalid(m.to_owned()));
        if !(self.server.public_url.starts_with("http://") || self.server.public_url.starts_with("https://")) {
            return invalid("server.public_url must be an http:// or https:// URL");
        }
        if self.server.request_timeout_secs == 0 {
            return invalid("server.request_timeout_secs must be positive");
        }
        if self.jobs.concurrency == 0 || self.jobs.poll_interval_ms == 0 {
            return invalid("jobs.concurrency and jobs.poll_interval_ms must be positive");
        }
        if self.jobs.lease_secs < 3 || self.jobs.purge_interval_secs == 0 {
            return invalid("jobs.lease_secs must be at least 3 and jobs.purge_interval_secs positive");
        }
        if self.email.transport == EmailTransport::Smtp && self.email.smtp_url.expose().is_empty() {
            return invalid("email.smtp_url is required with email.transport = \"smtp\"");
        }
        if self.rate_limit.credential_per_minute == 0 || self.rate_limit.api_per_minute == 0 {
            return invalid("rate_limit.credential_per_minute and rate_limit.api_per_minute must be positive");
        }
        if self.rate_limit.enabled
            && self.rate_limit.backend == RateLimitBackend::Redis
            && self.rate_limit.redis_url.expose().is_empty()
        {
            return invalid("rate_limit.redis_url is required with rate_limit.backend = \"redis\"");
        }
        if self.server.max_upload_bytes == 0 || self.storage.max_bytes_per_user == 0 {
            return invalid("server.max_upload_bytes and storage.max_bytes_per_user must be positive");
        }
        if self.events.retention_hours == 0 {
            return invalid("events.retention_hours must be positive");
        }
        if self.events.buffer == 0 || self.events.idle_timeout_secs == 0 || self.events.poll_interval_ms == 0 {
            return invalid("events.buffer, events.idle_timeout_secs and events.poll_interval_ms must be positive");
        }
        if self.events.backend == EventBackend::Postgres && !self.database.url.starts_with("postgres") {
            return invalid("events.backend = \"postgres\" needs a PostgreSQL database.url");
        }
        if self.events.backend == EventBackend::Redis && self.events_redis_url().is_empty() {
            return invalid("events.redis_url (or rate_limit.redis_url) is required with events.backend = \"redis\"");
        }
        if self.storage.backend == StorageBackend::S3 && self.storage.bucket.is_empty() {
            return invalid("storage.bucket is required with storage.backend = \"s3\"");
        }
        if let Some(bad) = self
            .cors
            .allowed_origins
            .iter()
            .find(|o| *o != "*" && !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(SettingsError::Invalid(format!(
                "cors.allowed_origins: {bad:?} is not an origin like https://app.example.com"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(env: RunEnv) -> Result<Settings, SettingsError> {
        Settings::load(&Sources::compiled(env, "/nonexistent"))
    }

    #[test]
    fn the_compiled_defaults_load_on_their_own() {
        let s = compiled(RunEnv::Development).unwrap();
        assert_eq!((s.server.host.as_str(), s.server.port), ("127.0.0.1", 8080));
        assert!(s.database.url.starts_with("sqlite://data/"));
        assert!(s.unknown_keys.is_empty(), "{:?}", s.unknown_keys);
        assert_eq!(compiled(RunEnv::Test).unwrap().auth.bcrypt_cost, 4);
    }

    #[test]
    fn production_refuses_any_origin_with_credentials() {
        let mut s = compiled(RunEnv::Development).unwrap();
        s.env = RunEnv::Production;
        s.auth.jwt_secret = serde_json::from_str("\"0123456789abcdef0123456789abcdef\"").unwrap();
        s.server.allow_sqlite_in_production = true;
        s.cors.allowed_origins = vec!["*".into()];
        s.cors.allow_credentials = true;
        let err = s.validate().unwrap_err();
        assert!(err.to_string().contains("cors.allowed_origins"), "{err}");
        s.cors.allowed_origins = vec!["https://app.example.com".into()];
        s.validate().expect("an explicit origin list with credentials is fine");
    }

    #[test]
    fn the_worker_count_is_what_actix_web_accepts_and_the_pool_splits_by() {
        let mut s = compiled(RunEnv::Development).unwrap();
        s.server.workers = 513;
        let err = s.validate().unwrap_err();
        assert!(err.to_string().contains("server.workers must be at most 512"), "{err}");
        s.server.workers = 3;
        s.validate().unwrap();
        assert_eq!((s.server.http_workers(), crate::db_options(&s).worker_threads), (3, 3));
        // 0: one per CPU, as actix-web counts them.
        s.server.workers = 0;
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        assert_eq!(crate::db_options(&s).worker_threads, cpus.min(512));
    }

    #[test]
    fn production_refuses_the_development_secret() {
        let err = compiled(RunEnv::Production).unwrap_err();
        assert!(err.to_string().contains("jwt_secret is the development default"), "{err}");
    }

    #[test]
    fn secrets_and_database_passwords_never_print() {
        let s = compiled(RunEnv::Development).unwrap();
        let out = serde_json::to_string(&s).unwrap();
        assert!(!out.contains(DEV_JWT_SECRET));
        assert!(!format!("{s:?}").contains(DEV_JWT_SECRET));
        assert_eq!(
            mask_url("postgres://app:hunter2@db:5432/rivet?sslmode=require"),
            "postgres://app:********@db:5432/rivet?sslmode=require"
        );
        assert_eq!(mask_url("sqlite://data/rivet.db"), "sqlite://data/rivet.db");
    }
}
