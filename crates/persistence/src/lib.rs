//! Rivet's persistence: the domain's repository ports implemented once for
//! both PostgreSQL and SQLite with diesel-async.
//!
//! How one query serves two databases:
//! - [`schema`] is a single portable schema. The two column types the
//!   backends store differently — UUIDs and timestamps — use the custom SQL
//!   types of [`types`], each with its own encoding per backend.
//! - [`db::Database`] holds a pool for one backend; the `with_conn!` macro
//!   expands a query body once per backend, so each repository function is
//!   written once and a query one backend cannot run fails to compile.
//! - Statements several repositories share (locks, the outbox, the list
//!   filters) are plain functions in `src/per_backend/`, compiled once per
//!   backend as `for_pg` and `for_sqlite`; `with_conn!(db, |conn, sql| ..)`
//!   names the one in use.
//! - Every other backend difference is listed in [`db`]'s module comment.
//! - The migrations live in this crate (`migrations/{postgres,sqlite}`) and
//!   are embedded at compile time, so a packaged crate carries its schema.
//!
//! ## Cargo features
//! Both on by default; turn one off to compile only the other backend:
//! - `sqlite`: embedded SQLite (bundled; nothing to install);
//! - `postgres`: PostgreSQL over tokio-postgres, with TLS by rustls.
//!
//! [`Database::connect`] refuses a URL whose backend is not compiled in
//! with [`Error::Url`], naming the feature.

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("rivet-persistence needs a backend: enable its `sqlite` feature, its `postgres` feature, or both");

mod api_keys;
pub mod db;
mod error;
mod events;
mod files;
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub mod for_pg;
#[cfg(feature = "sqlite")]
#[doc(hidden)]
pub mod for_sqlite;
mod idempotency;
mod jobs;
mod keyset;
#[cfg(feature = "postgres")]
mod listen;
pub mod migrations;
mod one_time_tokens;
mod options;
#[doc(hidden)]
pub mod outbox;
#[cfg(feature = "postgres")]
mod pg_conn;
#[cfg(feature = "postgres")]
mod pg_row;
#[cfg(feature = "postgres")]
pub mod pg_shares;
mod product_list;
mod product_rows;
mod products;
mod rows;
pub mod schema;
mod sessions;
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite_conn;
pub mod testing;
#[cfg(feature = "postgres")]
mod tls;
mod todo_list;
mod todo_rows;
mod todos;
pub mod types;
mod user_list;
mod users;

pub use api_keys::ApiKeyStore;
pub use db::{Backend, Database, DbOptions, PoolStatus, Pooler};
pub use error::{Error, Result};
pub use events::EventStore;
pub use files::FileStore;
pub use idempotency::IdempotencyRecords;
pub use jobs::JobStore;
#[cfg(feature = "postgres")]
pub use listen::CHANNEL as EVENTS_CHANNEL;
pub use one_time_tokens::OneTimeTokenStore;
#[cfg(feature = "postgres")]
pub use pg_conn::{PgConn, Statements};
#[cfg(feature = "postgres")]
pub use pg_row::{PgField, PgRow};
pub use products::ProductStore;
pub use sessions::SessionStore;
pub use todos::TodoStore;
pub use users::UserStore;
