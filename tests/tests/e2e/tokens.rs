//! Attacks on access tokens, over HTTP: every one is a 401 with an RFC 6750
//! challenge, on both databases.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rivet_auth::JwtCodec;
use rivet_auth::jwt::{AccessClaims, JwtSettings};
use rivet_e2e::{TestApp, on_both_backends};
use serde_json::{Value, json};

/// The codec the test server signs with (its settings are known to the test).
fn server_codec(app: &TestApp) -> JwtCodec {
    let a = &app.settings.auth;
    let mut settings = JwtSettings::hs256(a.jwt_secret.expose().as_bytes());
    settings.issuer.clone_from(&a.issuer);
    settings.audience.clone_from(&a.audience);
    JwtCodec::new(&settings).unwrap()
}

fn claims_of(token: &str) -> AccessClaims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn segment(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

async fn assert_rejected(app: &TestApp, token: &str, code: &str, what: &str) {
    let r = app.get("/api/v1/users/me", Some(token)).await;
    assert_eq!((r.status, r.code()), (401, code), "{what}: {r}");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "{what}: challenge {challenge:?}"
    );
}

async fn forged_and_stale_access_tokens_are_refused(app: TestApp) {
    let (_, tokens) = app.signed_in_user("ada@example.com").await;
    let real = claims_of(&tokens.access);
    let codec = server_codec(&app);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&codec.sign(&real).unwrap())).await.status,
        200,
        "a faithful re-signing is accepted"
    );

    let none = format!(
        "{}.{}.",
        segment(&json!({"alg": "none", "typ": "JWT"})),
        segment(&serde_json::to_value(&real).unwrap())
    );
    assert_rejected(&app, &none, "invalid_token", "alg none").await;

    let hs512 = format!(
        "{}.{}.{}",
        segment(&json!({"alg": "HS512", "typ": "JWT"})),
        segment(&serde_json::to_value(&real).unwrap()),
        "c2ln"
    );
    assert_rejected(&app, &hs512, "invalid_token", "another algorithm").await;

    let mut admin = serde_json::to_value(&real).unwrap();
    admin["role"] = json!("admin");
    let parts: Vec<&str> = tokens.access.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], segment(&admin), parts[2]);
    assert_rejected(&app, &tampered, "invalid_token", "tampered claims").await;

    let now = chrono::Utc::now().timestamp();
    let expired = AccessClaims { iat: now - 3600, exp: now - 60, ..real.clone() };
    assert_rejected(&app, &codec.sign(&expired).unwrap(), "token_expired", "expired").await;

    let issuer = AccessClaims { iss: "evil".into(), ..real.clone() };
    assert_rejected(&app, &codec.sign(&issuer).unwrap(), "invalid_token", "wrong issuer").await;
    let audience = AccessClaims { aud: "other-api".into(), ..real.clone() };
    assert_rejected(&app, &codec.sign(&audience).unwrap(), "invalid_token", "wrong audience").await;
    let session = AccessClaims { sid: uuid::Uuid::now_v7(), ..real.clone() };
    assert_rejected(&app, &codec.sign(&session).unwrap(), "invalid_token", "unknown session").await;
    let other_user = AccessClaims { sub: uuid::Uuid::now_v7(), ..real.clone() };
    assert_rejected(&app, &codec.sign(&other_user).unwrap(), "invalid_token", "session of another user").await;
    assert_rejected(&app, "not.a.jwt", "invalid_token", "garbage").await;
}

async fn credentials_outside_a_bearer_header_are_not_accepted(app: TestApp) {
    let (_, tokens) = app.signed_in_user("ada@example.com").await;
    let missing = app.get("/api/v1/users/me", None).await;
    assert_eq!((missing.status, missing.code()), (401, "unauthenticated"), "{missing}");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer realm=\"rivet\""));
    let basic = app
        .send(
            app.request(reqwest::Method::GET, "/api/v1/users/me", None)
                .header("authorization", format!("Basic {}", tokens.access)),
        )
        .await;
    assert_eq!((basic.status, basic.code()), (401, "invalid_token"), "{basic}");
    let query = app.get(&format!("/api/v1/users/me?access_token={}", tokens.access), None).await;
    assert_eq!(query.status, 401, "a token in the query string is ignored: {query}");
    let lower = app
        .send(
            app.request(reqwest::Method::GET, "/api/v1/users/me", None)
                .header("authorization", format!("bearer {}", tokens.access)),
        )
        .await;
    assert_eq!(lower.status, 200, "the scheme is case-insensitive (RFC 7235): {lower}");
}

on_both_backends!(forged_and_stale_access_tokens_are_refused, credentials_outside_a_bearer_header_are_not_accepted);
