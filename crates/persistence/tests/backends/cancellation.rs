//! A query whose future is dropped mid-flight — a client that disconnects, or
//! actix dropping one extractor when another fails — must not panic, even on
//! a single-threaded runtime like actix's workers, and must leave the
//! connection usable.

use crate::common;

use futures_util::FutureExt;
use rivet_domain::ports::{SessionRepository, UserRepository};
use rivet_domain::{Role, SessionId};

#[tokio::test(flavor = "current_thread")]
async fn dropping_sqlite_queries_mid_flight_on_a_single_threaded_runtime_is_harmless() {
    let s = common::stores("sqlite").await;
    let user = common::new_user("ada@example.com", Role::User);
    s.users.insert(user.clone()).await.unwrap();
    let mut cancelled = 0;
    for _ in 0..200 {
        // Polled once, then dropped while still pending: the query is in
        // flight. (A 1 µs timeout depended on the machine's load.)
        if s.sessions.status(SessionId::new()).now_or_never().is_none() {
            cancelled += 1;
        }
        tokio::task::yield_now().await;
    }
    assert!(cancelled > 0, "some queries were cancelled mid-flight");
    let found = s.users.find(user.id).await.unwrap();
    assert_eq!(found.map(|u| u.email), Some(user.email), "the pool still answers afterwards");
}
