//! Connection pools for both backends and the macro that runs one query body
//! on either.
//!
//! Backend differences, all of them, and where each is handled:
//! - UUID and timestamp storage: [`crate::types`].
//! - Booleans: `BOOLEAN` on PostgreSQL, `INTEGER` 0/1 on SQLite; diesel's
//!   `Bool` maps both.
//! - Unique-violation details (constraint name vs. message): `error.rs`.
//! - Connection setup: SQLite connections get WAL, a busy timeout and foreign
//!   keys on every open ([`crate::sqlite_conn`]); SQLite's parent directory is
//!   created first; an in-memory database gets a pool of one connection,
//!   since each SQLite connection to `:memory:` is a database of its own.
//! - Pools: PostgreSQL has one. A SQLite file has two: one writer connection
//!   for transactions and writes, and `max_connections` readers that refuse
//!   writes, for bodies that only read (`with_conn!(read db, ...)`).
//! - Write transactions: SQLite fails a transaction that reads and then
//!   writes while another writer commits. Every multi-statement write
//!   transaction therefore starts with a write — usually [`lock`] — which on
//!   SQLite takes the database write lock at once (waiting out the busy
//!   timeout) and on PostgreSQL takes a row lock.
//! - SQLite's calls are blocking: they run on the calling thread, which is
//!   cheaper than a hand-off and never waits on another writer of this
//!   process (see [`OnCallingThread`]).
//! - Migrations: one embedded set per backend ([`crate::migrations`]).
//! - TLS (PostgreSQL only): `sslmode=require` and stricter, see [`crate::tls`].

use crate::error::{Error, Result};
#[cfg(feature = "postgres")]
use crate::pg_conn::{PgConn, Session, Statements, statements_for};
use diesel_async::RunQueryDsl;
use diesel_async::pooled_connection::deadpool::Pool as DeadPool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use rivet_domain::events::EventSignal;
use std::sync::{Arc, PoisonError, RwLock};

pub use crate::options::{Backend, DbOptions, Pooler};
#[cfg(feature = "sqlite")]
pub use crate::sqlite_conn::{OnCallingThread, SqliteConn};
#[cfg(feature = "sqlite")]
use crate::sqlite_conn::{SqliteSetup, sqlite_path, sqlite_reader_setup, sqlite_setup};

/// A pool of connections to one of the backends.
#[derive(Clone)]
#[allow(missing_debug_implementations)] // deadpool's pools are not Debug; `Database` is.
pub enum Pool {
    #[cfg(feature = "postgres")]
    Postgres(crate::pg_shares::PgShares),
    #[cfg(feature = "sqlite")]
    Sqlite(DeadPool<SqliteConn>),
}

/// Pool occupancy, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub max_size: usize,
    pub size: usize,
    pub idle: usize,
    pub waiting: usize,
}

/// The database: a backend and its pool. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    /// The readers' pool, where it differs from `pool`: SQLite files (see
    /// [`Database::read_pool`]).
    readers: Option<Pool>,
    /// Where a session connection goes (PostgreSQL): the direct URL, or the
    /// pool's own when none is set.
    #[cfg(feature = "postgres")]
    session: Option<Arc<Session>>,
    /// Told after every commit that recorded events (see [`Database::on_events`]).
    signals: Arc<RwLock<Vec<Arc<dyn EventSignal>>>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("backend", &self.backend()).field("pool", &self.pool_status()).finish()
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of whichever
/// backend `$db` uses, and evaluates to the body's [`Result`]. The body is
/// compiled once per backend compiled in (cargo features `postgres` and
/// `sqlite`): this is the one macro where the two backends expand, and every
/// repository method is written once inside it. `?` in the body converts
/// to this crate's [`Error`] (the body runs in an async block of its own),
/// so a trait method ends with `Ok(with_conn!(...)?)` and converts once.
///
/// The form `|conn, sql|` also names the backend's module of shared
/// statements (`crate::for_pg` or `crate::for_sqlite`, both compiled from
/// `src/per_backend/`) as `sql`: `sql::Db` is the diesel backend type, for
/// boxed queries, and `sql::lock`, `sql::write_outbox` and the list filters
/// are plain functions of that backend.
///
/// `with_conn!(read db, ...)` runs a body that only reads, outside any
/// transaction, on [`Database::read_pool`]: on a SQLite file, connections
/// that refuse writes (`query_only`) and run on the calling thread.
#[macro_export]
#[doc(hidden)]
macro_rules! with_conn {
    (@on $pool:expr, |$conn:ident, $sql:ident| $body:expr) => {
        $crate::db::scoped(async {
            match $pool {
                #[cfg(feature = "postgres")]
                $crate::db::Pool::Postgres(pool) => {
                    #[allow(unused_imports)]
                    use $crate::for_pg as $sql;
                    let mut pooled = pool.get().await?;
                    let $conn: &mut $crate::PgConn = &mut pooled;
                    $body
                }
                #[cfg(feature = "sqlite")]
                $crate::db::Pool::Sqlite(pool) => {
                    #[allow(unused_imports)]
                    use $crate::for_sqlite as $sql;
                    let mut pooled = pool.get().await?;
                    let $conn: &mut $crate::db::SqliteConn = &mut pooled;
                    $body
                }
            }
        })
        .await
    };
    (read $db:expr, |$conn:ident, $sql:ident| $body:expr) => {
        $crate::with_conn!(@on $db.read_pool(), |$conn, $sql| $body)
    };
    (read $db:expr, |$conn:ident| $body:expr) => {
        $crate::with_conn!(@on $db.read_pool(), |$conn, _sql| $body)
    };
    ($db:expr, |$conn:ident, $sql:ident| $body:expr) => {
        $crate::with_conn!(@on $db.pool(), |$conn, $sql| $body)
    };
    ($db:expr, |$conn:ident| $body:expr) => {
        $crate::with_conn!(@on $db.pool(), |$conn, _sql| $body)
    };
}

/// The scope of one [`with_conn!`] body: pins its result to this crate's
/// [`Result`], which is what `?` inside the body converts to.
#[doc(hidden)]
pub async fn scoped<T>(body: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    body.await
}

/// Pool settings that hand out a returned connection without a test query:
/// the default check (`SELECT 1` on every checkout) would double the round
/// trips of every request. A connection that broke is dropped by the pool
/// after its failing query, and that request answers 503.
fn fast_recycling<C: diesel_async::AsyncConnection + 'static>() -> ManagerConfig<C> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config
}

/// Opens PostgreSQL connections, over TLS when the URL asks for it. A
/// connection's I/O task runs on the runtime of the request that opened it:
/// for the server, an HTTP worker's, which keeps to its own share of the
/// pool ([`crate::pg_shares`]) so that its queries cross no thread. That is
/// also why the server stops its workers only once no request is in flight
/// on any of them (a stopped worker's runtime takes the connections it
/// opened down with it).
#[cfg(feature = "postgres")]
fn pg_setup(
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    statements: Statements,
) -> diesel_async::pooled_connection::SetupCallback<PgConn> {
    use futures_util::FutureExt;
    Box::new(move |url| crate::tls::connect(url.to_owned(), tls.clone(), statements).boxed())
}

/// Bounds every wait of a pool: for a free connection, to open one, to check one.
fn with_timeouts<M: deadpool::managed::Manager>(
    b: deadpool::managed::PoolBuilder<M>,
    opts: &DbOptions,
) -> deadpool::managed::PoolBuilder<M> {
    b.runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(opts.acquire_timeout))
        .create_timeout(Some(opts.connect_timeout))
        .recycle_timeout(Some(opts.connect_timeout))
}

impl Database {
    /// Builds the pool for the backend the URL names. Connections open lazily;
    /// call [`Database::ping`] to check the database answers.
    ///
    /// # Errors
    /// [`Error::Url`] for an unsupported URL, [`Error::Setup`] when the SQLite
    /// directory cannot be created or the pool cannot be built.
    pub fn connect(opts: &DbOptions) -> Result<Self> {
        let backend = Backend::of_url(&opts.url)?;
        if !backend.compiled_in() {
            return Err(Error::Url(format!(
                "this build has no {} support (cargo feature `{}` of rivet-persistence is off)",
                backend.name(),
                backend.name()
            )));
        }
        let (pool, readers) = match backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let target = crate::tls::prepare(&opts.url)?;
                let shares = crate::pg_shares::PgShares::new(opts.max_connections, opts.worker_threads, |size| {
                    let mut config = fast_recycling();
                    config.custom_setup = pg_setup(target.tls.clone(), statements_for(opts.pooler));
                    let manager = AsyncDieselConnectionManager::<PgConn>::new_with_config(target.url.clone(), config);
                    let builder = DeadPool::builder(manager).max_size(size);
                    with_timeouts(builder, opts).build().map_err(|e| Error::Setup(e.to_string()))
                })?;
                (Pool::Postgres(shares), None)
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let path = sqlite_path(&opts.url).to_owned();
                let in_memory = path == ":memory:" || path.is_empty();
                let parent = std::path::Path::new(&path).parent().filter(|d| !d.as_os_str().is_empty());
                if let Some(dir) = parent.filter(|_| !in_memory) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Error::Setup(format!("cannot create {}: {e}", dir.display())))?;
                }
                let sqlite_pool = |setup: SqliteSetup, path: String, size: usize| {
                    let mut config = fast_recycling();
                    config.custom_setup = Box::new(setup);
                    let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, config);
                    let builder = DeadPool::builder(manager).max_size(size);
                    with_timeouts(builder, opts).build().map(Pool::Sqlite).map_err(|e| Error::Setup(e.to_string()))
                };
                if in_memory {
                    // Each connection to `:memory:` is a database of its own: one for everything.
                    (sqlite_pool(sqlite_setup, ":memory:".to_owned(), 1)?, None)
                } else {
                    // One writer: SQLite writes one transaction at a time anyway, and
                    // writers queue for it in the pool instead of in the busy handler.
                    let readers = sqlite_pool(sqlite_reader_setup, path.clone(), opts.max_connections.max(1))?;
                    (sqlite_pool(sqlite_setup, path, 1)?, Some(readers))
                }
            }
            #[allow(unreachable_patterns)] // the backends compiled in are matched above
            _ => unreachable!("checked by Backend::compiled_in"),
        };
        Ok(Self {
            pool,
            readers,
            #[cfg(feature = "postgres")]
            session: if backend == Backend::Postgres { Some(Arc::new(Session::of(opts)?)) } else { None },
            signals: Arc::default(),
        })
    }

    /// The pool, for the `with_conn!` macro.
    #[doc(hidden)]
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The pool for bodies that only read, outside a transaction. On a SQLite
    /// file, a pool of its own whose connections run on the calling thread
    /// (a read in WAL mode never waits for the write lock); otherwise `pool`.
    #[doc(hidden)]
    pub fn read_pool(&self) -> &Pool {
        self.readers.as_ref().unwrap_or(&self.pool)
    }

    /// How to open a session connection, on PostgreSQL.
    #[cfg(feature = "postgres")]
    pub(crate) fn session(&self) -> Option<&Session> {
        self.session.as_deref()
    }

    /// Starts this instance's `LISTEN` for the event log's notifications on
    /// the session connection, waking `waker` on each (PostgreSQL). `None`
    /// when there is no session to listen on — SQLite, or a transaction-mode
    /// pooler without `direct_url`, which cannot carry a `LISTEN`: other
    /// instances' events then come by the hub's polling.
    ///
    /// # Errors
    /// A URL or TLS setting that cannot work.
    #[cfg(feature = "postgres")]
    pub fn listen_for_events(&self, waker: rivet_domain::events::Waker) -> Result<Option<tokio::task::JoinHandle<()>>> {
        match self.session() {
            Some(session) if session.statements == Statements::Prepared => {
                crate::listen::listen_for_events(session.target.clone(), waker).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Current pool occupancy: on a SQLite file, the writer's and the
    /// readers' pools together.
    pub fn pool_status(&self) -> PoolStatus {
        let mut total = PoolStatus { max_size: 0, size: 0, idle: 0, waiting: 0 };
        let mut add = |s: deadpool::Status| {
            total.max_size += s.max_size;
            total.size += s.size;
            total.idle += s.available;
            total.waiting += s.waiting;
        };
        for pool in std::iter::once(&self.pool).chain(&self.readers) {
            match pool {
                #[cfg(feature = "postgres")]
                Pool::Postgres(p) => p.shares().iter().for_each(|share| add(share.status())),
                #[cfg(feature = "sqlite")]
                Pool::Sqlite(p) => add(p.status()),
            }
        }
        total
    }

    /// A trivial round trip.
    ///
    /// # Errors
    /// When no connection can be had or the query fails.
    pub async fn ping(&self) -> Result<()> {
        with_conn!(self, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?;
            Ok(())
        })
    }

    /// Registers `signal` to be told, after the commit, of every change
    /// made through this database (any clone) that recorded events: how the
    /// hub of this process (and the Redis fan-out) hears of them at once.
    pub fn on_events(&self, signal: Arc<dyn EventSignal>) {
        self.signals.write().unwrap_or_else(PoisonError::into_inner).push(signal);
    }

    /// Passes `result` through, telling the [`Database::on_events`] signals
    /// when it is a success: the repositories' event-recording methods end
    /// with it, after their transaction committed.
    pub(crate) fn announce<T>(&self, result: Result<T>) -> Result<T> {
        if result.is_ok() {
            for signal in self.signals.read().unwrap_or_else(PoisonError::into_inner).iter() {
                signal.signal();
            }
        }
        result
    }

    /// Closes the pool: idle connections are dropped, new requests fail.
    pub fn close(&self) {
        for pool in std::iter::once(&self.pool).chain(&self.readers) {
            match pool {
                #[cfg(feature = "postgres")]
                Pool::Postgres(p) => p.shares().iter().for_each(DeadPool::close),
                #[cfg(feature = "sqlite")]
                Pool::Sqlite(p) => p.close(),
            }
        }
    }
}

#[async_trait::async_trait]
impl rivet_domain::ports::HealthCheck for Database {
    async fn ping(&self) -> std::result::Result<(), rivet_domain::RepoError> {
        Ok(Database::ping(self).await?)
    }
}
