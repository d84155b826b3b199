//! What the background worker does with each task. The worker loop itself
//! (claiming, leases, backoff, shutdown) lives in the application; this is
//! the part an embedding service reuses with its own loop.

use crate::email::{MailError, Mailer};
use crate::error::{RepoError, display_chain};
use crate::events::EventLog;
use crate::files::FileRepository;
use crate::jobs::{JobQueue, PurgeTarget, Task};
use crate::one_time_token::OneTimeTokenRepository;
use crate::ports::{IdempotencyStore, SessionRepository};
use crate::storage::{BlobKey, BlobKind, BlobStore, StorageError};
use crate::time::now;
use std::sync::Arc;
use tracing::{info, instrument};

/// How long succeeded and dead jobs are kept for inspection.
pub const FINISHED_JOB_RETENTION_DAYS: i64 = 7;

/// How old a blob without a row must be before the sweep removes it: older
/// than any upload still between writing its blob and its row.
pub const ORPHAN_BLOB_AGE_MINUTES: i64 = 60;

/// Why a task failed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// Worth another attempt.
    #[error("{0}")]
    Retry(String),
    /// No attempt can succeed; bury the job now.
    #[error("{0}")]
    Fatal(String),
}

impl From<RepoError> for TaskError {
    fn from(e: RepoError) -> Self {
        Self::Retry(display_chain(&e))
    }
}

impl From<StorageError> for TaskError {
    fn from(e: StorageError) -> Self {
        Self::Retry(display_chain(&e))
    }
}

impl From<MailError> for TaskError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Transient(_) => Self::Retry(e.to_string()),
            MailError::Permanent(_) => Self::Fatal(e.to_string()),
        }
    }
}

/// Runs tasks against the ports they need.
#[derive(Clone)]
pub struct TaskRunner {
    pub mailer: Arc<dyn Mailer>,
    pub sessions: Arc<dyn SessionRepository>,
    pub tokens: Arc<dyn OneTimeTokenRepository>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub jobs: Arc<dyn JobQueue>,
    pub blobs: Arc<dyn BlobStore>,
    pub files: Arc<dyn FileRepository>,
    pub events: Arc<dyn EventLog>,
    /// How long events are kept (`[events] retention_hours`).
    pub event_retention: chrono::Duration,
}

impl std::fmt::Debug for TaskRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskRunner").finish_non_exhaustive()
    }
}

impl TaskRunner {
    /// Runs one task to completion.
    ///
    /// # Errors
    /// See [`TaskError`].
    #[instrument(skip_all, fields(task = task.kind()))]
    pub async fn run(&self, task: &Task) -> Result<(), TaskError> {
        match task {
            Task::SendEmail { message } => Ok(self.mailer.send(message).await?),
            Task::DeleteBlob { key } => {
                let key = BlobKey::parse(key).ok_or_else(|| TaskError::Fatal(format!("not a blob key: {key:?}")))?;
                Ok(self.blobs.delete(&key).await?)
            }

            Task::Purge { target } => {
                let at = now();
                let removed = match target {
                    PurgeTarget::ExpiredSessions => self.sessions.purge_expired(at).await?,
                    PurgeTarget::OneTimeTokens => self.tokens.purge_expired(at).await?,
                    PurgeTarget::IdempotencyRecords => self.idempotency.purge_expired(at).await?,
                    PurgeTarget::FinishedJobs => {
                        self.jobs.purge_finished(at - chrono::Duration::days(FINISHED_JOB_RETENTION_DAYS)).await?
                    }
                    PurgeTarget::OrphanBlobs => self.sweep_orphans().await?,
                    PurgeTarget::Events => self.events.purge_before(at - self.event_retention).await?,
                };
                if removed > 0 {
                    info!(removed, ?target, "purged expired rows");
                }
                Ok(())
            }
        }
    }

    /// Removes blobs older than [`ORPHAN_BLOB_AGE_MINUTES`] that no row
    /// refers to, and returns how many.
    ///
    /// # Errors
    /// The store's or the repository's failures.
    pub async fn sweep_orphans(&self) -> Result<u64, TaskError> {
        let cutoff = now() - chrono::Duration::minutes(ORPHAN_BLOB_AGE_MINUTES);
        let mut removed = 0;
        for kind in BlobKind::ALL {
            let old: Vec<BlobKey> =
                self.blobs.list(kind).await?.into_iter().filter(|(_, m)| m.modified < cutoff).map(|(k, _)| k).collect();
            for batch in old.chunks(500) {
                let referenced = self.files.referenced(batch).await?;
                for key in batch.iter().filter(|k| !referenced.contains(k)) {
                    self.blobs.delete(key).await?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}
