//! The PostgreSQL fan-out channel: every transaction that records events
//! runs `NOTIFY rivet_events` (delivered when it commits), and each
//! instance keeps one connection of its own that `LISTEN`s and wakes its
//! hub. The log stays the truth: a notification only says "read now", so
//! when the connection drops (a restart, a failover) nothing is lost — the
//! hub keeps polling, and reads again the moment the listener is back.

use crate::error::{Error, Result};
use futures_util::future::poll_fn;
use rivet_domain::error::display_chain;
use rivet_domain::events::Waker;
use std::future::Future;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::{AsyncMessage, Client, Connection};
use tracing::{info, warn};

/// The channel the log's writers notify.
pub const CHANNEL: &str = "rivet_events";

/// How often a silent listener checks that its hub still runs.
const CHECK: Duration = Duration::from_secs(2);

/// Longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Listens on `target` (a session connection, never a transaction-mode
/// pooler) and wakes `waker` on every notification, reconnecting for as
/// long as the hub runs.
pub(crate) fn listen_for_events(target: crate::tls::PgTarget, waker: Waker) -> Result<tokio::task::JoinHandle<()>> {
    let mut config: tokio_postgres::Config =
        target.url.parse().map_err(|e: tokio_postgres::Error| Error::Url(display_chain(&e)))?;
    // A peer that vanished without a word is noticed in seconds, not hours.
    config.keepalives_idle(Duration::from_secs(5)).keepalives_interval(Duration::from_secs(2)).keepalives_retries(3);
    config.connect_timeout(Duration::from_secs(5));
    Ok(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        let mut was_up = false;
        while !waker.is_stopped() {
            let outcome = match &target.tls {
                None => match config.connect(tokio_postgres::NoTls).await {
                    Ok((client, connection)) => listen(client, connection, &waker, &mut was_up).await,
                    Err(e) => Err(display_chain(&e)),
                },
                Some(tls) => {
                    let tls = tokio_postgres_rustls::MakeRustlsConnect::new((**tls).clone());
                    match config.connect(tls).await {
                        Ok((client, connection)) => listen(client, connection, &waker, &mut was_up).await,
                        Err(e) => Err(display_chain(&e)),
                    }
                }
            };
            match outcome {
                Ok(()) => return,
                Err(e) if was_up => {
                    warn!(error = %e, "lost the event listener's connection; reconnecting");
                    was_up = false;
                    backoff = Duration::from_millis(100);
                }
                Err(e) => warn!(error = %e, "cannot open the event listener's connection; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }))
}

/// Runs one listening connection until it fails (`Err`) or the hub stops (`Ok`).
async fn listen<S, T>(
    client: Client,
    mut connection: Connection<S, T>,
    waker: &Waker,
    was_up: &mut bool,
) -> std::result::Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let statement = format!("LISTEN {CHANNEL}");
    let mut subscribe = std::pin::pin!(client.batch_execute(&statement));
    let mut subscribed = false;
    loop {
        let mut tick = std::pin::pin!(tokio::time::sleep(CHECK));
        let step = poll_fn(|cx| {
            if !subscribed && let Poll::Ready(r) = subscribe.as_mut().poll(cx) {
                return Poll::Ready(Step::Subscribed(r));
            }
            if let Poll::Ready(m) = connection.poll_message(cx) {
                return Poll::Ready(Step::Message(m));
            }
            tick.as_mut().poll(cx).map(|()| Step::Tick)
        })
        .await;
        match step {
            Step::Subscribed(r) => {
                r.map_err(|e| display_chain(&e))?;
                subscribed = true;
                *was_up = true;
                info!("listening for events");
                // Whatever committed while no one listened is read now.
                if !waker.wake() {
                    return Ok(());
                }
            }
            Step::Message(Some(Ok(AsyncMessage::Notification(_)))) => {
                if !waker.wake() {
                    return Ok(());
                }
            }
            Step::Message(Some(Ok(_))) => {}
            Step::Message(Some(Err(e))) => return Err(display_chain(&e)),
            Step::Message(None) => return Err("the server closed the connection".into()),
            Step::Tick => {
                if waker.is_stopped() {
                    return Ok(());
                }
            }
        }
    }
}

#[allow(clippy::large_enum_variant, reason = "one at a time, on the listener's stack")]
enum Step {
    Subscribed(std::result::Result<(), tokio_postgres::Error>),
    Message(Option<std::result::Result<AsyncMessage, tokio_postgres::Error>>),
    Tick,
}
