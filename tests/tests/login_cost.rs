//! Login at production bcrypt cost (12): the time of a login does not tell
//! whether the email exists, and a storm of logins does not slow the rest of
//! the API, because hashing runs on a bounded blocking pool, never on the
//! request workers. The figures are printed for the record.
//!
//! One test function runs both measurements in sequence, and this file holds
//! nothing else, so no other test competes for the CPU while they run.

use futures_util::future::join_all;
use rivet_e2e::{Backend, PASSWORD, TestApp};
use serde_json::json;
use std::time::{Duration, Instant};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn percentile(mut xs: Vec<Duration>, p: f64) -> Duration {
    xs.sort();
    let i = ((xs.len() as f64 * p).ceil() as usize).saturating_sub(1).min(xs.len() - 1);
    xs[i]
}

async fn timed_login(app: &TestApp, email: &str, password: &str) -> Duration {
    let started = Instant::now();
    let r = app.post("/api/v1/auth/login", &json!({ "email": email, "password": password }), None).await;
    let took = started.elapsed();
    assert!(matches!(r.status, 200 | 401), "{r}");
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_time_hides_unknown_emails_and_a_login_storm_leaves_reads_fast() {
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        s.auth.bcrypt_cost = 12;
        s.server.workers = 2;
    })
    .await;
    app.register("ada@example.com", PASSWORD).await;

    // Timing: alternate unknown and known (wrong password) emails.
    let (mut unknown, mut known) = (Vec::new(), Vec::new());
    timed_login(&app, "warm@example.com", "wrong password!").await;
    for _ in 0..9 {
        unknown.push(timed_login(&app, "nobody@example.com", "wrong password!").await);
        known.push(timed_login(&app, "ada@example.com", "wrong password!").await);
    }
    let (u, k) = (median(unknown), median(known));
    let gap = (u.as_secs_f64() - k.as_secs_f64()).abs() / u.max(k).as_secs_f64();
    println!("login timing at cost 12: unknown email median {u:?}, known email median {k:?}, gap {:.1}%", gap * 100.0);
    assert!(gap < 0.35, "login time reveals whether an email exists: unknown {u:?} vs known {k:?}");

    // Storm: 16 concurrent logins while product reads keep going.
    let storm = tokio::spawn({
        let base = app.base.clone();
        async move {
            let client = reqwest::Client::new();
            let logins = (0..16).map(|_| {
                client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
                    .send()
            });
            let started = Instant::now();
            let replies = join_all(logins).await;
            assert!(replies.iter().all(|r| r.as_ref().is_ok_and(|r| r.status() == 200)), "every login succeeds");
            started.elapsed()
        }
    });
    let mut reads = Vec::new();
    while !storm.is_finished() {
        let started = Instant::now();
        let r = app.get("/api/v1/products", None).await;
        reads.push(started.elapsed());
        assert_eq!(r.status, 200);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let storm_took = storm.await.unwrap();
    let p95 = percentile(reads.clone(), 0.95);
    println!(
        "login storm: 16 logins at cost 12 took {storm_took:?}; \
         {} product reads meanwhile, p50 {:?}, p95 {p95:?}, max {:?}",
        reads.len(),
        percentile(reads.clone(), 0.5),
        percentile(reads.clone(), 1.0)
    );
    assert!(reads.len() >= 10, "reads ran during the storm");
    assert!(p95 < Duration::from_millis(100), "product reads slowed to p95 {p95:?} during the login storm");
}
