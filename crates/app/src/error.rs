//! Why Rivet could not be put together.

/// A failure while wiring Rivet from its settings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] rivet_persistence::Error),
    /// Keys or algorithm of the token signer are unusable.
    #[error("authentication setup: {0}")]
    Auth(String),
    /// The `[bootstrap]` administrator could not be created.
    #[error("bootstrap administrator: {0}")]
    Bootstrap(String),
    /// The shared rate-limit store could not be set up.
    #[error("rate limiting: {0}")]
    RateLimit(String),
    /// The email transport could not be set up.
    #[error("email: {0}")]
    Mail(#[from] rivet_mail::SetupError),
    /// The `[storage]` blob store could not be set up.
    #[error("storage: {0}")]
    Storage(String),
    /// The event hub or its `[events]` fan-out could not be started.
    #[error("events: {0}")]
    Events(String),
}

/// A result of wiring.
pub type Result<T, E = Error> = std::result::Result<T, E>;
