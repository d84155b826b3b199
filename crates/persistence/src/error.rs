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

/// Server messages that mean the connection or the server went away, or
/// the statement lost a race it may win when retried — not a bug of the
/// request. The PostgreSQL driver reports these with kind `Unknown` and
/// without their SQLSTATE, so they are told apart by the server's message
/// (PostgreSQL's own English texts: `lc_messages` is a superuser setting
/// and left at its default by managed services).
const TRANSIENT_MESSAGES: &[&str] = &[
    // 57P01 admin_shutdown (`pg_ctl stop -m fast`, pg_terminate_backend)
    "terminating connection due to administrator command",
    // 57P02 crash_shutdown
    "terminating connection because of crash of another server process",
    // 57P03 cannot_connect_now
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    // 57P05 idle session timeout, 25P03 idle-in-transaction timeout
    "terminating connection due to idle",
    // 40P01 deadlock_detected: one of the two transactions was rolled back
    "deadlock detected",
    // 08006 and the like, as libpq-compatible servers and poolers word them
    "server closed the connection unexpectedly",
    "connection reset by peer",
    "no connection to the server",
    // SQLite's busy timeout ran out: the database is overloaded, try again.
    "database is locked",
];

/// Server messages that mean the disk is full (SQLite's SQLITE_FULL,
/// PostgreSQL's 53100 disk_full and the "could not extend file" that comes
/// with it).
const FULL_MESSAGES: &[&str] = &["database or disk is full", "No space left on device", "could not extend file"];

fn is_full(e: &DieselError) -> bool {
    matches!(e, DieselError::DatabaseError(_, info) if FULL_MESSAGES.iter().any(|m| info.message().contains(m)))
}

/// True for failures that say "not now" rather than "never": the database
/// is down, restarting or overloaded, the connection broke, or the
/// transaction lost a serialization race. They are answered 503 with
/// `Retry-After`; none can have committed anything.
fn is_unavailable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure,
            _,
        ) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            TRANSIENT_MESSAGES.iter().any(|m| message.contains(m))
        }
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
            Error::Query(ref q) if is_full(q) => RepoError::Full(Box::new(e)),
            Error::Query(ref q) if is_unavailable(q) => RepoError::Unavailable(Box::new(e)),
            Error::Pool(_) | Error::Connect(_) => RepoError::Unavailable(Box::new(e)),
            Error::Query(_) | Error::Url(_) | Error::Setup(_) | Error::Migration(_) | Error::Corrupt(_) => {
                RepoError::Internal(Box::new(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_error(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::Query(DieselError::DatabaseError(kind, Box::new(message.to_owned())))
    }

    #[test]
    fn connection_level_failures_are_unavailable_and_the_rest_internal() {
        let unavailable = [
            db_error(DatabaseErrorKind::Unknown, "terminating connection due to administrator command"),
            db_error(DatabaseErrorKind::Unknown, "the database system is shutting down"),
            db_error(DatabaseErrorKind::Unknown, "deadlock detected"),
            db_error(DatabaseErrorKind::Unknown, "database is locked"),
            db_error(DatabaseErrorKind::SerializationFailure, "could not serialize access"),
            db_error(DatabaseErrorKind::UnableToSendCommand, "connection closed"),
            db_error(DatabaseErrorKind::ClosedConnection, "closed"),
        ];
        for e in unavailable {
            let shown = format!("{e:?}");
            assert!(matches!(RepoError::from(e), RepoError::Unavailable(_)), "{shown}");
        }
        let full = db_error(DatabaseErrorKind::Unknown, "database or disk is full");
        assert!(matches!(RepoError::from(full), RepoError::Full(_)));
        let internal = [
            db_error(DatabaseErrorKind::Unknown, "column \"nope\" does not exist"),
            db_error(DatabaseErrorKind::CheckViolation, "new row violates check constraint"),
            db_error(DatabaseErrorKind::UniqueViolation, "duplicate key value violates unique constraint \"x\""),
        ];
        for e in internal {
            let shown = format!("{e:?}");
            assert!(matches!(RepoError::from(e), RepoError::Internal(_)), "{shown}");
        }
    }
}
