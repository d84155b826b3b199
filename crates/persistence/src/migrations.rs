//! Embedded migrations, one set per backend, applied at startup (unless
//! `[database] run_migrations = false`) or by `rivet migrate`.

use crate::db::{Database, Pool};
use crate::error::{Error, Result};
use diesel_async::AsyncMigrationHarness;
#[cfg(feature = "postgres")]
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

#[cfg(feature = "postgres")]
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
#[cfg(feature = "sqlite")]
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Key of the PostgreSQL advisory lock held while migrating, so instances
/// starting together on a fresh database do not race (diesel takes no lock).
#[cfg(feature = "postgres")]
const MIGRATION_LOCK_KEY: i64 = 0x5249_5645_545f_4d47; // "RIVET_MG"

/// How often an instance waiting for another's migrations tries again.
#[cfg(feature = "postgres")]
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(200);

/// Opens a transaction on `conn` that holds the migration lock, waiting
/// while another instance holds it. A waiter tries and rolls back rather
/// than blocking inside a transaction, so waiters pin no pooler server that
/// the migrating instance may need.
#[cfg(feature = "postgres")]
async fn take_migration_lock(conn: &mut crate::PgConn) -> Result<()> {
    let try_lock = format!("pg_try_advisory_xact_lock({MIGRATION_LOCK_KEY})");
    let mut said = false;
    loop {
        conn.batch_execute("BEGIN").await?;
        let taken: bool =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&try_lock)).get_result(conn).await?;
        if taken {
            return Ok(());
        }
        conn.batch_execute("ROLLBACK").await?;
        if !said {
            tracing::info!("another instance is migrating the database; waiting for it");
            said = true;
        }
        tokio::time::sleep(LOCK_RETRY).await;
    }
}

/// Runs `harness` work on a blocking thread: diesel's migration harness is
/// synchronous and must not stall an async worker.
async fn run_blocking<C>(conn: C, migrations: EmbeddedMigrations) -> Result<(C, Vec<String>)>
where
    C: diesel_async::AsyncConnection + Send + 'static,
    AsyncMigrationHarness<C>: MigrationHarness<C::Backend>,
{
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        let applied = harness
            .run_pending_migrations(migrations)
            .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e| Error::Migration(e.to_string()));
        (harness.into_inner(), applied)
    })
    .await
    .map_err(|e| Error::Migration(format!("migration task failed: {e}")))
    .and_then(|(conn, applied)| Ok((conn, applied?)))
}

impl Database {
    /// Applies pending migrations and returns the versions applied.
    ///
    /// # Errors
    /// [`Error::Migration`] when a migration fails; connection errors.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        match self.pool() {
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => {
                let session = self.session().ok_or_else(|| Error::Setup("no PostgreSQL session target".into()))?;
                // The lock lives in a transaction of a connection of its
                // own, and migrations run on another: no session state is
                // involved, so this holds through a transaction-mode pooler
                // too (a pooler keeps a transaction on one server).
                let mut lock = session.connect().await?;
                take_migration_lock(&mut lock).await?;
                let (_, applied) = run_blocking(session.connect().await?, POSTGRES).await?;
                lock.batch_execute("COMMIT").await?;
                Ok(applied)
            }
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                let conn = pool.get().await?;
                Ok(run_blocking(conn, SQLITE).await?.1)
            }
        }
    }
}
