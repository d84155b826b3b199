//! API keys through the real server, on both databases.

use rivet_domain::Role;
use rivet_e2e::{Reply, TestApp, on_both_backends};
use serde_json::{Value, json};

async fn with_key(app: &TestApp, method: reqwest::Method, path: &str, key: &str, body: Option<&Value>) -> Reply {
    let mut rb = app.request(method, path, None).header("x-api-key", key);
    if let Some(b) = body {
        rb = rb.json(b);
    }
    app.send(rb).await
}

async fn new_key(app: &TestApp, token: &str, scopes: &[&str]) -> (String, String) {
    let r = app.post("/api/v1/api-keys", &json!({"name": "script", "scopes": scopes}), Some(token)).await;
    assert_eq!(r.status, 201, "{r}");
    (r.body["key"].as_str().unwrap().to_owned(), r.body["id"].as_str().unwrap().to_owned())
}

async fn a_key_works_within_its_scopes_only(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let r = app
        .post(
            "/api/v1/api-keys",
            &json!({"name": "exporter", "scopes": ["todos:read"], "expires_in_days": 30}),
            Some(&t.access),
        )
        .await;
    assert_eq!((r.status, r.header("cache-control")), (201, Some("no-store")), "{r}");
    let key = r.body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("rvt_") && key.len() >= 47, "{key}");
    assert!(key.starts_with(r.body["prefix"].as_str().unwrap()));
    assert!(r.body["expires_at"].is_string());
    app.post("/api/v1/todos", &json!({"title": "visible to the key"}), Some(&t.access)).await;
    let read = with_key(&app, reqwest::Method::GET, "/api/v1/todos", &key, None).await;
    assert_eq!((read.status, read.body["items"][0]["title"].as_str()), (200, Some("visible to the key")), "{read}");
    let write = with_key(&app, reqwest::Method::POST, "/api/v1/todos", &key, Some(&json!({"title": "x"}))).await;
    assert_eq!((write.status, write.code()), (403, "insufficient_scope"), "{write}");
    let profile = with_key(&app, reqwest::Method::GET, "/api/v1/users/me", &key, None).await;
    assert_eq!(profile.code(), "insufficient_scope");
    let listed = app.get("/api/v1/api-keys", Some(&t.access)).await;
    assert_eq!(listed.body[0]["scopes"], json!(["todos:read"]));
    assert!(listed.body[0]["last_used_at"].is_string(), "a use is recorded: {listed}");
    assert!(!listed.text.contains(&key[8..]), "the secret is never listed again");
}

async fn a_key_never_exceeds_its_owners_permissions(app: TestApp) {
    let (_, user) = app.signed_in_user("user@example.com").await;
    let r = app
        .post(
            "/api/v1/api-keys",
            &json!({"name": "x", "scopes": ["todos:read", "products:write", "users:read", "nonsense"]}),
            Some(&user.access),
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    let codes: Vec<(&str, &str)> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(codes, [("scopes[1]", "not_permitted"), ("scopes[2]", "not_permitted"), ("scopes[3]", "one_of")]);
    let (_, admin) = app.signed_in_as("admin@example.com", Role::Admin).await;
    let (reader, _) = new_key(&app, &admin.access, &["users:read"]).await;
    assert_eq!(with_key(&app, reqwest::Method::GET, "/api/v1/users", &reader, None).await.status, 200);
    let (todo_only, _) = new_key(&app, &admin.access, &["todos:read"]).await;
    assert_eq!(
        with_key(&app, reqwest::Method::GET, "/api/v1/users", &todo_only, None).await.code(),
        "insufficient_scope",
        "an admin's key is bounded by its scopes"
    );
    let demoted = app.get("/api/v1/users?q=admin", Some(&admin.access)).await;
    assert_eq!(demoted.status, 200);
}

async fn keys_cannot_manage_keys_change_passwords_or_end_sessions(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let (key, _) = new_key(&app, &t.access, &["todos:read", "todos:write", "profile:read"]).await;
    for (method, path) in rivet_http::openapi::SESSION_ONLY {
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        // A valid body each, so only the credential decides.
        let body = match path {
            "/api/v1/api-keys" => json!({"name": "more", "scopes": ["todos:read"]}),
            "/api/v1/users/me/password" => {
                json!({"current_password": rivet_e2e::PASSWORD, "new_password": "another long passphrase"})
            }
            "/api/v1/users/me" => json!({"full_name": "Changed"}),
            _ => json!({}),
        };
        let path = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let r = with_key(&app, m, &path, &key, Some(&body)).await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{method} {path} with an API key: {r}");
    }
    assert_eq!(app.get("/api/v1/users/me", Some(&t.access)).await.status, 200, "nothing happened to the account");
}

async fn a_revoked_key_or_a_disabled_owner_stops_at_once(app: TestApp) {
    let (user_id, t) = app.signed_in_as("ada@example.com", Role::User).await;
    let (key, id) = new_key(&app, &t.access, &["profile:read"]).await;
    assert_eq!(with_key(&app, reqwest::Method::GET, "/api/v1/users/me", &key, None).await.status, 200);
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), Some(&t.access)).await.status, 204);
    let after = with_key(&app, reqwest::Method::GET, "/api/v1/users/me", &key, None).await;
    assert_eq!((after.status, after.code()), (401, "invalid_token"), "revocation is immediate: {after}");
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), Some(&t.access)).await.status, 404);
    let (other, _) = new_key(&app, &t.access, &["profile:read"]).await;
    let (_, admin) = app.signed_in_as("admin@example.com", Role::Admin).await;
    app.patch(&format!("/api/v1/users/{user_id}"), &json!({"is_active": false}), Some(&admin.access)).await;
    assert_eq!(with_key(&app, reqwest::Method::GET, "/api/v1/users/me", &other, None).await.code(), "account_disabled");
    assert_eq!(with_key(&app, reqwest::Method::GET, "/api/v1/users/me", "rvt_made-up", None).await.status, 401);
    assert_eq!(with_key(&app, reqwest::Method::GET, "/api/v1/users/me", "not-a-key", None).await.status, 401);
    let (_, eve) = app.signed_in_user("eve@example.com").await;
    let (_, eves_id) = new_key(&app, &eve.access, &["todos:read"]).await;
    assert_eq!(
        app.delete(&format!("/api/v1/api-keys/{eves_id}"), Some(&admin.access)).await.status,
        404,
        "only your own keys"
    );
}

on_both_backends!(
    a_key_works_within_its_scopes_only,
    a_key_never_exceeds_its_owners_permissions,
    keys_cannot_manage_keys_change_passwords_or_end_sessions,
    a_revoked_key_or_a_disabled_owner_stops_at_once
);
