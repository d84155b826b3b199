//! The two statement modes of Rivet's PostgreSQL connection, seen from the
//! server: with `Pooler::None` the session keeps named prepared statements
//! (the fast path); with `Pooler::Transaction` it keeps none, whatever ran,
//! so a transaction-mode pooler can hand each statement to any server.

use super::common;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use rivet_domain::Role;
use rivet_domain::collection::{PageRequest, Sort, Start};
use rivet_domain::ports::{TodoRepository, UserRepository};
use rivet_domain::time::now;
use rivet_domain::todo::*;
use rivet_persistence::testing::TestDatabase;
use rivet_persistence::{Database, DbOptions, Pooler, TodoStore, UserStore, with_conn};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs reads and writes through one pooled connection and returns how many
/// prepared statements its server session holds afterwards.
async fn statements_kept(pooler: Pooler) -> i64 {
    let admin = std::env::var("RIVET_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let guard = TestDatabase::postgres(&admin).await.expect("PostgreSQL for tests");
    let db = Database::connect(&DbOptions { max_connections: 1, pooler, ..DbOptions::new(guard.url()) }).unwrap();
    db.migrate().await.expect("migrations apply");
    let (users, todos) = (UserStore::new(db.clone()), TodoStore::new(db.clone()));
    let user = common::new_user("ada@example.com", Role::User);
    users.insert(user.clone()).await.unwrap();
    for i in 0..3 {
        let todo = NewTodo {
            id: TodoId::new(),
            owner_id: user.id,
            title: TodoTitle::parse(&format!("todo {i}")).unwrap(),
            description: None,
            status: Status::Pending,
            priority: Priority::Medium,
            due_date: None,
            tags: vec![Tag::parse("home").unwrap()],
            created_at: now(),
        };
        let id = todo.id;
        todos.insert(todo).await.unwrap();
        assert!(todos.find(user.id, id).await.unwrap().is_some());
    }
    let query = TodoQuery {
        filter: TodoFilter { today: now().date_naive(), ..Default::default() },
        sort: Sort::by(TodoSort::CreatedAt, true),
        page: PageRequest { limit: 10, start: Start::First, include_total: true },
    };
    assert_eq!(todos.list(user.id, &query).await.unwrap().total, Some(3));
    let kept = with_conn!(db, |conn| {
        let count: Count =
            diesel::sql_query("SELECT count(*) AS n FROM pg_prepared_statements").get_result(conn).await?;
        Ok(count.n)
    })
    .unwrap();
    db.close();
    kept
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_pooler_connection_keeps_no_prepared_statement_and_a_direct_one_does() {
    let direct = statements_kept(Pooler::None).await;
    assert!(direct > 3, "prepared statements are reused on a direct connection: {direct}");
    assert_eq!(statements_kept(Pooler::Transaction).await, 0, "nothing outlives a statement behind a pooler");
}
