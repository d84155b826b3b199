//! Registration, login, the OAuth2 token endpoint, refresh rotation and
//! logout, through the real server on both databases.

use rivet_e2e::{PASSWORD, TestApp, eventually, on_both_backends};
use serde_json::json;
use std::time::Duration;

async fn registering_returns_the_normalised_user_and_its_location(app: TestApp) {
    let r = app
        .post(
            "/api/v1/auth/register",
            &json!({"email": "  Ada@Example.COM ", "password": PASSWORD, "full_name": "Ada Lovelace"}),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/users/{id}").as_str()));
    assert_eq!(r.body["email"], "ada@example.com");
    assert_eq!(r.body["role"], "user");
    assert_eq!(r.body["is_active"], true);
    assert_eq!(r.body["email_verified"], false);
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7, "ids are UUIDv7");
    assert!(!r.text.contains("password"), "no hash or password in the body: {r}");
}

async fn registering_an_email_twice_in_any_case_is_a_conflict(app: TestApp) {
    app.register("ada@example.com", PASSWORD).await;
    let r = app.post("/api/v1/auth/register", &json!({"email": "ADA@example.com", "password": PASSWORD}), None).await;
    assert_eq!((r.status, r.code()), (409, "email_taken"), "{r}");
}

async fn registration_lists_every_broken_rule(app: TestApp) {
    let r = app
        .post("/api/v1/auth/register", &json!({"email": "not-an-email", "password": "short", "full_name": ""}), None)
        .await;
    assert_eq!((r.status, r.code()), (422, "validation_failed"), "{r}");
    let mut fields: Vec<&str> =
        r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "full_name", "password"]);
    assert!(r.body["errors"].as_array().unwrap().iter().all(|e| e["location"] == "body"));
    let common =
        app.post("/api/v1/auth/register", &json!({"email": "b@example.com", "password": "Password123"}), None).await;
    assert_eq!(common.body["errors"][0]["code"], "common_password", "{common}");
    let own = app
        .post(
            "/api/v1/auth/register",
            &json!({"email": "longname@example.com", "password": "LongName@Example.com"}),
            None,
        )
        .await;
    assert_eq!(own.body["errors"][0]["code"], "equals_email", "{own}");
}

async fn a_client_cannot_set_role_or_other_owned_fields_on_registration(app: TestApp) {
    for field in ["role", "is_active", "id", "email_verified", "created_at"] {
        let mut body = json!({"email": "mallory@example.com", "password": PASSWORD});
        body[field] = json!("admin");
        let r = app.post("/api/v1/auth/register", &body, None).await;
        assert_eq!((r.status, r.code()), (422, "unknown_field"), "{field}: {r}");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
}

async fn login_returns_an_uncacheable_token_pair_that_opens_the_account(app: TestApp) {
    app.register("ada@example.com", PASSWORD).await;
    let r = app.post("/api/v1/auth/login", &json!({"email": "ADA@example.com", "password": PASSWORD}), None).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.body["refresh_expires_in"], 2_592_000);
    assert!(r.body["refresh_token"].as_str().unwrap().len() >= 43, "256 bits of refresh token");
    let me = app.get("/api/v1/users/me", r.body["access_token"].as_str()).await;
    assert_eq!((me.status, me.body["email"].as_str()), (200, Some("ada@example.com")), "{me}");
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(app: TestApp) {
    app.register("ada@example.com", PASSWORD).await;
    let wrong = app
        .post("/api/v1/auth/login", &json!({"email": "ada@example.com", "password": "not the password"}), None)
        .await;
    let unknown =
        app.post("/api/v1/auth/login", &json!({"email": "nobody@example.com", "password": PASSWORD}), None).await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"), "{wrong}");
    assert_eq!(
        (unknown.status, unknown.code(), &unknown.body["detail"]),
        (401, "invalid_credentials", &wrong.body["detail"])
    );
}

async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_session(app: TestApp) {
    let (_, first) = app.signed_in_user("ada@example.com").await;
    let r = app.post("/api/v1/auth/refresh", &json!({"refresh_token": first.refresh}), None).await;
    assert_eq!(r.status, 200, "{r}");
    let second = r.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first.refresh, "the refresh token rotates");
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/users/me", Some(&access)).await.status, 200);

    let replay = app.post("/api/v1/auth/refresh", &json!({"refresh_token": first.refresh}), None).await;
    assert_eq!((replay.status, replay.code()), (401, "refresh_token_reused"), "{replay}");
    let after = app.post("/api/v1/auth/refresh", &json!({"refresh_token": second}), None).await;
    assert_eq!((after.status, after.code()), (401, "invalid_token"), "the successor dies with its family: {after}");
    let took =
        eventually(Duration::from_secs(5), async || app.get("/api/v1/users/me", Some(&access)).await.status == 401)
            .await;
    assert!(took.is_some(), "the family's access token must stop working within 5 s");
}

async fn an_unknown_refresh_token_is_invalid(app: TestApp) {
    let r = app.post("/api/v1/auth/refresh", &json!({"refresh_token": "made-up"}), None).await;
    assert_eq!((r.status, r.code()), (401, "invalid_token"), "{r}");
    let huge = app.post("/api/v1/auth/refresh", &json!({"refresh_token": "x".repeat(10_000)}), None).await;
    assert_eq!(huge.status, 401, "{huge}");
}

async fn logout_ends_that_session_only(app: TestApp) {
    let (_, one) = app.signed_in_user("ada@example.com").await;
    let two = app.login("ada@example.com", PASSWORD).await;
    let r = app.post("/api/v1/auth/logout", &json!({"refresh_token": one.refresh}), None).await;
    assert_eq!(r.status, 204, "{r}");
    assert_eq!(app.post("/api/v1/auth/refresh", &json!({"refresh_token": one.refresh}), None).await.status, 401);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&one.access)).await.status,
        401,
        "this instance forgets the session at once"
    );
    assert_eq!(app.get("/api/v1/users/me", Some(&two.access)).await.status, 200, "the other session lives on");
    let again = app.post("/api/v1/auth/logout", &json!({"refresh_token": one.refresh}), None).await;
    assert_eq!(again.status, 204, "logging out twice is not an error");
}

async fn logout_all_stops_every_access_token_within_five_seconds(app: TestApp) {
    let (_, one) = app.signed_in_user("ada@example.com").await;
    let two = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(app.get("/api/v1/users/me", Some(&two.access)).await.status, 200);
    let r = app.post("/api/v1/auth/logout-all", &json!({}), Some(&one.access)).await;
    assert_eq!(r.status, 204, "{r}");
    for tokens in [&one, &two] {
        let took = eventually(Duration::from_secs(5), async || {
            let r = app.get("/api/v1/users/me", Some(&tokens.access)).await;
            r.status == 401 && r.code() == "invalid_token"
        })
        .await;
        assert!(took.is_some(), "access tokens must fail within 5 s of logout-all");
        assert_eq!(app.post("/api/v1/auth/refresh", &json!({"refresh_token": tokens.refresh}), None).await.status, 401);
    }
    let unauthenticated = app.post("/api/v1/auth/logout-all", &json!({}), None).await;
    assert_eq!((unauthenticated.status, unauthenticated.code()), (401, "unauthenticated"));
}

async fn the_oauth2_token_endpoint_speaks_rfc_6749(app: TestApp) {
    app.register("ada@example.com", PASSWORD).await;
    let form = |pairs: &[(&str, &str)]| app.request(reqwest::Method::POST, "/api/v1/auth/token", None).form(pairs);
    let r =
        app.send(form(&[("grant_type", "password"), ("username", "ada@example.com"), ("password", PASSWORD)])).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!((r.body["token_type"].as_str(), r.header("cache-control")), (Some("Bearer"), Some("no-store")));
    let refresh = r.body["refresh_token"].as_str().unwrap().to_owned();
    let rotated = app.send(form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])).await;
    assert_eq!(rotated.status, 200, "{rotated}");
    assert_eq!(app.get("/api/v1/users/me", rotated.body["access_token"].as_str()).await.status, 200);

    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("grant_type", "password"), ("username", "ada@example.com"), ("password", "wrong password")],
            "invalid_grant",
        ),
        (&[("grant_type", "refresh_token"), ("refresh_token", "nonsense")], "invalid_grant"),
        (&[("grant_type", "client_credentials")], "unsupported_grant_type"),
        (&[("username", "ada@example.com")], "invalid_request"),
    ];
    for (pairs, error) in cases {
        let r = app.send(form(pairs)).await;
        assert_eq!((r.status, r.body["error"].as_str()), (400, Some(error)), "{pairs:?}: {r}");
        assert!(r.body["error_description"].is_string());
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let json_body = app.post("/api/v1/auth/token", &json!({"grant_type": "password"}), None).await;
    assert_eq!((json_body.status, json_body.body["error"].as_str()), (400, Some("invalid_request")), "{json_body}");
}

on_both_backends!(
    registering_returns_the_normalised_user_and_its_location,
    registering_an_email_twice_in_any_case_is_a_conflict,
    registration_lists_every_broken_rule,
    a_client_cannot_set_role_or_other_owned_fields_on_registration,
    login_returns_an_uncacheable_token_pair_that_opens_the_account,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_session,
    an_unknown_refresh_token_is_invalid,
    logout_ends_that_session_only,
    logout_all_stops_every_access_token_within_five_seconds,
    the_oauth2_token_endpoint_speaks_rfc_6749
);
