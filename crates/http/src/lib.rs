//! Rivet's HTTP layer on actix-web.
//!
//! - [`error::ApiError`] is the only place errors become responses: RFC 9457
//!   problem+json with a stable `code`, including the framework's own
//!   failures (bad JSON, wrong content type, unknown route, wrong method,
//!   oversized body).
//! - [`context`] gives every request an id, a tracing span and panic
//!   isolation.
//! - [`extract`] holds the strict extractors: JSON bodies that reject unknown
//!   fields, typed queries, and the bearer-token principal.
//! - [`routes`] holds the thin handlers, one module per resource, each with
//!   a `configure` function; [`configure`] mounts them all.
//!
//! This crate sees the domain through its ports and use cases; it never
//! touches SQL.

pub mod collection;
pub mod conditional;
pub mod context;
mod docs;
pub mod dto;
pub mod error;
pub mod events;
pub mod extract;
pub mod files;
pub mod hardening;
pub mod idempotency;
pub mod metrics;
mod middleware;
pub mod openapi;
mod problem;
pub mod rate_limit;
pub mod routes;
pub mod state;

pub use error::ApiError;

/// Longest one event-stream send waits for a client that reads nothing;
/// the server also gives a finished connection this long to flush.
pub const STREAM_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
pub use routes::{configure, mounted_routes};
pub use state::{AppState, HttpLimits};
