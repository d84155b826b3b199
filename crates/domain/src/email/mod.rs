//! Outgoing email: the message type, the transport port, and the texts
//! Rivet sends. Transports (SMTP, `.eml` files, the log) live in `rivet-mail`.

mod templates;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use templates::{Links, Templates};

/// One rendered email, with plain-text and HTML bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Worth retrying: the server was unreachable, busy or timed out.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// Retrying cannot help: the address or message was refused.
    #[error("delivery refused: {0}")]
    Permanent(String),
}

/// Delivers email.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message.
    ///
    /// # Errors
    /// See [`MailError`].
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError>;
}
