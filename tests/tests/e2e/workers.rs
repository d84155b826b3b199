//! Several job workers on one database: every job runs, none runs twice,
//! and no job ever runs on two workers at the same time.

use async_trait::async_trait;
use rivet_api_server::worker::{Worker, WorkerOptions};
use rivet_domain::email::{EmailMessage, MailError, Mailer};
use rivet_domain::jobs::{JobQueue, JobState, NewJob, Task};
use rivet_domain::time::now;
use rivet_e2e::{Backend, eventually, test_database};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records, per recipient, how many deliveries are under way and how many finished.
#[derive(Default)]
struct Recorder {
    by_recipient: Mutex<HashMap<String, (u32, u32)>>,
    overlaps: Mutex<Vec<String>>,
}

#[async_trait]
impl Mailer for Recorder {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        {
            let mut map = self.by_recipient.lock().unwrap();
            let entry = map.entry(message.to.clone()).or_default();
            if entry.0 > 0 {
                self.overlaps.lock().unwrap().push(message.to.clone());
            }
            entry.0 += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut map = self.by_recipient.lock().unwrap();
        let entry = map.get_mut(&message.to).unwrap();
        entry.0 -= 1;
        entry.1 += 1;
        Ok(())
    }
}

async fn two_workers_share_the_queue_without_running_a_job_twice(backend: Backend) {
    let db = test_database(backend).await;
    let settings = rivet_e2e::settings_for(backend, &db);
    let services = rivet_app::Services::build(&settings).await.unwrap();
    let jobs: Vec<NewJob> = (0..80)
        .map(|i| {
            let message = EmailMessage {
                to: format!("user{i}@example.com"),
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
            };
            NewJob::new(&Task::SendEmail { message }, now())
        })
        .collect();
    services.jobs.enqueue(&jobs).await.unwrap();

    let recorder = Arc::new(Recorder::default());
    let mut tasks = services.tasks.clone();
    tasks.mailer = recorder.clone();
    let options = WorkerOptions {
        poll_interval: Duration::from_millis(20),
        concurrency: 4,
        lease: Duration::from_secs(10),
        purge_interval: Duration::from_secs(3600),
        grace: Duration::from_secs(5),
        label: Some("e2e".into()),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let a = Worker::new(services.jobs.clone(), tasks.clone(), options.clone());
    let b = Worker::new(services.jobs.clone(), tasks, options);
    assert_ne!(a.id(), b.id());
    let running = [tokio::spawn(a.run(stopped.clone())), tokio::spawn(b.run(stopped))];

    let delivered = || recorder.by_recipient.lock().unwrap().values().map(|(_, done)| *done).sum::<u32>();
    let all = eventually(Duration::from_secs(30), async || delivered() >= 80).await;
    stop.send(true).unwrap();
    for r in running {
        r.await.unwrap();
    }
    assert!(all.is_some(), "all 80 jobs ran; {} did", delivered());
    let map = recorder.by_recipient.lock().unwrap().clone();
    assert_eq!(map.len(), 80);
    assert!(map.values().all(|(_, done)| *done == 1), "each job ran exactly once: {map:?}");
    assert!(recorder.overlaps.lock().unwrap().is_empty(), "no job ran on two workers at once");
    let depth = services.jobs.depth().await.unwrap();
    let succeeded = depth.iter().find(|(s, _)| *s == JobState::Succeeded).map_or(0, |(_, n)| *n);
    assert!(succeeded >= 80, "the queue records them succeeded: {depth:?}");
    services.db.close();
    let _ = std::fs::remove_dir_all(&settings.email.file_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_postgres_never_run_one_job_twice() {
    two_workers_share_the_queue_without_running_a_job_twice(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_through_pgbouncer_never_run_one_job_twice() {
    two_workers_share_the_queue_without_running_a_job_twice(Backend::PgBouncer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_sqlite_never_run_one_job_twice() {
    two_workers_share_the_queue_without_running_a_job_twice(Backend::Sqlite).await;
}

fn succeeded_jobs(metrics: &str) -> Option<u64> {
    metrics.lines().find_map(|l| l.strip_prefix("rivet_jobs{state=\"succeeded\"} ")).and_then(|n| n.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_schedule_each_purge_once_per_interval() {
    let first = rivet_e2e::TestApp::spawn(Backend::Postgres).await;
    let second = rivet_e2e::TestApp::start(first.settings.clone(), Backend::Postgres).await;
    let six = eventually(Duration::from_secs(15), async || {
        succeeded_jobs(&first.get("/metrics", None).await.text) == Some(6)
    })
    .await;
    assert!(six.is_some(), "the six purge jobs ran: {}", first.get("/metrics", None).await.text);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let text = second.get("/metrics", None).await.text;
    assert_eq!(succeeded_jobs(&text), Some(6), "both instances scheduled them, each ran once: {text}");
    assert!(text.contains("rivet_jobs{state=\"dead\"} 0"), "{text}");
}
