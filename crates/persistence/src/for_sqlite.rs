//! The shared statements of `src/per_backend/`, compiled for SQLite.

/// The diesel backend.
pub(crate) type Db = diesel::sqlite::Sqlite;
/// The pooled connection.
pub(crate) type Conn = crate::db::SqliteConn;

#[path = "per_backend/mod.rs"]
#[allow(clippy::duplicate_mod, reason = "compiled once per backend on purpose")]
mod shared;
pub(crate) use shared::*;
