//! Building the application from settings: the one function `main` and the
//! end-to-end tests share.

use crate::metrics_sources::{PoolMetrics, QueueMetrics};
use crate::protection::{cors_middleware, rate_limiter, security_headers};
use crate::settings::EmailTransport;
use crate::settings::Settings;
use crate::worker::{Worker, WorkerOptions};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use rivet_auth::{ApiKeyService, AuthService, AuthSettings, BcryptHasher, JwtAlgorithm, JwtCodec, JwtSettings, OneTimeSecrets};
use rivet_domain::Accounts;
use rivet_domain::accounts::{AccountPorts, Registration};
use rivet_domain::background::TaskRunner;
use rivet_domain::email::{Links, Templates};
use rivet_domain::ports::{
    HealthCheck, IdempotencyStore, Mailer, OneTimeTokenRepository, PasswordHasher, SessionRepository, UserRepository,
};
use rivet_domain::product::Products;
use rivet_domain::todo::Todos;
use rivet_http::collection::CursorCodec;
use rivet_http::context::RequestContext;
use rivet_http::hardening::{Compression, RequestTimeout};
use rivet_http::metrics::Metrics;
use rivet_http::rate_limit::RateLimit;
use rivet_http::{AppState, HttpLimits};
use rivet_persistence::{
    ApiKeyStore, Database, DbOptions, IdempotencyRecords, JobStore, OneTimeTokenStore, ProductStore, SessionStore, TodoStore, UserStore,
};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] rivet_persistence::Error),
    #[error("authentication setup: {0}")]
    Auth(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("bootstrap administrator: {0}")]
    Bootstrap(String),
    #[error("rate limiting: {0}")]
    RateLimit(String),
    #[error("email: {0}")]
    Mail(#[from] rivet_mail::SetupError),
}

/// The wired use cases over one database.
#[derive(Debug, Clone)]
pub struct Services {
    pub db: Database,
    pub accounts: Accounts,
    pub todos: Todos,
    pub products: Products,
    pub idempotency: Arc<IdempotencyRecords>,
    pub api_keys: ApiKeyService,
    pub auth: Arc<AuthService>,
    pub jobs: Arc<JobStore>,
    pub tasks: TaskRunner,
}

/// Database options from settings.
pub fn db_options(settings: &Settings) -> DbOptions {
    DbOptions {
        url: settings.database.url.clone(),
        max_connections: settings.database.max_connections,
        connect_timeout: Duration::from_secs(settings.database.connect_timeout_secs),
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
    }
}

fn read_key(path: &Option<std::path::PathBuf>) -> Result<Option<Vec<u8>>, StartupError> {
    path.as_ref().map(|p| std::fs::read(p).map_err(|e| StartupError::Auth(format!("cannot read {}: {e}", p.display())))).transpose()
}

/// Connects (and migrates, unless turned off) the database and wires the use cases.
///
/// # Errors
/// Database, migration or key problems.
pub async fn services(settings: &Settings) -> Result<Services, StartupError> {
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
    let concurrency = if a.max_concurrent_hashes == 0 { BcryptHasher::default_concurrency() } else { a.max_concurrent_hashes };
    let hasher: Arc<dyn PasswordHasher> = Arc::new(BcryptHasher::new(a.bcrypt_cost, concurrency));
    let jwt = JwtCodec::new(&JwtSettings {
        algorithm: JwtAlgorithm::parse(&a.jwt_algorithm).ok_or_else(|| StartupError::Auth("unknown jwt_algorithm".into()))?,
        secret: a.jwt_secret.expose().as_bytes().to_vec(),
        private_key_pem: read_key(&a.jwt_private_key_file)?,
        public_key_pem: read_key(&a.jwt_public_key_file)?,
        issuer: a.issuer.clone(),
        audience: a.audience.clone(),
        access_ttl: Duration::from_secs(a.access_token_ttl_secs),
        leeway: Duration::from_secs(a.jwt_leeway_secs),
    })
    .map_err(|e| StartupError::Auth(e.to_string()))?;
    let auth_settings = AuthSettings {
        refresh_ttl: Duration::from_secs(a.refresh_token_ttl_secs),
        status_cache_ttl: Duration::from_secs(a.revocation_check_secs),
    };
    let auth = AuthService::new(users.clone(), sessions.clone(), hasher.clone(), jwt, auth_settings)
        .await
        .map_err(|e| StartupError::Auth(e.to_string()))?;
    let tokens: Arc<dyn OneTimeTokenRepository> = Arc::new(OneTimeTokenStore::new(db.clone()));
    let templates = Templates::new(Links::new(&settings.server.public_url));
    let ports = AccountPorts { users, sessions: sessions.clone(), hasher, tokens: tokens.clone(), secrets: Arc::new(OneTimeSecrets) };
    let accounts = Accounts::new(ports, templates);
    let todos = Todos::new(Arc::new(TodoStore::new(db.clone())));
    let products = Products::new(Arc::new(ProductStore::new(db.clone())));
    let idempotency = Arc::new(IdempotencyRecords::new(db.clone()));
    let api_keys = ApiKeyService::new(Arc::new(ApiKeyStore::new(db.clone())));
    let jobs = Arc::new(JobStore::new(db.clone()));
    let tasks = TaskRunner { mailer: mailer(settings)?, sessions, tokens, idempotency: idempotency.clone(), jobs: jobs.clone() };
    Ok(Services { db, accounts, todos, products, idempotency, api_keys, auth: Arc::new(auth), jobs, tasks })
}

/// The email transport `[email]` names.
fn mailer(settings: &Settings) -> Result<Arc<dyn Mailer>, StartupError> {
    let e = &settings.email;
    let transport = match e.transport {
        EmailTransport::File => rivet_mail::Transport::File { dir: e.file_dir.clone() },
        EmailTransport::Smtp => rivet_mail::Transport::Smtp { url: e.smtp_url.expose().to_owned() },
        EmailTransport::Log => rivet_mail::Transport::Log,
    };
    Ok(rivet_mail::build(&rivet_mail::MailSettings { transport, from: e.from.clone() })?)
}

/// A job worker over the services' queue, paced by `[jobs]`.
pub fn worker(settings: &Settings, services: &Services) -> Worker {
    let j = &settings.jobs;
    let options = WorkerOptions {
        poll_interval: Duration::from_millis(j.poll_interval_ms),
        concurrency: j.concurrency,
        lease: Duration::from_secs(j.lease_secs),
        purge_interval: Duration::from_secs(j.purge_interval_secs),
        grace: Duration::from_secs(settings.server.shutdown_timeout_secs),
    };
    Worker::new(services.jobs.clone(), services.tasks.clone(), options)
}

/// Creates the `[bootstrap]` administrator if it is configured and absent.
async fn bootstrap_admin(settings: &Settings, accounts: &Accounts) -> Result<(), StartupError> {
    let (Some(email), Some(password)) = (&settings.bootstrap.admin_email, &settings.bootstrap.admin_password) else { return Ok(()) };
    let input = Registration { email: email.clone(), password: password.expose().to_owned(), full_name: None };
    match accounts.create(input, rivet_domain::Role::Admin).await {
        Ok(user) => {
            info!(user_id = %user.id, "created bootstrap administrator");
            Ok(())
        }
        Err(rivet_domain::Error::Conflict(rivet_domain::Conflict::EmailTaken)) => Ok(()),
        Err(e) => Err(StartupError::Bootstrap(e.to_string())),
    }
}

/// A running application: the HTTP server bound to its port.
pub struct Application {
    port: u16,
    server: Server,
    services: Services,
    /// The in-process job worker (`[jobs] enabled`) and its stop signal.
    worker: Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).field("services", &self.services).finish_non_exhaustive()
    }
}

impl Application {
    /// Connects, migrates, binds the listener and prepares the server. Port 0
    /// binds a free port; [`Application::port`] tells which.
    ///
    /// # Errors
    /// See [`StartupError`].
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let services = services(settings).await?;
        bootstrap_admin(settings, &services.accounts).await?;
        let addr = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartupError::Bind { addr: addr.clone(), source })?;
        let port = listener.local_addr().map_err(|source| StartupError::Bind { addr, source })?.port();
        let state = web::Data::new(AppState {
            accounts: services.accounts.clone(),
            todos: services.todos.clone(),
            products: services.products.clone(),
            auth: services.auth.clone(),
            api_keys: services.api_keys.clone(),
            database: Arc::new(services.db.clone()) as Arc<dyn HealthCheck>,
            idempotency: services.idempotency.clone() as Arc<dyn IdempotencyStore>,
            cursors: cursor_codec(settings)?,
        });
        let limits = web::Data::new(HttpLimits { max_json_bytes: settings.server.max_json_bytes });
        let limiter = rate_limiter(settings)?.map(web::Data::new);
        let metrics =
            web::Data::new(Metrics::new(vec![Arc::new(PoolMetrics(services.db.clone())), Arc::new(QueueMetrics(services.jobs.clone()))]));
        let hsts = settings.server.hsts;
        let cors = settings.cors.clone();
        let timeout = web::Data::new(RequestTimeout(Duration::from_secs(settings.server.request_timeout_secs)));
        let mut server = HttpServer::new(move || {
            // Outermost last: every answer — timeouts, 429s, preflights —
            // gets the request id, the security headers and compression.
            let mut app = App::new()
                .wrap(RateLimit)
                .wrap(cors_middleware(&cors))
                .wrap(Compression)
                .wrap(security_headers(hsts))
                .wrap(RequestContext)
                .app_data(state.clone())
                .app_data(limits.clone())
                .app_data(metrics.clone())
                .app_data(timeout.clone());
            if let Some(limiter) = &limiter {
                app = app.app_data(limiter.clone());
            }
            app.configure(rivet_http::configure)
        })
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.listen(listener).map_err(|source| StartupError::Bind { addr: format!("port {port}"), source })?.run();
        let worker = settings.jobs.enabled.then(|| {
            let (stop, stopped) = watch::channel(false);
            (stop, tokio::spawn(worker(settings, &services).run(stopped)))
        });
        Ok(Self { port, server, services, worker })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The wired services (tests reach the database through them).
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until SIGINT/SIGTERM or [`ServerHandle::stop`]: stops accepting,
    /// lets in-flight requests finish within `shutdown_timeout_secs`, stops
    /// the job worker (running jobs finish or go back to the queue), then
    /// closes the database pool.
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some((stop, worker)) = self.worker {
            let _ = stop.send(true);
            if let Err(e) = worker.await {
                warn!(error = %e, "the job worker ended abnormally");
            }
        }
        self.services.db.close();
        if let Err(e) = &result {
            warn!(error = %e, "server stopped with an error");
        }
        result
    }
}

/// Cursors are signed with a key derived from the deployment's signing
/// secret, so every instance of one deployment accepts the others' cursors.
fn cursor_codec(settings: &Settings) -> Result<CursorCodec, StartupError> {
    let material = match &settings.auth.jwt_private_key_file {
        Some(_) => read_key(&settings.auth.jwt_private_key_file)?.unwrap_or_default(),
        None => settings.auth.jwt_secret.expose().as_bytes().to_vec(),
    };
    Ok(CursorCodec::from_secret(&material))
}
