//! The shared statements of `src/per_backend/`, compiled for PostgreSQL.

/// The diesel backend.
pub(crate) type Db = diesel::pg::Pg;
/// The pooled connection.
pub(crate) type Conn = diesel_async::AsyncPgConnection;

#[path = "per_backend/mod.rs"]
#[allow(clippy::duplicate_mod, reason = "compiled once per backend on purpose")]
mod shared;
pub(crate) use shared::*;
