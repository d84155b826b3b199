//! `/api/v1/products`: the public catalogue, its maintenance, caching and
//! atomic stock adjustments, on both databases.

use futures_util::future::join_all;
use rivet_domain::Role;
use rivet_e2e::{Reply, TestApp, Tokens, on_both_backends};
use serde_json::{Value, json};

async fn manager(app: &TestApp) -> Tokens {
    app.signed_in_as("manager@example.com", Role::Manager).await.1
}

async fn product(app: &TestApp, token: &str, sku: &str, extra: Value) -> Value {
    let mut body = json!({
        "sku": sku, "name": format!("Product {sku}"), "price_cents": 1000,
        "currency": "EUR", "category": "tools", "stock": 5
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app.post("/api/v1/products", &body, Some(token)).await;
    assert_eq!(r.status, 201, "{r}");
    r.body
}

fn skus(r: &Reply) -> Vec<&str> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {r}"))
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect()
}

async fn the_public_catalogue_shows_active_products_with_caching(app: TestApp) {
    let m = manager(&app).await;
    let shown = product(&app, &m.access, "SHOWN-1", json!({})).await;
    let hidden = product(&app, &m.access, "HIDDEN-1", json!({"is_active": false})).await;
    let list = app.get("/api/v1/products", None).await;
    assert_eq!((list.status, skus(&list)), (200, vec!["SHOWN-1"]), "{list}");
    assert_eq!(list.header("cache-control"), Some("public, max-age=60"));
    let tag = list.header("etag").expect("lists carry an ETag").to_owned();
    let again = app
        .send(app.request(reqwest::Method::GET, "/api/v1/products", None).header("if-none-match", tag.clone()))
        .await;
    assert_eq!((again.status, again.text.as_str()), (304, ""));
    let detail = app.get(&format!("/api/v1/products/{}", shown["id"].as_str().unwrap()), None).await;
    assert_eq!(
        (detail.status, detail.header("cache-control"), detail.header("etag")),
        (200, Some("public, max-age=60"), Some("\"v1\""))
    );
    let hidden_path = format!("/api/v1/products/{}", hidden["id"].as_str().unwrap());
    assert_eq!(app.get(&hidden_path, None).await.code(), "not_found");
    let (_, user) = app.signed_in_user("user@example.com").await;
    assert_eq!(app.get(&hidden_path, Some(&user.access)).await.code(), "not_found");
    let as_writer = app.get(&hidden_path, Some(&m.access)).await;
    assert_eq!((as_writer.status, as_writer.header("cache-control")), (200, Some("private, no-cache")));
    let all = app.get("/api/v1/products?include_inactive=true&sort=-name", Some(&m.access)).await;
    assert_eq!((skus(&all), all.header("cache-control")), (vec!["SHOWN-1", "HIDDEN-1"], Some("private, no-cache")));
    assert_eq!(app.get("/api/v1/products?include_inactive=true", Some(&user.access)).await.code(), "forbidden");
    assert_eq!(app.get("/api/v1/products?include_inactive=true", None).await.code(), "unauthenticated");
    app.patch(
        &format!("/api/v1/products/{}", shown["id"].as_str().unwrap()),
        &json!({"price_cents": 999}),
        Some(&m.access),
    )
    .await;
    let changed =
        app.send(app.request(reqwest::Method::GET, "/api/v1/products", None).header("if-none-match", tag)).await;
    assert_eq!(changed.status, 200, "a change makes the list's tag stale");
}

async fn only_products_write_holders_change_the_catalogue(app: TestApp) {
    let m = manager(&app).await;
    let (_, user) = app.signed_in_user("user@example.com").await;
    let body = json!({"sku": "abc-1", "name": "Hammer", "price_cents": 1299, "currency": "eur", "category": "tools"});
    assert_eq!(app.post("/api/v1/products", &body, Some(&user.access)).await.code(), "forbidden");
    assert_eq!(app.post("/api/v1/products", &body, None).await.code(), "unauthenticated");
    let r = app.post("/api/v1/products", &body, Some(&m.access)).await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(
        (r.body["sku"].as_str(), r.body["currency"].as_str(), r.body["stock"].as_i64(), r.body["is_active"].as_bool()),
        (Some("ABC-1"), Some("EUR"), Some(0), Some(true))
    );
    let path = r.header("location").unwrap().to_owned();
    let dup = app
        .post(
            "/api/v1/products",
            &json!({"sku": "ABC-1", "name": "Other", "price_cents": 1, "currency": "USD", "category": "x"}),
            Some(&m.access),
        )
        .await;
    assert_eq!((dup.status, dup.code()), (409, "sku_taken"), "{dup}");
    let bad = app
        .post(
            "/api/v1/products",
            &json!({"sku": "a", "name": "", "price_cents": -1, "currency": "XXY", "category": "", "stock": 2_000_000}),
            Some(&m.access),
        )
        .await;
    let mut fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["category", "currency", "name", "price_cents", "sku", "stock"], "{bad}");
    assert_eq!(app.patch(&path, &json!({"name": "Claw hammer"}), Some(&user.access)).await.code(), "forbidden");
    let renamed = app.patch(&path, &json!({"name": "Claw hammer", "description": "steel"}), Some(&m.access)).await;
    assert_eq!(
        (renamed.body["name"].as_str(), renamed.body["version"].as_i64()),
        (Some("Claw hammer"), Some(2)),
        "{renamed}"
    );
    let stale =
        app.send(app.request(reqwest::Method::DELETE, &path, Some(&m.access)).header("if-match", "\"v1\"")).await;
    assert_eq!(stale.status, 412);
    assert_eq!(app.delete(&path, Some(&user.access)).await.code(), "forbidden");
    assert_eq!(app.delete(&path, Some(&m.access)).await.status, 204);
    assert_eq!(app.get(&path, None).await.status, 404);
}

async fn a_hundred_concurrent_stock_adjustments_add_up_exactly(app: TestApp) {
    let m = manager(&app).await;
    let p = product(&app, &m.access, "STOCK-1", json!({"stock": 50})).await;
    let path = format!("/api/v1/products/{}/stock-adjustments", p["id"].as_str().unwrap());
    let bodies: Vec<Value> =
        (0..100).map(|i| json!({"delta": if i % 2 == 0 { 3 } else { -1 }, "reason": format!("batch {i}")})).collect();
    let replies = join_all(bodies.iter().map(|b| app.post(&path, b, Some(&m.access)))).await;
    assert!(
        replies.iter().all(|r| r.status == 200),
        "every adjustment applies: {:?}",
        replies.iter().find(|r| r.status != 200)
    );
    let stock = app.get(&format!("/api/v1/products/{}", p["id"].as_str().unwrap()), None).await.body["stock"].as_i64();
    assert_eq!(stock, Some(50 + 50 * 3 - 50), "no lost update");

    let q = product(&app, &m.access, "STOCK-2", json!({"stock": 10})).await;
    let path = format!("/api/v1/products/{}/stock-adjustments", q["id"].as_str().unwrap());
    let sales: Vec<Value> = (0..30).map(|i| json!({"delta": -1, "reason": format!("sale {i}")})).collect();
    let replies = join_all(sales.iter().map(|b| app.post(&path, b, Some(&m.access)))).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let refused = replies.iter().filter(|r| r.status == 409 && r.code() == "insufficient_stock").count();
    assert_eq!((ok, refused), (10, 20), "exactly the stock is sold, never below zero");
    assert_eq!(app.get(&format!("/api/v1/products/{}", q["id"].as_str().unwrap()), None).await.body["stock"], 0);
    for (body, status) in [
        (json!({"delta": 0, "reason": "x"}), 422),
        (json!({"delta": 5, "reason": ""}), 422),
        (json!({"delta": 1_000_001, "reason": "x"}), 422),
        (json!({"delta": 1_000_000, "reason": "x"}), 200),
        (json!({"delta": 1, "reason": "x"}), 409),
    ] {
        assert_eq!(app.post(&path, &body, Some(&m.access)).await.status, status, "{body}");
    }
    let (_, user) = app.signed_in_user("user@example.com").await;
    assert_eq!(app.post(&path, &json!({"delta": 1, "reason": "x"}), Some(&user.access)).await.code(), "forbidden");
}

async fn filters_and_sorts_of_the_catalogue(app: TestApp) {
    let m = manager(&app).await;
    product(&app, &m.access, "P-CHEAP", json!({"name": "Bolt", "price_cents": 10, "stock": 0, "category": "hardware"}))
        .await;
    product(
        &app,
        &m.access,
        "P-MID",
        json!({"name": "Anvil", "price_cents": 5000, "stock": 3, "currency": "USD", "description": "very HEAVY"}),
    )
    .await;
    product(&app, &m.access, "P-DEAR", json!({"name": "Crane", "price_cents": 900_000, "stock": 1})).await;
    let get = async |q: &str| app.get(&format!("/api/v1/products?{q}"), None).await;
    assert_eq!(skus(&get("").await), ["P-MID", "P-CHEAP", "P-DEAR"], "default: by name");
    assert_eq!(skus(&get("sort=-price_cents").await), ["P-DEAR", "P-MID", "P-CHEAP"]);
    assert_eq!(skus(&get("sort=stock,name").await), ["P-CHEAP", "P-DEAR", "P-MID"]);
    assert_eq!(skus(&get("in_stock=true&sort=name").await), ["P-MID", "P-DEAR"]);
    assert_eq!(skus(&get("min_price=100&max_price=10000").await), ["P-MID"]);
    assert_eq!(skus(&get("category=hardware").await), ["P-CHEAP"]);
    assert_eq!(skus(&get("currency=usd").await), ["P-MID"]);
    assert_eq!(skus(&get("q=heavy").await), ["P-MID"], "description is searched");
    assert_eq!(skus(&get("q=p-dear").await), ["P-DEAR"], "SKU is searched");
    let page = get("limit=2&include_total=true").await;
    assert_eq!((skus(&page).len(), page.body["total"].as_i64()), (2, Some(3)));
    let next = get(&format!("limit=2&cursor={}", page.body["next_cursor"].as_str().unwrap())).await;
    assert_eq!(skus(&next), ["P-DEAR"]);
    for bad in ["min_price=cheap", "sort=sku", "min_price=10&max_price=5", "in_stock=yes", "color=red"] {
        assert_eq!(get(bad).await.status, 422, "{bad}");
    }
}

on_both_backends!(
    the_public_catalogue_shows_active_products_with_caching,
    only_products_write_holders_change_the_catalogue,
    a_hundred_concurrent_stock_adjustments_add_up_exactly,
    filters_and_sorts_of_the_catalogue
);
