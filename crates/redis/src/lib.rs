//! Rivet's Redis adapters. [`RedisCounter`] keeps rate-limit counters that
//! every instance shares, so N instances enforce one budget; [`RedisFanOut`]
//! tells every instance's event hub that the log grew.
//!
//! Counting is one atomic round trip: `INCR` on a key named after the window
//! (`rivet:rl:<key>:<window>`) and `EXPIRE` so it disappears once the window
//! is over. The connection is made lazily and re-made after failures, so the
//! server starts and serves while Redis is down; a call made during an
//! outage fails within [`TIMEOUT`], and for a second after a failure calls
//! fail at once instead of piling onto a dead server.

mod events;

pub use events::{CHANNEL as EVENTS_CHANNEL, RedisFanOut};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rivet_domain::error::BoxError;
use rivet_domain::ports::RateCounter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest wait for Redis on any one call (connecting or answering).
pub const TIMEOUT: Duration = Duration::from_millis(250);

/// After a failure, calls fail at once for this long.
const BACKOFF: Duration = Duration::from_secs(1);

/// Rate-limit counters in Redis.
#[derive(Clone)]
pub struct RedisCounter {
    manager: ConnectionManager,
    started: Instant,
    /// Milliseconds after `started` until which calls fail fast (0: none).
    failing_until_ms: std::sync::Arc<AtomicU64>,
}

impl std::fmt::Debug for RedisCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounter").finish_non_exhaustive()
    }
}

impl RedisCounter {
    /// A counter for `url` (`redis://[:password@]host:port[/db]`, or `rediss://`).
    /// Nothing connects until the first call.
    ///
    /// # Errors
    /// When the URL cannot be parsed.
    pub fn new(url: &str) -> Result<Self, BoxError> {
        let client = redis::Client::open(url).map_err(|_| "rate_limit.redis_url is not a redis:// URL")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(BACKOFF);
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { manager, started: Instant::now(), failing_until_ms: std::sync::Arc::default() })
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    async fn guarded<T>(&self, call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, BoxError> {
        if self.elapsed_ms() < self.failing_until_ms.load(Ordering::Relaxed) {
            return Err("redis unavailable (recent failure)".into());
        }
        let result = match tokio::time::timeout(TIMEOUT * 2, call).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => Err(BoxError::from(e)),
            Err(_) => Err("redis did not answer in time".into()),
        };
        let backoff_ms = u64::try_from(BACKOFF.as_millis()).unwrap_or(1000);
        self.failing_until_ms.store(self.elapsed_ms() + backoff_ms, Ordering::Relaxed);
        result
    }
}

#[async_trait]
impl RateCounter for RedisCounter {
    async fn hit(&self, key: &str, window_secs: u64) -> Result<u64, BoxError> {
        let window_secs = window_secs.max(1);
        let window = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() / window_secs;
        let redis_key = format!("rivet:rl:{key}:{window}");
        let mut conn = self.manager.clone();
        let ttl = i64::try_from(window_secs).unwrap_or(i64::MAX);
        let (count,): (u64,) = self
            .guarded(
                redis::pipe().atomic().incr(&redis_key, 1u64).expire(&redis_key, ttl).ignore().query_async(&mut conn),
            )
            .await?;
        Ok(count)
    }

    async fn ping(&self) -> Result<(), BoxError> {
        let mut conn = self.manager.clone();
        let _: String = self.guarded(redis::cmd("PING").query_async(&mut conn)).await?;
        Ok(())
    }
}
