//! The PostgreSQL pool split per HTTP worker (`DbOptions::worker_threads`):
//! each thread that runs a single-threaded runtime keeps to a share of its
//! own, the shares add up to `max_connections`, and a thread whose share is
//! all busy borrows an idle connection of another share instead of waiting.

use diesel::QueryableByName;
use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;
use rivet_persistence::db::Pool;
use rivet_persistence::testing::TestDatabase;
use rivet_persistence::{Database, DbOptions, with_conn};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[derive(QueryableByName)]
struct Backend {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// The server process behind one pooled connection.
async fn backend_pid(db: &Database) -> i32 {
    with_conn!(db, |conn| {
        let row: Backend = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(conn).await?;
        Ok(row.pid)
    })
    .unwrap()
}

/// Runs `f` on a thread of its own with a single-threaded runtime, as an
/// HTTP worker runs requests.
fn on_worker_thread<T: Send + 'static>(f: impl AsyncFnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f())
    })
    .join()
    .unwrap()
}

async fn split_pool() -> (TestDatabase, Database) {
    let admin = std::env::var("RIVET_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let guard = TestDatabase::postgres(&admin).await.expect("PostgreSQL for tests");
    let db = Database::connect(&DbOptions {
        max_connections: 5,
        worker_threads: 2,
        acquire_timeout: Duration::from_millis(300),
        ..DbOptions::new(guard.url())
    })
    .unwrap();
    (guard, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_worker_thread_keeps_to_its_own_connections() {
    let (_guard, db) = split_pool().await;
    // Two workers' shares and one for other work: 5 connections in all.
    assert_eq!(db.pool_status().max_size, 5);

    let used_by = |db: Database| {
        on_worker_thread(async move || {
            let mut pids = BTreeSet::new();
            for _ in 0..20 {
                pids.insert(backend_pid(&db).await);
            }
            pids
        })
    };
    let first = used_by(db.clone());
    let second = used_by(db.clone());
    // One request at a time: each worker reuses the one connection it opened.
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(first.is_disjoint(&second), "two workers shared a connection: {first:?} {second:?}");
    // This (multi-threaded) runtime's work has a share of its own too.
    let other = backend_pid(&db).await;
    assert!(!first.contains(&other) && !second.contains(&other), "{other} {first:?} {second:?}");
    assert_eq!(db.pool_status().size, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_share_is_busy_borrows_an_idle_connection() {
    let (_guard, db) = split_pool().await;
    let Pool::Postgres(pool) = db.pool().clone() else { panic!("a PostgreSQL pool") };
    // This test's runtime opens one connection, idle in its share after.
    let idle = backend_pid(&db).await;

    let borrowed = on_worker_thread(async move || {
        // The worker's share is two connections: hold both.
        let held = [pool.get().await.unwrap(), pool.get().await.unwrap()];
        // A third comes at once: the other work's idle one.
        let started = Instant::now();
        let third = backend_pid(&db).await;
        let waited = started.elapsed();
        drop(held);
        (third, waited)
    });
    assert_eq!(borrowed.0, idle, "the idle connection of another share serves");
    assert!(borrowed.1 < Duration::from_millis(300), "waited {:?} (the acquire timeout is 300 ms)", borrowed.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_share_busy_a_worker_waits_within_the_acquire_timeout() {
    let (_guard, db) = split_pool().await;
    let Pool::Postgres(pool) = db.pool().clone() else { panic!("a PostgreSQL pool") };
    let answer = on_worker_thread(async move || {
        let _held = [pool.get().await.unwrap(), pool.get().await.unwrap()];
        // No other share has a connection open, let alone idle: wait, then
        // fail as unavailable (a 503 to the client), not hang.
        let started = Instant::now();
        let result = with_conn!(db, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?;
            Ok(())
        });
        (result.is_err(), started.elapsed())
    });
    assert!(answer.0, "a fourth connection beyond the worker's share of two");
    assert!(answer.1 >= Duration::from_millis(250) && answer.1 < Duration::from_secs(3), "{:?}", answer.1);
}
