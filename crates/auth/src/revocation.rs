//! A short-lived, bounded cache of session status, so that checking an
//! access token costs a database lookup at most once per session per TTL.

use rivet_domain::{SessionId, SessionStatus};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept before expired ones are swept (and, if still full, all dropped).
const CAPACITY: usize = 100_000;

#[derive(Debug)]
pub(crate) struct StatusCache {
    ttl: Duration,
    entries: Mutex<HashMap<SessionId, (Instant, SessionStatus)>>,
}

impl StatusCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, sid: SessionId) -> Option<SessionStatus> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(&sid).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, s)| *s)
    }

    pub fn put(&self, sid: SessionId, status: SessionStatus) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(sid, (Instant::now(), status));
    }

    /// Forgets a session, so this instance sees its revocation at once.
    pub fn forget(&self, sid: SessionId) {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&sid);
    }

    /// Forgets every session of a user.
    pub fn forget_user(&self, user: rivet_domain::UserId) {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|_, (_, s)| s.user_id != user);
    }
}
