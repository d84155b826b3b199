//! The background worker: claims due jobs from the queue, runs them with a
//! lease it keeps renewing, and records the outcome — success, a retry after
//! exponential backoff, or death after `max_attempts`. It also schedules the
//! periodic purge jobs, deduplicated by a key per interval, so however many
//! instances run, each purge runs once per interval.
//!
//! It runs inside `rivet serve` (`[jobs] enabled`) and alone as
//! `rivet worker`. On shutdown it stops claiming, gives running jobs the
//! shutdown timeout to finish, and returns the rest to the queue.

use rivet_domain::background::{TaskError, TaskRunner};
use rivet_domain::jobs::{Job, JobId, JobQueue, NewJob, PurgeTarget, Task, backoff};
use rivet_domain::time::now;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{Instrument, error, info, info_span, warn};

/// How a worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub poll_interval: Duration,
    pub concurrency: usize,
    pub lease: Duration,
    pub purge_interval: Duration,
    /// How long running jobs get to finish on shutdown.
    pub grace: Duration,
    /// Names the worker in logs and job leases (the host name, say).
    pub label: Option<String>,
}

/// One worker process's job runner.
#[derive(Clone)]
pub struct Worker {
    id: Arc<str>,
    queue: Arc<dyn JobQueue>,
    runner: TaskRunner,
    options: WorkerOptions,
    in_flight: Arc<Mutex<HashSet<JobId>>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("id", &self.id).field("options", &self.options).finish_non_exhaustive()
    }
}

/// A name unique to this worker: its label (the host, say), process and a
/// random suffix.
fn worker_id(label: Option<&str>) -> String {
    let host = label.filter(|h| !h.is_empty()).unwrap_or("rivet");
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[suffix.len() - 8..])
}

impl Worker {
    /// A worker over `queue`, running tasks with `runner`.
    pub fn new(queue: Arc<dyn JobQueue>, runner: TaskRunner, options: WorkerOptions) -> Self {
        Self { id: worker_id(options.label.as_deref()).into(), queue, runner, options, in_flight: Arc::default() }
    }

    /// This worker's name, as stored in `jobs.locked_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs until `stop` turns true, then drains as described in the module.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        info!(worker = %self.id, concurrency = self.options.concurrency, "job worker started");
        let mut running = JoinSet::new();
        let mut next_purge = tokio::time::Instant::now();
        let mut failing_since: Option<tokio::time::Instant> = None;
        while !*stop.borrow() {
            if tokio::time::Instant::now() >= next_purge {
                self.schedule_purges().await;
                next_purge += self.options.purge_interval;
            }
            let free = self.options.concurrency.saturating_sub(running.len());
            let mut full_batch = false;
            if free > 0 {
                match self
                    .queue
                    .claim(&self.id, u32::try_from(free).unwrap_or(u32::MAX), now(), self.options.lease)
                    .await
                {
                    Ok(jobs) => {
                        failing_since = None;
                        full_batch = jobs.len() == free;
                        for job in jobs {
                            self.in_flight.lock().expect("in-flight set").insert(job.id);
                            let worker = self.clone();
                            running.spawn(async move { worker.execute(job).await });
                        }
                    }
                    Err(e) => {
                        // Log the first failure of an outage, then every minute.
                        let now = tokio::time::Instant::now();
                        if failing_since.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(60)) {
                            warn!(error = %e, "cannot claim jobs; retrying");
                            failing_since = Some(now);
                        }
                    }
                }
            }
            if full_batch && running.len() < self.options.concurrency {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.options.poll_interval) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = stop.changed() => {}
            }
        }
        self.drain(running).await;
    }

    async fn drain(&self, mut running: JoinSet<()>) {
        let finished =
            tokio::time::timeout(self.options.grace, async { while running.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            running.abort_all();
            while running.join_next().await.is_some() {}
            let left: Vec<JobId> = self.in_flight.lock().expect("in-flight set").drain().collect();
            for id in left {
                match self.queue.release(id, &self.id, now()).await {
                    Ok(_) => info!(job_id = %id, "returned an unfinished job to the queue"),
                    Err(e) => {
                        warn!(job_id = %id, error = %e, "could not return a job; it runs again when its lease ends")
                    }
                }
            }
        }
        info!(worker = %self.id, "job worker stopped");
    }

    /// Enqueues this interval's purge jobs; other instances' copies collapse
    /// onto the same unique keys.
    async fn schedule_purges(&self) {
        let at = now();
        let interval = self.options.purge_interval.as_secs().max(1);
        let slot = u64::try_from(at.timestamp()).unwrap_or(0) / interval;
        let jobs: Vec<NewJob> = PurgeTarget::ALL
            .iter()
            .map(|target| {
                let task = Task::Purge { target: *target };
                let key = format!("{}@{interval}:{slot}", task.kind());
                NewJob::new(&task, at).unique(key)
            })
            .collect();
        if let Err(e) = self.queue.enqueue(&jobs).await {
            warn!(error = %e, "cannot schedule the purge jobs; will try next interval");
        }
    }

    /// Runs one job under a renewed lease and records how it ended.
    async fn execute(&self, job: Job) {
        let span = info_span!("job", job_id = %job.id, kind = %job.kind, attempt = job.attempts);
        async {
            let outcome = match job.task() {
                Ok(task) => {
                    let heartbeat = self.keep_lease(job.id);
                    tokio::select! {
                        r = self.runner.run(&task) => r,
                        () = heartbeat => Err(TaskError::Retry("the lease was lost".into())),
                    }
                }
                Err(e) => Err(TaskError::Fatal(format!("the payload is not a task this version knows: {e}"))),
            };
            let at = now();
            let recorded = match &outcome {
                Ok(()) => self.queue.succeed(job.id, &self.id, at).await,
                Err(TaskError::Retry(why)) if !job.is_last_attempt() => {
                    let delay = chrono::Duration::from_std(backoff(job.attempts)).unwrap_or(chrono::Duration::hours(1));
                    warn!(error = %why, retry_in_secs = delay.num_seconds(), "job failed; will retry");
                    self.queue.retry(job.id, &self.id, why, at + delay, at).await
                }
                Err(e) => {
                    error!(error = %e, "job failed for good; it is now dead");
                    self.queue.bury(job.id, &self.id, &e.to_string(), at).await
                }
            };
            match recorded {
                Ok(true) => {}
                Ok(false) => warn!("the job's lease had passed to another worker; its outcome here is not recorded"),
                Err(e) => warn!(error = %e, "cannot record the job's outcome; it runs again when its lease ends"),
            }
            self.in_flight.lock().expect("in-flight set").remove(&job.id);
        }
        .instrument(span)
        .await;
    }

    /// Renews the lease every third of its length; completes only if the
    /// lease is lost (another worker may then run the job, so stop).
    async fn keep_lease(&self, id: JobId) {
        let mut tick = tokio::time::interval(self.options.lease / 3);
        tick.tick().await;
        loop {
            tick.tick().await;
            let until = now() + chrono::Duration::from_std(self.options.lease).unwrap_or(chrono::Duration::minutes(1));
            match self.queue.extend(id, &self.id, until).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => warn!(error = %e, "cannot renew the job's lease"),
            }
        }
    }
}
