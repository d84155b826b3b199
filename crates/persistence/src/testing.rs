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

/// A PgBouncer in transaction mode (`default_pool_size = 4`) in front of a
/// PostgreSQL server, started from the `pgbouncer` program (Debian's
/// package) on a free loopback port, for tests that must prove Rivet works
/// behind a transaction-mode pooler. Every database of the server is
/// reachable through it by name. The process stops when this value drops,
/// or when the test process that started it exits.
#[derive(Debug)]
pub struct PgBouncer {
    port: u16,
    dir: std::path::PathBuf,
    child: std::process::Child,
}

impl PgBouncer {
    /// Starts one in front of the server `admin_url` names.
    ///
    /// # Errors
    /// When `pgbouncer` is not installed or does not come up, saying how to
    /// install it.
    pub fn start(admin_url: &str) -> Result<Self> {
        use std::io::Write;
        let after_scheme = admin_url.split_once("://").map_or(admin_url, |(_, r)| r);
        let authority = after_scheme.split(['/', '?']).next().unwrap_or("");
        let (user, host) = authority.rsplit_once('@').unwrap_or(("postgres", authority));
        let user = user.split(':').next().unwrap_or("postgres");
        let (host, upstream_port) = host.rsplit_once(':').unwrap_or((host, "5432"));
        let host = if host.is_empty() { "127.0.0.1" } else { host };
        let dir = std::env::temp_dir().join(format!("rivet_pgbouncer_{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::Setup(format!("pgbouncer directory: {e}")))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Error::Setup(format!("no free port: {e}")))?
            .port();
        let config = dir.join("pgbouncer.ini");
        let users = dir.join("users.txt");
        let write = |path: &std::path::Path, text: String| {
            std::fs::File::create(path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))
        };
        write(&users, format!("\"{user}\" \"\"\n"))?;
        write(
            &config,
            format!(
                "[databases]\n* = host={host} port={upstream_port}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
                 listen_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\n\
                 pool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 2000\n\
                 server_login_retry = 1\nlogfile =\npidfile =\n",
                users.display()
            ),
        )?;
        let log = std::fs::File::create(dir.join("pgbouncer.log"))
            .map_err(|e| Error::Setup(format!("pgbouncer log: {e}")))?;
        // PgBouncer refuses to run as root; drop to the `postgres` user then
        // (setpriv executes in place, so the pid stays PgBouncer's). A
        // watchdog shell stops it when the test process is gone.
        let as_root = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let program = if as_root {
            "setpriv --reuid=postgres --regid=postgres --clear-groups pgbouncer \"$1\""
        } else {
            "pgbouncer \"$1\""
        };
        let script = format!(
            "{program} & child=$!; while kill -0 \"$2\" 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done; \
             kill $child 2>/dev/null; wait"
        );
        let child = std::process::Command::new("sh")
            .args(["-c", &script, "sh"])
            .arg(&config)
            .arg(std::process::id().to_string())
            .stdout(log.try_clone().map_err(|e| Error::Setup(e.to_string()))?)
            .stderr(log)
            .spawn()
            .map_err(|e| Error::Setup(format!("cannot start pgbouncer: {e}")))?;
        let mut bouncer = Self { port, dir, child };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline || bouncer.child.try_wait().ok().flatten().is_some() {
                let log = std::fs::read_to_string(bouncer.dir.join("pgbouncer.log")).unwrap_or_default();
                return Err(Error::Setup(format!(
                    "pgbouncer did not start (install it: `apt-get install pgbouncer`): {}",
                    log.trim()
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(bouncer)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `database_url` (a URL on the upstream server) rewritten to go
    /// through this pooler: same user, database and parameters.
    pub fn url_for(&self, database_url: &str) -> String {
        let (scheme, rest) = database_url.split_once("://").unwrap_or(("postgres", database_url));
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(split);
        let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@")).unwrap_or_default();
        format!("{scheme}://{user}127.0.0.1:{}{tail}", self.port)
    }

    /// What PgBouncer logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // The shell's child is PgBouncer; ending the shell's loop stops it.
        let _ = std::process::Command::new("pkill").args(["-P", &self.child.id().to_string()]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
