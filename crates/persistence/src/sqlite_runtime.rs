//! The runtime SQLite calls run on: the calling thread.

use futures_util::future::BoxFuture;

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
/// - A call completes before its future is first polled, so dropping a
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
