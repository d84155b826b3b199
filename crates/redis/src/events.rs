//! The Redis fan-out channel for the event log (`[events] backend =
//! "redis"`): after each local commit that recorded events, one `PUBLISH`
//! (commits that land while one is in flight share the next); every
//! instance `SUBSCRIBE`s and wakes its hub. The log stays the truth: while
//! Redis is away the hubs keep polling it, and each reads again the moment
//! its subscription is back, so no subscriber misses an event.

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rivet_domain::error::BoxError;
use rivet_domain::events::{EventSignal, Waker};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tracing::{info, warn};

/// The channel instances publish on.
pub const CHANNEL: &str = "rivet:events";

/// How often a silent subscriber checks that its hub still runs.
const CHECK: Duration = Duration::from_secs(2);

/// Longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The fan-out over one Redis.
#[derive(Clone)]
pub struct RedisFanOut {
    client: redis::Client,
}

impl std::fmt::Debug for RedisFanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFanOut").finish_non_exhaustive()
    }
}

/// Publishes for the local commits it is signalled of, from a task of its own.
struct Publisher {
    pending: Arc<Notify>,
}

impl EventSignal for Publisher {
    fn signal(&self) {
        self.pending.notify_one();
    }
}

impl RedisFanOut {
    /// The fan-out over `url`; nothing connects yet.
    ///
    /// # Errors
    /// When the URL cannot be parsed.
    pub fn new(url: &str) -> Result<Self, BoxError> {
        let client = redis::Client::open(url).map_err(|_| "events.redis_url is not a redis:// URL")?;
        Ok(Self { client })
    }

    /// The signal to register for local commits: it publishes for them
    /// until `waker`'s hub stops.
    ///
    /// # Errors
    /// When the connection manager cannot be set up.
    pub fn publisher(&self, waker: Waker) -> Result<Arc<dyn EventSignal>, BoxError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(crate::TIMEOUT))
            .set_response_timeout(Some(crate::TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let mut manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        let pending = Arc::new(Notify::new());
        let wanted = pending.clone();
        tokio::spawn(async move {
            while !waker.is_stopped() {
                if tokio::time::timeout(CHECK, wanted.notified()).await.is_err() {
                    continue;
                }
                let mut command = redis::cmd("PUBLISH");
                command.arg(CHANNEL).arg("");
                let publish = command.query_async::<i64>(&mut manager);
                match tokio::time::timeout(crate::TIMEOUT * 2, publish).await {
                    Ok(Ok(_)) => {}
                    // The other instances see the event at their next poll.
                    Ok(Err(e)) => warn!(error = %e, "cannot publish an event wake-up to redis"),
                    Err(_) => warn!("redis did not take an event wake-up in time"),
                }
            }
        });
        Ok(Arc::new(Publisher { pending }))
    }

    /// Subscribes and wakes `waker` on every message, reconnecting for as
    /// long as its hub runs.
    pub fn subscribe(&self, waker: Waker) -> tokio::task::JoinHandle<()> {
        let client = self.client.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            while !waker.is_stopped() {
                match tokio::time::timeout(crate::TIMEOUT * 4, subscribed(&client)).await {
                    Ok(Ok(mut pubsub)) => {
                        info!("listening for events on redis");
                        backoff = Duration::from_millis(100);
                        // Whatever committed while no one listened is read now.
                        waker.wake();
                        let mut messages = pubsub.on_message();
                        loop {
                            match tokio::time::timeout(CHECK, messages.next()).await {
                                Ok(Some(_)) => {
                                    waker.wake();
                                }
                                Ok(None) => break,
                                Err(_) if waker.is_stopped() => return,
                                Err(_) => {}
                            }
                        }
                        warn!("lost the redis event subscription; reconnecting");
                    }
                    Ok(Err(e)) => warn!(error = %e, "cannot subscribe to redis for events; retrying"),
                    Err(_) => warn!("redis did not answer the event subscription in time; retrying"),
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        })
    }
}

async fn subscribed(client: &redis::Client) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    Ok(pubsub)
}
