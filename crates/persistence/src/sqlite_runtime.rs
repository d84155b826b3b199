//! The runtime SQLite calls run on: tokio's blocking pool, with a cancelled
//! call waited for on a channel rather than with `block_in_place`.

use futures_util::future::BoxFuture;

/// How SQLite calls leave the async workers: on tokio's blocking pool.
///
/// A call's future can be dropped before the call finishes — a client that
/// disconnects, or actix dropping one extractor because another failed. The
/// wrapper then must not touch the connection until the call is over (it
/// needs the connection to itself again), so diesel-async's own runtime waits
/// for it with `block_in_place` — which panics on actix's single-threaded
/// workers. This runtime waits instead on a plain channel that the call
/// signals when it is done: the worker pauses for what is left of one SQLite
/// statement, and nothing panics.
#[derive(Debug, Clone)]
pub struct DetachedBlocking(tokio::runtime::Handle);

impl diesel_async::sync_connection_wrapper::SpawnBlocking for DetachedBlocking {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> BoxFuture<'a, std::result::Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        let (finished, done) = std::sync::mpsc::sync_channel::<()>(1);
        let running = self.0.spawn_blocking(move || {
            // Calling `task` consumes it, releasing what it holds before the signal.
            let result = task();
            let _ = finished.send(());
            result
        });
        Box::pin(WaitOnDrop { running, done: Some(done) })
    }

    fn get_runtime() -> Self {
        Self(tokio::runtime::Handle::current())
    }
}

/// A blocking call's future that, if dropped early, waits for the call.
struct WaitOnDrop<R> {
    running: tokio::task::JoinHandle<R>,
    /// `None` once the call's result was taken.
    done: Option<std::sync::mpsc::Receiver<()>>,
}

impl<R> std::future::Future for WaitOnDrop<R> {
    type Output = std::result::Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let polled = std::pin::Pin::new(&mut self.running).poll(cx);
        if polled.is_ready() {
            self.done = None;
        }
        polled.map(|r| r.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync + 'static>))
    }
}

impl<R> Drop for WaitOnDrop<R> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            // Returns when the call signals, or at once if it panicked.
            let _ = done.recv();
        }
    }
}
