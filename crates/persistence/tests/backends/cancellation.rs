//! A request's future can be dropped at any await — a client that
//! disconnects, or actix dropping one extractor when another fails. SQLite
//! calls run on the calling thread, so once a connection is open a query
//! completes the first time it is polled and no statement is ever left
//! running on a connection that goes back to the pool. What can still be
//! pending is waiting for, or opening, a pooled connection; dropping it
//! there must not panic, even on a single-threaded runtime like actix's
//! workers, and must leave the pool usable.

use crate::common;

use futures_util::FutureExt;
use rivet_domain::ports::{SessionRepository, UserRepository};
use rivet_domain::{Role, SessionId};

#[tokio::test(flavor = "current_thread")]
async fn sqlite_reads_finish_when_first_polled_and_dropping_one_that_waits_is_harmless() {
    let s = common::stores("sqlite").await;
    let user = common::new_user("ada@example.com", Role::User);
    s.users.insert(user.clone()).await.unwrap();
    // Polled once, then dropped: those still opening a reader connection
    // are dropped mid-way.
    for _ in 0..200 {
        drop(s.sessions.status(SessionId::new()).now_or_never());
        tokio::task::yield_now().await;
    }
    let found = s.users.find(user.id).await.unwrap();
    assert_eq!(found.map(|u| u.email), Some(user.email), "the pool still answers afterwards");
    for _ in 0..50 {
        let status = s.sessions.status(SessionId::new()).now_or_never();
        assert!(
            matches!(status, Some(Ok(None))),
            "with a connection open, a read finishes when first polled (and finds no such session): {status:?}"
        );
    }
}
