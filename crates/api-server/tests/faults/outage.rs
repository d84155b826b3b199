//! PostgreSQL stopped (`fast`, then `immediate`) under read and write load,
//! then started again: while it is down every API answer is 503
//! problem+json with `Retry-After` — never a 500, never a wait beyond the
//! acquire timeout — readiness is 503, the process stays up, and the first
//! success comes within 2 s of the database accepting connections. On a
//! cluster the test creates, never the shared one.

use crate::harness::{Answer, Dir, Rivet, account, call};
use crate::servers::Cluster;
use reqwest::Method;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
/// `[database] acquire_timeout_secs` and `connect_timeout_secs` of the server.
const ACQUIRE: Duration = Duration::from_secs(1);

struct Seen {
    at: Instant,
    answer: Result<Answer, String>,
}

#[tokio::test]
async fn a_database_outage_is_503_with_retry_after_and_service_returns_within_2_s() {
    let cluster = Cluster::create();
    let url = cluster.database("rivet_outage");
    let dir = Dir::new("outage");
    let mut server = Rivet::start(
        dir.path(),
        &url,
        &[("RIVET__DATABASE__ACQUIRE_TIMEOUT_SECS", "1"), ("RIVET__DATABASE__CONNECT_TIMEOUT_SECS", "1")],
    )
    .await;
    let token = account(&server.base).await;
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let (base, token, seen, stop) = (server.base.clone(), token.clone(), seen.clone(), stop.clone());
        clients.spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let answer = if c % 2 == 0 {
                    call(&client, Method::GET, &format!("{base}/api/v1/todos?limit=5"), Some(&token), None).await
                } else {
                    let body = json!({ "title": format!("outage-{c}-{n}") });
                    call(&client, Method::POST, &format!("{base}/api/v1/todos"), Some(&token), Some(&body)).await
                };
                seen.lock().unwrap().push(Seen { at: Instant::now(), answer });
            }
        });
    }
    let client = reqwest::Client::new();
    let mut report = Vec::new();
    for mode in ["fast", "immediate"] {
        tokio::time::sleep(Duration::from_secs(1)).await;
        cluster.stop(mode);
        let down = Instant::now();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let ready = call(&client, Method::GET, &format!("{}/health/ready", server.base), None, None).await.unwrap();
        assert!(ready.is_proper_503(), "readiness while the database is down ({mode}): {ready}");
        assert!(server.is_running(), "the server exited while the database was down:\n{}", server.log());
        cluster.start();
        let up = Instant::now();
        // The first success after the database accepts connections again.
        let deadline = up + Duration::from_secs(10);
        let recovered = loop {
            let first = seen
                .lock()
                .unwrap()
                .iter()
                .find(|s| s.at > up && s.answer.as_ref().is_ok_and(|a| a.status < 300))
                .map(|s| s.at);
            if let Some(at) = first {
                break at - up;
            }
            assert!(Instant::now() < deadline, "no success within 10 s of the database's return ({mode})");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let during = seen.lock().unwrap().iter().filter(|s| s.at > down && s.at < up).count();
        report.push(format!("{mode}: {during} answers while down, first success {recovered:?} after restart"));
        assert!(recovered < Duration::from_secs(2), "first success {recovered:?} after the database returned ({mode})");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    while clients.join_next().await.is_some() {}

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let failures: Vec<String> = seen
        .iter()
        .filter_map(|s| match &s.answer {
            Err(e) => Some(format!("no answer: {e}")),
            Ok(a) if a.status >= 500 && !a.is_proper_503() => Some(a.to_string()),
            Ok(a) if a.status >= 300 && a.status < 500 && a.status != 503 => Some(a.to_string()),
            Ok(a) if a.elapsed > ACQUIRE + Duration::from_millis(500) => Some(format!("slow: {a}")),
            Ok(_) => None,
        })
        .collect();
    let unavailable = seen.iter().filter(|s| s.answer.as_ref().is_ok_and(|a| a.status == 503)).count();
    let ok = seen.iter().filter(|s| s.answer.as_ref().is_ok_and(|a| a.status < 300)).count();
    assert!(
        failures.is_empty(),
        "{} of {} answers broke the contract:\n{:#?}",
        failures.len(),
        seen.len(),
        &failures[..failures.len().min(20)]
    );
    assert!(unavailable > 0, "no 503 seen: the outage was not exercised");
    let slowest = seen.iter().filter_map(|s| s.answer.as_ref().ok()).map(|a| a.elapsed).max().unwrap_or_default();
    // How often the server met PostgreSQL's own shutdown errors (57P01 and the like).
    let log = server.log();
    let admin = log.matches("administrator command").count() + log.matches("shutting down").count();
    println!(
        "outage: {} answers, {ok} 2xx, {unavailable} 503 with Retry-After, 0 other 5xx; slowest {slowest:?}; {admin} log lines of PostgreSQL shutdown errors; {}",
        seen.len(),
        report.join("; ")
    );
}
