//! The durable job queue's vocabulary: what a job is, its life cycle, the
//! tasks Rivet runs in the background, and the port a queue store implements.
//!
//! Life cycle: `queued` → `running` (claimed by one worker under a lease) →
//! `succeeded`, or back to `queued` with a later `run_at` after a failure
//! (exponential backoff), or `dead` once `max_attempts` are spent. A worker
//! that dies mid-job stops renewing its lease; when the lease runs out the
//! job is claimable again, so execution is at-least-once and never
//! concurrent: a running job belongs to exactly one unexpired lease.

use crate::email::EmailMessage;
use crate::error::RepoError;
use crate::one_time_token::NewOneTimeToken;
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

id_type!(
    /// Identifies a job.
    JobId
);

/// Attempts a job gets unless it says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// Where a job is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Dead,
}

impl JobState {
    /// Every state, in life-cycle order (for metrics that list them all).
    pub const ALL: [Self; 4] = [Self::Queued, Self::Running, Self::Succeeded, Self::Dead];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Dead => "dead",
        }
    }

    /// The state a stored name denotes.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// What the periodic purge removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurgeTarget {
    /// Sessions past their expiry, with their refresh tokens.
    ExpiredSessions,
    /// Email-verification and password-reset tokens past their expiry.
    OneTimeTokens,
    /// Idempotency records past their retention.
    IdempotencyRecords,
    /// Succeeded and dead jobs past their retention.
    FinishedJobs,
    /// Blobs no row refers to, older than an hour (an upload cut off between
    /// its blob and its row).
    OrphanBlobs,
    /// Events past `[events] retention_hours`.
    Events,
}

impl PurgeTarget {
    /// Every target, each purged by a job of its own.
    pub const ALL: [Self; 6] = [
        Self::ExpiredSessions,
        Self::OneTimeTokens,
        Self::IdempotencyRecords,
        Self::FinishedJobs,
        Self::OrphanBlobs,
        Self::Events,
    ];
}

/// The work a job does; stored as JSON in the job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Task {
    /// Deliver one email through the configured transport.
    SendEmail { message: EmailMessage },
    /// Remove expired rows of one kind.
    Purge { target: PurgeTarget },
    /// Remove a blob whose row was deleted (enqueued in that transaction).
    DeleteBlob { key: String },
}

impl Task {
    /// The job kind, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SendEmail { .. } => "send_email",
            Self::Purge { target: PurgeTarget::ExpiredSessions } => "purge_sessions",
            Self::Purge { target: PurgeTarget::OneTimeTokens } => "purge_one_time_tokens",
            Self::Purge { target: PurgeTarget::IdempotencyRecords } => "purge_idempotency_records",
            Self::Purge { target: PurgeTarget::FinishedJobs } => "purge_finished_jobs",
            Self::Purge { target: PurgeTarget::OrphanBlobs } => "purge_orphan_blobs",
            Self::Purge { target: PurgeTarget::Events } => "purge_events",
            Self::DeleteBlob { .. } => "delete_blob",
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: JobId,
    pub kind: &'static str,
    /// The task as JSON.
    pub payload: String,
    pub run_at: Timestamp,
    pub max_attempts: u32,
    /// At most one job ever exists with a given key: enqueueing a second is a
    /// no-op. Periodic jobs use it so that N instances schedule one run.
    pub unique_key: Option<String>,
    pub created_at: Timestamp,
}

impl NewJob {
    /// A job running `task` as soon as a worker is free.
    pub fn new(task: &Task, now: Timestamp) -> Self {
        Self {
            id: JobId::new(),
            kind: task.kind(),
            payload: serde_json::to_string(task).expect("tasks serialise to JSON"),
            run_at: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            unique_key: None,
            created_at: now,
        }
    }

    /// The same job, deduplicated by `key`.
    pub fn unique(mut self, key: String) -> Self {
        self.unique_key = Some(key);
        self
    }
}

/// A claimed job, as a worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    /// Attempts including the current one.
    pub attempts: u32,
    pub max_attempts: u32,
}

impl Job {
    /// The task in the payload.
    ///
    /// # Errors
    /// When the payload is not a task this version knows (written by a newer
    /// version, or corrupt): such a job cannot succeed by retrying.
    pub fn task(&self) -> Result<Task, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }

    /// True when a failure of this attempt should bury the job.
    pub fn is_last_attempt(&self) -> bool {
        self.attempts >= self.max_attempts
    }
}

/// A job's stored state, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub state: JobState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub run_at: Timestamp,
}

/// Delay before retry number `attempt` (1-based): 5 s doubling per attempt,
/// at most an hour. With the default eight attempts a job is retried for
/// about ten minutes before it is declared dead.
pub fn backoff(attempt: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    Duration::from_secs(secs.min(3600))
}

/// Rows a change writes in its own transaction so that nothing it causes
/// can be lost: one-time tokens and the jobs that mail them.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    pub tokens: Vec<NewOneTimeToken>,
    pub jobs: Vec<NewJob>,
}

impl Outbox {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.jobs.is_empty()
    }
}

/// Storage of the job queue.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Enqueues jobs; one whose `unique_key` exists already is skipped.
    /// Returns how many were added.
    async fn enqueue(&self, jobs: &[NewJob]) -> Result<u64, RepoError>;

    /// Claims up to `limit` runnable jobs for `worker` until `now + lease`:
    /// queued jobs due by `now`, and running jobs whose lease ran out. Counts
    /// an attempt. Two concurrent claims never return the same job.
    async fn claim(&self, worker: &str, limit: u32, now: Timestamp, lease: Duration) -> Result<Vec<Job>, RepoError>;

    /// Extends the lease of a job `worker` holds; false when it lost it.
    async fn extend(&self, id: JobId, worker: &str, until: Timestamp) -> Result<bool, RepoError>;

    /// Marks a held job succeeded and clears its payload (emails carry tokens).
    async fn succeed(&self, id: JobId, worker: &str, now: Timestamp) -> Result<bool, RepoError>;

    /// Returns a held job to the queue after a failure, to run at `run_at`.
    async fn retry(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, RepoError>;

    /// Marks a held job dead and clears its payload.
    async fn bury(&self, id: JobId, worker: &str, error: &str, now: Timestamp) -> Result<bool, RepoError>;

    /// Returns a held job to the queue without counting the attempt (the
    /// worker is shutting down).
    async fn release(&self, id: JobId, worker: &str, now: Timestamp) -> Result<bool, RepoError>;

    /// How many jobs are in each state.
    async fn depth(&self) -> Result<Vec<(JobState, u64)>, RepoError>;

    /// One job's state.
    async fn find(&self, id: JobId) -> Result<Option<JobRecord>, RepoError>;

    /// Deletes succeeded and dead jobs last changed before `before`.
    async fn purge_finished(&self, before: Timestamp) -> Result<u64, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_seconds_and_stops_at_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(4), Duration::from_secs(40));
        assert_eq!(backoff(30), Duration::from_secs(3600));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(3600));
    }

    #[test]
    fn a_task_survives_its_json_payload() {
        let task = Task::Purge { target: PurgeTarget::OneTimeTokens };
        let job = NewJob::new(&task, crate::time::now());
        let claimed = Job { id: job.id, kind: job.kind.into(), payload: job.payload, attempts: 1, max_attempts: 8 };
        assert_eq!(claimed.task().unwrap(), task);
        assert_eq!(claimed.kind, "purge_one_time_tokens");
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("paused"), None);
    }
}
