//! Redis lost mid-run with the Redis rate-limit backend: the API keeps
//! serving (the limiter fails open), and when Redis returns the shared
//! budget is enforced again without a restart.

use crate::harness::{Dir, Redis, Rivet, account, call, postgres_admin_url};
use reqwest::Method;
use rivet_persistence::testing::TestDatabase;
use std::time::{Duration, Instant};

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

#[tokio::test]
async fn losing_redis_keeps_the_api_serving_and_its_return_restores_the_shared_budget() {
    let db = TestDatabase::postgres(&postgres_admin_url()).await.expect("a PostgreSQL test database");
    let mut redis = Redis::start();
    let dir = Dir::new("redis");
    let budget = BUDGET.to_string();
    let redis_url = redis.url();
    let server = Rivet::start(
        dir.path(),
        db.url(),
        &[
            ("RIVET__RATE_LIMIT__ENABLED", "true"),
            ("RIVET__RATE_LIMIT__BACKEND", "redis"),
            ("RIVET__RATE_LIMIT__REDIS_URL", &redis_url),
            ("RIVET__RATE_LIMIT__API_PER_MINUTE", &budget),
            ("RIVET__EVENTS__BACKEND", "redis"),
            ("RIVET__EVENTS__REDIS_URL", &redis_url),
        ],
    )
    .await;
    let token = account(&server.base).await;
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

    redis.restart();
    let back = Instant::now();
    let mut again = None;
    while again.is_none() && back.elapsed() < Duration::from_secs(15) {
        again = requests_until_limited(&server.base, &token, 2 * BUDGET + 2).await;
    }
    let again = again.expect("the budget was not enforced again within 15 s of Redis's return");
    println!(
        "redis loss: limited after {} requests with Redis up; {served} of {served} served while it was gone; limited again after {again} requests, {:?} after its return, without a restart",
        first.unwrap_or_default(),
        back.elapsed()
    );
}
