//! The job queue store on both databases: claiming, leases, outcomes, and
//! that concurrent claims never hand one job to two workers.

use crate::common;

use chrono::Duration as Span;
use common::Stores;
use rivet_domain::jobs::{JobQueue, JobState, NewJob, PurgeTarget, Task};
use rivet_domain::time::now;
use rivet_persistence::JobStore;
use std::collections::HashSet;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(30);

fn job() -> NewJob {
    NewJob::new(&Task::Purge { target: PurgeTarget::OneTimeTokens }, now())
}

fn depth_of(depth: &[(JobState, u64)], state: JobState) -> u64 {
    depth.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n)
}

async fn a_claimed_job_belongs_to_its_worker_until_the_lease_lapses(s: Stores) {
    let q = JobStore::new(s.db.clone());
    let j = job();
    assert_eq!(q.enqueue(std::slice::from_ref(&j)).await.unwrap(), 1);
    let t0 = now();
    let claimed = q.claim("w1", 10, t0, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].id, claimed[0].attempts), (j.id, 1));
    assert!(q.claim("w2", 10, t0, LEASE).await.unwrap().is_empty(), "a held job is not claimable");
    assert!(!q.succeed(j.id, "w2", t0).await.unwrap(), "only the holder records an outcome");

    let later = t0 + Span::seconds(31);
    let again = q.claim("w2", 10, later, LEASE).await.unwrap();
    assert_eq!(
        again.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(),
        vec![(j.id, 2)],
        "a lapsed lease frees the job"
    );
    assert!(!q.succeed(j.id, "w1", later).await.unwrap(), "the first worker lost it");
    assert!(q.succeed(j.id, "w2", later).await.unwrap());
    let record = q.find(j.id).await.unwrap().unwrap();
    assert_eq!((record.state, record.attempts), (JobState::Succeeded, 2));
}

async fn failures_retry_later_and_the_last_one_buries_the_job(s: Stores) {
    let q = JobStore::new(s.db.clone());
    let j = job();
    q.enqueue(std::slice::from_ref(&j)).await.unwrap();
    let t0 = now();
    q.claim("w", 1, t0, LEASE).await.unwrap();
    assert!(q.retry(j.id, "w", "smtp timeout", t0 + Span::seconds(5), t0).await.unwrap());
    assert!(q.claim("w", 1, t0 + Span::seconds(4), LEASE).await.unwrap().is_empty(), "not before its run_at");
    let second = q.claim("w", 1, t0 + Span::seconds(6), LEASE).await.unwrap();
    assert_eq!(second[0].attempts, 2);
    assert!(q.bury(j.id, "w", "refused", t0 + Span::seconds(6)).await.unwrap());
    let record = q.find(j.id).await.unwrap().unwrap();
    assert_eq!((record.state, record.last_error.as_deref()), (JobState::Dead, Some("refused")));
    assert_eq!(depth_of(&q.depth().await.unwrap(), JobState::Dead), 1);
    assert!(q.claim("w", 1, t0 + Span::days(1), LEASE).await.unwrap().is_empty(), "dead jobs never run");
    assert_eq!(q.purge_finished(t0 + Span::days(8)).await.unwrap(), 1);
}

async fn a_released_job_runs_again_without_spending_an_attempt(s: Stores) {
    let q = JobStore::new(s.db.clone());
    let j = job();
    q.enqueue(std::slice::from_ref(&j)).await.unwrap();
    let t0 = now();
    q.claim("w", 1, t0, LEASE).await.unwrap();
    assert!(q.release(j.id, "w", t0).await.unwrap());
    let again = q.claim("w", 1, t0, LEASE).await.unwrap();
    assert_eq!(again[0].attempts, 1);
}

async fn a_unique_key_admits_one_job(s: Stores) {
    let q = JobStore::new(s.db.clone());
    let a = job().unique("purge@3600:1".into());
    let b = job().unique("purge@3600:1".into());
    assert_eq!(q.enqueue(&[a, b]).await.unwrap(), 1);
    assert_eq!(depth_of(&q.depth().await.unwrap(), JobState::Queued), 1);
}

async fn concurrent_claims_never_hand_one_job_to_two_workers(s: Stores) {
    let q = JobStore::new(s.db.clone());
    let jobs: Vec<NewJob> = (0..120).map(|_| job()).collect();
    q.enqueue(&jobs).await.unwrap();
    let mut workers = Vec::new();
    for w in 0..4 {
        let q = q.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let batch = q.claim(&name, 7, now(), LEASE).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for w in workers {
        for id in w.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "job {id} was claimed twice");
        }
    }
    assert_eq!((total, seen.len()), (120, 120), "every job claimed exactly once");
}

on_both_backends!(
    a_claimed_job_belongs_to_its_worker_until_the_lease_lapses,
    failures_retry_later_and_the_last_one_buries_the_job,
    a_released_job_runs_again_without_spending_an_attempt,
    a_unique_key_admits_one_job,
    concurrent_claims_never_hand_one_job_to_two_workers
);
