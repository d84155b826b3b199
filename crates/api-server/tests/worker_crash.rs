//! `rivet worker` survives `kill -9`: a job whose worker dies mid-run stays
//! in the queue, runs again once the dead worker's lease lapses, and
//! completes once. On both databases.

mod common;

use common::*;
use rivet_api_server::{RunEnv, Settings, Sources};
use rivet_domain::jobs::{JobQueue, JobState};
use rivet_persistence::testing::TestDatabase;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Registers an account through the library, which queues its welcome email.
fn register_through_the_library(url: &str, rt: &tokio::runtime::Runtime) -> Settings {
    let sources = Sources::compiled(RunEnv::Test, "/nonexistent");
    let mut settings = Settings::load(&sources).unwrap();
    settings.database.url = url.to_owned();
    // The library never writes under the working directory in a test.
    let scratch = std::env::temp_dir().join(format!("rivet-worker-crash-{}", std::process::id()));
    settings.email.file_dir = scratch.join("mail");
    settings.storage.dir = scratch.join("files");
    rt.block_on(async {
        let services = rivet_app::Services::build(&settings).await.unwrap();
        let input = rivet_domain::accounts::Registration {
            email: "ada@example.com".into(),
            password: "correct horse battery staple".into(),
            full_name: None,
        };
        services.accounts.register(input).await.unwrap();
        services.db.close();
    });
    settings
}

fn depth(settings: &Settings, rt: &tokio::runtime::Runtime, state: JobState) -> u64 {
    rt.block_on(async {
        let services = rivet_app::Services::build(settings).await.unwrap();
        let depth = services.jobs.depth().await.unwrap();
        services.db.close();
        depth.into_iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| n)
    })
}

fn worker(dir: &Path, url: &str, email: &[(&str, &str)]) -> Command {
    let mut vars = vec![
        ("RIVET_ENV", "test"),
        ("RIVET__DATABASE__URL", url),
        ("RIVET__JOBS__LEASE_SECS", "3"),
        ("RIVET__JOBS__POLL_INTERVAL_MS", "100"),
        ("RUST_LOG", "info"),
    ];
    vars.extend_from_slice(email);
    rivet(dir, &["worker"], &vars)
}

fn emails(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map_or(0, |d| d.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count())
}

fn a_job_killed_mid_run_runs_again_and_completes_once(url: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let settings = register_through_the_library(url, &rt);
    let dir = temp_dir();

    // An SMTP server that accepts and then says nothing: the first worker
    // is stuck inside the job when it dies.
    let smtp = TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.local_addr().unwrap().port());
    let (accepted, connected) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((stream, _)) = smtp.accept() {
            held.push(stream);
            let _ = accepted.send(());
        }
    });
    let mut first = Server::start(worker(
        &dir.0,
        url,
        &[("RIVET__EMAIL__TRANSPORT", "smtp"), ("RIVET__EMAIL__SMTP_URL", &smtp_url)],
    ));
    first.wait_for("job worker started");
    connected.recv_timeout(Duration::from_secs(20)).expect("the first worker starts sending the welcome email");
    // Let the purge jobs claimed in the same batch finish; the email stays stuck.
    std::thread::sleep(Duration::from_millis(700));
    first.child.kill().expect("kill -9");
    first.child.wait().unwrap();
    assert_eq!(depth(&settings, &rt, JobState::Running), 1, "the job is still held by the dead worker");

    let mail_dir = dir.0.join("mail");
    let mail_dir_var = mail_dir.to_string_lossy().into_owned();
    let second = Server::start(worker(
        &dir.0,
        url,
        &[("RIVET__EMAIL__TRANSPORT", "file"), ("RIVET__EMAIL__FILE_DIR", &mail_dir_var)],
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    while emails(&mail_dir) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(emails(&mail_dir), 1, "the welcome email is delivered after the lease lapses");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(emails(&mail_dir), 1, "and only once");
    assert_eq!(depth(&settings, &rt, JobState::Running), 0);
    assert_eq!(depth(&settings, &rt, JobState::Dead), 0);
    assert!(second.terminate(), "SIGTERM stops the worker with exit status 0");
}

#[test]
fn a_job_killed_mid_run_on_sqlite_runs_again_and_completes_once() {
    let db = TestDatabase::sqlite().unwrap();
    a_job_killed_mid_run_runs_again_and_completes_once(db.url());
}

#[test]
fn a_job_killed_mid_run_on_postgres_runs_again_and_completes_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::postgres(&postgres_admin_url())).unwrap_or_else(|e| panic!("{e}"));
    a_job_killed_mid_run_runs_again_and_completes_once(db.url());
}
