//! Rivet's authentication and authorization.
//!
//! - [`password::BcryptHasher`]: bcrypt on a bounded blocking pool.
//! - [`jwt::JwtCodec`]: short-lived access tokens with a pinned algorithm,
//!   issuer, audience and expiry.
//! - [`service::AuthService`]: login, refresh-token rotation with reuse
//!   detection, logout, and the check of an access token into a
//!   [`Principal`].
//! - [`rbac`]: the one table that says what each role may do.
//!
//! Revocation reaches access tokens through their session id (`sid`): every
//! authenticated request checks that the session is still live and the user
//! still active. That answer is cached per instance for at most
//! [`AuthSettings::status_cache_ttl`] (default 4 s), so a logout, password
//! change or deactivation stops the user's access tokens within that time on
//! every instance sharing the database, at the cost of one indexed lookup per
//! session every few seconds.

pub mod api_keys;
pub mod error;
pub mod jwt;
pub mod password;
pub mod principal;
pub mod rbac;
pub mod refresh;
mod revocation;
pub mod service;
pub mod tickets;

pub use api_keys::{ApiKeyService, CreatedKey};
pub use error::{AuthError, Result};
pub use jwt::{JwtAlgorithm, JwtCodec, JwtSettings};
pub use password::BcryptHasher;
pub use principal::Principal;
pub use rbac::Permission;
pub use refresh::OneTimeSecrets;
pub use service::{AuthService, AuthSettings, TokenPair, Verified};
pub use tickets::{StreamTickets, TICKET_TTL};
