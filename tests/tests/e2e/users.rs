//! The caller's own account and the administration of users, on both databases.

use rivet_domain::Role;
use rivet_e2e::{PASSWORD, TestApp, eventually, on_both_backends};
use serde_json::json;
use std::time::Duration;

const FIVE_SECONDS: Duration = Duration::from_secs(5);

async fn a_user_edits_their_profile_and_null_clears_the_name(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let named = app.patch("/api/v1/users/me", &json!({"full_name": "Ada Lovelace"}), Some(&t.access)).await;
    assert_eq!((named.status, named.body["full_name"].as_str()), (200, Some("Ada Lovelace")), "{named}");
    let untouched = app.patch("/api/v1/users/me", &json!({}), Some(&t.access)).await;
    assert_eq!(untouched.body["full_name"], "Ada Lovelace", "an absent field stays: {untouched}");
    let cleared = app.patch("/api/v1/users/me", &json!({"full_name": null}), Some(&t.access)).await;
    assert!(cleared.body["full_name"].is_null(), "{cleared}");
    let null_email = app.patch("/api/v1/users/me", &json!({"email": null}), Some(&t.access)).await;
    assert_eq!((null_email.status, null_email.body["errors"][0]["code"].as_str()), (422, Some("null")), "{null_email}");
    let role = app.patch("/api/v1/users/me", &json!({"role": "admin"}), Some(&t.access)).await;
    assert_eq!((role.status, role.code()), (422, "unknown_field"), "{role}");
}

async fn changing_the_email_unverifies_it_and_must_stay_unique(app: TestApp) {
    app.register("taken@example.com", PASSWORD).await;
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let clash = app.patch("/api/v1/users/me", &json!({"email": "TAKEN@example.com"}), Some(&t.access)).await;
    assert_eq!((clash.status, clash.code()), (409, "email_taken"), "{clash}");
    let moved = app.patch("/api/v1/users/me", &json!({"email": "Ada.New@Example.com"}), Some(&t.access)).await;
    assert_eq!(
        (moved.status, moved.body["email"].as_str(), moved.body["email_verified"].as_bool()),
        (200, Some("ada.new@example.com"), Some(false)),
        "{moved}"
    );
    app.login("ada.new@example.com", PASSWORD).await;
}

async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions(app: TestApp) {
    let (_, here) = app.signed_in_user("ada@example.com").await;
    let elsewhere = app.login("ada@example.com", PASSWORD).await;
    let wrong = app
        .post(
            "/api/v1/users/me/password",
            &json!({"current_password": "nope", "new_password": "a brand new secret"}),
            Some(&here.access),
        )
        .await;
    assert_eq!((wrong.status, wrong.body["errors"][0]["field"].as_str()), (422, Some("current_password")), "{wrong}");
    let weak = app
        .post(
            "/api/v1/users/me/password",
            &json!({"current_password": PASSWORD, "new_password": "password1"}),
            Some(&here.access),
        )
        .await;
    assert_eq!((weak.status, weak.body["errors"][0]["field"].as_str()), (422, Some("new_password")), "{weak}");
    let ok = app
        .post(
            "/api/v1/users/me/password",
            &json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
            Some(&here.access),
        )
        .await;
    assert_eq!(ok.status, 204, "{ok}");
    let gone =
        eventually(FIVE_SECONDS, async || app.get("/api/v1/users/me", Some(&elsewhere.access)).await.status == 401)
            .await;
    assert!(gone.is_some(), "the other session's access token fails within 5 s");
    assert_eq!(app.post("/api/v1/auth/refresh", &json!({"refresh_token": elsewhere.refresh}), None).await.status, 401);
    assert_eq!(app.get("/api/v1/users/me", Some(&here.access)).await.status, 200, "the current session stays");
    assert_eq!(
        app.post("/api/v1/auth/login", &json!({"email": "ada@example.com", "password": PASSWORD}), None).await.status,
        401
    );
    app.login("ada@example.com", "a brand new secret").await;
}

async fn deleting_ones_account_removes_it_and_its_sessions(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    assert_eq!(app.delete("/api/v1/users/me", Some(&t.access)).await.status, 204);
    assert_eq!(app.get("/api/v1/users/me", Some(&t.access)).await.status, 401);
    assert_eq!(app.post("/api/v1/auth/refresh", &json!({"refresh_token": t.refresh}), None).await.status, 401);
    assert_eq!(
        app.post("/api/v1/auth/login", &json!({"email": "ada@example.com", "password": PASSWORD}), None).await.status,
        401
    );
    app.register("ada@example.com", PASSWORD).await;
}

async fn only_administrators_read_and_change_other_users(app: TestApp) {
    let (user_id, user) = app.signed_in_as("user@example.com", Role::User).await;
    let (_, manager) = app.signed_in_as("manager@example.com", Role::Manager).await;
    let (_, admin) = app.signed_in_as("admin@example.com", Role::Admin).await;
    let path = format!("/api/v1/users/{user_id}");
    for t in [&user, &manager] {
        let r = app.get(&path, Some(&t.access)).await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{r}");
        assert_eq!(app.patch(&path, &json!({"role": "admin"}), Some(&t.access)).await.status, 403);
        assert_eq!(app.delete(&path, Some(&t.access)).await.status, 403);
    }
    let read = app.get(&path, Some(&admin.access)).await;
    assert_eq!((read.status, read.body["email"].as_str()), (200, Some("user@example.com")), "{read}");
    let promoted = app.patch(&path, &json!({"role": "manager", "full_name": "Promoted"}), Some(&admin.access)).await;
    assert_eq!((promoted.status, promoted.body["role"].as_str()), (200, Some("manager")), "{promoted}");
    let bad_role = app.patch(&path, &json!({"role": "root"}), Some(&admin.access)).await;
    assert_eq!((bad_role.status, bad_role.body["errors"][0]["field"].as_str()), (422, Some("role")), "{bad_role}");
    let missing = app.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()), Some(&admin.access)).await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
    let not_uuid = app.get("/api/v1/users/not-a-uuid", Some(&admin.access)).await;
    assert_eq!((not_uuid.status, not_uuid.body["errors"][0]["location"].as_str()), (422, Some("path")), "{not_uuid}");
    assert_eq!(app.delete(&path, Some(&admin.access)).await.status, 204);
    assert_eq!(app.get(&path, Some(&admin.access)).await.status, 404);
}

async fn the_last_active_administrator_stays(app: TestApp) {
    let (admin_id, admin) = app.signed_in_as("admin@example.com", Role::Admin).await;
    let me = format!("/api/v1/users/{admin_id}");
    for change in [json!({"role": "user"}), json!({"is_active": false})] {
        let r = app.patch(&me, &change, Some(&admin.access)).await;
        assert_eq!((r.status, r.code()), (409, "last_admin"), "{change}: {r}");
    }
    assert_eq!(app.delete(&me, Some(&admin.access)).await.code(), "last_admin");
    assert_eq!(app.delete("/api/v1/users/me", Some(&admin.access)).await.code(), "last_admin");
    let (second_id, _) = app.signed_in_as("second@example.com", Role::Admin).await;
    let demoted = app.patch(&me, &json!({"role": "user"}), Some(&admin.access)).await;
    assert_eq!(demoted.status, 200, "with another admin the demotion goes through: {demoted}");
    let forbidden = eventually(FIVE_SECONDS, async || {
        app.get(&format!("/api/v1/users/{second_id}"), Some(&admin.access)).await.status == 403
    })
    .await;
    assert!(forbidden.is_some(), "the demoted admin loses the permission within 5 s");
}

async fn a_deactivated_user_is_locked_out_within_five_seconds(app: TestApp) {
    let (user_id, user) = app.signed_in_as("user@example.com", Role::User).await;
    let (_, admin) = app.signed_in_as("admin@example.com", Role::Admin).await;
    let r = app.patch(&format!("/api/v1/users/{user_id}"), &json!({"is_active": false}), Some(&admin.access)).await;
    assert_eq!((r.status, r.body["is_active"].as_bool()), (200, Some(false)), "{r}");
    let locked =
        eventually(FIVE_SECONDS, async || app.get("/api/v1/users/me", Some(&user.access)).await.status != 200).await;
    assert!(locked.is_some(), "the access token stops working within 5 s");
    let login = app.post("/api/v1/auth/login", &json!({"email": "user@example.com", "password": PASSWORD}), None).await;
    assert_eq!((login.status, login.code()), (403, "account_disabled"), "{login}");
    let wrong =
        app.post("/api/v1/auth/login", &json!({"email": "user@example.com", "password": "wrong password"}), None).await;
    assert_eq!(wrong.code(), "invalid_credentials", "without the password, a disabled account looks like any failure");
    assert_eq!(app.post("/api/v1/auth/refresh", &json!({"refresh_token": user.refresh}), None).await.status, 401);
}

on_both_backends!(
    a_user_edits_their_profile_and_null_clears_the_name,
    changing_the_email_unverifies_it_and_must_stay_unique,
    a_password_change_needs_the_current_one_and_ends_the_other_sessions,
    deleting_ones_account_removes_it_and_its_sessions,
    only_administrators_read_and_change_other_users,
    the_last_active_administrator_stays,
    a_deactivated_user_is_locked_out_within_five_seconds
);

/// Revocation is shared through the database, not the instance's memory: a
/// logout-all on one instance stops the token on another within 5 s.
mod across_instances {
    use super::*;
    use rivet_e2e::Backend;

    async fn revocation_reaches_another_instance(backend: Backend) {
        let a = TestApp::spawn(backend).await;
        let b = TestApp::start(a.settings.clone(), backend).await;
        let (_, t) = a.signed_in_user("ada@example.com").await;
        assert_eq!(b.get("/api/v1/users/me", Some(&t.access)).await.status, 200, "instance B accepts A's token");
        assert_eq!(a.post("/api/v1/auth/logout-all", &json!({}), Some(&t.access)).await.status, 204);
        let took =
            eventually(FIVE_SECONDS, async || b.get("/api/v1/users/me", Some(&t.access)).await.status == 401).await;
        assert!(took.is_some(), "instance B must refuse the token within 5 s");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        revocation_reaches_another_instance(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        revocation_reaches_another_instance(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pgbouncer() {
        revocation_reaches_another_instance(Backend::PgBouncer).await;
    }
}

mod conditional {
    use super::*;

    async fn users_carry_an_etag_and_honour_if_match(app: TestApp) {
        let (_, t) = app.signed_in_user("ada@example.com").await;
        let me = app.get("/api/v1/users/me", Some(&t.access)).await;
        assert_eq!(me.header("etag"), Some("\"v1\""));
        let cached = app
            .send(
                app.request(reqwest::Method::GET, "/api/v1/users/me", Some(&t.access))
                    .header("if-none-match", "\"v1\""),
            )
            .await;
        assert_eq!(cached.status, 304);
        let empty = app
            .send(
                app.request(reqwest::Method::PATCH, "/api/v1/users/me", Some(&t.access))
                    .header("if-match", "\"v1\"")
                    .json(&json!({})),
            )
            .await;
        assert_eq!(
            (empty.status, empty.header("etag")),
            (200, Some("\"v1\"")),
            "an empty patch changes nothing: {empty}"
        );
        let named = app
            .send(
                app.request(reqwest::Method::PATCH, "/api/v1/users/me", Some(&t.access))
                    .header("if-match", "\"v1\"")
                    .json(&json!({"full_name": "Ada"})),
            )
            .await;
        assert_eq!((named.status, named.header("etag")), (200, Some("\"v2\"")), "{named}");
        let stale = app
            .send(
                app.request(reqwest::Method::PATCH, "/api/v1/users/me", Some(&t.access))
                    .header("if-match", "\"v1\"")
                    .json(&json!({"full_name": "Eve"})),
            )
            .await;
        assert_eq!((stale.status, stale.code()), (412, "precondition_failed"), "{stale}");
        let delete = app
            .send(
                app.request(reqwest::Method::DELETE, "/api/v1/users/me", Some(&t.access)).header("if-match", "\"v1\""),
            )
            .await;
        assert_eq!(delete.status, 412, "{delete}");
        assert_eq!(app.get("/api/v1/users/me", Some(&t.access)).await.body["full_name"], "Ada");
    }

    async fn an_admin_change_with_a_stale_tag_is_refused(app: TestApp) {
        let (user_id, _) = app.signed_in_as("user@example.com", Role::User).await;
        let (_, admin) = app.signed_in_as("admin@example.com", Role::Admin).await;
        let path = format!("/api/v1/users/{user_id}");
        let tag = app.get(&path, Some(&admin.access)).await.header("etag").unwrap().to_owned();
        app.patch(&path, &json!({"full_name": "Changed meanwhile"}), Some(&admin.access)).await;
        let stale = app
            .send(
                app.request(reqwest::Method::PATCH, &path, Some(&admin.access))
                    .header("if-match", tag.clone())
                    .json(&json!({"role": "manager"})),
            )
            .await;
        assert_eq!(stale.status, 412, "{stale}");
        let r =
            app.send(app.request(reqwest::Method::DELETE, &path, Some(&admin.access)).header("if-match", tag)).await;
        assert_eq!(r.status, 412, "{r}");
        assert_eq!(app.get(&path, Some(&admin.access)).await.body["role"], "user");
    }

    on_both_backends!(users_carry_an_etag_and_honour_if_match, an_admin_change_with_a_stale_tag_is_refused);
}
