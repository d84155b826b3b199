//! The error contract: every failure is problem+json with a stable code,
//! including the framework's own, and every response carries a request id.

use rivet_e2e::{TestApp, on_both_backends};
use serde_json::json;

fn assert_problem(r: &rivet_e2e::Reply, status: u16, code: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{r}");
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{r}");
    assert_eq!(r.body["status"], status);
    assert!(r.body["title"].is_string() && r.body["detail"].is_string() && r.body["type"].is_string(), "{r}");
    assert_eq!(
        r.body["request_id"].as_str(),
        r.header("x-request-id"),
        "the body names the request id of the response"
    );
}

async fn framework_failures_are_problems_too(app: TestApp) {
    let unknown = app.get("/api/v1/nothing-here", None).await;
    assert_problem(&unknown, 404, "not_found");
    assert_eq!(unknown.body["instance"], "/api/v1/nothing-here");

    let method = app.send(app.request(reqwest::Method::PUT, "/api/v1/auth/login", None)).await;
    assert_problem(&method, 405, "method_not_allowed");
    assert_eq!(method.header("allow"), Some("POST"));
    let several = app.send(app.request(reqwest::Method::POST, "/api/v1/users/me", None)).await;
    assert_eq!(several.header("allow"), Some("GET, PATCH, DELETE"));

    let login = |body: &'static str, ct: &'static str| {
        app.request(reqwest::Method::POST, "/api/v1/auth/login", None).header("content-type", ct).body(body)
    };
    assert_problem(&app.send(login("{\"email\": ", "application/json")).await, 400, "malformed_body");
    assert_problem(&app.send(login("", "application/json")).await, 400, "malformed_body");
    assert_problem(
        &app.send(login("{\"email\":\"a@b.co\",\"password\":\"x\"} trailing", "application/json")).await,
        400,
        "malformed_body",
    );
    assert_problem(
        &app.send(login("email=a", "application/x-www-form-urlencoded")).await,
        415,
        "unsupported_media_type",
    );
    assert_problem(
        &app.send(app.request(reqwest::Method::POST, "/api/v1/auth/login", None).body("{}")).await,
        415,
        "unsupported_media_type",
    );
}

async fn wrong_types_and_missing_fields_name_the_field(app: TestApp) {
    let typed = app.post("/api/v1/auth/login", &json!({"email": 5, "password": "x"}), None).await;
    assert_problem(&typed, 422, "validation_failed");
    assert_eq!(
        (typed.body["errors"][0]["field"].as_str(), typed.body["errors"][0]["code"].as_str()),
        (Some("email"), Some("type")),
        "{typed}"
    );
    let missing = app.post("/api/v1/auth/login", &json!({"email": "a@example.com"}), None).await;
    assert_eq!(
        (missing.body["errors"][0]["field"].as_str(), missing.body["errors"][0]["code"].as_str()),
        (Some("password"), Some("required")),
        "{missing}"
    );
    let not_object = app.post("/api/v1/auth/login", &json!([1, 2, 3]), None).await;
    assert_eq!(not_object.status, 422, "{not_object}");
}

async fn oversized_and_deeply_nested_bodies_are_refused_cleanly(app: TestApp) {
    let big = format!("{{\"email\":\"{}\",\"password\":\"x\"}}", "a".repeat(1_100_000));
    let r = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/auth/register", None)
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    assert_problem(&r, 413, "payload_too_large");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/auth/register", None)
                .header("content-type", "application/json")
                .body(deep),
        )
        .await;
    assert!((400..500).contains(&r.status), "a pathological body is a client error, not a crash: {r}");
    let odd = app
        .post(
            "/api/v1/auth/register",
            &json!({"email": "\u{0}\u{202e}@example.com", "password": "\u{1F600}".repeat(200)}),
            None,
        )
        .await;
    assert_problem(&odd, 422, "validation_failed");
    assert_eq!(app.get("/health/live", None).await.status, 200, "the server is still up");
}

async fn request_ids_are_echoed_when_well_formed_and_replaced_otherwise(app: TestApp) {
    let echoed =
        app.send(app.request(reqwest::Method::GET, "/health/live", None).header("x-request-id", "client-id-123")).await;
    assert_eq!(echoed.header("x-request-id"), Some("client-id-123"));
    let replaced = app
        .send(app.request(reqwest::Method::GET, "/health/live", None).header("x-request-id", "bad id with spaces"))
        .await;
    let id = replaced.header("x-request-id").unwrap();
    assert_ne!(id, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "a generated id is a UUID: {id}");
    let problem = app.send(app.request(reqwest::Method::GET, "/nope", None).header("x-request-id", "trace-42")).await;
    assert_eq!(problem.body["request_id"], "trace-42");
}

on_both_backends!(
    framework_failures_are_problems_too,
    wrong_types_and_missing_fields_name_the_field,
    oversized_and_deeply_nested_bodies_are_refused_cleanly,
    request_ids_are_echoed_when_well_formed_and_replaced_otherwise
);
