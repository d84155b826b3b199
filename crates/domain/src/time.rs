//! Time as the domain sees it: UTC, truncated to microseconds.
//!
//! PostgreSQL stores microseconds and SQLite whatever it is given; truncating
//! before anything is stored makes a value read back equal to the value
//! written on both databases.

use chrono::{DateTime, SubsecRound, Utc};

/// A point in time, UTC.
pub type Timestamp = DateTime<Utc>;

/// The current time, truncated to microseconds.
pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}
