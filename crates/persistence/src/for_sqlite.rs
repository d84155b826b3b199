//! The shared statements of `src/per_backend/`, compiled for SQLite, and the
//! little SQL that must differ by backend.

/// The diesel backend.
pub(crate) type Db = diesel::sqlite::Sqlite;
/// The pooled connection.
pub(crate) type Conn = crate::db::SqliteConn;

#[path = "per_backend/mod.rs"]
#[allow(clippy::duplicate_mod, reason = "compiled once per backend on purpose")]
mod shared;
pub(crate) use shared::*;

/// The event log after a position: SQLite's one writer commits in id order,
/// and every `txid` is 0.
pub(crate) const EVENTS_AFTER: &str = "SELECT id, txid, type AS kind, occurred_at, audience, version, data \
    FROM events WHERE (txid > ?1 OR (txid = ?1 AND id > ?2)) ORDER BY txid, id LIMIT ?3";
