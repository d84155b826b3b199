//! Rivet's email transports, behind the domain's [`Mailer`] port:
//!
//! - `smtp`: lettre's async SMTP client with a connection pool, configured by
//!   one URL (`smtps://user:pass@host:465`, or `smtp://host:587?tls=required`
//!   for STARTTLS; plain `smtp://` only for a relay on a trusted network).
//! - `file`: each message as an `.eml` file in a folder — the development
//!   default, and what tests read. Files appear atomically (written under a
//!   temporary name, then renamed), so a reader never sees half a message.
//! - `log`: one log line per message with recipient and subject only. Bodies
//!   carry one-time tokens and never go to the log; use `file` to read them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use rivet_domain::email::{EmailMessage, Mailer};
//! let mailer = rivet_mail::build(&rivet_mail::MailSettings {
//!     transport: rivet_mail::Transport::File { dir: "./data/mail".into() },
//!     from: "Rivet <no-reply@example.com>".into(),
//! })?;
//! let message = EmailMessage {
//!     to: "ada@example.com".into(),
//!     subject: "Hi".into(),
//!     text: "Hello".into(),
//!     html: "<p>Hello</p>".into(),
//! };
//! mailer.send(&message).await?;
//! # Ok(()) }
//! ```

mod file;
mod smtp;

use async_trait::async_trait;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use rivet_domain::email::{EmailMessage, MailError, Mailer};
use std::path::PathBuf;
use std::sync::Arc;

pub use file::FileMailer;
pub use smtp::SmtpMailer;

/// Which transport delivers mail, with its own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    File { dir: PathBuf },
    Smtp { url: String },
    Log,
}

/// Everything a mailer needs (handed in by the application).
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: Transport,
    /// The `From` header, `Name <address>` or a bare address.
    pub from: String,
}

/// Why a transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("email.from {0:?} is not a mailbox: {1}")]
    From(String, String),
    #[error("email.smtp_url is invalid: {0}")]
    SmtpUrl(String),
    #[error("cannot create email.file_dir {0}: {1}")]
    Dir(PathBuf, std::io::Error),
}

/// The mailer the settings describe.
///
/// # Errors
/// See [`SetupError`].
pub fn build(settings: &MailSettings) -> Result<Arc<dyn Mailer>, SetupError> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e: lettre::address::AddressError| SetupError::From(settings.from.clone(), e.to_string()))?;
    Ok(match &settings.transport {
        Transport::File { dir } => Arc::new(FileMailer::new(dir.clone(), from)?),
        Transport::Smtp { url } => Arc::new(SmtpMailer::new(url, from)?),
        Transport::Log => Arc::new(LogMailer),
    })
}

/// The MIME message: `multipart/alternative` with the text part first, so
/// clients that show HTML pick the last part they understand.
fn mime(from: &Mailbox, message: &EmailMessage) -> Result<Message, MailError> {
    let to: Mailbox =
        message.to.parse().map_err(|e| MailError::Permanent(format!("recipient {:?}: {e}", message.to)))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&message.subject)
        .date_now()
        .multipart(MultiPart::alternative_plain_html(message.text.clone(), message.html.clone()))
        .map_err(|e| MailError::Permanent(format!("cannot build the message: {e}")))
}

/// Logs that a message would be sent; never its body.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        let text_bytes = message.text.len();
        tracing::info!(to = %message.to, subject = %message.subject, text_bytes, "email (log transport: not delivered)");
        Ok(())
    }
}
