//! Throwaway databases for tests: a fresh one per test, removed afterwards.
//! Used by this crate's repository tests and by the end-to-end suite.

use crate::error::{Error, Result};
#[cfg(feature = "postgres")]
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    #[cfg(feature = "postgres")]
    Postgres {
        admin_url: String,
        name: String,
    },
    Sqlite {
        dir: std::path::PathBuf,
    },
}

impl TestDatabase {
    #[cfg(feature = "postgres")]
    /// Creates an empty PostgreSQL database through `admin_url` (a URL to an
    /// existing database on the server, such as `postgres`).
    ///
    /// # Errors
    /// When the server cannot be reached, with a hint on how to start it.
    pub async fn postgres(admin_url: &str) -> Result<Self> {
        let name = format!("rivet_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = AsyncPgConnection::establish(admin_url).await.map_err(|e| {
            Error::Setup(format!(
                "PostgreSQL at {admin_url} is unreachable ({e}); start it with \
                 `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                 or point RIVET_TEST_DATABASE_URL at a running server"
            ))
        })?;
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        let query = admin_url.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
        let base = base.split_once('?').map_or(base, |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}{query}"),
            cleanup: Cleanup::Postgres { admin_url: admin_url.to_owned(), name },
        })
    }

    /// Creates an empty SQLite database file in a fresh temporary directory.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn sqlite() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("rivet_test_{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::Setup(e.to_string()))?;
        Ok(Self { url: format!("sqlite://{}", dir.join("rivet.db").display()), cleanup: Cleanup::Sqlite { dir } })
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            #[cfg(feature = "postgres")]
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside a runtime; a thread of its own can block.
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    rt.block_on(async {
                        let mut conn = AsyncPgConnection::establish(&admin_url).await.ok()?;
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut conn)
                            .await
                            .ok()
                    })
                })
                .join();
                if !matches!(dropped, Ok(Some(_))) {
                    eprintln!("warning: could not drop test database; remove it by hand if it is still there");
                }
            }
        }
    }
}
