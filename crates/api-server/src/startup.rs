//! Building the application from settings: the one function `main` and the
//! end-to-end tests share.

use crate::metrics_sources::{EventMetrics, PoolMetrics, QueueMetrics};
use crate::protection::{cors_middleware, rate_limiter, security_headers};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
pub use rivet_app::db_options;
use rivet_app::{Services, Settings, Worker};
use rivet_domain::events::Hub;
use rivet_domain::ports::{HealthCheck, IdempotencyStore};
use rivet_http::collection::CursorCodec;
use rivet_http::context::RequestContext;
use rivet_http::events::EventStreams;
use rivet_http::hardening::{Compression, Draining, HeaderLimits, RequestTimeout};
use rivet_http::metrics::Metrics;
use rivet_http::rate_limit::RateLimit;
use rivet_http::{AppState, HttpLimits};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::warn;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Wiring(#[from] rivet_app::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// A job worker over the services' queue, paced by `[jobs]`, named after the host.
pub fn worker(settings: &Settings, services: &Services) -> Worker {
    services.worker(settings, std::env::var("HOSTNAME").ok())
}

/// The in-process job worker's task and the signals around it.
struct JobWorker {
    /// Turns true to stop it: it stops claiming and drains.
    stop: Arc<watch::Sender<bool>>,
    /// Turns true once it has drained.
    done: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// A running application: the HTTP server bound to its port.
pub struct Application {
    port: u16,
    server: Server,
    services: Services,
    /// The in-process job worker (`[jobs] enabled`).
    worker: Option<JobWorker>,
    /// The event hub behind the streams.
    hub: Hub,
    /// Set on the shutdown signal; counts the requests in flight.
    draining: Draining,
    shutdown_timeout: Duration,
}

/// Between pausing the accept loop and stopping the workers at shutdown:
/// time for each worker to take up the connections already accepted for
/// it (a stopping worker drops those still queued, unanswered) and for
/// their requests to be counted in flight.
const ACCEPTED_GRACE: Duration = Duration::from_millis(200);

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects, migrates, binds the listener and prepares the server. Port 0
    /// binds a free port; [`Application::port`] tells which.
    ///
    /// # Errors
    /// See [`StartupError`].
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let services = Services::build(settings).await?;
        services.bootstrap_admin(settings).await?;
        let hub = services.start_events(settings).await?;
        let addr = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartupError::Bind { addr: addr.clone(), source })?;
        let port = listener.local_addr().map_err(|source| StartupError::Bind { addr, source })?.port();
        let state = web::Data::new(AppState {
            accounts: services.accounts.clone(),
            todos: services.todos.clone(),
            products: services.products.clone(),
            files: services.files.clone(),
            auth: services.auth.clone(),
            api_keys: services.api_keys.clone(),
            database: Arc::new(services.db.clone()) as Arc<dyn HealthCheck>,
            idempotency: services.idempotency.clone() as Arc<dyn IdempotencyStore>,
            cursors: CursorCodec::from_secret(&rivet_app::signing_material(settings)?),
            events: Some(EventStreams::new(hub.clone(), Duration::from_secs(settings.events.idle_timeout_secs))),
            tickets: services.tickets.clone(),
        });
        let limits = web::Data::new(HttpLimits { max_json_bytes: settings.server.max_json_bytes });
        let limiter = rate_limiter(settings)?.map(web::Data::new);
        let metrics = web::Data::new(Metrics::new(vec![
            Arc::new(PoolMetrics(services.db.clone())),
            Arc::new(QueueMetrics(services.jobs.clone())),
            Arc::new(EventMetrics(hub.clone())),
        ]));
        let header_limits = HeaderLimits {
            max_header_bytes: settings.server.max_header_bytes,
            max_total_bytes: settings.server.max_headers_total_bytes,
        };
        let hsts = settings.server.hsts;
        let cors = settings.cors.clone();
        let timeout = web::Data::new(RequestTimeout(Duration::from_secs(settings.server.request_timeout_secs)));
        let draining = Draining::default();
        let draining_data = web::Data::new(draining.clone());
        let drain = draining.clone();
        let server = HttpServer::new(move || {
            // Outermost last: every answer — timeouts, 429s, preflights —
            // gets the request id, the security headers and compression.
            let mut app = App::new()
                .wrap(header_limits)
                .wrap(RateLimit)
                .wrap(drain.clone())
                .wrap(cors_middleware(&cors))
                .wrap(Compression)
                .wrap(security_headers(hsts))
                .wrap(RequestContext)
                .app_data(state.clone())
                .app_data(limits.clone())
                .app_data(metrics.clone())
                .app_data(timeout.clone())
                .app_data(draining_data.clone());
            if let Some(limiter) = &limiter {
                app = app.app_data(limiter.clone());
            }
            app.configure(rivet_http::configure)
        })
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        // No Nagle: an event stream writes one small frame per event, and
        // with Nagle on, a frame that follows one not yet acknowledged
        // waits for the ACK, which a client that only reads delays by up to
        // 40 ms. A response is one write either way.
        .tcp_nodelay(true)
        // How long a finished connection may take to flush to a client that
        // reads slowly: as long as one event-stream send may wait, so a
        // subscriber closed for lagging still gets its close frame (4003)
        // when it reads again, rather than a reset after actix's 1 s.
        .client_disconnect_timeout(rivet_http::STREAM_SEND_TIMEOUT)
        // The signals are handled in `run_until_stopped`, in an order that
        // loses no accepted connection.
        .disable_signals();
        // As many as the database pool has shares (see `db_options`).
        let server = server
            .workers(settings.server.http_workers())
            .listen(listener)
            .map_err(|source| StartupError::Bind { addr: format!("port {port}"), source })?
            .run();
        let worker = settings.jobs.enabled.then(|| {
            let (stop, stopped) = watch::channel(false);
            let (finished, done) = watch::channel(false);
            let worker = worker(settings, &services);
            let task = tokio::spawn(async move {
                worker.run(stopped).await;
                let _ = finished.send(true);
            });
            JobWorker { stop: Arc::new(stop), done, task }
        });
        let shutdown_timeout = Duration::from_secs(settings.server.shutdown_timeout_secs);
        Ok(Self { port, server, services, worker, hub, draining, shutdown_timeout })
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

    /// Serves until SIGINT/SIGTERM or [`ServerHandle::stop`]. On the signal:
    /// readiness turns 503 and every answer closes its connection; the event
    /// streams end (close 1001; they would hold the drain open); accepting
    /// stops, and the connections already accepted are taken up; once no
    /// request is in flight and the job worker has drained — it stops
    /// claiming at the signal, and its running jobs finish or go back to
    /// the queue meanwhile — the HTTP workers stop (requests still running
    /// after `shutdown_timeout_secs`, or at a second signal, are cut
    /// short); then the database pool closes.
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let hub = self.hub.clone();
        let handle = self.server.handle();
        let draining = self.draining.clone();
        let shutdown_timeout = self.shutdown_timeout;
        let jobs = self.worker.as_ref().map(|w| (w.stop.clone(), w.done.clone()));
        let closer = tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: draining requests in flight");
            draining.start();
            hub.stop();
            // The job worker stops claiming now and drains while every HTTP
            // worker still runs: a pooled PostgreSQL connection's I/O lives
            // on the runtime that opened it, so a claim or an outcome sent on
            // one whose HTTP worker stops mid-query could commit with its
            // answer lost, leaving the job leased to nobody until the lease
            // ends.
            if let Some((stop, _)) = &jobs {
                let _ = stop.send(true);
            }
            handle.pause().await;
            tokio::time::sleep(ACCEPTED_GRACE).await;
            // Workers stop one by one, each as soon as its own connections
            // are done, and a stopped worker's runtime ends the database
            // connections it opened — which another worker may be using.
            // So they are stopped only once no request is in flight anywhere
            // and the job worker has drained.
            let jobs_drained = async {
                if let Some((_, mut done)) = jobs {
                    let _ = done.wait_for(|drained| *drained).await;
                }
            };
            let both = async { tokio::join!(draining.settled(shutdown_timeout), jobs_drained).0 };
            let settled = tokio::select! {
                settled = both => settled,
                () = shutdown_signal() => false,
            };
            if !settled {
                warn!(
                    in_flight = draining.in_flight(),
                    "stopping with requests still running (timeout or second signal)"
                );
                return handle.stop(false).await;
            }
            tokio::select! {
                () = handle.stop(true) => {}
                () = shutdown_signal() => {
                    warn!("second signal: stopping without waiting for open connections");
                    handle.stop(false).await;
                }
            }
        });
        let result = self.server.await;
        closer.abort();
        self.hub.stop();
        if let Some(JobWorker { stop, task, .. }) = self.worker {
            let _ = stop.send(true);
            if let Err(e) = task.await {
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

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
