//! A query whose future is dropped mid-flight — a client that disconnects, or
//! actix dropping one extractor when another fails — must not panic, even on
//! a single-threaded runtime like actix's workers, and must leave the
//! connection usable.

use crate::common;

use rivet_domain::ports::{SessionRepository, UserRepository};
use rivet_domain::{Role, SessionId};
use std::time::Duration;

#[tokio::test(flavor = "current_thread")]
async fn dropping_sqlite_queries_mid_flight_on_a_single_threaded_runtime_is_harmless() {
    let s = common::stores("sqlite").await;
    let user = common::new_user("ada@example.com", Role::User);
    s.users.insert(user.clone()).await.unwrap();
    let mut cancelled = 0;
    for _ in 0..200 {
        // Polled once, then dropped when the 1 µs timer fires: the query is in flight.
        if tokio::time::timeout(Duration::from_micros(1), s.sessions.status(SessionId::new())).await.is_err() {
            cancelled += 1;
        }
    }
    assert!(cancelled > 0, "some queries were cancelled mid-flight");
    let found = s.users.find(user.id).await.unwrap();
    assert_eq!(found.map(|u| u.email), Some(user.email), "the pool still answers afterwards");
}
