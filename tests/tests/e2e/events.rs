//! The event log seen from outside: changes made over HTTP to todos, their
//! attachments and products are in the log, in order, with their audience;
//! a refused change leaves nothing.

use reqwest::Method;
use rivet_domain::Role;
use rivet_domain::events::{Audience, EventLog, EventType};
use rivet_e2e::{FilePart, TestApp, eventually, on_both_backends};
use rivet_persistence::{Database, DbOptions, EventStore};
use serde_json::json;

/// The log once it holds `n` events (within 5 s): on PostgreSQL a reader
/// holds events back while an older transaction on the server still runs.
async fn logged(app: &TestApp, n: usize) -> Vec<(EventType, Audience)> {
    let db = Database::connect(&DbOptions::new(&app.settings.database.url)).unwrap();
    let log = EventStore::new(db.clone());
    let mut events = Vec::new();
    let settled = eventually(std::time::Duration::from_secs(5), async || {
        events = log.after(None, None, 1000).await.unwrap().events;
        events.len() >= n
    })
    .await;
    db.close();
    assert!(settled.is_some(), "{} events, not {n}", events.len());
    events.into_iter().map(|e| (e.kind, e.audience)).collect()
}

async fn every_change_over_http_is_in_the_log(app: TestApp) {
    let (ada_id, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let owner = Audience::Owner(rivet_domain::UserId(ada_id.parse().unwrap()));
    let (_, m) = app.signed_in_as("manager@example.com", Role::Manager).await;
    let todo = app.post("/api/v1/todos", &json!({"title": "logged"}), Some(&ada.access)).await.body;
    let path = format!("/api/v1/todos/{}", todo["id"].as_str().unwrap());
    assert_eq!(app.patch(&path, &json!({"status": "done"}), Some(&ada.access)).await.status, 200);
    let part = FilePart::file("file", "a.txt", b"attached");
    let up = app.upload(Method::POST, &format!("{path}/attachments"), &part, Some(&ada.access)).await;
    let attachment = format!("{path}/attachments/{}", up.body["id"].as_str().unwrap());
    assert_eq!(app.delete(&attachment, Some(&ada.access)).await.status, 204);
    let stale = app.send(app.request(Method::DELETE, &path, Some(&ada.access)).header("if-match", "\"v99\"")).await;
    assert_eq!(stale.status, 412, "{stale}");
    assert_eq!(app.delete(&path, Some(&ada.access)).await.status, 204);

    let body = json!({"sku": "EV-1", "name": "Logged", "price_cents": 10, "currency": "EUR", "category": "x"});
    let product = app.post("/api/v1/products", &body, Some(&m.access)).await.body;
    let ppath = format!("/api/v1/products/{}", product["id"].as_str().unwrap());
    assert_eq!(app.patch(&ppath, &json!({"name": "Renamed"}), Some(&m.access)).await.status, 200);
    let adjust = json!({"delta": 3, "reason": "restock"});
    assert_eq!(app.post(&format!("{ppath}/stock-adjustments"), &adjust, Some(&m.access)).await.status, 200);
    let below = json!({"delta": -100, "reason": "too many"});
    assert_eq!(app.post(&format!("{ppath}/stock-adjustments"), &below, Some(&m.access)).await.status, 409);
    assert_eq!(app.delete(&ppath, Some(&m.access)).await.status, 204);

    use EventType::*;
    assert_eq!(
        logged(&app, 9).await,
        [
            (TodoCreated, owner),
            (TodoUpdated, owner),
            (TodoAttachmentAdded, owner),
            (TodoAttachmentDeleted, owner),
            (TodoDeleted, owner),
            (ProductCreated, Audience::Everyone),
            (ProductUpdated, Audience::Everyone),
            (ProductStockChanged, Audience::Everyone),
            (ProductDeleted, Audience::Everyone),
        ],
        "the stale delete and the refused adjustment left no event"
    );
}

on_both_backends!(every_change_over_http_is_in_the_log);
