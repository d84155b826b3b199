//! Embedded migrations, one set per backend, applied at startup (unless
//! `[database] run_migrations = false`) or by `rivet migrate`.

use crate::db::{Database, Pool};
use crate::error::{Error, Result};
use diesel_async::AsyncMigrationHarness;
#[cfg(feature = "postgres")]
use diesel_async::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

#[cfg(feature = "postgres")]
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
#[cfg(feature = "sqlite")]
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Key of the PostgreSQL advisory lock held while migrating, so instances
/// starting together on a fresh database do not race (diesel takes no lock).
#[cfg(feature = "postgres")]
const MIGRATION_LOCK_KEY: i64 = 0x5249_5645_545f_4d47; // "RIVET_MG"

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
            Pool::Postgres(pool) => {
                let mut conn = pool.get().await?;
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(&mut conn).await?;
                let result = run_blocking(conn, POSTGRES).await;
                // On failure the connection is gone with the error; PostgreSQL
                // releases a session's advisory locks when it closes.
                let (mut conn, applied) = result?;
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                    .execute(&mut conn)
                    .await?;
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
