//! Rivet's domain: the entities, value objects and rules of the product, the
//! ports (traits) through which it reaches storage and hashing, and the use
//! cases that tie them together.
//!
//! Invariants hold by construction: an [`Email`], [`Password`] or
//! [`FullName`] that exists has passed its rules, so every caller — the HTTP
//! API, the CLI, or a service embedding this crate — gets the same checks.
//! This crate knows no web framework, SQL or cryptography.

/// Declares a time-ordered UUIDv7 identifier type.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id (index-friendly inserts).
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

pub mod accounts;
pub mod api_key;
pub mod background;
pub mod collection;
pub mod email;
pub mod error;
pub mod events;
pub mod files;
pub mod idempotency;
pub mod jobs;
pub mod one_time_token;
pub mod patch;
pub mod ports;
pub mod product;
pub mod session;
pub mod storage;
pub mod time;
pub mod todo;
pub mod user;
pub mod validation;
pub mod version;

/// Lower-case hexadecimal of `bytes` (digests in ETags, token hashes, keys).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub use accounts::Accounts;
pub use error::{Conflict, Error, RepoError, Result};
pub use session::{NewSession, RefreshTokenHash, RefreshTokenRecord, Session, SessionId, SessionStatus};
pub use user::{Email, FullName, NewUser, Password, Role, User, UserChanges, UserCredentials, UserId};
pub use validation::{FieldError, ValidationErrors};
