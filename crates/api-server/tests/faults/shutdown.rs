//! SIGTERM under write load: no accepted request is answered 5xx because of
//! the shutdown, every acknowledged write is stored and every stored write
//! was acknowledged, the process exits 0 within `shutdown_timeout_secs`, and
//! the jobs of acknowledged writes run (finished, or returned to the queue).

use crate::harness::{Dir, PASSWORD, Rivet, account, call, postgres_admin_url, todo_titles, unsent_mails};
use reqwest::Method;
use rivet_persistence::testing::TestDatabase;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WRITERS: usize = 32;

#[derive(Default)]
struct Outcomes {
    acked: Vec<String>,
    /// Emails of acknowledged registrations: each enqueued a verification email.
    registered: Vec<String>,
    /// Titles whose request got an answer other than 201 (with the answer).
    refused: Vec<(String, String)>,
    /// Titles whose request got no answer (the connection was refused or closed).
    unanswered: Vec<String>,
}

/// One SIGTERM under load on `url`, as `token`; returns the drain time.
async fn one_shutdown(dir: &Dir, url: &str, token: &str, round: usize, outcomes: &Arc<Mutex<Outcomes>>) -> Duration {
    let mut server = Rivet::start(dir.path(), url, &[]).await;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (base, token, outcomes) = (server.base.clone(), token.to_owned(), outcomes.clone());
        writers.spawn(async move {
            // Half keep their connections (as most clients do), half open
            // one per request (so connections are being accepted at the signal).
            let client = if w % 2 == 0 {
                reqwest::Client::new()
            } else {
                reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap()
            };
            let mut failures = 0;
            for n in 0.. {
                // One writer in eight registers accounts: a write that
                // enqueues a job (the verification email) in its transaction.
                if w % 8 == 7 {
                    let email = format!("term-{round}-{w}-{n}@example.com");
                    let body = json!({ "email": email, "password": PASSWORD });
                    let r =
                        call(&client, Method::POST, &format!("{base}/api/v1/auth/register"), None, Some(&body)).await;
                    let mut o = outcomes.lock().unwrap();
                    match r {
                        Ok(a) if a.status == 201 => o.registered.push(email),
                        Ok(a) => o.refused.push((email, a.to_string())),
                        Err(_) => {
                            failures += 1;
                            if failures >= 3 {
                                return;
                            }
                        }
                    }
                    continue;
                }
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
    // A varying moment, so the signal lands in different phases of requests.
    tokio::time::sleep(Duration::from_millis(300 + 37 * (round as u64 % 10))).await;
    server.signal("-TERM");
    let signalled = Instant::now();
    let exit = server.wait_exit(Duration::from_secs(12)).await;
    let drain = signalled.elapsed();
    while writers.join_next().await.is_some() {}
    assert!(exit.is_some_and(|s| s.success()), "exit after SIGTERM: {exit:?}\n{}", server.log());
    drain
}

/// `rounds` SIGTERMs on one database, then every write checked at once.
async fn shutdowns(url: &str, rounds: usize) {
    let dir = Dir::new("shutdown");
    let token = {
        let server = Rivet::start(dir.path(), url, &[]).await;
        account(&server.base).await
    };
    let outcomes: Arc<Mutex<Outcomes>> = Arc::default();
    let mut drains = Vec::new();
    for round in 0..rounds {
        drains.push(one_shutdown(&dir, url, &token, round, &outcomes).await);
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    assert!(outcomes.refused.is_empty(), "answers other than 201 during shutdowns: {:#?}", outcomes.refused);

    let checker = Rivet::start(dir.path(), url, &[]).await;
    let stored: std::collections::HashSet<String> = todo_titles(&checker.base, &token).await.into_iter().collect();
    let acked: std::collections::HashSet<String> = outcomes.acked.iter().cloned().collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    let unacknowledged: Vec<&String> = stored.difference(&acked).collect();
    assert!(
        unacknowledged.is_empty(),
        "stored but never acknowledged (a client would retry and duplicate): {unacknowledged:?}"
    );
    // The jobs enqueued by acknowledged writes ran — finished before a
    // shutdown, or returned to the queue and run by a later instance.
    let unsent = unsent_mails(&dir.path().join("mail"), &outcomes.registered).await;
    assert!(unsent.is_empty(), "verification emails never sent for acknowledged registrations: {unsent:?}");
    drains.sort();
    println!(
        "shutdown: {rounds} SIGTERMs under {WRITERS} writers; {} writes acknowledged, all stored, none stored unacknowledged, no 5xx; {} registrations acknowledged, every verification email sent; {} requests unanswered (refused or reset, none stored); drain {:?} to {:?}",
        acked.len(),
        outcomes.registered.len(),
        outcomes.unanswered.len(),
        drains[0],
        drains[drains.len() - 1]
    );
}

#[tokio::test]
async fn sigterm_under_writes_answers_every_accepted_request_on_postgres() {
    let db = TestDatabase::postgres(&postgres_admin_url()).await.expect("a PostgreSQL test database");
    shutdowns(db.url(), 30).await;
}

#[tokio::test]
async fn sigterm_under_writes_answers_every_accepted_request_on_sqlite() {
    let db = TestDatabase::sqlite().expect("a SQLite test database");
    shutdowns(db.url(), 10).await;
}

#[tokio::test]
async fn while_draining_readiness_is_503_and_answers_close_their_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = TestDatabase::sqlite().expect("a SQLite test database");
    let dir = Dir::new("draining");
    let mut server = Rivet::start(dir.path(), db.url(), &[]).await;
    // A keep-alive connection opened before the signal.
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", server.port)).await.unwrap();
    let ask = b"GET /health/ready HTTP/1.1\r\nhost: x\r\n\r\n";
    let read_answer = async |conn: &mut tokio::net::TcpStream| {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("\"checks\"") {
            let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf)).await.unwrap().unwrap();
            assert!(n > 0, "closed before answering: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).to_lowercase()
    };
    conn.write_all(ask).await.unwrap();
    let before = read_answer(&mut conn).await;
    assert!(before.starts_with("http/1.1 200") && !before.contains("connection: close"), "{before}");

    server.signal("-TERM");
    tokio::time::sleep(Duration::from_millis(50)).await;
    conn.write_all(ask).await.unwrap();
    let during = read_answer(&mut conn).await;
    assert!(during.starts_with("http/1.1 503"), "readiness while draining: {during}");
    assert!(during.contains("\"code\":\"shutting_down\"") && during.contains("retry-after: "), "{during}");
    assert!(during.contains("connection: close"), "a draining answer closes its connection: {during}");
    let exit = server.wait_exit(Duration::from_secs(5)).await;
    assert!(exit.is_some_and(|s| s.success()), "exit: {exit:?}\n{}", server.log());
}
