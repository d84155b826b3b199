//! SQLite connections: how they open (the writer's and the readers'
//! settings) and where their calls run (the calling thread).

use diesel::sqlite::SqliteConnection;
use diesel_async::SimpleAsyncConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use futures_util::{FutureExt, future::BoxFuture};

/// The SQLite connection type: diesel's sync connection behind an async
/// wrapper that runs each call on the calling thread ([`OnCallingThread`]).
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection, OnCallingThread>;

/// Runs each SQLite call at once on the thread that makes it.
///
/// Why no hand-off to tokio's blocking pool, on a file database:
/// - A read in WAL mode never waits for a writer: it costs the same CPU on
///   an async worker as on a blocking thread, without the two thread
///   hand-offs per statement that cost a page read more than its SQL.
/// - Writes go through one connection per process ([`crate::db`]), so no
///   two writers of one process ever wait on each other's lock: they queue
///   for that connection in the pool, fairly and asynchronously, instead of
///   sleeping in SQLite's busy handler, whose growing sleeps (up to 100 ms
///   each) made the write tail. Only another process writing the same file
///   (`rivet worker`, a `sqlite3` shell) can make the writer wait for the
///   lock, up to the busy timeout, and then only the one worker thread that
///   holds the writer.
/// - A call completes when its future is first polled, so dropping a
///   request mid-query (a client that disconnects, actix dropping one
///   extractor because another failed) never leaves a statement running on
///   a connection that goes back to the pool.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnCallingThread;

impl diesel_async::sync_connection_wrapper::SpawnBlocking for OnCallingThread {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> BoxFuture<'a, std::result::Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        Box::pin(std::future::ready(Ok(task())))
    }

    fn get_runtime() -> Self {
        Self
    }
}

/// The settings of a SQLite pool's connections, run on each open.
pub(crate) type SqliteSetup = fn(&str) -> BoxFuture<'_, diesel::ConnectionResult<SqliteConn>>;

/// The writer's settings: WAL (kept in the file, so the readers share it),
/// a busy timeout for another process's write lock, foreign keys, and a
/// bound on the WAL file: SQLite reuses the file from its start after a
/// checkpoint but never shrinks it, so a burst of writes while readers held
/// old snapshots would leave it as large as the burst made it; past
/// 64 MiB it is truncated back at the next reset.
pub(crate) fn sqlite_setup(url: &str) -> BoxFuture<'_, diesel::ConnectionResult<SqliteConn>> {
    sqlite_open(
        url,
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
         PRAGMA journal_size_limit = 67108864;",
    )
}

/// The readers' settings: they refuse writes, so a body that writes by
/// mistake fails its tests instead of taking the write lock beside the
/// writer.
pub(crate) fn sqlite_reader_setup(url: &str) -> BoxFuture<'_, diesel::ConnectionResult<SqliteConn>> {
    sqlite_open(url, "PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;")
}

/// Opens a SQLite connection on the blocking pool (opening can create the
/// file and read its header), then runs `pragmas` on it.
fn sqlite_open<'a>(url: &'a str, pragmas: &'static str) -> BoxFuture<'a, diesel::ConnectionResult<SqliteConn>> {
    async move {
        let url = url.to_owned();
        let conn = tokio::task::spawn_blocking(move || <SqliteConnection as diesel::Connection>::establish(&url))
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))??;
        let mut conn = SqliteConn::with_runtime(conn, OnCallingThread);
        conn.batch_execute(pragmas).await.map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        static CHECKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !CHECKED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            match missing_build_options(&mut conn).await {
                Ok(missing) if missing.is_empty() => {}
                Ok(missing) => tracing::warn!(
                    ?missing,
                    "SQLite was compiled without options Rivet's speed depends on: set \
                     LIBSQLITE3_FLAGS=\"-DSQLITE_ENABLE_QPSG -DSQLITE_DEFAULT_MEMSTATUS=0\" when building \
                     (Rivet's workspace does, in .cargo/config.toml)"
                ),
                Err(e) => tracing::debug!(error = %e, "cannot read SQLite's compile options"),
            }
        }
        Ok(conn)
    }
    .boxed()
}

/// Compile options of SQLite that Rivet's reads depend on for their speed
/// (the workspace's `.cargo/config.toml` sets them for the bundled SQLite):
/// - `ENABLE_QPSG`, the query planner stability guarantee: a statement's
///   plan never depends on its bound values. Without it SQLite compiles a
///   bound `LIMIT ?` into the statement as a constant, so a statement diesel
///   caches and binds again is parsed and planned again on every run.
/// - `DEFAULT_MEMSTATUS=0`: no memory statistics, whose process-wide mutex
///   every SQLite allocation takes — and the readers, one per request,
///   contend for.
pub(crate) const BUILD_OPTIONS: [&str; 2] = ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"];

/// Those of [`BUILD_OPTIONS`] the linked SQLite was compiled without.
async fn missing_build_options(conn: &mut SqliteConn) -> diesel::QueryResult<Vec<&'static str>> {
    use diesel_async::RunQueryDsl;
    let mut missing = Vec::new();
    for option in BUILD_OPTIONS {
        let used = diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("sqlite_compileoption_used('{option}')"));
        if !diesel::select(used).get_result::<bool>(conn).await? {
            missing.push(option);
        }
    }
    Ok(missing)
}

/// The file path (or `:memory:`) of a `sqlite:` URL.
pub(crate) fn sqlite_path(url: &str) -> &str {
    let rest = url.trim_start_matches("sqlite:");
    rest.strip_prefix("//").unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workspace builds the bundled SQLite with the options of
    /// [`BUILD_OPTIONS`]; without them every list request re-plans its
    /// statement (see `.cargo/config.toml`).
    #[tokio::test]
    async fn sqlite_is_compiled_with_the_options_reads_depend_on() {
        let mut conn = sqlite_setup(":memory:").await.unwrap();
        assert_eq!(missing_build_options(&mut conn).await.unwrap(), Vec::<&str>::new());
        // The check reads the build: an option never set is reported missing.
        let used = diesel::dsl::sql::<diesel::sql_types::Bool>("sqlite_compileoption_used('OMIT_WAL')");
        assert!(!diesel_async::RunQueryDsl::get_result::<bool>(diesel::select(used), &mut conn).await.unwrap());
    }

    #[derive(diesel::QueryableByName)]
    struct Limit {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        journal_size_limit: i64,
    }

    #[tokio::test]
    async fn the_writer_bounds_the_wal_file() {
        let mut conn = sqlite_setup(":memory:").await.unwrap();
        let limit: Limit =
            diesel_async::RunQueryDsl::get_result(diesel::sql_query("PRAGMA journal_size_limit"), &mut conn)
                .await
                .unwrap();
        assert_eq!(limit.journal_size_limit, 64 * 1024 * 1024);
    }
}
