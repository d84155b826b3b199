//! The persistence suite in one test binary: every repository and the
//! schema, on SQLite and on PostgreSQL.

#[macro_use]
mod common;
mod cancellation;
mod cursor_walk;
mod events;
mod idempotency;
mod jobs;
mod one_time_tokens;
mod pg_shares;
mod repositories;
mod schema;
mod statements_mode;
mod tls;
mod todos;
