//! The `file` transport: one `.eml` file per message.

use crate::{SetupError, mime};
use async_trait::async_trait;
use lettre::message::Mailbox;
use rivet_domain::email::{EmailMessage, MailError, Mailer};
use std::path::PathBuf;

/// Writes each message to `<dir>/<UTC time>-<uuid>.eml`; names sort by time.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    /// A mailer writing into `dir`, which is created if missing.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(dir: PathBuf, from: Mailbox) -> Result<Self, SetupError> {
        std::fs::create_dir_all(&dir).map_err(|e| SetupError::Dir(dir.clone(), e))?;
        Ok(Self { dir, from })
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        let bytes = mime(&self.from, message)?.formatted();
        let name = format!("{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"), uuid::Uuid::now_v7());
        let partial = self.dir.join(format!(".{name}.partial"));
        let done = self.dir.join(format!("{name}.eml"));
        let io = |e: std::io::Error| MailError::Transient(format!("cannot write to {}: {e}", self.dir.display()));
        tokio::fs::write(&partial, bytes).await.map_err(io)?;
        tokio::fs::rename(&partial, &done).await.map_err(io)?;
        tracing::info!(path = %done.display(), "email written");
        Ok(())
    }
}
