//! Idempotency of creates: a client that retries a `POST` with the same
//! `Idempotency-Key` gets the first answer again instead of a second
//! resource. Records are per principal and kept 24 hours.

use crate::time::Timestamp;
use crate::validation::FieldError;

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The rule as a regular expression, for API descriptions.
    pub const PATTERN: &str = "^[\\x21-\\x7e]{1,255}$";

    /// # Errors
    /// `format`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if (1..=255).contains(&raw.len()) && raw.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new("Idempotency-Key", "format", "must be 1 to 255 visible ASCII characters"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn every_key_the_documented_pattern_allows_is_accepted(s in IdempotencyKey::PATTERN.trim_matches(['^', '$'])) {
            proptest::prop_assert_eq!(IdempotencyKey::parse(&s).map(|k| k.0), Ok(s.clone()));
        }
    }

    #[test]
    fn keys_outside_visible_ascii_are_refused() {
        for bad in ["", "a b", "ключ", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
