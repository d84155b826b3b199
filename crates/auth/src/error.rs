//! Errors of authentication and authorization. The HTTP layer maps each
//! variant to its status; the comments say which.

use rivet_domain::RepoError;
use rivet_domain::error::BoxError;

/// Result alias of this crate.
pub type Result<T, E = AuthError> = std::result::Result<T, E>;

/// Why a caller could not be authenticated or authorized.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown email or wrong password (indistinguishable on purpose). → 401 `invalid_credentials`
    #[error("incorrect email or password")]
    InvalidCredentials,
    /// The account exists but is deactivated. → 403 `account_disabled`
    #[error("this account is disabled")]
    AccountDisabled,
    /// A token is malformed, forged, revoked or otherwise unusable. → 401 `invalid_token`
    #[error("{0}")]
    InvalidToken(&'static str),
    /// An access token is past its expiry. → 401 `token_expired`
    #[error("the access token has expired")]
    TokenExpired,
    /// A refresh token was presented a second time; its session is now ended. → 401 `refresh_token_reused`
    #[error("this refresh token was already used; the session has been ended")]
    RefreshTokenReused,
    /// Authenticated, but the role lacks a permission. → 403 `forbidden`
    #[error("you do not have permission to {0}")]
    Forbidden(&'static str),
    /// An API key lacks the scope the operation needs. → 403 `insufficient_scope`
    #[error("this API key lacks the scope {0}")]
    InsufficientScope(&'static str),
    /// Input broke validation rules. → 422 `validation_failed`
    #[error("validation failed")]
    Invalid(#[from] rivet_domain::ValidationErrors),
    /// No such API key among the caller's. → 404 `not_found`
    #[error("not found")]
    NotFound,
    /// Storage failed. → 503 or 500
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Hashing or signing failed. → 500
    #[error("credential processing failed")]
    Crypto(#[source] BoxError),
}
