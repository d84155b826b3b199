//! SIGTERM under write load: no accepted request is answered 5xx because of
//! the shutdown, every acknowledged write is stored and every stored write
//! was acknowledged, and the process exits 0 within `shutdown_timeout_secs`.

use crate::harness::{Dir, Rivet, account, call, postgres_admin_url, todo_titles};
use reqwest::Method;
use rivet_persistence::testing::TestDatabase;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WRITERS: usize = 16;

#[derive(Default)]
struct Outcomes {
    acked: Vec<String>,
    /// Titles whose request got an answer other than 201 (with the answer).
    refused: Vec<(String, String)>,
    /// Titles whose request got no answer (the connection was refused or closed).
    unanswered: Vec<String>,
}

/// One SIGTERM under load; returns the drain time and the acknowledged count.
async fn one_shutdown(url: &str, round: usize) -> (Duration, usize) {
    let dir = Dir::new("shutdown");
    let mut server = Rivet::start(dir.path(), url, &[]).await;
    let token = account(&server.base).await;
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (base, token, outcomes) = (server.base.clone(), token.clone(), outcomes.clone());
        writers.spawn(async move {
            // Keep-alive connections, as real clients hold them.
            let client = reqwest::Client::new();
            let mut failures = 0;
            for n in 0.. {
                let title = format!("term-{round}-{w}-{n}");
                let body = json!({ "title": title });
                let r = call(&client, Method::POST, &format!("{base}/api/v1/todos"), Some(&token), Some(&body)).await;
                let mut o = outcomes.lock().unwrap();
                match r {
                    Ok(a) if a.status == 201 => o.acked.push(title),
                    Ok(a) => o.refused.push((title, a.to_string())),
                    Err(_) => {
                        o.unanswered.push(title);
                        failures += 1;
                        // Refused connections: the listener is closed.
                        if failures >= 3 {
                            return;
                        }
                    }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.signal("-TERM");
    let signalled = Instant::now();
    let exit = server.wait_exit(Duration::from_secs(12)).await;
    let drain = signalled.elapsed();
    while writers.join_next().await.is_some() {}
    assert!(exit.is_some_and(|s| s.success()), "exit after SIGTERM: {exit:?}\n{}", server.log());
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    assert!(outcomes.refused.is_empty(), "answers other than 201 during the shutdown: {:#?}", outcomes.refused);

    let restarted = Rivet::start(dir.path(), url, &[]).await;
    let stored: std::collections::HashSet<String> = todo_titles(&restarted.base, &token).await.into_iter().collect();
    let acked: std::collections::HashSet<String> = outcomes.acked.iter().cloned().collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    let unacknowledged: Vec<&String> = stored.difference(&acked).collect();
    assert!(
        unacknowledged.is_empty(),
        "stored but never acknowledged (a client would retry and duplicate): {unacknowledged:?}"
    );
    (drain, acked.len())
}

async fn shutdowns(url: &str, rounds: usize) {
    let mut drains = Vec::new();
    let mut acked = 0;
    for round in 0..rounds {
        let (drain, n) = one_shutdown(url, round).await;
        drains.push(drain);
        acked += n;
    }
    drains.sort();
    println!(
        "shutdown: {rounds} SIGTERMs under {WRITERS} writers; {acked} writes acknowledged, all stored, none stored unacknowledged, no 5xx; drain {:?} to {:?}",
        drains[0],
        drains[drains.len() - 1]
    );
}

#[tokio::test]
async fn sigterm_under_writes_answers_every_accepted_request_on_postgres() {
    let db = TestDatabase::postgres(&postgres_admin_url()).await.expect("a PostgreSQL test database");
    shutdowns(db.url(), 6).await;
}

#[tokio::test]
async fn sigterm_under_writes_answers_every_accepted_request_on_sqlite() {
    let db = TestDatabase::sqlite().expect("a SQLite test database");
    shutdowns(db.url(), 3).await;
}
