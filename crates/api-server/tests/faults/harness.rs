//! What every fault scenario needs: `rivet serve` as a process and an HTTP
//! client that records every answer (throwaway PostgreSQL clusters and
//! Redis servers are in [`crate::servers`]).

use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: the one cargo built for this test run, or
/// `RIVET_FAULTS_BIN` (say, `target/release/rivet`).
/// A relative `RIVET_FAULTS_BIN` is taken from the workspace root, since
/// servers run in directories of their own.
pub fn bin() -> PathBuf {
    let Some(chosen) = std::env::var_os("RIVET_FAULTS_BIN").map(PathBuf::from) else {
        return PathBuf::from(env!("CARGO_BIN_EXE_rivet"));
    };
    if chosen.is_absolute() {
        return chosen;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(chosen)
}
pub const PASSWORD: &str = "correct horse battery staple";

/// A directory removed when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(label: &str) -> Self {
        let p = std::env::temp_dir().join(format!("rivet_faults_{label}_{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn postgres_admin_url() -> String {
    std::env::var("RIVET_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Runs a command to completion; panics with its output when it fails.
pub fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} cannot run: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `rivet serve` as a process of its own, its log in a file.
pub struct Rivet {
    child: Child,
    pub port: u16,
    pub base: String,
    log: PathBuf,
}

impl Rivet {
    /// The environment every scenario's server gets; `extra` overrides it.
    fn command(mode: &str, dir: &Path, database_url: &str, port: u16, extra: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(bin());
        let defaults = [
            ("RIVET_ENV", "development".to_owned()),
            ("DATABASE_URL", database_url.to_owned()),
            ("RIVET__SERVER__HOST", "127.0.0.1".to_owned()),
            ("RIVET__SERVER__PORT", port.to_string()),
            ("RIVET__SERVER__SHUTDOWN_TIMEOUT_SECS", "10".to_owned()),
            ("RIVET__LOG__LEVEL", "warn".to_owned()),
            ("RIVET__RATE_LIMIT__ENABLED", "false".to_owned()),
            ("RIVET__AUTH__BCRYPT_COST", "4".to_owned()),
            ("RIVET__JOBS__POLL_INTERVAL_MS", "200".to_owned()),
            ("RIVET__STORAGE__DIR", dir.join("files").display().to_string()),
            ("RIVET__EMAIL__FILE_DIR", dir.join("mail").display().to_string()),
        ];
        cmd.arg(mode).current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in defaults {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts a server on a free port and waits until it answers `/health/live`.
    pub async fn start(dir: &Path, database_url: &str, extra: &[(&str, &str)]) -> Self {
        Self::start_on(dir, database_url, free_port(), extra).await
    }

    pub async fn start_on(dir: &Path, database_url: &str, port: u16, extra: &[(&str, &str)]) -> Self {
        let log = dir.join(format!("serve-{port}-{}.log", uuid::Uuid::now_v7().simple()));
        let file = std::fs::File::create(&log).unwrap();
        let child = Self::command("serve", dir, database_url, port, extra)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("rivet serve starts");
        let mut server = Self { child, port, base: format!("http://127.0.0.1:{port}"), log };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{}/health/live", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("rivet serve exited ({status}) before answering:\n{}", server.log());
            }
            assert!(Instant::now() < deadline, "rivet serve did not answer within 60 s:\n{}", server.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts `rivet worker` (jobs only, no HTTP) with the same environment.
    pub fn worker(dir: &Path, database_url: &str, extra: &[(&str, &str)]) -> Self {
        let log = dir.join(format!("worker-{}.log", uuid::Uuid::now_v7().simple()));
        let file = std::fs::File::create(&log).unwrap();
        let child = Self::command("worker", dir, database_url, 0, extra)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("rivet worker starts");
        Self { child, port: 0, base: String::new(), log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn signal(&self, signal: &str) {
        sh(Command::new("kill").args([signal, &self.pid().to_string()]));
    }

    /// The exit status, if the process ends within `within`.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Rivet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer, as a client saw it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: Value,
    pub text: String,
    pub elapsed: Duration,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_problem(&self) -> bool {
        self.content_type.starts_with("application/problem+json") && self.body["status"] == self.status
    }

    /// A 503 as the contract has it: problem+json with `Retry-After`.
    pub fn is_proper_503(&self) -> bool {
        self.status == 503 && self.is_problem() && self.retry_after.as_deref().is_some_and(|r| r.parse::<u64>().is_ok())
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}) in {:?}: {}", self.status, self.content_type, self.elapsed, self.text)
    }
}

/// Sends a request; a transport failure is `Err` with its description.
pub async fn call(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<Answer, String> {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    send(request).await
}

/// Sends a built request and reads its answer.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Answer, String> {
    let started = Instant::now();
    let response = request.send().await.map_err(|e| format!("{e:?}"))?;
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header("content-type").unwrap_or_default();
    let retry_after = header("retry-after");
    let headers = response.headers().clone();
    let text = response.text().await.map_err(|e| format!("{e:?}"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Answer { status, headers, content_type, retry_after, body, text, elapsed: started.elapsed() })
}

/// Uploads `bytes` as an attachment of `todo` (multipart, written by hand).
pub async fn upload(client: &reqwest::Client, base: &str, token: &str, todo: &str, bytes: &[u8]) -> Answer {
    let boundary = "rivet-faults-boundary";
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"blob.bin\"\r\ncontent-type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = client
        .post(format!("{base}/api/v1/todos/{todo}/attachments"))
        .bearer_auth(token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body);
    send(request).await.expect("an answer to the upload")
}

/// The messages the `file` mail transport wrote to `to` under `dir`.
pub fn mails_to(dir: &Path, to: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let header = format!("\r\nto: {}\r\n", to.to_lowercase());
    entries
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter(|m| m.to_lowercase().contains(&header))
        .count()
}

/// Waits up to 30 s for at least one message to each of `emails` under
/// `dir`; returns those that got none.
pub async fn unsent_mails<'a>(dir: &Path, emails: &'a [String]) -> Vec<&'a String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut unsent: Vec<&String> = emails.iter().collect();
    while !unsent.is_empty() && Instant::now() < deadline {
        unsent.retain(|email| mails_to(dir, email) == 0);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    unsent
}

/// Registers a fresh account and returns its access token.
pub async fn account(base: &str) -> String {
    let client = reqwest::Client::new();
    let email = format!("faults-{}@example.com", uuid::Uuid::now_v7().simple());
    let credentials = json!({ "email": email, "password": PASSWORD });
    let r =
        call(&client, Method::POST, &format!("{base}/api/v1/auth/register"), None, Some(&credentials)).await.unwrap();
    assert_eq!(r.status, 201, "registration: {r}");
    let r = call(&client, Method::POST, &format!("{base}/api/v1/auth/login"), None, Some(&credentials)).await.unwrap();
    assert_eq!(r.status, 200, "login: {r}");
    r.body["access_token"].as_str().unwrap().to_owned()
}

/// The titles of all of `token`'s todos, page by page.
pub async fn todo_titles(base: &str, token: &str) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut titles = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/api/v1/todos?limit=100&cursor={c}"),
            None => format!("{base}/api/v1/todos?limit=100"),
        };
        let r = call(&client, Method::GET, &url, Some(token), None).await.unwrap();
        assert_eq!(r.status, 200, "listing todos: {r}");
        for item in r.body["items"].as_array().unwrap() {
            titles.push(item["title"].as_str().unwrap().to_owned());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return titles,
        }
    }
}

/// Percentile `p` (0–100) of `sorted`.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
