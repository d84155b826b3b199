//! `kill -9` of `rivet serve` during a burst of concurrent writes, then a
//! restart on the same database: every write answered 2xx is there, none
//! twice, and the jobs enqueued with acknowledged writes still run (at least
//! once: a job cut short by the kill runs again).

use crate::harness::{Dir, PASSWORD, Rivet, account, call, postgres_admin_url, todo_titles, unsent_mails};
use reqwest::Method;
use rivet_persistence::testing::TestDatabase;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WRITERS: usize = 24;

/// A job the kill cut short is claimed by nobody until its lease ends
/// (60 s by default); a short lease lets the restarted worker take it over
/// within the time the check waits for the emails.
const SERVER: &[(&str, &str)] = &[("RIVET__JOBS__LEASE_SECS", "5")];

#[derive(Default)]
struct Acked {
    todos: Vec<String>,
    registrations: Vec<String>,
}

async fn crash_under_writes(url: &str) {
    let dir = Dir::new("crash");
    let mut server = Rivet::start(dir.path(), url, SERVER).await;
    let token = account(&server.base).await;
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (base, token, acked) = (server.base.clone(), token.clone(), acked.clone());
        writers.spawn(async move {
            let client = reqwest::Client::new();
            for n in 0.. {
                // One write in eight is a registration, whose verification
                // email is a job enqueued in the same transaction.
                let result = if n % 8 == 7 {
                    let email = format!("crash-{w}-{n}-{}@example.com", uuid::Uuid::now_v7().simple());
                    let body = json!({ "email": email, "password": PASSWORD });
                    let r =
                        call(&client, Method::POST, &format!("{base}/api/v1/auth/register"), None, Some(&body)).await;
                    r.map(|r| (r.status == 201).then(|| acked.lock().unwrap().registrations.push(email)))
                } else {
                    let title = format!("crash-{w}-{n}");
                    let body = json!({ "title": title, "tags": ["crash"] });
                    let r =
                        call(&client, Method::POST, &format!("{base}/api/v1/todos"), Some(&token), Some(&body)).await;
                    r.map(|r| (r.status == 201).then(|| acked.lock().unwrap().todos.push(title)))
                };
                if result.is_err() {
                    return; // the server is gone
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill9();
    while writers.join_next().await.is_some() {}
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.todos.len() > 50, "the burst wrote too little to prove anything: {}", acked.todos.len());

    let restarted = Rivet::start(dir.path(), url, SERVER).await;
    let stored = todo_titles(&restarted.base, &token).await;
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<&String> = stored.iter().filter(|t| !seen.insert(*t)).collect();
    assert!(twice.is_empty(), "todos stored twice: {twice:?}");
    let lost: Vec<&String> = acked.todos.iter().filter(|t| !seen.contains(t)).collect();
    assert!(lost.is_empty(), "{} acknowledged todos lost after kill -9: {lost:?}", lost.len());

    // The restarted instance's worker sends every acknowledged registration's email.
    let unsent = unsent_mails(&dir.path().join("mail"), &acked.registrations).await;
    assert!(unsent.is_empty(), "verification emails never sent for acknowledged registrations: {unsent:?}");
    println!(
        "crash: {} todos and {} registrations acknowledged before kill -9; {} todos stored; 0 lost, 0 twice; every verification email sent",
        acked.todos.len(),
        acked.registrations.len(),
        stored.len()
    );
}

#[tokio::test]
async fn kill_9_under_writes_loses_no_acknowledged_write_on_postgres() {
    let db = TestDatabase::postgres(&postgres_admin_url()).await.expect("a PostgreSQL test database");
    crash_under_writes(db.url()).await;
}

#[tokio::test]
async fn kill_9_under_writes_loses_no_acknowledged_write_on_sqlite() {
    let db = TestDatabase::sqlite().expect("a SQLite test database");
    crash_under_writes(db.url()).await;
}
