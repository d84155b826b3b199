//! The event log: written with each change in its transaction, read in
//! order from a position, purged by age; and on PostgreSQL, never skipping
//! an event whose transaction commits after a later one's.

use crate::common::{Stores, new_user, stores};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use rivet_domain::events::{Audience, Event, EventLog, EventPosition, EventType};
use rivet_domain::ports::{TodoRepository, Updated, UserRepository};
use rivet_domain::time::now;
use rivet_domain::todo::{NewTodo, Priority, Status, TodoChanges, TodoId, TodoTitle};
use rivet_domain::version::IfVersion;
use rivet_domain::{RepoError, Role};
use rivet_persistence::EventStore;

/// The log after `after` once it shows at least `n` events (within 5 s):
/// on PostgreSQL a reader holds back events while any older transaction on
/// the server is still running, and other tests run beside this one.
async fn settled(log: &EventStore, after: Option<EventPosition>, n: usize) -> Vec<Event> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let events = log.after(after, None, 100).await.unwrap().events;
        if events.len() >= n || std::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn changes_record_their_events_and_failed_ones_none(s: Stores) {
    let log = EventStore::new(s.db.clone());
    let owner = s.users.insert(new_user("ada@example.com", Role::User)).await.unwrap().id;
    let todo = NewTodo {
        id: TodoId::new(),
        owner_id: owner,
        title: TodoTitle::parse("Write the log").unwrap(),
        description: None,
        status: Status::Pending,
        priority: Priority::Medium,
        due_date: None,
        tags: Vec::new(),
        created_at: now(),
    };
    let id = todo.id;
    s.todos.insert(todo).await.unwrap();
    let retitle = TodoChanges { title: Some(TodoTitle::parse("Read the log").unwrap()), ..Default::default() };
    let stale = s.todos.update(owner, id, &retitle, &IfVersion::OneOf(vec![42]), now()).await.unwrap();
    assert!(matches!(stale, Updated::Stale));
    assert!(matches!(s.todos.update(owner, id, &retitle, &IfVersion::Any, now()).await.unwrap(), Updated::Done(_)));
    assert!(matches!(s.todos.delete(owner, id, &IfVersion::Any).await.unwrap(), Updated::Done(())));

    let events = settled(&log, None, 3).await;
    let kinds: Vec<EventType> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventType::TodoCreated, EventType::TodoUpdated, EventType::TodoDeleted],
        "no event for the stale write"
    );
    assert_eq!(events.iter().map(|e| e.version).collect::<Vec<_>>(), [Some(1), Some(2), Some(2)]);
    assert!(events.iter().all(|e| e.audience == Audience::Owner(owner)));
    assert_eq!(events[0].data["id"], id.0.to_string());
    assert!(events.windows(2).all(|w| w[0].position < w[1].position), "positions increase");
    assert!(events.windows(2).all(|w| w[0].position.encode() < w[1].position.encode()), "and so do their ids");

    assert_eq!(log.head().await.unwrap(), Some(events[2].position), "the head is the last event");
    let stranger = rivet_domain::UserId(uuid::Uuid::now_v7());
    assert!(log.after(None, Some(stranger), 100).await.unwrap().events.is_empty(), "another user sees none");
    assert_eq!(log.after(None, Some(owner), 100).await.unwrap().events, events, "the owner sees all");
    let rest = log.after(Some(events[0].position), None, 100).await.unwrap().events;
    assert_eq!(rest, events[1..], "resuming after the first gives the rest, no duplicate");
    assert!(log.after(Some(events[2].position), None, 100).await.unwrap().events.is_empty());
    assert_eq!(log.after(None, None, 2).await.unwrap().events, events[..2], "the limit holds");

    assert_eq!(log.horizon().await.unwrap(), None, "nothing purged yet");
    assert_eq!(log.purge_before(now() - chrono::Duration::hours(1)).await.unwrap(), 0, "recent events stay");
    assert_eq!(log.horizon().await.unwrap(), None);
    assert_eq!(log.purge_before(now() + chrono::Duration::seconds(1)).await.unwrap(), 3);
    assert!(log.after(None, None, 100).await.unwrap().events.is_empty());
    assert_eq!(log.horizon().await.unwrap(), Some(events[2].position), "the horizon moved past the purged");
}

on_both_backends!(changes_record_their_events_and_failed_ones_none);

const INSERT: &str = "INSERT INTO events (type, occurred_at, data) VALUES";

async fn connection(s: &Stores) -> AsyncPgConnection {
    AsyncPgConnection::establish(s.url()).await.expect("a second connection")
}

async fn kinds_after(log: &EventStore, after: Option<EventPosition>) -> Vec<EventType> {
    log.after(after, None, 10).await.unwrap().events.iter().map(|e| e.kind).collect()
}

/// Transaction A takes the smaller event id but commits after B: a reader by
/// id alone would deliver B, move past A's id, and never see A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_late_with_a_smaller_id_is_not_skipped() -> Result<(), RepoError> {
    let s = stores("postgres").await;
    let log = EventStore::new(s.db.clone());
    let (mut a, mut b) = (connection(&s).await, connection(&s).await);
    a.batch_execute(&format!("BEGIN; {INSERT} ('todo.created', now(), '{{}}')")).await.unwrap();
    b.batch_execute(&format!("BEGIN; {INSERT} ('todo.updated', now(), '{{}}'); COMMIT")).await.unwrap();
    assert_eq!(kinds_after(&log, None).await, [], "B waits behind A, which is still running");
    assert!(log.after(None, None, 10).await.unwrap().held_back, "and the reader is told to look again");
    assert_eq!(log.head().await.unwrap(), None, "the head does not pass A either");
    a.batch_execute("COMMIT").await.unwrap();
    let events = settled(&log, None, 2).await;
    assert_eq!(events.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventType::TodoCreated, EventType::TodoUpdated]);
    assert!(events[0].position.seq < events[1].position.seq, "A holds the smaller id");
    Ok(())
}

/// B starts first (its transaction id is older) but writes its event after
/// A's; B commits, a reader takes B's event, then A commits: A's event sorts
/// after B's, so a reader resuming from B still gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_of_a_younger_transaction_sorts_after_what_was_read() -> Result<(), RepoError> {
    let s = stores("postgres").await;
    let log = EventStore::new(s.db.clone());
    let (mut a, mut b) = (connection(&s).await, connection(&s).await);
    b.batch_execute("BEGIN; SELECT pg_current_xact_id()").await.unwrap();
    a.batch_execute(&format!("BEGIN; {INSERT} ('todo.created', now(), '{{}}')")).await.unwrap();
    b.batch_execute(&format!("{INSERT} ('todo.updated', now(), '{{}}'); COMMIT")).await.unwrap();
    let first = settled(&log, None, 1).await;
    assert_eq!(first.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventType::TodoUpdated], "B is older than A");
    a.batch_execute("COMMIT").await.unwrap();
    let next = settled(&log, Some(first[0].position), 1).await;
    assert_eq!(next.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventType::TodoCreated], "A is not skipped");
    assert!(next[0].position.seq < first[0].position.seq, "though its id is smaller");
    Ok(())
}

async fn a_ticket_opens_one_stream_and_only_in_time(s: Stores) {
    use rivet_domain::events::{NewTicket, TicketRepository};
    use rivet_domain::ports::SessionRepository;
    use rivet_domain::{NewSession, RefreshTokenHash, SessionId};
    let log = EventStore::new(s.db.clone());
    let user = s.users.insert(new_user("ada@example.com", Role::User)).await.unwrap().id;
    let session = SessionId::new();
    let t = now();
    let refresh_token = RefreshTokenHash("f".repeat(64));
    let expires_at = t + chrono::Duration::days(1);
    s.sessions
        .create(NewSession { id: session, user_id: user, created_at: t, expires_at, refresh_token })
        .await
        .unwrap();
    let ticket = |hash: &str, secs| NewTicket {
        hash: hash.into(),
        user_id: user,
        session_id: session,
        expires_at: t + chrono::Duration::seconds(secs),
    };
    log.issue(ticket("live", 30)).await.unwrap();
    log.issue(ticket("stale", -1)).await.unwrap();
    assert_eq!(log.redeem("live", now()).await.unwrap(), Some((user, session)));
    assert_eq!(log.redeem("live", now()).await.unwrap(), None, "used once");
    assert_eq!(log.redeem("stale", now()).await.unwrap(), None, "expired");
    assert_eq!(log.redeem("unknown", now()).await.unwrap(), None);
}

on_both_backends!(a_ticket_opens_one_stream_and_only_in_time);
