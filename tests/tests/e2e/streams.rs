//! The event streams from outside: a WebSocket and SSE client against the
//! real server, on both databases — who receives what, resume without gap
//! or duplicate, tickets, slow consumers, revocation, reset (across
//! instances and the fan-out channel dropping: `fan_out.rs`).

use rivet_domain::Role;
use rivet_domain::events::EventLog;
use rivet_e2e::streams::WAIT;
use rivet_e2e::{Backend, TestApp, Tokens, on_both_backends};
use rivet_persistence::{Database, DbOptions, EventStore};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub(crate) async fn new_todo(app: &TestApp, t: &Tokens, title: &str) -> Value {
    let r = app.post("/api/v1/todos", &json!({"title": title}), Some(&t.access)).await;
    assert_eq!(r.status, 201, "{r}");
    r.body
}

async fn new_product(app: &TestApp, t: &Tokens, sku: &str) -> Value {
    let body =
        json!({"sku": sku, "name": "Streamed", "price_cents": 10, "currency": "EUR", "category": "x", "stock": 5});
    let r = app.post("/api/v1/products", &body, Some(&t.access)).await;
    assert_eq!(r.status, 201, "{r}");
    r.body
}

async fn todo_events_go_to_their_owner_and_products_to_everyone(app: TestApp) {
    let (ada_id, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let (_, bob) = app.signed_in_as("bob@example.com", Role::User).await;
    let (_, m) = app.signed_in_as("manager@example.com", Role::Manager).await;
    let mut ada_ws = app.socket_with_bearer(&ada.access).await;
    let mut bob_ws = app.socket_authenticated(&bob.access).await;

    let todo = new_todo(&app, &ada, "mine").await;
    let event = ada_ws.json().await;
    assert_eq!(event["type"], "todo.created", "{event}");
    assert_eq!(event["data"]["id"], todo["id"]);
    assert_eq!(event["data"]["version"], 1);
    assert!(event["occurred_at"].is_string() && event["id"].as_str().is_some_and(|id| id.len() == 32), "{event}");

    let product = new_product(&app, &m, "ST-1").await;
    for ws in [&mut ada_ws, &mut bob_ws] {
        let event = ws.json().await;
        assert_eq!(event["type"], "product.created", "bob's first event is the product, never ada's todo: {event}");
        assert_eq!(event["data"]["id"], product["id"]);
    }
    let adjust = json!({"delta": -2, "reason": "sold"});
    let path = format!("/api/v1/products/{}/stock-adjustments", product["id"].as_str().unwrap());
    assert_eq!(app.post(&path, &adjust, Some(&m.access)).await.status, 200);
    let stock = bob_ws.json().await;
    assert_eq!((stock["type"].as_str(), stock["data"]["stock"].as_i64()), (Some("product.stock_changed"), Some(3)));
    bob_ws.silent_for(Duration::from_millis(300)).await;
    assert!(!ada_id.is_empty());
    let metrics = app.get("/metrics", None).await.text;
    assert!(metrics.contains("rivet_event_subscribers 2"), "both sockets are counted");
}

async fn a_reconnect_resumes_after_the_last_id_with_no_gap_and_no_duplicate(app: TestApp) {
    let (_, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let mut ws = app.socket_with_bearer(&ada.access).await;
    for title in ["one", "two"] {
        new_todo(&app, &ada, title).await;
    }
    let (e1, e2) = (ws.json().await, ws.json().await);
    assert!(e1["id"].as_str() < e2["id"].as_str());
    ws.close().await;

    let mut missed = Vec::new();
    for title in ["three", "four", "five"] {
        missed.push(new_todo(&app, &ada, title).await["id"].clone());
    }
    let mut ws = app.socket(&[], "").await;
    ws.send(json!({"type": "auth", "token": ada.access, "after": e2["id"]})).await;
    assert_eq!(ws.json().await["type"], "ready");
    for id in &missed {
        let event = ws.json().await;
        assert_eq!((&event["type"], &event["data"]["id"]), (&json!("todo.created"), id), "replayed in order");
    }
    let live = new_todo(&app, &ada, "six").await;
    let e6 = ws.json().await;
    assert_eq!(e6["data"]["id"], live["id"], "then live, nothing twice");

    // A subscribe on an open socket replays after its id, skipping what this
    // socket already sent.
    let e7_todo = new_todo(&app, &ada, "seven").await;
    let e7 = ws.json().await;
    assert_eq!(e7["data"]["id"], e7_todo["id"]);
    ws.send(json!({"type": "subscribe", "topics": ["todo"], "after": e2["id"]})).await;
    assert_eq!(ws.json().await["type"], "subscribed");
    let e8_todo = new_todo(&app, &ada, "eight").await;
    let mut seen = Vec::new();
    while seen.last() != Some(&e8_todo["id"]) {
        let event = ws.json().await;
        seen.push(event["data"]["id"].clone());
    }
    assert_eq!(seen, [e8_todo["id"].clone()], "everything from e3 to e7 was sent on this socket already");

    let bad = json!({"type": "subscribe", "topics": ["todos.made"]});
    ws.send(bad).await;
    let error = ws.json().await;
    assert_eq!((error["type"].as_str(), error["code"].as_str()), (Some("error"), Some("invalid_topic")), "{error}");
    ws.send(json!({"type": "dance"})).await;
    assert_eq!(ws.json().await["code"], "invalid_message", "and the socket stays open");
}

async fn topics_narrow_the_stream(app: TestApp) {
    let (_, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let (_, m) = app.signed_in_as("manager@example.com", Role::Manager).await;
    let mut ws = app.socket(&[("authorization", &format!("Bearer {}", ada.access))], "?topics=product").await;
    let ready = ws.json().await;
    assert_eq!(
        ready["topics"],
        json!(["product.created", "product.updated", "product.deleted", "product.stock_changed"])
    );
    new_todo(&app, &ada, "not shown").await;
    new_product(&app, &m, "ST-2").await;
    assert_eq!(ws.json().await["type"], "product.created", "the todo event was filtered out");
}

async fn sockets_refuse_missing_or_bad_authentication(app: TestApp) {
    let mut ws = app.socket(&[], "").await;
    ws.send(json!({"type": "auth", "token": "not-a-token"})).await;
    let (_, code, _) = ws.closed_within(WAIT).await;
    assert_eq!(code, 4001);
    let mut ws = app.socket(&[], "").await;
    ws.send(json!({"type": "subscribe"})).await;
    assert_eq!(ws.closed_within(WAIT).await.1, 4001, "subscribe before auth");
    let refused = app.get("/api/v1/events/ws", Some("nope")).await;
    assert_eq!(refused.status, 401, "a bad header is refused before the upgrade: {refused}");
    let plain = app.get("/api/v1/events/ws", None).await;
    assert_eq!((plain.status, plain.code()), (426, "upgrade_required"), "{plain}");
    let token_in_url = app.get("/api/v1/events/ws?token=abc", None).await;
    assert_eq!(token_in_url.status, 422, "no token in the URL: {token_in_url}");
}

async fn server_sent_events_open_with_a_single_use_ticket_and_resume(app: TestApp) {
    let (_, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    assert_eq!(app.get("/api/v1/events", None).await.status, 401);
    let ticket = app.post("/api/v1/events/tickets", &json!({}), Some(&ada.access)).await;
    assert_eq!((ticket.status, ticket.body["expires_in"].as_u64()), (201, Some(30)), "{ticket}");
    let path = format!("/api/v1/events?ticket={}", ticket.body["ticket"].as_str().unwrap());
    let mut stream = app.sse(&path, &[]).await;
    assert_eq!((stream.status, stream.content_type.as_str()), (200, "text/event-stream"));
    let again = app.get(&path, None).await;
    assert_eq!((again.status, again.code()), (401, "invalid_token"), "a ticket opens one stream: {again}");

    let first = new_todo(&app, &ada, "sse").await;
    let event = stream.event().await;
    assert_eq!((event.event.as_str(), &event.data["data"]["id"]), ("todo.created", &first["id"]));
    assert_eq!(event.id.as_deref(), event.data["id"].as_str(), "the id line is the event id");
    drop(stream);

    let missed = new_todo(&app, &ada, "while away").await;
    let bearer = format!("Bearer {}", ada.access);
    let last = event.id.unwrap();
    let mut resumed = app.sse("/api/v1/events", &[("authorization", &bearer), ("last-event-id", &last)]).await;
    assert_eq!(resumed.status, 200);
    assert_eq!(resumed.event().await.data["data"]["id"], missed["id"], "Last-Event-ID resumes after it");
    let next = new_todo(&app, &ada, "live").await;
    assert_eq!(resumed.event().await.data["data"]["id"], next["id"]);
    let bad = app.sse("/api/v1/events?after=xyz", &[("authorization", &bearer)]).await;
    assert_eq!(bad.status, 422);
}

async fn a_resume_older_than_the_log_gets_a_reset(app: TestApp) {
    let (_, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let mut ws = app.socket_with_bearer(&ada.access).await;
    new_todo(&app, &ada, "old").await;
    new_todo(&app, &ada, "older than the log keeps").await;
    let old = ws.json().await;
    ws.json().await;
    ws.close().await;
    let db = Database::connect(&DbOptions::new(&app.settings.database.url)).unwrap();
    let log = EventStore::new(db.clone());
    assert!(log.purge_before(rivet_domain::time::now() + chrono::Duration::seconds(1)).await.unwrap() >= 2);
    db.close();
    let mut ws = app.socket(&[], "").await;
    ws.send(json!({"type": "auth", "token": ada.access, "after": old["id"]})).await;
    assert_eq!(ws.json().await["type"], "ready");
    assert_eq!(ws.json().await, json!({"type": "reset"}));
    let live = new_todo(&app, &ada, "after the reset").await;
    assert_eq!(ws.json().await["data"]["id"], live["id"]);
}

/// Event-stream subscribers on `app`, from `/metrics`.
async fn subscribers(app: &TestApp) -> u64 {
    let text = app.get("/metrics", None).await.text;
    let line = text.lines().find_map(|l| l.strip_prefix("rivet_event_subscribers "));
    line.and_then(|n| n.trim().parse().ok()).unwrap_or_else(|| panic!("no subscriber gauge in {text}"))
}

async fn a_slow_consumer_is_closed_and_can_resume(app: TestApp) {
    let (_, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let (_, m) = app.signed_in_as("manager@example.com", Role::Manager).await;
    let bearer = format!("Bearer {}", ada.access);
    let mut slow = app.socket_with_receive_buffer(&[("authorization", &bearer)], "?topics=product", Some(2048)).await;
    assert_eq!(slow.json().await["type"], "ready");
    let product = new_product(&app, &m, "ST-3").await;
    let path = format!("/api/v1/products/{}/stock-adjustments", product["id"].as_str().unwrap());
    // More events than the buffer (8), the socket's channel and the kernel
    // buffers hold, while the client reads nothing: batches go on until the
    // hub has dropped the subscriber (`rivet_event_subscribers` falls to 0),
    // however fast this machine writes. The client then reads at once: a
    // server send blocked longer than 10 s on a client that reads nothing
    // drops the connection without a close frame (1006), rightly, since no
    // frame can get through.
    let client = app.client.clone();
    let url = format!("{}{path}", app.base);
    let mut sent = 0;
    let started = Instant::now();
    while subscribers(&app).await > 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "still subscribed after {sent} events");
        let batch = (0..50)
            .map(|_| client.post(&url).bearer_auth(&m.access).json(&json!({"delta": 1, "reason": "restock"})).send());
        for r in futures_util::future::join_all(batch).await {
            assert_eq!(r.unwrap().status().as_u16(), 200);
            sent += 1;
        }
    }
    println!("the hub dropped the subscriber after {sent} events in {:?}", started.elapsed());
    slow.widen_receive_buffer(1 << 20);
    let (received, code, reason) = slow.closed_within(Duration::from_secs(30)).await;
    assert_eq!((code, reason.as_str()), (4003, "lagging"), "after {} of {sent} events", received.len());
    assert!(received.len() < sent, "never buffered without bound: {} of {sent}", received.len());
    let last = received.iter().rev().find(|e| e["id"].is_string()).expect("some events came first");
    let mut resumed = app.socket(&[], "").await;
    resumed.send(json!({"type": "auth", "token": ada.access, "topics": ["product"], "after": last["id"]})).await;
    assert_eq!(resumed.json().await["type"], "ready");
    let next = resumed.json().await;
    assert!(next["id"].as_str() > last["id"].as_str(), "the resume carries on after the last one received");
}

async fn revoking_credentials_closes_their_streams(app: TestApp) {
    let (ada_id, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let (_, admin) = app.signed_in_as("admin@example.com", Role::Admin).await;
    let mut ws = app.socket_with_bearer(&ada.access).await;
    let started = Instant::now();
    assert_eq!(app.post("/api/v1/auth/logout-all", &json!({}), Some(&ada.access)).await.status, 204);
    let (_, code, reason) = ws.closed_within(Duration::from_secs(5)).await;
    assert_eq!((code, reason.as_str()), (4002, "revoked"));
    println!("logout-all closed the socket in {:?}", started.elapsed());

    let ada = app.login("ada@example.com", rivet_e2e::PASSWORD).await;
    let key = app.post("/api/v1/api-keys", &json!({"name": "feed", "scopes": ["todos:read"]}), Some(&ada.access)).await;
    assert_eq!(key.status, 201, "{key}");
    let secret = key.body["key"].as_str().unwrap().to_owned();
    let mut by_key = app.socket(&[("x-api-key", &secret)], "").await;
    assert_eq!(by_key.json().await["topics"].as_array().map(Vec::len), Some(9), "todos:read and the catalogue");
    let mut by_session = app.socket_with_bearer(&ada.access).await;
    let key_path = format!("/api/v1/api-keys/{}", key.body["id"].as_str().unwrap());
    assert_eq!(app.delete(&key_path, Some(&ada.access)).await.status, 204);
    assert_eq!(by_key.closed_within(Duration::from_secs(5)).await.1, 4002, "the key's stream closes");
    new_todo(&app, &ada, "still here").await;
    assert_eq!(by_session.json().await["type"], "todo.created", "the session's stream stays");

    let off = json!({"is_active": false});
    assert_eq!(app.patch(&format!("/api/v1/users/{ada_id}"), &off, Some(&admin.access)).await.status, 200);
    assert_eq!(by_session.closed_within(Duration::from_secs(5)).await.1, 4002, "deactivation closes the rest");
}

on_both_backends!(
    todo_events_go_to_their_owner_and_products_to_everyone,
    a_reconnect_resumes_after_the_last_id_with_no_gap_and_no_duplicate,
    topics_narrow_the_stream,
    sockets_refuse_missing_or_bad_authentication,
    server_sent_events_open_with_a_single_use_ticket_and_resume,
    a_resume_older_than_the_log_gets_a_reset,
    revoking_credentials_closes_their_streams,
);

mod slow_consumer {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = rivet_e2e::TestApp::spawn_with(rivet_e2e::Backend::Sqlite, |s| s.events.buffer = 8).await;
        super::a_slow_consumer_is_closed_and_can_resume(app).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let app = rivet_e2e::TestApp::spawn_with(rivet_e2e::Backend::Postgres, |s| s.events.buffer = 8).await;
        super::a_slow_consumer_is_closed_and_can_resume(app).await;
    }
}

/// A peer that answers nothing, not even the server's pings, is dropped
/// after `[events] idle_timeout_secs` (here 1 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_dropped_after_the_idle_timeout() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.events.idle_timeout_secs = 1).await;
    let (_, ada) = app.signed_in_as("ada@example.com", Role::User).await;
    let mut ws = app.socket_with_bearer(&ada.access).await;
    // Not reading: the client library cannot answer the pings.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // The server closed it (4000 `idle_timeout`); a client that does not
    // read may instead see the connection reset under its unanswered pings.
    let (_, code, reason) = ws.closed_within(WAIT).await;
    assert!(code == 4000 && reason == "idle_timeout" || code == 1006, "{code} {reason}");

    let mut live = app.socket_with_bearer(&ada.access).await;
    // Read (and so answer pings) for longer than the timeout: still open.
    live.silent_for(Duration::from_millis(2500)).await;
    new_todo(&app, &ada, "still subscribed").await;
    assert_eq!(live.json().await["type"], "todo.created");
}

/// A password change ends the user's other sessions, and with them their
/// streams; the stream of the session that changed it stays.
async fn a_password_change_closes_the_other_sessions_streams(app: TestApp) {
    let (_, here) = app.signed_in_as("ada@example.com", Role::User).await;
    let elsewhere = app.login("ada@example.com", rivet_e2e::PASSWORD).await;
    let mut mine = app.socket_with_bearer(&here.access).await;
    let mut other = app.socket_with_bearer(&elsewhere.access).await;
    let change = json!({"current_password": rivet_e2e::PASSWORD, "new_password": "another long passphrase"});
    assert_eq!(app.post("/api/v1/users/me/password", &change, Some(&here.access)).await.status, 204);
    assert_eq!(other.closed_within(Duration::from_secs(5)).await.1, 4002);
    let todo = new_todo(&app, &here, "after the change").await;
    assert_eq!(mine.json().await["data"]["id"], todo["id"], "the changing session's stream stays");
}

on_both_backends!(a_password_change_closes_the_other_sessions_streams);

/// The out-of-order commit over a real stream: transaction A writes an
/// event and stays open; B (a product created over HTTP) commits after it.
/// The subscriber gets neither until A commits, then A's and B's, in order:
/// B never overtakes A, so a resume after B could never skip A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committing_late_reaches_the_stream_in_order() {
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    let app = TestApp::spawn(Backend::Postgres).await;
    let (_, m) = app.signed_in_as("manager@example.com", Role::Manager).await;
    let mut ws = app.socket_with_bearer(&m.access).await;
    let mut a = diesel_async::AsyncPgConnection::establish(&app.settings.database.url).await.unwrap();
    a.batch_execute(
        "BEGIN; INSERT INTO events (type, occurred_at, data) VALUES ('product.updated', now(), '{\"id\":\"a\"}')",
    )
    .await
    .unwrap();
    let b = new_product(&app, &m, "ST-LATE").await;
    ws.silent_for(Duration::from_millis(800)).await;
    a.batch_execute("COMMIT").await.unwrap();
    let first = ws.json().await;
    let second = ws.json().await;
    assert_eq!((first["type"].as_str(), first["data"]["id"].as_str()), (Some("product.updated"), Some("a")));
    assert_eq!(second["data"]["id"], b["id"]);
    assert!(first["id"].as_str() < second["id"].as_str(), "ids increase in delivery order");
}
