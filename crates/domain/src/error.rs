//! The domain's error type. Each variant names the kind of failure; the HTTP
//! layer decides the status code, the domain never does.

use crate::validation::ValidationErrors;

/// A boxed error from an adapter (database driver, pool, hasher).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error and all its causes on one line (`outer: cause: root cause`), for
/// logs: a top-level message alone rarely tells an operator what went wrong.
pub fn display_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Result alias used throughout the domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A uniqueness or state rule that a write would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Another account already uses this email address.
    EmailTaken,
    /// Another product already uses this SKU.
    SkuTaken,
    /// A stock adjustment would exceed the largest stock.
    StockLimit,
    /// The write raced another one on the same row (optimistic concurrency).
    Concurrent,
    /// The todo has its maximum of attachments.
    TooManyAttachments,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::EmailTaken => "email address already registered",
            Self::SkuTaken => "another product already has this SKU",
            Self::StockLimit => "the adjustment would take the stock above 1000000",
            Self::Concurrent => "the resource was changed concurrently",
            Self::TooManyAttachments => "a todo has at most 20 attachments",
        })
    }
}

/// What a repository (any storage adapter) can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The store could not be reached in time (pool exhausted, database down).
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),
    /// A uniqueness rule was broken.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The store's disk is full: the write was refused and nothing of it kept.
    #[error("storage full")]
    Full(#[source] BoxError),
    /// Anything else: a bug or a corrupt row.
    #[error("storage failure")]
    Internal(#[source] BoxError),
}

/// Errors of the domain's use cases.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input broke one or more rules; every broken rule is listed.
    #[error("validation failed")]
    Validation(#[from] ValidationErrors),
    /// The entity does not exist, or is not visible to the caller.
    #[error("not found")]
    NotFound,
    /// A uniqueness or concurrency rule would be broken.
    #[error("{0}")]
    Conflict(Conflict),
    /// A stock adjustment would take the stock below zero.
    #[error("not enough stock for this adjustment")]
    InsufficientStock,
    /// The stored version is not the one the client's condition names.
    #[error("the resource has changed since it was read")]
    PreconditionFailed,
    /// The change would leave the system without an active administrator.
    #[error("the last active administrator cannot be removed or demoted")]
    LastAdmin,
    /// A one-time token (email verification, password reset) is unknown,
    /// used or expired.
    #[error("the token is invalid, used or expired")]
    InvalidToken,
    /// Storage failed.
    #[error(transparent)]
    Repo(RepoError),
    /// Password hashing failed (never expected; the hasher is infallible for valid input).
    #[error("password hashing failed")]
    Hashing(#[source] BoxError),
}

impl From<RepoError> for Error {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict(c) => Self::Conflict(c),
            other => Self::Repo(other),
        }
    }
}
