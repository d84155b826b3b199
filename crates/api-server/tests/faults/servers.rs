//! Servers of a scenario's own, removed when dropped: a PostgreSQL cluster
//! (to stop, restart or kill under Rivet) and a Redis server (to kill).

use crate::harness::{Dir, free_port, is_root, sh};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A PostgreSQL cluster of the test's own, on a free port, removed on drop.
pub struct Cluster {
    pub port: u16,
    data: PathBuf,
    _dir: Dir,
    bin: PathBuf,
    as_postgres: bool,
}

impl Cluster {
    /// `initdb` and start. Run as root, the cluster belongs to `postgres`.
    pub fn create() -> Self {
        let bin = postgres_bin();
        let dir = Dir::new("pg");
        let as_postgres = is_root();
        let data = dir.path().join("data");
        if as_postgres {
            sh(Command::new("chown").args(["-R", "postgres:postgres", &dir.path().display().to_string()]));
        }
        let cluster = Self { port: free_port(), data, _dir: dir, bin, as_postgres };
        cluster.pg(
            "initdb",
            &["-D", &cluster.data.display().to_string(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
        );
        cluster.start();
        cluster
    }

    fn pg_command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        cmd.current_dir("/tmp");
        cmd
    }

    fn pg(&self, tool: &str, args: &[&str]) -> String {
        sh(self.pg_command(tool).args(args))
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=60",
            self.port
        );
        let log = self.data.with_file_name("postgres.log").display().to_string();
        self.pg("pg_ctl", &["-D", &self.data.display().to_string(), "-o", &options, "-l", &log, "-w", "start"]);
    }

    /// `pg_ctl stop -m mode` (`fast`, `immediate`), waiting until it is down.
    pub fn stop(&self, mode: &str) {
        self.pg("pg_ctl", &["-D", &self.data.display().to_string(), "-m", mode, "-w", "stop"]);
    }

    /// Creates a database and returns its URL.
    pub fn database(&self, name: &str) -> String {
        self.pg("createdb", &["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", name]);
        self.url(name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = self.pg_command("pg_ctl").args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}

/// The directory of PostgreSQL's server programs (`initdb`, `pg_ctl`).
fn postgres_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("RIVET_TEST_PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path().join("bin")).filter(|p| p.join("pg_ctl").exists()).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .expect("PostgreSQL's server programs (initdb, pg_ctl) under /usr/lib/postgresql/*/bin, or RIVET_TEST_PG_BIN")
}

/// A Redis server of the test's own, on a free port.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Self {
        let mut redis = Self { port: free_port(), child: None };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it (again, on the same port) and waits until it answers.
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`: the server and everything in it are gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
