//! Shared by the repository tests: a fresh database of each backend per test.

#![allow(dead_code)]

use rivet_domain::time::now;
use rivet_domain::{Email, NewUser, Role, UserId};
use rivet_persistence::testing::TestDatabase;
use rivet_persistence::{Database, DbOptions, IdempotencyRecords, SessionStore, TodoStore, UserStore};

pub struct Stores {
    pub users: UserStore,
    pub sessions: SessionStore,
    pub todos: TodoStore,
    pub idempotency: IdempotencyRecords,
    pub db: Database,
    _guard: TestDatabase,
}

/// Closing the pool before the database is removed; being `Drop`, a test body
/// also captures `Stores` whole, so the database outlives the test.
impl Stores {
    /// The test database's URL, for raw connections of its own.
    pub fn url(&self) -> &str {
        self._guard.url()
    }
}

impl Drop for Stores {
    fn drop(&mut self) {
        self.db.close();
    }
}

pub async fn stores(backend: &str) -> Stores {
    let guard = match backend {
        "postgres" => {
            let admin = std::env::var("RIVET_TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            TestDatabase::postgres(&admin).await.expect("PostgreSQL for tests")
        }
        _ => TestDatabase::sqlite().expect("temporary SQLite database"),
    };
    let db = Database::connect(&DbOptions::new(guard.url())).expect("pool");
    db.migrate().await.expect("migrations apply");
    Stores {
        users: UserStore::new(db.clone()),
        sessions: SessionStore::new(db.clone()),
        todos: TodoStore::new(db.clone()),
        idempotency: IdempotencyRecords::new(db.clone()),
        db,
        _guard: guard,
    }
}

pub fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        full_name: None,
        password_hash: "$2b$04$not-a-real-hash".into(),
        role,
        created_at: now(),
    }
}

/// Runs each named `async fn name(s: Stores)` beside the call (a plain
/// function rustfmt formats) as the tests `name::sqlite` and `name::postgres`,
/// each on a fresh database.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::stores("sqlite").await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::stores("postgres").await).await;
            }
        }
    )+};
}
