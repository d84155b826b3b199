//! A real S3-compatible server for tests: moto's server (`moto[server]` from
//! PyPI, pinned in `moto-requirements.txt`), started on a free port and
//! stopped when dropped. The first use installs it into a virtualenv under
//! the workspace's `target/` (about 40 s, from PyPI); later runs reuse it.
//! `RIVET_TEST_MOTO_SERVER` names a `moto_server` executable to use instead.

use crate::S3Options;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Credentials moto accepts (it checks that requests are signed, not by whom).
pub const ACCESS_KEY: &str = "rivet-test";
pub const SECRET_KEY: &str = "rivet-test-secret";
pub const REGION: &str = "us-east-1";

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    python: PathBuf,
    pub endpoint: String,
}

/// One installation at a time when several test binaries start at once.
static INSTALL: Mutex<()> = Mutex::new(());

fn venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/moto-venv")
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// The `moto_server` executable and the Python beside it, installing them
/// when missing.
fn install() -> (PathBuf, PathBuf) {
    if let Ok(server) = std::env::var("RIVET_TEST_MOTO_SERVER") {
        let server = PathBuf::from(server);
        let python = server.with_file_name("python");
        return (server, python);
    }
    let _guard = INSTALL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = venv();
    let (server, python) = (dir.join("bin/moto_server"), dir.join("bin/python"));
    let marker = dir.join("installed.txt");
    let wanted = include_str!("../moto-requirements.txt");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted) {
        run(Command::new("python3").args(["-m", "venv"]).arg(&dir), "python3 -m venv (install python3-venv)");
        let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("moto-requirements.txt");
        run(
            Command::new(dir.join("bin/pip"))
                .args(["install", "-q", "--disable-pip-version-check", "-r"])
                .arg(requirements),
            "pip install moto[server] (needs PyPI)",
        );
        std::fs::write(&marker, wanted).expect("write the install marker");
    }
    (server, python)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Moto {
    /// Starts a fresh, empty server and waits until it answers.
    ///
    /// # Panics
    /// When moto cannot be installed or does not start within 30 s.
    pub fn start() -> Self {
        let (server, python) = install();
        let port = free_port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", server.display()));
        let moto = Self { child, python, endpoint: format!("http://127.0.0.1:{port}") };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Creates `bucket` (with boto3, installed beside moto).
    ///
    /// # Panics
    /// When moto refuses.
    pub fn create_bucket(&self, bucket: &str) {
        let script = format!(
            "import boto3; boto3.client('s3', endpoint_url='{}', aws_access_key_id='{ACCESS_KEY}', \
             aws_secret_access_key='{SECRET_KEY}', region_name='{REGION}').create_bucket(Bucket='{bucket}')",
            self.endpoint
        );
        run(Command::new(&self.python).args(["-c", &script]), "create the test bucket");
    }

    /// Options for `bucket` on this server.
    pub fn options(&self, bucket: &str) -> S3Options {
        S3Options {
            bucket: bucket.to_owned(),
            endpoint: Some(self.endpoint.clone()),
            region: Some(REGION.to_owned()),
            access_key_id: Some(ACCESS_KEY.to_owned()),
            secret_access_key: Some(SECRET_KEY.to_owned()),
            path_style: true,
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
