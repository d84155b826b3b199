//! Health, readiness and the headers every response carries.

use rivet_e2e::{Backend, TestApp, on_both_backends};

async fn liveness_and_readiness_answer_ok(app: TestApp) {
    let live = app.get("/health/live", None).await;
    assert_eq!((live.status, live.body["status"].as_str()), (200, Some("ok")), "{live}");
    let ready = app.get("/health/ready", None).await;
    assert_eq!((ready.status, ready.body["checks"]["database"].as_str()), (200, Some("ok")), "{ready}");
}

async fn every_response_carries_the_security_headers(app: TestApp) {
    for r in
        [app.get("/health/live", None).await, app.get("/missing", None).await, app.get("/api/v1/users/me", None).await]
    {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{r}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert!(r.header("content-security-policy").is_some_and(|c| c.contains("default-src 'none'")));
        assert!(r.header("x-request-id").is_some());
    }
    let authed = app.get("/api/v1/users/me", None).await;
    assert_eq!(authed.header("cache-control"), Some("private, no-cache"));
}

on_both_backends!(liveness_and_readiness_answer_ok, every_response_carries_the_security_headers);

/// With the database unreachable the server still answers: readiness names
/// the database, and requests that need it get 503 with `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_a_503_with_retry_after_not_a_crash() {
    let mut settings = rivet_e2e::test_settings("postgres://postgres@127.0.0.1:1/rivet");
    settings.database.run_migrations = false;
    settings.database.connect_timeout_secs = 1;
    settings.database.acquire_timeout_secs = 1;
    let app = TestApp::start(settings, Backend::Postgres).await;
    let ready = app.get("/health/ready", None).await;
    assert_eq!((ready.status, ready.code()), (503, "service_unavailable"), "{ready}");
    assert_eq!(ready.body["checks"]["database"], "unavailable");
    let register = app
        .post(
            "/api/v1/auth/register",
            &serde_json::json!({"email": "a@example.com", "password": rivet_e2e::PASSWORD}),
            None,
        )
        .await;
    assert_eq!((register.status, register.code()), (503, "service_unavailable"), "{register}");
    assert_eq!(register.header("retry-after"), Some("5"));
    assert!(
        !register.text.contains("127.0.0.1:1") && !register.text.to_lowercase().contains("connection"),
        "no internals in the body: {register}"
    );
    assert_eq!(app.get("/health/live", None).await.status, 200);
}
