//! Redis lost mid-run with the Redis rate-limit and event fan-out
//! backends: the API keeps serving (the limiter fails open), an event raised
//! on one instance still reaches a subscriber on the other (from the log,
//! at the next poll), and when Redis returns the shared budget is enforced
//! again and events fan out at once again, without a restart.

use crate::harness::{Dir, Rivet, account, call, postgres_admin_url};
use crate::servers::Redis;
use reqwest::Method;
use rivet_persistence::testing::TestDatabase;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BUDGET: u32 = 20;

/// Requests until the first 429 (at most `max`); None if none came.
async fn requests_until_limited(base: &str, token: &str, max: u32) -> Option<u32> {
    let client = reqwest::Client::new();
    for n in 1..=max {
        let a = call(&client, Method::GET, &format!("{base}/api/v1/users/me"), Some(token), None).await.unwrap();
        match a.status {
            200 => {}
            429 => {
                assert!(a.is_problem() && a.retry_after.is_some(), "a 429 without problem+json or Retry-After: {a}");
                return Some(n);
            }
            _ => panic!("request {n}: {a}"),
        }
    }
    None
}

/// An SSE stream of `/api/v1/events`, read raw.
struct Stream {
    conn: tokio::net::TcpStream,
    seen: String,
}

impl Stream {
    async fn open(port: u16, token: &str) -> Self {
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let request = format!(
            "GET /api/v1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\naccept: text/event-stream\r\n\r\n"
        );
        conn.write_all(request.as_bytes()).await.unwrap();
        Self { conn, seen: String::new() }
    }

    /// Waits up to `within` for `needle` in the stream; how long it took.
    async fn wait_for(&mut self, needle: &str, within: Duration) -> Option<Duration> {
        let started = Instant::now();
        let mut buf = [0u8; 4096];
        while !self.seen.contains(needle) {
            let left = within.checked_sub(started.elapsed())?;
            match tokio::time::timeout(left, self.conn.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Ok(_) => panic!("the event stream closed: {}", self.seen),
                Err(_) => return None,
            }
        }
        Some(started.elapsed())
    }
}

async fn create_todo(base: &str, token: &str, title: &str) -> String {
    let client = reqwest::Client::new();
    let body = serde_json::json!({ "title": title });
    let a = call(&client, Method::POST, &format!("{base}/api/v1/todos"), Some(token), Some(&body)).await.unwrap();
    assert_eq!(a.status, 201, "{a}");
    a.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn losing_redis_keeps_the_api_serving_and_its_return_restores_the_shared_budget() {
    let db = TestDatabase::postgres(&postgres_admin_url()).await.expect("a PostgreSQL test database");
    let mut redis = Redis::start();
    let dir = Dir::new("redis");
    let budget = BUDGET.to_string();
    let redis_url = redis.url();
    let env = [
        ("RIVET__RATE_LIMIT__ENABLED", "true"),
        ("RIVET__RATE_LIMIT__BACKEND", "redis"),
        ("RIVET__RATE_LIMIT__REDIS_URL", &redis_url),
        ("RIVET__RATE_LIMIT__API_PER_MINUTE", &budget),
        ("RIVET__EVENTS__BACKEND", "redis"),
        ("RIVET__EVENTS__REDIS_URL", &redis_url),
        // A slow poll, so that a delivery within it shows the fan-out at work.
        ("RIVET__EVENTS__POLL_INTERVAL_MS", "8000"),
    ];
    let server = Rivet::start(dir.path(), db.url(), &env).await;
    let other = Rivet::start(dir.path(), db.url(), &env).await;
    let token = account(&server.base).await;
    // Events: a subscriber on the other instance, the writer on this one.
    let subscriber = account(&server.base).await;
    let mut stream = Stream::open(other.port, &subscriber).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let up = create_todo(&server.base, &subscriber, "event with Redis up").await;
    let fanned = stream.wait_for(&up, Duration::from_secs(3)).await.expect("an event fanned out through Redis");
    // A budget window may roll over mid-count: allow two windows' worth.
    let first = requests_until_limited(&server.base, &token, 2 * BUDGET + 2).await;
    assert!(first.is_some(), "the budget of {BUDGET} was never enforced with Redis up");

    redis.kill();
    let client = reqwest::Client::new();
    let mut served = 0;
    for n in 0..(3 * BUDGET) {
        let a =
            call(&client, Method::GET, &format!("{}/api/v1/users/me", server.base), Some(&token), None).await.unwrap();
        assert_eq!(a.status, 200, "request {n} with Redis gone: {a}");
        served += 1;
    }
    let ready = call(&client, Method::GET, &format!("{}/health/ready", server.base), None, None).await.unwrap();
    assert_eq!(ready.status, 200, "readiness fails open with the limiter: {ready}");
    let down = create_todo(&server.base, &subscriber, "event with Redis gone").await;
    let polled = stream
        .wait_for(&down, Duration::from_secs(12))
        .await
        .expect("an event raised while Redis was gone, delivered from the log");

    redis.restart();
    let back = Instant::now();
    let mut again = None;
    while again.is_none() && back.elapsed() < Duration::from_secs(15) {
        again = requests_until_limited(&server.base, &token, 2 * BUDGET + 2).await;
    }
    let again = again.expect("the budget was not enforced again within 15 s of Redis's return");
    let back_event = create_todo(&server.base, &subscriber, "event with Redis back").await;
    let refanned = stream
        .wait_for(&back_event, Duration::from_secs(3))
        .await
        .expect("events fan out through Redis again after its return");
    let (at_down, at_back) = (stream.seen.find(&down).unwrap(), stream.seen.find(&back_event).unwrap());
    assert!(at_down < at_back, "events out of order");
    // Once resubscribed, deliveries are immediate again, far inside the 8 s poll.
    let mut after = Vec::new();
    for n in 0..3 {
        let id = create_todo(&server.base, &subscriber, &format!("event {n} after the return")).await;
        after.push(
            stream
                .wait_for(&id, Duration::from_millis(1000))
                .await
                .expect("an event fanned out at once after Redis's return"),
        );
    }
    println!(
        "redis loss: limited after {} requests with Redis up; {served} of {served} served while it was gone; limited again after {again} requests, {:?} after its return, without a restart; an event across instances in {fanned:?} (Redis up), {polled:?} (Redis gone: the 8 s poll), {refanned:?} (Redis back, resubscribing), then {after:?}",
        first.unwrap_or_default(),
        back.elapsed()
    );
}
