//! Events across instances, from outside: an event raised on one instance
//! reaches subscribers on another (PostgreSQL NOTIFY, Redis, SQLite's poll),
//! and the fan-out channel dropping — the listener's connection killed, the
//! Redis subscription killed — loses nothing.

use crate::streams::new_todo;
use rivet_domain::Role;
use rivet_e2e::streams::WAIT;
use rivet_e2e::{Backend, TestApp};
use rivet_persistence::{Database, DbOptions};
use serde_json::json;
use std::time::{Duration, Instant};

async fn an_event_raised_on_one_instance_reaches_subscribers_on_another(first: TestApp) {
    let second = TestApp::start(first.settings.clone(), first.backend).await;
    let (_, ada) = first.signed_in_as("ada@example.com", Role::User).await;
    let mut on_second = second.socket_with_bearer(&ada.access).await;
    let started = Instant::now();
    let todo = new_todo(&first, &ada, "crosses over").await;
    let event = on_second.json().await;
    assert_eq!(event["data"]["id"], todo["id"]);
    let waited = started.elapsed();
    println!("delivered on the other instance after {waited:?}");
    // On PostgreSQL the poll is set far beyond the wait: only the NOTIFY
    // wake-up can have delivered it. SQLite's memory fan-out leaves it to the
    // poll (`[events] poll_interval_ms`, 1 s by default).
    assert!(waited < CROSS_INSTANCE_WAIT, "{waited:?}");
}

/// How long a cross-instance delivery may take on a loaded CI machine; on
/// PostgreSQL far less than [`NO_POLL_MS`], so that only the wake-up passes.
const CROSS_INSTANCE_WAIT: Duration = Duration::from_secs(10);
const NO_POLL_MS: u64 = 120_000;

mod across_instances {
    use rivet_e2e::{Backend, TestApp};
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::an_event_raised_on_one_instance_reaches_subscribers_on_another(TestApp::spawn(Backend::Sqlite).await)
            .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let app = TestApp::spawn_with(Backend::Postgres, |s| s.events.poll_interval_ms = super::NO_POLL_MS).await;
        super::an_event_raised_on_one_instance_reaches_subscribers_on_another(app).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pgbouncer() {
        let app = TestApp::spawn_with(Backend::PgBouncer, |s| s.events.poll_interval_ms = super::NO_POLL_MS).await;
        super::an_event_raised_on_one_instance_reaches_subscribers_on_another(app).await;
    }
}

/// The fan-out channel dropping: the listener's connection is killed (as a
/// PostgreSQL restart or failover would); events raised meanwhile still
/// arrive, and the listener comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_listener_dropping_loses_nothing() {
    let first = TestApp::spawn(Backend::Postgres).await;
    let second = TestApp::start(first.settings.clone(), Backend::Postgres).await;
    let (_, ada) = first.signed_in_as("ada@example.com", Role::User).await;
    let mut ws = second.socket_with_bearer(&ada.access).await;
    let db = Database::connect(&DbOptions::new(&first.settings.database.url)).unwrap();
    let killed = kill_listeners(&db).await;
    assert!(killed >= 2, "each instance listens ({killed})");
    let during = new_todo(&first, &ada, "while the channel is down").await;
    assert_eq!(ws.json().await["data"]["id"], during["id"], "the poll delivers it");
    let back = rivet_e2e::eventually(WAIT, async || listeners(&db).await >= 2).await;
    assert!(back.is_some(), "the listeners reconnect");
    let started = Instant::now();
    let after = new_todo(&first, &ada, "after").await;
    assert_eq!(ws.json().await["data"]["id"], after["id"]);
    assert!(started.elapsed() < Duration::from_millis(900), "woken by NOTIFY again: {:?}", started.elapsed());
    db.close();
}

async fn listeners(db: &Database) -> i64 {
    scalar(db, "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        .await
}

async fn kill_listeners(db: &Database) -> i64 {
    scalar(db, "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").await
}

async fn scalar(db: &Database, sql: &str) -> i64 {
    use diesel::QueryableByName;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rivet_persistence::db::Pool::Postgres(pool) = db.pool() else { panic!("a PostgreSQL database") };
    let mut conn = pool.get().await.unwrap();
    let rows: Vec<N> = diesel_async::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).await.unwrap();
    rows[0].n
}

/// The Redis fan-out: two instances told by Redis, and its subscription
/// dropping (`CLIENT KILL TYPE pubsub`, as a Redis restart would) loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_fan_out_crosses_instances_and_survives_losing_its_subscription() {
    let redis = std::env::var("RIVET_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let first = TestApp::spawn_with(Backend::Postgres, |s| {
        s.events.backend = rivet_app::settings::EventBackend::Redis;
        s.events.redis_url = serde_json::from_value(json!(redis)).unwrap();
    })
    .await;
    let second = TestApp::start(first.settings.clone(), Backend::Postgres).await;
    let (_, ada) = first.signed_in_as("ada@example.com", Role::User).await;
    let mut ws = second.socket_with_bearer(&ada.access).await;
    let started = Instant::now();
    let todo = new_todo(&first, &ada, "over redis").await;
    assert_eq!(ws.json().await["data"]["id"], todo["id"]);
    assert!(started.elapsed() < Duration::from_millis(900), "woken by redis: {:?}", started.elapsed());

    let client = redis::Client::open(redis.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub").query_async(&mut conn).await.unwrap();
    let during = new_todo(&first, &ada, "while redis is away").await;
    assert_eq!(ws.json().await["data"]["id"], during["id"], "nothing is missed");
}
