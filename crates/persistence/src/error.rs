//! Persistence errors, and how they become the domain's [`RepoError`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rivet_domain::{Conflict, RepoError};

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query failed.
    #[error("database query failed")]
    Query(#[from] DieselError),
    /// No connection could be had from the pool in time.
    #[error("no database connection available")]
    Pool(#[from] diesel_async::pooled_connection::deadpool::PoolError),
    /// A connection could not be opened.
    #[error("could not connect to the database")]
    Connect(#[from] diesel::ConnectionError),
    /// The configured URL names no supported database.
    #[error("unsupported database URL: {0}")]
    Url(String),
    /// Preparing the database (directory, pool) failed.
    #[error("database setup failed: {0}")]
    Setup(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored row broke an invariant of the domain.
    #[error("stored row is invalid: {0}")]
    Corrupt(String),
}

/// Maps a unique-constraint violation to the domain conflict it means, by
/// constraint name (PostgreSQL) or by the columns SQLite names in its message.
fn conflict_of(info: &dyn diesel::result::DatabaseErrorInformation) -> Option<Conflict> {
    let constraint = info.constraint_name().unwrap_or_default();
    let message = info.message();
    if constraint == "users_email_key" || message.contains("users.email") {
        return Some(Conflict::EmailTaken);
    }
    if constraint == "products_sku_key" || message.contains("products.sku") {
        return Some(Conflict::SkuTaken);
    }
    None
}

fn is_unavailable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => {
            true
        }
        // SQLite's busy timeout ran out: the database is overloaded, try again.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => info.message().contains("database is locked"),
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

impl From<Error> for RepoError {
    fn from(e: Error) -> Self {
        match e {
            Error::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, ref info)) => {
                match conflict_of(info.as_ref()) {
                    Some(c) => RepoError::Conflict(c),
                    None => RepoError::Internal(Box::new(e)),
                }
            }
            Error::Query(ref q) if is_unavailable(q) => RepoError::Unavailable(Box::new(e)),
            Error::Pool(_) | Error::Connect(_) => RepoError::Unavailable(Box::new(e)),
            Error::Query(_) | Error::Url(_) | Error::Setup(_) | Error::Migration(_) | Error::Corrupt(_) => {
                RepoError::Internal(Box::new(e))
            }
        }
    }
}
