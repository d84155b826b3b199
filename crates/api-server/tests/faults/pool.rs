//! Pool exhaustion: a pool of 2 with a 1 s acquire timeout under 200
//! concurrent connections answers only 200 or 503 problem+json, and serves
//! fully the moment the load stops.

use crate::harness::{Dir, Rivet, account, call, percentile, postgres_admin_url};
use reqwest::Method;
use rivet_persistence::testing::TestDatabase;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 200;

#[tokio::test]
async fn an_exhausted_pool_answers_200_or_503_and_recovers_at_once() {
    let db = TestDatabase::postgres(&postgres_admin_url()).await.expect("a PostgreSQL test database");
    let dir = Dir::new("pool");
    let server = Rivet::start(
        dir.path(),
        db.url(),
        &[("RIVET__DATABASE__MAX_CONNECTIONS", "2"), ("RIVET__DATABASE__ACQUIRE_TIMEOUT_SECS", "1")],
    )
    .await;
    let token = account(&server.base).await;
    let statuses: Arc<Mutex<Vec<(u16, bool)>>> = Arc::default();
    let times: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let others: Arc<Mutex<Vec<String>>> = Arc::default();
    let until = Instant::now() + Duration::from_secs(5);
    let mut load = tokio::task::JoinSet::new();
    for c in 0..CONNECTIONS {
        let (base, token, statuses, others, times) =
            (server.base.clone(), token.clone(), statuses.clone(), others.clone(), times.clone());
        load.spawn(async move {
            // One connection per client: 200 concurrent connections.
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            while Instant::now() < until {
                // Reads through the pool: the todo list and the product catalogue.
                let path = if c % 2 == 0 { "/api/v1/todos?limit=20" } else { "/api/v1/products?limit=20" };
                match call(&client, Method::GET, &format!("{base}{path}"), Some(&token), None).await {
                    Ok(a) if a.status == 200 => {
                        times.lock().unwrap().push(a.elapsed);
                        statuses.lock().unwrap().push((200, true));
                    }
                    Ok(a) if a.status == 503 => statuses.lock().unwrap().push((503, a.is_proper_503())),
                    Ok(a) => others.lock().unwrap().push(a.to_string()),
                    Err(e) => others.lock().unwrap().push(format!("no answer: {e}")),
                }
            }
        });
    }
    while load.join_next().await.is_some() {}
    let others = std::mem::take(&mut *others.lock().unwrap());
    assert!(
        others.is_empty(),
        "{} answers other than 200 or 503: {:#?}",
        others.len(),
        &others[..others.len().min(10)]
    );
    let statuses = std::mem::take(&mut *statuses.lock().unwrap());
    let bad_503 = statuses.iter().filter(|(s, proper)| *s == 503 && !proper).count();
    assert_eq!(bad_503, 0, "503s without problem+json or Retry-After");
    let ok = statuses.iter().filter(|(s, _)| *s == 200).count();
    let refused = statuses.len() - ok;
    assert!(ok > 0, "nothing was served under load");

    let mut under_load = std::mem::take(&mut *times.lock().unwrap());
    under_load.sort();
    let (load_p50, load_p99) = (percentile(&under_load, 50.0), percentile(&under_load, 99.0));

    // The moment the load stops: every request served, quickly.
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..50 {
        let a = call(&client, Method::GET, &format!("{}/api/v1/todos?limit=20", server.base), Some(&token), None)
            .await
            .unwrap();
        assert_eq!(a.status, 200, "after the load: {a}");
        times.push(a.elapsed);
    }
    times.sort();
    let p99 = percentile(&times, 99.0);
    assert!(p99 < Duration::from_millis(100), "after the load, p99 {p99:?}");
    println!(
        "pool exhaustion: {CONNECTIONS} connections for 5 s on a pool of 2: {ok} 200 (p50 {load_p50:?}, p99 {load_p99:?}), {refused} 503 problem+json, 0 other; afterwards 50 of 50 served, p99 {p99:?}"
    );
}
