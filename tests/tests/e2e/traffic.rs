//! Traffic protection end to end: rate limits (memory and Redis), CORS,
//! security headers, compression, the request timeout and `/metrics`.

use rivet_api_server::settings::RateLimitBackend;
use rivet_e2e::{Backend, PASSWORD, TestApp, on_both_backends};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Budgets are per one-minute window aligned to the clock; a test that
/// counts requests starts early in a window so it does not straddle two.
async fn fresh_window() {
    let into = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() % 60;
    if into > 45 {
        tokio::time::sleep(Duration::from_secs(61 - into)).await;
    }
}

fn redis_url() -> String {
    std::env::var("RIVET_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// An address no other test uses, for `X-Forwarded-For`.
fn unique_ip() -> String {
    let n = uuid::Uuid::now_v7().as_u128();
    format!("10.{}.{}.{}", (n >> 16) as u8, (n >> 8) as u8, n as u8)
}

async fn login_from(app: &TestApp, ip: &str, email: &str) -> rivet_e2e::Reply {
    let body = json!({ "email": email, "password": "wrong password here" });
    app.send(app.request(reqwest::Method::POST, "/api/v1/auth/login", None).header("x-forwarded-for", ip).json(&body))
        .await
}

async fn products_from(app: &TestApp, ip: &str) -> rivet_e2e::Reply {
    app.send(app.request(reqwest::Method::GET, "/api/v1/products", None).header("x-forwarded-for", ip)).await
}

async fn security_headers_come_with_every_answer(app: TestApp) {
    for r in
        [app.get("/api/v1/products", None).await, app.get("/nowhere", None).await, app.get("/health/live", None).await]
    {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{r}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("content-security-policy"), Some("default-src 'none'; frame-ancestors 'none'"));
        assert_eq!(r.header("strict-transport-security"), None, "no HSTS unless configured");
    }
}

async fn metrics_count_requests_by_route_template_and_report_pool_and_queue(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let todo = app.post("/api/v1/todos", &json!({"title": "t"}), Some(&t.access)).await;
    let id = todo.body["id"].as_str().unwrap();
    app.get(&format!("/api/v1/todos/{id}"), Some(&t.access)).await;
    app.get("/api/v1/todos/00000000-0000-0000-0000-000000000000", Some(&t.access)).await;
    let m = app.get("/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"), "{:?}", m.headers);
    let text = &m.text;
    for needle in [
        "rivet_http_requests_total{method=\"GET\",route=\"/api/v1/todos/{id}\",status=\"200\"} 1",
        "rivet_http_requests_total{method=\"GET\",route=\"/api/v1/todos/{id}\",status=\"404\"} 1",
        concat!(
            "rivet_http_request_duration_seconds_bucket",
            "{method=\"POST\",route=\"/api/v1/todos\",status=\"201\",le=\"+Inf\"} 1"
        ),
        "rivet_db_pool_connections{state=\"in_use\"}",
        // A number, not necessarily 0: the job worker and the event hub use
        // the pool too, and a connection may be opening at the scrape.
        "rivet_db_pool_waiting ",
        "rivet_jobs{state=\"dead\"} 0",
        "rivet_rate_limit_rejections_total 0",
    ] {
        assert!(text.contains(needle), "metrics lack {needle:?}:\n{text}");
    }
    assert!(!text.contains(id), "raw paths never become labels");
}

on_both_backends!(
    security_headers_come_with_every_answer,
    metrics_count_requests_by_route_template_and_report_pool_and_queue
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_endpoints_allow_a_budget_per_ip_then_answer_429_with_retry_after() {
    fresh_window().await;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.rate_limit.credential_per_minute = 3).await;
    for remaining in [2, 1, 0] {
        let r = app
            .post("/api/v1/auth/login", &json!({"email": "ada@example.com", "password": "nope nope nope"}), None)
            .await;
        assert_eq!(r.status, 401, "{r}");
        assert_eq!(
            (r.header("ratelimit-limit"), r.header("ratelimit-remaining")),
            (Some("3"), Some(remaining.to_string().as_str()))
        );
    }
    let refused =
        app.post("/api/v1/auth/register", &json!({"email": "bob@example.com", "password": PASSWORD}), None).await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{refused}");
    assert_eq!(refused.header("content-type"), Some("application/problem+json"));
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After within the window: {retry}");
    assert_eq!(refused.header("ratelimit-remaining"), Some("0"));
    assert_eq!(app.get("/api/v1/products", None).await.status, 200, "other endpoints keep their own budget");
    let m = app.get("/metrics", None).await;
    assert!(m.text.contains("rivet_rate_limit_rejections_total 1"), "{}", m.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_email_has_a_budget_across_client_addresses() {
    fresh_window().await;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.rate_limit.credential_per_minute = 3;
        s.rate_limit.trust_forwarded_for = true;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(login_from(&app, &unique_ip(), "Ada@Example.com").await.status, 401);
    }
    let refused = login_from(&app, &unique_ip(), "ada@example.com").await;
    assert_eq!(
        (refused.status, refused.code()),
        (429, "rate_limited"),
        "the email's budget is spent, whatever the address: {refused}"
    );
    assert!(refused.header("retry-after").is_some());
    assert_eq!(login_from(&app, &unique_ip(), "bob@example.com").await.status, 401, "another email is not limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_budgets_are_per_principal_and_per_ip_for_anonymous_callers() {
    fresh_window().await;
    let app = TestApp::spawn_with(Backend::Postgres, |s| s.rate_limit.api_per_minute = 5).await;
    let (_, t) = app.signed_in_user("ada@example.com").await;
    for remaining in (0..5).rev() {
        let r = app.get("/api/v1/products", None).await;
        assert_eq!((r.status, r.header("ratelimit-remaining")), (200, Some(remaining.to_string().as_str())), "{r}");
    }
    let refused = app.get("/api/v1/products", None).await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{refused}");
    let user = app.get("/api/v1/products", Some(&t.access)).await;
    assert_eq!(
        (user.status, user.header("ratelimit-remaining")),
        (200, Some("4")),
        "a signed-in user spends their own budget: {user}"
    );
    assert_eq!(app.get("/health/live", None).await.status, 200, "health checks are not limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_with_redis_share_one_budget() {
    fresh_window().await;
    let first = TestApp::spawn_with(Backend::Postgres, |s| {
        s.rate_limit.backend = RateLimitBackend::Redis;
        s.rate_limit.redis_url = serde_json::from_value(json!(redis_url())).unwrap();
        s.rate_limit.api_per_minute = 4;
        s.rate_limit.trust_forwarded_for = true;
        s.rate_limit.fail_open = false;
    })
    .await;
    let second = TestApp::start(first.settings.clone(), Backend::Postgres).await;
    let ip = unique_ip();
    assert_eq!(products_from(&first, &ip).await.header("ratelimit-remaining"), Some("3"));
    assert_eq!(
        products_from(&second, &ip).await.header("ratelimit-remaining"),
        Some("2"),
        "the second instance sees the first's count"
    );
    assert_eq!(products_from(&first, &ip).await.status, 200);
    assert_eq!(products_from(&second, &ip).await.status, 200);
    let refused = products_from(&first, &ip).await;
    assert_eq!(
        (refused.status, refused.code()),
        (429, "rate_limited"),
        "four requests over two instances spent the budget: {refused}"
    );
    let ready = first.get("/health/ready", None).await;
    assert_eq!((ready.status, &ready.body["checks"]["redis"]), (200, &json!("ok")), "{ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_the_api_keeps_serving_and_counts_the_failures() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.rate_limit.backend = RateLimitBackend::Redis;
        s.rate_limit.redis_url = serde_json::from_value(json!("redis://127.0.0.1:1")).unwrap();
    })
    .await;
    let r = app.get("/api/v1/products", None).await;
    assert_eq!(r.status, 200, "fail open: {r}");
    assert_eq!(r.header("ratelimit-limit"), None, "no budget could be counted");
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status, 200, "the instance still serves, so it stays ready: {ready}");
    assert_eq!(ready.body["checks"]["redis"], "unavailable (rate limiting fails open)");
    let m = app.get("/metrics", None).await;
    let errors = m.text.lines().find_map(|l| l.strip_prefix("rivet_rate_limit_store_errors_total ")).unwrap();
    assert!(errors.parse::<u64>().unwrap() >= 1, "{}", m.text);

    let closed = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.rate_limit.backend = RateLimitBackend::Redis;
        s.rate_limit.redis_url = serde_json::from_value(json!("redis://127.0.0.1:1")).unwrap();
        s.rate_limit.fail_open = false;
    })
    .await;
    let r = closed.get("/api/v1/products", None).await;
    assert_eq!((r.status, r.code()), (503, "service_unavailable"), "fail closed: {r}");
    assert_eq!(closed.get("/health/ready", None).await.status, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_preflights_for_listed_origins_only() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, |s| s.cors.allowed_origins = vec!["https://app.example.com".into()]).await;
    let preflight = |origin: &'static str| {
        app.request(reqwest::Method::OPTIONS, "/api/v1/todos", None)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
    };
    let ok = app.send(preflight("https://app.example.com")).await;
    assert_eq!(ok.status, 200, "{ok}");
    assert_eq!(ok.header("access-control-allow-origin"), Some("https://app.example.com"));
    assert!(ok.header("access-control-allow-methods").unwrap().contains("POST"));
    let refused = app.send(preflight("https://evil.example.com")).await;
    assert_ne!(refused.header("access-control-allow-origin"), Some("https://evil.example.com"), "{refused}");
    assert!(refused.status >= 400, "a foreign origin's preflight is refused: {refused}");
    let simple = app
        .send(app.request(reqwest::Method::GET, "/api/v1/products", None).header("origin", "https://app.example.com"))
        .await;
    assert_eq!(simple.header("access-control-allow-origin"), Some("https://app.example.com"));
    assert!(simple.header("access-control-expose-headers").unwrap().to_lowercase().contains("ratelimit-remaining"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_when_configured() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.server.hsts = true).await;
    let r = app.get("/health/live", None).await;
    assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_responses_are_gzipped_small_ones_are_not() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let gz = |path: &str| app.request(reqwest::Method::GET, path, None).header("accept-encoding", "gzip");
    let big = gz("/api/v1/openapi.json").send().await.unwrap();
    assert_eq!(big.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"), "{:?}", big.headers());
    let bytes = big.bytes().await.unwrap();
    assert_eq!(bytes[..2], [0x1f, 0x8b], "a gzip stream");
    let small = app.send(gz("/health/live")).await;
    assert_eq!(small.header("content-encoding"), None, "under 1 KiB stays plain");
    let plain = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(plain.header("content-encoding"), None, "no compression unless asked for");
    assert!(
        bytes.len() * 3 < plain.text.len(),
        "gzip shrinks the document: {} vs {} bytes",
        bytes.len(),
        plain.text.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_the_timeout_is_answered_503() {
    // bcrypt at cost 17 takes several seconds: a real slow request.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.server.request_timeout_secs = 1;
        s.auth.bcrypt_cost = 17;
    })
    .await;
    let started = std::time::Instant::now();
    let r = app.post("/api/v1/auth/register", &json!({"email": "ada@example.com", "password": PASSWORD}), None).await;
    assert_eq!((r.status, r.code()), (503, "timeout"), "{r}");
    assert!(r.header("retry-after").is_some());
    assert!(started.elapsed() < Duration::from_secs(3), "answered at the timeout, not when the work ended");
    assert_eq!(app.get("/health/live", None).await.status, 200, "the server carries on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_rate_limiting_off_there_are_no_budget_headers_and_tokens_still_work() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.rate_limit.enabled = false).await;
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let me = app.get("/api/v1/users/me", Some(&t.access)).await;
    assert_eq!((me.status, me.header("ratelimit-limit")), (200, None), "{me}");
    let forged = format!("{}x", t.access);
    assert_eq!(app.get("/api/v1/users/me", Some(&forged)).await.code(), "invalid_token");
}
