//! Idempotency of creates: a client that retries a `POST` with the same
//! `Idempotency-Key` gets the first answer again instead of a second
//! resource. Records are per principal and kept 24 hours.

use crate::time::Timestamp;

/// How long a finished request's answer is kept for replay.
pub const RETENTION_HOURS: i64 = 24;
/// How long a claim may stay "in progress" before another attempt may take
/// it over (the first attempt crashed or timed out).
pub const LEASE_SECS: i64 = 60;

/// A stored answer, replayed verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: String,
}

/// The state of a key when a request claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is now this request's: run it and store the answer.
    Started,
    /// Another request with the key is still running.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
    /// The answer of the finished first request.
    Done(StoredResponse),
}

/// A claim request.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    /// Whose key it is (`user:<id>`): keys of different principals never meet.
    pub principal: &'a str,
    pub key: &'a str,
    /// A digest of method, path and body.
    pub fingerprint: &'a str,
    pub now: Timestamp,
}
