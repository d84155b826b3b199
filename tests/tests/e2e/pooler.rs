//! Behind a transaction-mode pooler (PgBouncer, `default_pool_size = 4`,
//! `[database] pooler = "transaction"`): every flow of the suite runs
//! through it as `name::pgbouncer` (see `on_both_backends!`); here, ten
//! seconds of concurrent reads and writes answer no 5xx and lose no
//! acknowledged write, and a second instance starts on the same database.

use reqwest::Method;
use rivet_domain::Role;
use rivet_e2e::{Backend, TestApp};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PRIORITIES: [&str; 3] = ["low", "medium", "high"];

/// Concurrent clients of the load.
const CLIENTS: usize = 16;

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    created: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_seconds_of_reads_and_writes_through_pgbouncer_answer_no_5xx_and_lose_no_write() {
    let app = Arc::new(TestApp::spawn_with(Backend::PgBouncer, |s| s.server.workers = 2).await);
    let (_, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let token: Arc<str> = ada.access.into();
    let mut seed = Vec::new();
    for i in 0..20 {
        let r = app.post("/api/v1/todos", &json!({"title": format!("seed {i}"), "tags": ["load"]}), Some(&token)).await;
        assert_eq!(r.status, 201, "{r:?}");
        seed.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let seed: Arc<[String]> = seed.into();
    let tally = Arc::new(Tally::default());
    let until = Instant::now() + Duration::from_secs(10);
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (app, token, seed, tally) = (app.clone(), token.clone(), seed.clone(), tally.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < until {
                n += 1;
                let id = &seed[(c + n) % seed.len()];
                let request = match n % 5 {
                    0 => app
                        .request(Method::POST, "/api/v1/todos", Some(&token))
                        .json(&json!({"title": format!("load {c}-{n}"), "tags": ["load", "new"]})),
                    1 => app
                        .request(Method::PATCH, &format!("/api/v1/todos/{id}"), Some(&token))
                        .json(&json!({"priority": PRIORITIES[n % 3]})),
                    2 => app.request(Method::GET, "/api/v1/todos?limit=20&tag=load", Some(&token)),
                    _ => app.request(Method::GET, &format!("/api/v1/todos/{id}"), Some(&token)),
                };
                let reply = app.send(request).await;
                let counter = match reply.status {
                    200..=299 => &tally.ok,
                    500..=599 => {
                        eprintln!("{} {}", reply.status, reply.text);
                        &tally.server_errors
                    }
                    _ => &tally.client_errors,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if reply.status == 201 {
                    tally.created.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for client in clients {
        client.await.expect("a load client ran to the end");
    }
    let (ok, bad, failed) = (
        tally.ok.load(Ordering::Relaxed),
        tally.client_errors.load(Ordering::Relaxed),
        tally.server_errors.load(Ordering::Relaxed),
    );
    println!("through PgBouncer in 10 s: {ok} 2xx, {bad} 4xx, {failed} 5xx");
    assert_eq!(failed, 0, "no 5xx through the pooler");
    assert_eq!(bad, 0, "no 4xx either: every request of the load is valid");
    assert!(ok > 1000, "the load ran: {ok} requests");
    // Every acknowledged create is there: the count the API reports.
    let created = tally.created.load(Ordering::Relaxed);
    let page = app.get("/api/v1/todos?limit=1&include_total=true", Some(&token)).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.body["total"], json!(created + 20), "{page:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_starts_through_pgbouncer_and_shares_the_database() {
    let first = TestApp::spawn(Backend::PgBouncer).await;
    // The first migrated on `direct_url`; the second has none, so its
    // migration check (and lock) go through the pooler, one-shot.
    let mut settings = first.settings.clone();
    settings.database.direct_url.clear();
    let second = TestApp::start(settings, Backend::PgBouncer).await;
    let (_, ada) = first.signed_in_as("ada@example.com", Role::User).await;
    let todo = first.post("/api/v1/todos", &json!({"title": "shared"}), Some(&ada.access)).await;
    assert_eq!(todo.status, 201);
    let seen = second.get(&format!("/api/v1/todos/{}", todo.body["id"].as_str().unwrap()), Some(&ada.access)).await;
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.body["title"], "shared");
}
