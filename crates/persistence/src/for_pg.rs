//! The shared statements of `src/per_backend/`, compiled for PostgreSQL, and
//! the little SQL that must differ by backend.

/// The diesel backend.
pub(crate) type Db = diesel::pg::Pg;
/// The pooled connection.
pub(crate) type Conn = diesel_async::AsyncPgConnection;

#[path = "per_backend/mod.rs"]
#[allow(clippy::duplicate_mod, reason = "compiled once per backend on purpose")]
mod shared;
pub(crate) use shared::*;

/// The event log after a position: only events of transactions older than
/// the oldest one still running (whose events would sort before anything
/// they commit later), so none is ever skipped.
pub(crate) const EVENTS_AFTER: &str = "SELECT id, txid, type AS kind, occurred_at, audience, version, data \
    FROM events WHERE (txid > $1 OR (txid = $1 AND id > $2)) \
    AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint ORDER BY txid, id LIMIT $3";
