//! Counters in this process's memory: right for a single instance.

use async_trait::async_trait;
use rivet_domain::error::BoxError;
use rivet_domain::ports::RateCounter;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Entries past which a hit first sweeps out the counters of ended windows.
const SWEEP_AT: usize = 50_000;

/// Fixed-window counters in a map; windows that ended are swept out as the
/// map grows, so memory stays bounded by the keys active in one window.
#[derive(Debug, Default)]
pub struct MemoryCounter {
    counts: Mutex<HashMap<String, (u64, u64)>>,
}

impl MemoryCounter {
    /// An empty counter.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RateCounter for MemoryCounter {
    async fn hit(&self, key: &str, window_secs: u64) -> Result<u64, BoxError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let window = now / window_secs.max(1);
        let mut counts = self.counts.lock().map_err(|_| "rate-limit counters poisoned")?;
        if counts.len() >= SWEEP_AT {
            counts.retain(|_, (w, _)| *w == window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        Ok(entry.1)
    }

    async fn ping(&self) -> Result<(), BoxError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hits_count_per_key_within_a_window() {
        let c = MemoryCounter::new();
        assert_eq!(c.hit("a", 3600).await.unwrap(), 1);
        assert_eq!(c.hit("a", 3600).await.unwrap(), 2);
        assert_eq!(c.hit("b", 3600).await.unwrap(), 1);
    }
}
