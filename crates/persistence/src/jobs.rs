//! The job queue store.
//!
//! Claiming is the one query that differs by backend. PostgreSQL selects
//! runnable rows `FOR UPDATE SKIP LOCKED`, so concurrent workers on any
//! number of instances each take different jobs without waiting on each
//! other. SQLite has no row locks: a claim takes the database write lock
//! first (the `jobs.claim` advisory row), so claims run one at a time and
//! still never hand one job to two workers. Every other statement is shared.

use crate::db::{Database, Pool};
use crate::error::{Error, Result};
use crate::schema::jobs;
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::RepoError;
use rivet_domain::jobs::{Job, JobId, JobQueue, JobRecord, JobState, NewJob};
use rivet_domain::time::Timestamp;
use std::time::Duration;
use tracing::instrument;

/// What a finished job keeps of its payload: emails carry one-time tokens.
const SCRUBBED: &str = "{}";

/// The job queue in the database.
#[derive(Debug, Clone)]
pub struct JobStore {
    db: Database,
}

pub(crate) type ClaimedRow = (DbUuid, String, String, i32, i32);

fn claimed((id, kind, payload, attempts, max_attempts): ClaimedRow) -> Job {
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    Job { id: JobId(id.0), kind, payload, attempts: count(attempts), max_attempts: count(max_attempts) }
}

/// Runnable jobs at `now`: queued and due, or running with a lapsed lease.
#[diesel::dsl::auto_type]
fn runnable(now: DbTime) -> _ {
    let queued: &'static str = JobState::Queued.as_str();
    let running: &'static str = JobState::Running.as_str();
    let due = jobs::state.eq(queued).and(jobs::run_at.le(now));
    let lapsed = jobs::state.eq(running).and(jobs::locked_until.lt(now));
    jobs::table.filter(due.or(lapsed)).order((jobs::run_at.asc(), jobs::id.asc())).select(jobs::id)
}

/// The job `id` while `worker` holds it.
#[diesel::dsl::auto_type]
fn held<'a>(id: DbUuid, worker: &'a str) -> _ {
    let running: &'static str = JobState::Running.as_str();
    jobs::table.find(id).filter(jobs::state.eq(running)).filter(jobs::locked_by.eq(worker))
}

impl JobStore {
    /// A queue over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    async fn finish(
        &self,
        id: JobId,
        worker: &str,
        state: JobState,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        with_conn!(self.db, |conn| {
            let n = diesel::update(held(DbUuid(id.0), worker))
                .set((
                    jobs::state.eq(state.as_str()),
                    jobs::payload.eq(SCRUBBED),
                    jobs::last_error.eq(error),
                    jobs::locked_by.eq(None::<String>),
                    jobs::locked_until.eq(None::<DbTime>),
                    jobs::updated_at.eq(DbTime(now)),
                ))
                .execute(conn)
                .await?;
            Ok(n == 1)
        })
    }

    async fn requeue(
        &self,
        id: JobId,
        worker: &str,
        error: Option<&str>,
        run_at: Timestamp,
        refund: bool,
        now: Timestamp,
    ) -> Result<bool> {
        let refund = i32::from(refund);
        with_conn!(self.db, |conn| {
            let n = diesel::update(held(DbUuid(id.0), worker))
                .set((
                    jobs::state.eq(JobState::Queued.as_str()),
                    jobs::attempts.eq(jobs::attempts - refund),
                    jobs::run_at.eq(DbTime(run_at)),
                    jobs::last_error.eq(error),
                    jobs::locked_by.eq(None::<String>),
                    jobs::locked_until.eq(None::<DbTime>),
                    jobs::updated_at.eq(DbTime(now)),
                ))
                .execute(conn)
                .await?;
            Ok(n == 1)
        })
    }
}

#[async_trait]
impl JobQueue for JobStore {
    #[instrument(skip_all, fields(count = jobs.len()))]
    async fn enqueue(&self, jobs: &[NewJob]) -> Result<u64, RepoError> {
        Ok(with_conn!(self.db, |conn, sql| conn.transaction(async |c| sql::insert_jobs(c, jobs).await).await)?)
    }

    #[instrument(skip_all)]
    async fn claim(&self, worker: &str, limit: u32, now: Timestamp, lease: Duration) -> Result<Vec<Job>, RepoError> {
        let lease = chrono::Duration::from_std(lease).map_err(|e| Error::Setup(format!("lease out of range: {e}")))?;
        let (at, until, limit) = (DbTime(now), DbTime(now + lease), i64::from(limit));
        // Not with_conn!: the two backends claim differently (SKIP LOCKED on
        // PostgreSQL, the database write lock on SQLite).
        let rows = crate::db::scoped(async {
            Ok(match self.db.pool() {
                #[cfg(feature = "postgres")]
                Pool::Postgres(pool) => {
                    let mut conn = pool.get().await?;
                    conn.transaction(async |c| {
                        let ids: Vec<DbUuid> = runnable(at).limit(limit).for_update().skip_locked().load(c).await?;
                        if ids.is_empty() {
                            return Ok::<_, Error>(Vec::new());
                        }
                        crate::for_pg::take(c, ids, worker, at, until).await
                    })
                    .await?
                }
                #[cfg(feature = "sqlite")]
                Pool::Sqlite(pool) => {
                    let mut conn = pool.get().await?;
                    conn.transaction(async |c| {
                        crate::for_sqlite::lock(c, "jobs.claim").await?;
                        let ids: Vec<DbUuid> = runnable(at).limit(limit).load(c).await?;
                        if ids.is_empty() {
                            return Ok::<_, Error>(Vec::new());
                        }
                        crate::for_sqlite::take(c, ids, worker, at, until).await
                    })
                    .await?
                }
            })
        })
        .await?;
        Ok(rows.into_iter().map(claimed).collect())
    }

    async fn extend(&self, id: JobId, worker: &str, until: Timestamp) -> Result<bool, RepoError> {
        Ok(with_conn!(self.db, |conn| {
            let n = diesel::update(held(DbUuid(id.0), worker))
                .set(jobs::locked_until.eq(DbTime(until)))
                .execute(conn)
                .await?;
            Ok(n == 1)
        })?)
    }

    #[instrument(skip_all, fields(job_id = %id))]
    async fn succeed(&self, id: JobId, worker: &str, now: Timestamp) -> Result<bool, RepoError> {
        Ok(self.finish(id, worker, JobState::Succeeded, None, now).await?)
    }

    #[instrument(skip_all, fields(job_id = %id))]
    async fn retry(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, RepoError> {
        Ok(self.requeue(id, worker, Some(error), run_at, false, now).await?)
    }

    #[instrument(skip_all, fields(job_id = %id))]
    async fn bury(&self, id: JobId, worker: &str, error: &str, now: Timestamp) -> Result<bool, RepoError> {
        Ok(self.finish(id, worker, JobState::Dead, Some(error), now).await?)
    }

    #[instrument(skip_all, fields(job_id = %id))]
    async fn release(&self, id: JobId, worker: &str, now: Timestamp) -> Result<bool, RepoError> {
        Ok(self.requeue(id, worker, None, now, true, now).await?)
    }

    async fn depth(&self) -> Result<Vec<(JobState, u64)>, RepoError> {
        let rows: Vec<(String, i64)> = with_conn!(read self.db, |conn| {
            Ok(jobs::table.group_by(jobs::state).select((jobs::state, diesel::dsl::count_star())).load(conn).await?)
        })?;
        let depth = rows.into_iter().map(|(state, n)| {
            let state = JobState::parse(&state).ok_or_else(|| Error::Corrupt(format!("job state {state:?}")))?;
            Ok((state, u64::try_from(n).unwrap_or(0)))
        });
        Ok(depth.collect::<Result<_>>()?)
    }

    async fn find(&self, id: JobId) -> Result<Option<JobRecord>, RepoError> {
        let row: Option<(String, String, i32, Option<String>, DbTime)> = with_conn!(read self.db, |conn| {
            Ok(jobs::table
                .find(DbUuid(id.0))
                .select((jobs::kind, jobs::state, jobs::attempts, jobs::last_error, jobs::run_at))
                .first(conn)
                .await
                .optional()?)
        })?;
        Ok(row
            .map(|(kind, state, attempts, last_error, run_at)| {
                let state =
                    JobState::parse(&state).ok_or_else(|| Error::Corrupt(format!("job {id} has state {state:?}")))?;
                Ok::<_, Error>(JobRecord {
                    id,
                    kind,
                    state,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    last_error,
                    run_at: run_at.0,
                })
            })
            .transpose()?)
    }

    #[instrument(skip_all)]
    async fn purge_finished(&self, before: Timestamp) -> Result<u64, RepoError> {
        let finished = [JobState::Succeeded.as_str(), JobState::Dead.as_str()];
        Ok(with_conn!(self.db, |conn| {
            let n = diesel::delete(
                jobs::table.filter(jobs::state.eq_any(finished)).filter(jobs::updated_at.lt(DbTime(before))),
            )
            .execute(conn)
            .await?;
            Ok(n as u64)
        })?)
    }
}
