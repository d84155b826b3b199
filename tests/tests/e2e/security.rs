//! Security properties that span resources: object-level authorization of
//! API keys, unknown fields refused by every body, no secrets in answers.

use rivet_e2e::{PASSWORD, TestApp, on_both_backends};
use serde_json::{Value, json};

async fn another_users_api_key_can_be_neither_seen_nor_revoked(app: TestApp) {
    let (_, ada) = app.signed_in_user("ada@example.com").await;
    let (_, eve) = app.signed_in_user("eve@example.com").await;
    let key =
        app.post("/api/v1/api-keys", &json!({"name": "ada's", "scopes": ["todos:read"]}), Some(&ada.access)).await;
    let path = format!("/api/v1/api-keys/{}", key.body["id"].as_str().unwrap());
    let revoke = app.delete(&path, Some(&eve.access)).await;
    assert_eq!((revoke.status, revoke.code()), (404, "not_found"), "{revoke}");
    assert_eq!(app.get("/api/v1/api-keys", Some(&eve.access)).await.body, json!([]));
    let still = app.get("/api/v1/api-keys", Some(&ada.access)).await;
    assert_eq!(still.body.as_array().map(Vec::len), Some(1), "ada's key survives: {still}");
}

async fn every_json_body_refuses_fields_it_does_not_know(app: TestApp) {
    let (admin_id, admin) = app.signed_in_as("admin@example.com", rivet_domain::Role::Admin).await;
    let doc = app.get("/api/v1/openapi.json", None).await.body;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["requestBody"]["content"]["application/json"].is_null() {
                continue;
            }
            let concrete = path.replace(
                "{id}",
                if path.starts_with("/api/v1/users/") { &admin_id } else { "01900000-0000-7000-8000-000000000000" },
            );
            let rb = app
                .request(method.to_uppercase().parse().unwrap(), &concrete, Some(&admin.access))
                .json(&json!({"is_admin": true}));
            let r = app.send(rb).await;
            assert_eq!((r.status, r.code()), (422, "unknown_field"), "{method} {path} accepted an unknown field: {r}");
            assert_eq!(r.body["errors"][0]["field"], "is_admin", "{method} {path}: {r}");
            checked += 1;
        }
    }
    assert!(checked >= 16, "every JSON body was tried: {checked}");
}

async fn answers_never_carry_password_hashes_or_token_hashes(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let (_, admin) = app.signed_in_as("admin@example.com", rivet_domain::Role::Admin).await;
    let bodies: Vec<Value> = vec![
        app.get("/api/v1/users/me", Some(&t.access)).await.body,
        app.get("/api/v1/users", Some(&admin.access)).await.body,
        app.post("/api/v1/api-keys", &json!({"name": "k", "scopes": ["todos:read"]}), Some(&t.access)).await.body,
        app.get("/api/v1/api-keys", Some(&t.access)).await.body,
    ];
    for body in bodies {
        let text = body.to_string();
        assert!(!text.contains("$2b$") && !text.contains("password"), "a hash or password field leaked: {text}");
        assert!(!text.contains("secret_hash") && !text.contains("token_hash"), "{text}");
    }
    assert!(!app.get("/metrics", None).await.text.contains(PASSWORD));
}

on_both_backends!(
    another_users_api_key_can_be_neither_seen_nor_revoked,
    every_json_body_refuses_fields_it_does_not_know,
    answers_never_carry_password_hashes_or_token_hashes
);
