//! From settings to a wired object graph: the database (migrated unless
//! turned off), every repository, the use cases, the email transport, the
//! job runner and the shared rate-limit counter.

use crate::error::{Error, Result};
use crate::settings::{EmailTransport, EventBackend, RateLimitBackend, Settings, StorageBackend};
use crate::worker::{Worker, WorkerOptions};
use rivet_auth::{
    ApiKeyService, AuthService, AuthSettings, BcryptHasher, JwtAlgorithm, JwtCodec, JwtSettings, OneTimeSecrets,
    StreamTickets,
};
use rivet_domain::Accounts;
use rivet_domain::accounts::{AccountPorts, Registration};
use rivet_domain::background::TaskRunner;
use rivet_domain::email::{Links, Templates};
use rivet_domain::events::{Hub, HubOptions};
use rivet_domain::files::{FileLimits, FileRepository, Files};
use rivet_domain::ports::{
    Mailer, OneTimeTokenRepository, PasswordHasher, RateCounter, SessionRepository, UserRepository,
};
use rivet_domain::product::Products;
use rivet_domain::storage::BlobStore;
use rivet_domain::todo::Todos;
use rivet_persistence::{
    ApiKeyStore, Database, DbOptions, EventStore, FileStore, IdempotencyRecords, JobStore, OneTimeTokenStore,
    ProductStore, SessionStore, TodoStore, UserStore,
};
use std::sync::Arc;
use std::time::Duration;
use tracing::info;

/// Rivet's use cases over one database, wired from [`Settings`].
#[derive(Debug, Clone)]
pub struct Services {
    pub db: Database,
    pub accounts: Accounts,
    pub todos: Todos,
    pub products: Products,
    pub files: Files,
    pub idempotency: Arc<IdempotencyRecords>,
    pub api_keys: ApiKeyService,
    pub auth: Arc<AuthService>,
    pub jobs: Arc<JobStore>,
    pub tasks: TaskRunner,
    /// The event log (and the stream tickets).
    pub events: Arc<EventStore>,
    pub tickets: StreamTickets,
}

/// Database options from settings.
pub fn db_options(settings: &Settings) -> DbOptions {
    let d = &settings.database;
    DbOptions {
        url: d.url.clone(),
        direct_url: (!d.direct_url.is_empty()).then(|| d.direct_url.clone()),
        pooler: match d.pooler {
            crate::settings::PoolerMode::None => rivet_persistence::Pooler::None,
            crate::settings::PoolerMode::Transaction => rivet_persistence::Pooler::Transaction,
        },
        max_connections: settings.database.max_connections,
        // Each HTTP worker keeps to its own share of the pool (PostgreSQL).
        worker_threads: settings.server.http_workers(),
        connect_timeout: Duration::from_secs(settings.database.connect_timeout_secs),
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
    }
}

fn read_key(path: Option<&std::path::Path>) -> Result<Option<Vec<u8>>> {
    path.map(|p| std::fs::read(p).map_err(|e| Error::Auth(format!("cannot read {}: {e}", p.display())))).transpose()
}

impl Services {
    /// Connects (and migrates, unless `[database] run_migrations = false`)
    /// the database and wires the use cases.
    ///
    /// # Errors
    /// Database, migration, key or email-transport problems.
    pub async fn build(settings: &Settings) -> Result<Self> {
        let db = Database::connect(&db_options(settings))?;
        if settings.database.run_migrations {
            let applied = db.migrate().await?;
            if !applied.is_empty() {
                info!(count = applied.len(), "applied migrations");
            }
        }
        let users: Arc<dyn UserRepository> = Arc::new(UserStore::new(db.clone()));
        let sessions: Arc<dyn SessionRepository> = Arc::new(SessionStore::new(db.clone()));
        let a = &settings.auth;
        let permits =
            if a.max_concurrent_hashes == 0 { BcryptHasher::default_concurrency() } else { a.max_concurrent_hashes };
        let hasher: Arc<dyn PasswordHasher> = Arc::new(BcryptHasher::new(a.bcrypt_cost, permits));
        let jwt = JwtCodec::new(&JwtSettings {
            algorithm: JwtAlgorithm::parse(&a.jwt_algorithm)
                .ok_or_else(|| Error::Auth("unknown jwt_algorithm".into()))?,
            secret: a.jwt_secret.expose().as_bytes().to_vec(),
            private_key_pem: read_key(a.jwt_private_key_file.as_deref())?,
            public_key_pem: read_key(a.jwt_public_key_file.as_deref())?,
            issuer: a.issuer.clone(),
            audience: a.audience.clone(),
            access_ttl: Duration::from_secs(a.access_token_ttl_secs),
            leeway: Duration::from_secs(a.jwt_leeway_secs),
        })
        .map_err(|e| Error::Auth(e.to_string()))?;
        let auth_settings = AuthSettings {
            refresh_ttl: Duration::from_secs(a.refresh_token_ttl_secs),
            status_cache_ttl: Duration::from_secs(a.revocation_check_secs),
        };
        let auth = AuthService::new(users.clone(), sessions.clone(), hasher.clone(), jwt, auth_settings)
            .await
            .map_err(|e| Error::Auth(e.to_string()))?;
        let auth = Arc::new(auth);
        let tokens: Arc<dyn OneTimeTokenRepository> = Arc::new(OneTimeTokenStore::new(db.clone()));
        let templates = Templates::new(Links::new(&settings.server.public_url));
        let secrets = Arc::new(OneTimeSecrets);
        let ports = AccountPorts { users, sessions: sessions.clone(), hasher, tokens: tokens.clone(), secrets };
        let idempotency = Arc::new(IdempotencyRecords::new(db.clone()));
        let jobs = Arc::new(JobStore::new(db.clone()));
        let mailer = mailer(settings)?;
        let blobs = blob_store(settings)?;
        let file_rows: Arc<dyn FileRepository> = Arc::new(FileStore::new(db.clone()));
        let limits = FileLimits {
            max_upload_bytes: settings.server.max_upload_bytes,
            max_bytes_per_user: settings.storage.max_bytes_per_user,
        };
        let events = Arc::new(EventStore::new(db.clone()));
        let tasks = TaskRunner {
            mailer,
            sessions,
            tokens,
            idempotency: idempotency.clone(),
            jobs: jobs.clone(),
            blobs: blobs.clone(),
            files: file_rows.clone(),
            events: events.clone(),
            event_retention: chrono::Duration::hours(i64::from(settings.events.retention_hours)),
        };
        Ok(Self {
            accounts: Accounts::new(ports, templates),
            todos: Todos::new(Arc::new(TodoStore::new(db.clone()))),
            products: Products::new(Arc::new(ProductStore::new(db.clone()))),
            files: Files::new(file_rows, blobs, limits),
            api_keys: ApiKeyService::new(Arc::new(ApiKeyStore::new(db.clone()))),
            tickets: StreamTickets::new(events.clone(), auth.clone()),
            auth,
            db,
            idempotency,
            jobs,
            tasks,
            events,
        })
    }

    /// Starts this instance's event hub on the current tokio runtime, told
    /// of new events by this process's own commits and by the `[events]`
    /// fan-out (PostgreSQL `LISTEN`, Redis or none), and polling the log
    /// besides. It runs until the returned hub's last clone is dropped.
    ///
    /// # Errors
    /// An unreadable log, or an unusable fan-out setting.
    pub async fn start_events(&self, settings: &Settings) -> Result<Hub> {
        let e = &settings.events;
        let options = HubOptions {
            buffer: e.buffer,
            poll_interval: Duration::from_millis(e.poll_interval_ms),
            ..HubOptions::default()
        };
        let hub = Hub::start(self.events.clone(), options).await;
        self.db.on_events(Arc::new(hub.waker()));
        match settings.event_backend() {
            #[cfg(feature = "postgres")]
            EventBackend::Postgres => {
                if self.db.listen_for_events(hub.waker())?.is_none() {
                    tracing::warn!(
                        "no LISTEN through a transaction-mode pooler: events from other instances arrive by \
                         polling (events.poll_interval_ms); set database.direct_url, or events.backend = \"redis\""
                    );
                }
            }
            #[cfg(not(feature = "postgres"))]
            EventBackend::Postgres => return Err(Error::Events("this build has no PostgreSQL support".into())),
            EventBackend::Redis => {
                let fan_out = rivet_redis::RedisFanOut::new(settings.events_redis_url())
                    .map_err(|e| Error::Events(e.to_string()))?;
                let publisher = fan_out.publisher(hub.waker()).map_err(|e| Error::Events(e.to_string()))?;
                self.db.on_events(publisher);
                fan_out.subscribe(hub.waker());
            }
            EventBackend::Memory | EventBackend::Auto => {}
        }
        info!(backend = ?settings.event_backend(), "event hub started");
        Ok(hub)
    }

    /// A job worker over this queue, paced by `[jobs]`; `label` names it
    /// (the host name, say).
    pub fn worker(&self, settings: &Settings, label: Option<String>) -> Worker {
        let j = &settings.jobs;
        let options = WorkerOptions {
            poll_interval: Duration::from_millis(j.poll_interval_ms),
            concurrency: j.concurrency,
            lease: Duration::from_secs(j.lease_secs),
            purge_interval: Duration::from_secs(j.purge_interval_secs),
            grace: Duration::from_secs(settings.server.shutdown_timeout_secs),
            label,
        };
        Worker::new(self.jobs.clone(), self.tasks.clone(), options)
    }

    /// Creates the `[bootstrap]` administrator if it is configured and absent.
    ///
    /// # Errors
    /// `Bootstrap` when the account cannot be created.
    pub async fn bootstrap_admin(&self, settings: &Settings) -> Result<()> {
        let b = &settings.bootstrap;
        let (Some(email), Some(password)) = (&b.admin_email, &b.admin_password) else { return Ok(()) };
        let input = Registration { email: email.clone(), password: password.expose().to_owned(), full_name: None };
        match self.accounts.create(input, rivet_domain::Role::Admin).await {
            Ok(user) => {
                info!(user_id = %user.id, "created bootstrap administrator");
                Ok(())
            }
            Err(rivet_domain::Error::Conflict(rivet_domain::Conflict::EmailTaken)) => Ok(()),
            Err(e) => Err(Error::Bootstrap(e.to_string())),
        }
    }
}

/// The blob store `[storage]` names.
///
/// # Errors
/// `Storage` when the directory cannot be created or the S3 options are
/// unusable.
pub fn blob_store(settings: &Settings) -> Result<Arc<dyn BlobStore>> {
    let s = &settings.storage;
    let set = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    let store = match s.backend {
        StorageBackend::Local => rivet_storage::ObjectStorage::local(&s.dir),
        StorageBackend::S3 => rivet_storage::ObjectStorage::s3(&rivet_storage::S3Options {
            bucket: s.bucket.clone(),
            endpoint: set(&s.endpoint),
            region: set(&s.region),
            access_key_id: set(&s.access_key_id),
            secret_access_key: set(s.secret_access_key.expose()),
            path_style: s.path_style,
        }),
    }
    .map_err(|e| Error::Storage(rivet_domain::error::display_chain(&e)))?;
    Ok(Arc::new(store))
}

/// The email transport `[email]` names.
fn mailer(settings: &Settings) -> Result<Arc<dyn Mailer>> {
    let e = &settings.email;
    let transport = match e.transport {
        EmailTransport::File => rivet_mail::Transport::File { dir: e.file_dir.clone() },
        EmailTransport::Smtp => rivet_mail::Transport::Smtp { url: e.smtp_url.expose().to_owned() },
        EmailTransport::Log => rivet_mail::Transport::Log,
    };
    Ok(rivet_mail::build(&rivet_mail::MailSettings { transport, from: e.from.clone() })?)
}

/// The shared counter `[rate_limit] backend = "redis"` names, if it does.
///
/// # Errors
/// An unusable `redis_url`.
pub fn shared_rate_counter(settings: &Settings) -> Result<Option<Arc<dyn RateCounter>>> {
    let r = &settings.rate_limit;
    match r.backend {
        RateLimitBackend::Memory => Ok(None),
        RateLimitBackend::Redis => {
            let counter =
                rivet_redis::RedisCounter::new(r.redis_url.expose()).map_err(|e| Error::RateLimit(e.to_string()))?;
            Ok(Some(Arc::new(counter)))
        }
    }
}

/// Opens the database and applies pending migrations; returns their names
/// and the backend's name (`rivet migrate`).
///
/// # Errors
/// Connection or migration failures.
pub async fn migrate(settings: &Settings) -> Result<(Vec<String>, &'static str)> {
    let db = Database::connect(&db_options(settings))?;
    let applied = db.migrate().await?;
    let backend = db.backend().name();
    db.close();
    Ok((applied, backend))
}

/// The key material cursors are signed with: the private key when tokens
/// are signed with one, else the JWT secret, so every instance of one
/// deployment accepts the others' cursors.
///
/// # Errors
/// An unreadable key file.
pub fn signing_material(settings: &Settings) -> Result<Vec<u8>> {
    match read_key(settings.auth.jwt_private_key_file.as_deref())? {
        Some(key) => Ok(key),
        None => Ok(settings.auth.jwt_secret.expose().as_bytes().to_vec()),
    }
}
