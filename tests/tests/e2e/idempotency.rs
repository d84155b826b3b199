//! `Idempotency-Key` on POST creates, through the real server on both databases.

use futures_util::future::join_all;
use rivet_domain::Role;
use rivet_e2e::{Reply, TestApp, on_both_backends};
use serde_json::{Value, json};

async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Reply {
    app.send(app.request(reqwest::Method::POST, path, Some(token)).header("idempotency-key", key).json(body)).await
}

async fn a_repeated_create_replays_the_first_answer(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let body = json!({"title": "only once", "tags": ["a"]});
    let first = post_with_key(&app, "/api/v1/todos", &t.access, "create-1", &body).await;
    assert_eq!((first.status, first.header("idempotent-replayed")), (201, None), "{first}");
    let again = post_with_key(&app, "/api/v1/todos", &t.access, "create-1", &body).await;
    assert_eq!((again.status, again.header("idempotent-replayed")), (201, Some("true")), "{again}");
    assert_eq!(again.body, first.body);
    assert_eq!((again.header("location"), again.header("etag")), (first.header("location"), first.header("etag")));
    assert_eq!(
        app.get("/api/v1/todos?include_total=true", Some(&t.access)).await.body["total"],
        1,
        "one todo, not two"
    );
    let changed =
        post_with_key(&app, "/api/v1/todos", &t.access, "create-1", &json!({"title": "something else"})).await;
    assert_eq!((changed.status, changed.code()), (422, "idempotency_key_reused"), "{changed}");
    let (_, eve) = app.signed_in_user("eve@example.com").await;
    let theirs = post_with_key(&app, "/api/v1/todos", &eve.access, "create-1", &body).await;
    assert_eq!((theirs.status, theirs.header("idempotent-replayed")), (201, None), "keys are per principal");
    let bad = post_with_key(&app, "/api/v1/todos", &t.access, &"k".repeat(256), &body).await;
    assert_eq!((bad.status, bad.body["errors"][0]["location"].as_str()), (422, Some("header")), "{bad}");
    let without = app.post("/api/v1/todos", &body, Some(&t.access)).await;
    assert_eq!(without.status, 201, "no key, no idempotency");
}

async fn concurrent_duplicates_create_exactly_one_resource(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let body = json!({"title": "racing"});
    let replies = join_all((0..8).map(|_| post_with_key(&app, "/api/v1/todos", &t.access, "race", &body))).await;
    for r in &replies {
        assert!(r.status == 201 || (r.status == 409 && r.code() == "idempotency_in_progress"), "{r}");
    }
    let ids: std::collections::HashSet<&str> =
        replies.iter().filter(|r| r.status == 201).map(|r| r.body["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1, "every 201 names the same todo");
    assert_eq!(app.get("/api/v1/todos?include_total=true", Some(&t.access)).await.body["total"], 1);
}

async fn a_repeated_stock_adjustment_applies_once(app: TestApp) {
    let (_, m) = app.signed_in_as("manager@example.com", Role::Manager).await;
    let p = app
        .post(
            "/api/v1/products",
            &json!({"sku": "IDEM-1", "name": "x", "price_cents": 1, "currency": "EUR", "category": "c", "stock": 10}),
            Some(&m.access),
        )
        .await;
    let path = format!("/api/v1/products/{}/stock-adjustments", p.body["id"].as_str().unwrap());
    for _ in 0..3 {
        let r = post_with_key(&app, &path, &m.access, "sale-42", &json!({"delta": -4, "reason": "order 42"})).await;
        assert_eq!((r.status, r.body["stock"].as_i64()), (200, Some(6)), "{r}");
    }
    let product = post_with_key(
        &app,
        "/api/v1/products",
        &m.access,
        "new-product",
        &json!({"sku": "IDEM-2", "name": "y", "price_cents": 1, "currency": "EUR", "category": "c"}),
    )
    .await;
    let again = post_with_key(
        &app,
        "/api/v1/products",
        &m.access,
        "new-product",
        &json!({"sku": "IDEM-2", "name": "y", "price_cents": 1, "currency": "EUR", "category": "c"}),
    )
    .await;
    assert_eq!(
        (product.status, again.status, again.header("idempotent-replayed")),
        (201, 201, Some("true")),
        "not a 409 sku_taken: {again}"
    );
}

on_both_backends!(
    a_repeated_create_replays_the_first_answer,
    concurrent_duplicates_create_exactly_one_resource,
    a_repeated_stock_adjustment_applies_once
);
