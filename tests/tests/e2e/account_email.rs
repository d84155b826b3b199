//! Account flows through the mailbox, end to end: the API queues an email,
//! the in-process worker delivers it through the `file` transport, and the
//! test reads the `.eml` file and follows its link.

use rivet_e2e::{PASSWORD, TestApp, link_token, on_both_backends};
use serde_json::json;

async fn registration_mails_a_welcome_whose_link_verifies_the_address_once(app: TestApp) {
    app.register("ada@example.com", PASSWORD).await;
    let mail = app.wait_for_email("ada@example.com", 1).await;
    assert!(mail.contains("Content-Type: text/plain"), "a text part: {mail}");
    assert!(mail.contains("Content-Type: text/html"), "an HTML part: {mail}");
    assert!(mail.contains("http://127.0.0.1:8080/verify-email?token="), "a link under public_url: {mail}");
    let token = link_token(&mail, "verify-email");
    assert_eq!(token.len(), 43, "a 256-bit token: {token}");

    let tokens = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(app.get("/api/v1/users/me", Some(&tokens.access)).await.body["email_verified"], false);
    let r = app.post("/api/v1/auth/verify-email", &json!({ "token": token }), None).await;
    assert_eq!(r.status, 204, "{r}");
    assert_eq!(app.get("/api/v1/users/me", Some(&tokens.access)).await.body["email_verified"], true);

    let again = app.post("/api/v1/auth/verify-email", &json!({ "token": token }), None).await;
    assert_eq!((again.status, again.code()), (400, "invalid_token"), "a used token: {again}");
    let made_up = app.post("/api/v1/auth/verify-email", &json!({ "token": "x".repeat(43) }), None).await;
    assert_eq!((made_up.status, made_up.code()), (400, "invalid_token"), "{made_up}");
}

async fn forgot_password_answers_alike_for_unknown_addresses_and_mails_only_real_accounts(app: TestApp) {
    app.register("ada@example.com", PASSWORD).await;
    let unknown = app.post("/api/v1/auth/password/forgot", &json!({ "email": "nobody@example.com" }), None).await;
    let known = app.post("/api/v1/auth/password/forgot", &json!({ "email": "ADA@example.com" }), None).await;
    assert_eq!((unknown.status, unknown.text.as_str()), (202, ""), "{unknown}");
    assert_eq!((known.status, known.text.as_str()), (202, ""), "same answer for a real account: {known}");
    let reset = app.wait_for_email_with("ada@example.com", "/reset-password?token=").await;
    assert!(reset.contains("http://127.0.0.1:8080/reset-password?token="), "{reset}");
    assert!(app.emails_to("nobody@example.com").is_empty(), "no email for an unknown address");
}

async fn a_password_reset_sets_the_password_ends_every_session_and_works_once(app: TestApp) {
    let (_, before) = app.signed_in_user("ada@example.com").await;
    app.post("/api/v1/auth/password/forgot", &json!({ "email": "ada@example.com" }), None).await;
    let token =
        link_token(&app.wait_for_email_with("ada@example.com", "/reset-password?token=").await, "reset-password");

    let weak = app.post("/api/v1/auth/password/reset", &json!({ "token": token, "new_password": "short" }), None).await;
    assert_eq!((weak.status, weak.code()), (422, "validation_failed"), "{weak}");
    assert_eq!(weak.body["errors"][0]["field"], "new_password", "{weak}");

    let new_password = "a brand new passphrase";
    let r =
        app.post("/api/v1/auth/password/reset", &json!({ "token": token, "new_password": new_password }), None).await;
    assert_eq!(r.status, 204, "a refused password does not burn the token: {r}");

    let old = app.post("/api/v1/auth/refresh", &json!({ "refresh_token": before.refresh }), None).await;
    assert_eq!(old.status, 401, "the old session is over: {old}");
    let wrong =
        app.post("/api/v1/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD }), None).await;
    assert_eq!(wrong.status, 401, "the old password no longer works: {wrong}");
    let tokens = app.login("ada@example.com", new_password).await;
    assert_eq!(
        app.get("/api/v1/users/me", Some(&tokens.access)).await.body["email_verified"],
        true,
        "the reset proved the mailbox"
    );

    let again = app
        .post("/api/v1/auth/password/reset", &json!({ "token": token, "new_password": "yet another passphrase" }), None)
        .await;
    assert_eq!((again.status, again.code()), (400, "invalid_token"), "{again}");
}

async fn a_new_email_address_is_unverified_and_gets_its_own_verification_link(app: TestApp) {
    let (_, tokens) = app.signed_in_user("ada@example.com").await;
    let first = link_token(&app.wait_for_email("ada@example.com", 1).await, "verify-email");
    let r = app.patch("/api/v1/users/me", &json!({ "email": "lovelace@example.com" }), Some(&tokens.access)).await;
    assert_eq!((r.status, &r.body["email_verified"]), (200, &json!(false)), "{r}");
    let second = link_token(&app.wait_for_email("lovelace@example.com", 1).await, "verify-email");

    let stale = app.post("/api/v1/auth/verify-email", &json!({ "token": first }), None).await;
    assert_eq!(
        (stale.status, stale.code()),
        (400, "invalid_token"),
        "a link to the old address no longer verifies: {stale}"
    );
    assert_eq!(app.post("/api/v1/auth/verify-email", &json!({ "token": second }), None).await.status, 204);
    assert_eq!(app.get("/api/v1/users/me", Some(&tokens.access)).await.body["email_verified"], true);
}

async fn resend_mails_a_fresh_link_until_the_address_is_verified(app: TestApp) {
    let (_, tokens) = app.signed_in_user("ada@example.com").await;
    app.wait_for_email("ada@example.com", 1).await;
    let r = app.post("/api/v1/auth/verify-email/resend", &json!({}), Some(&tokens.access)).await;
    assert_eq!(r.status, 202, "{r}");
    let token = link_token(&app.wait_for_email("ada@example.com", 2).await, "verify-email");
    assert_eq!(app.post("/api/v1/auth/verify-email", &json!({ "token": token }), None).await.status, 204);

    let anonymous = app.post("/api/v1/auth/verify-email/resend", &json!({}), None).await;
    assert_eq!(anonymous.status, 401, "{anonymous}");
    assert_eq!(app.post("/api/v1/auth/verify-email/resend", &json!({}), Some(&tokens.access)).await.status, 202);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(app.emails_to("ada@example.com").len(), 2, "a verified address gets no further links");
}

on_both_backends!(
    registration_mails_a_welcome_whose_link_verifies_the_address_once,
    forgot_password_answers_alike_for_unknown_addresses_and_mails_only_real_accounts,
    a_password_reset_sets_the_password_ends_every_session_and_works_once,
    a_new_email_address_is_unverified_and_gets_its_own_verification_link,
    resend_mails_a_fresh_link_until_the_address_is_verified
);
