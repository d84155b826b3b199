//! `schema.rs` must describe exactly what the migrations create: the same
//! tables and the same columns, on both backends. Column types are checked
//! by the repository tests, which read every column of every row type back.

use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rivet_persistence::schema::{
    advisory_locks, api_keys, attachments, event_horizon, event_tickets, events, idempotency_keys, jobs,
    one_time_tokens, product_images, products, refresh_tokens, sessions, stock_adjustments, todo_tags, todos, users,
};
use rivet_persistence::testing::TestDatabase;
use rivet_persistence::{Database, DbOptions, with_conn};
use std::collections::{BTreeMap, BTreeSet};

type Tables = BTreeMap<String, BTreeSet<String>>;

/// Column names of a `SELECT` of every column, as diesel writes it.
fn columns<Q: diesel::query_builder::QueryFragment<Pg>>(query: Q) -> BTreeSet<String> {
    let sql = diesel::debug_query::<Pg, _>(&query).to_string();
    let select = sql.split(" FROM ").next().unwrap().trim_start_matches("SELECT ");
    select.split(", ").map(|c| c.rsplit('.').next().unwrap().trim_matches('"').to_owned()).collect()
}

fn declared() -> Tables {
    BTreeMap::from([
        ("users".into(), columns(users::table.select(users::all_columns))),
        ("sessions".into(), columns(sessions::table.select(sessions::all_columns))),
        ("refresh_tokens".into(), columns(refresh_tokens::table.select(refresh_tokens::all_columns))),
        ("advisory_locks".into(), columns(advisory_locks::table.select(advisory_locks::all_columns))),
        ("todos".into(), columns(todos::table.select(todos::all_columns))),
        ("todo_tags".into(), columns(todo_tags::table.select(todo_tags::all_columns))),
        ("products".into(), columns(products::table.select(products::all_columns))),
        ("stock_adjustments".into(), columns(stock_adjustments::table.select(stock_adjustments::all_columns))),
        ("idempotency_keys".into(), columns(idempotency_keys::table.select(idempotency_keys::all_columns))),
        ("api_keys".into(), columns(api_keys::table.select(api_keys::all_columns))),
        ("jobs".into(), columns(jobs::table.select(jobs::all_columns))),
        ("one_time_tokens".into(), columns(one_time_tokens::table.select(one_time_tokens::all_columns))),
        ("attachments".into(), columns(attachments::table.select(attachments::all_columns))),
        ("product_images".into(), columns(product_images::table.select(product_images::all_columns))),
        ("events".into(), columns(events::table.select(events::all_columns))),
        ("event_horizon".into(), columns(event_horizon::table.select(event_horizon::all_columns))),
        ("event_tickets".into(), columns(event_tickets::table.select(event_tickets::all_columns))),
    ])
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

async fn migrated(db: &TestDatabase) -> Tables {
    let database = Database::connect(&DbOptions::new(db.url())).unwrap();
    database.migrate().await.unwrap();
    let rows: Vec<Column> = (async {
        with_conn!(database, |conn| {
            let sql = match database.backend() {
                rivet_persistence::Backend::Postgres => {
                    "SELECT table_name::text AS table_name, column_name::text AS column_name \
                     FROM information_schema.columns WHERE table_schema = 'public'"
                }
                rivet_persistence::Backend::Sqlite => {
                    "SELECT m.name AS table_name, p.name AS column_name \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"
                }
            };
            Ok::<_, rivet_persistence::Error>(diesel::sql_query(sql).load(conn).await?)
        })
    })
    .await
    .unwrap();
    database.close();
    let mut tables = Tables::new();
    for c in rows.into_iter().filter(|c| !c.table_name.starts_with("__diesel") && !c.table_name.starts_with("sqlite_"))
    {
        tables.entry(c.table_name).or_default().insert(c.column_name);
    }
    tables
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_matches_the_sqlite_migrations() {
    let db = TestDatabase::sqlite().unwrap();
    assert_eq!(migrated(&db).await, declared(), "schema.rs (right) differs from migrations/sqlite (left)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_matches_the_postgres_migrations() {
    let admin = std::env::var("RIVET_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = TestDatabase::postgres(&admin).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(migrated(&db).await, declared(), "schema.rs (right) differs from migrations/postgres (left)");
}
