//! The `smtp` transport.

use crate::{SetupError, mime};
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rivet_domain::email::{EmailMessage, MailError, Mailer};
use std::time::Duration;

/// How long one SMTP exchange may take before the attempt counts as failed
/// (the job is retried with backoff).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends through an SMTP server with a pool of connections.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials; leave it out.
        f.debug_struct("SmtpMailer").field("from", &self.from).finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for a connection URL (`smtps://`, `smtp://...?tls=required`).
    /// Nothing connects until the first message.
    ///
    /// # Errors
    /// When the URL cannot be parsed.
    pub fn new(url: &str, from: Mailbox) -> Result<Self, SetupError> {
        // The error text may echo the URL, password included; say only what kind it is.
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|_| {
            SetupError::SmtpUrl("expected smtps://[user:pass@]host[:port] or smtp://...[?tls=required]".into())
        })?;
        Ok(Self { transport: builder.timeout(Some(SMTP_TIMEOUT)).build(), from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        let mime = mime(&self.from, message)?;
        match self.transport.send(mime).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}
