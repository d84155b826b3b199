//! Harness of Rivet's end-to-end suite: starts the real application (the
//! same `Application::build` as `rivet serve`) on port 0 over a fresh
//! database, and talks HTTP to it.
//!
//! PostgreSQL tests create a database through `RIVET_TEST_DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`) and drop it
//! afterwards; when the server is unreachable they fail and say how to
//! start it. SQLite tests use a file in a fresh temporary directory.

pub mod streams;

use actix_web::dev::ServerHandle;
use reqwest::header::HeaderMap;
use rivet_api_server::{Application, RunEnv, Settings, Sources};
use rivet_persistence::testing::TestDatabase;
use serde_json::{Value, json};
use std::fmt;
use std::path::PathBuf;

/// The database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// PostgreSQL through PgBouncer in transaction mode
    /// (`[database] pooler = "transaction"`, `direct_url` the database's own).
    PgBouncer,
}

impl Backend {
    /// Whether the database is PostgreSQL, directly or through the pooler.
    pub fn is_postgres(self) -> bool {
        self != Self::Sqlite
    }
}

/// The PgBouncer of this test process, started on first use.
pub fn pgbouncer() -> &'static rivet_persistence::testing::PgBouncer {
    static BOUNCER: std::sync::OnceLock<rivet_persistence::testing::PgBouncer> = std::sync::OnceLock::new();
    BOUNCER.get_or_init(|| {
        rivet_persistence::testing::PgBouncer::start(&postgres_admin_url()).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The admin URL PostgreSQL tests create their databases through.
pub fn postgres_admin_url() -> String {
    std::env::var("RIVET_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database of the given backend.
pub async fn test_database(backend: Backend) -> TestDatabase {
    match backend {
        Backend::Sqlite => TestDatabase::sqlite().expect("a temporary SQLite database"),
        Backend::Postgres | Backend::PgBouncer => {
            TestDatabase::postgres(&postgres_admin_url()).await.unwrap_or_else(|e| panic!("{e}"))
        }
    }
}

/// The test configuration for `backend` on `db`: through the pooler for
/// [`Backend::PgBouncer`], with the database's own URL as `direct_url`.
pub fn settings_for(backend: Backend, db: &TestDatabase) -> Settings {
    if backend != Backend::PgBouncer {
        return test_settings(db.url());
    }
    let mut settings = test_settings(&pgbouncer().url_for(db.url()));
    settings.database.direct_url = db.url().to_owned();
    settings.database.pooler = rivet_app::settings::PoolerMode::Transaction;
    settings
}

/// The test configuration: compiled defaults with `RIVET_ENV=test`, no
/// files, no process environment, port 0, one worker.
pub fn test_settings(database_url: &str) -> Settings {
    let sources = Sources::compiled(RunEnv::Test, "/nonexistent");
    let mut settings = Settings::load(&sources).expect("the compiled test settings load");
    settings.database.url = database_url.to_owned();
    settings.server.port = 0;
    settings.server.workers = 1;
    settings.server.shutdown_timeout_secs = 1;
    settings.email.file_dir = std::env::temp_dir().join(format!("rivet-mail-{}", uuid::Uuid::now_v7()));
    settings.storage.dir = std::env::temp_dir().join(format!("rivet-files-{}", uuid::Uuid::now_v7()));
    settings
}

/// One file part of a multipart upload.
#[derive(Debug, Clone)]
pub struct FilePart<'a> {
    pub field: &'a str,
    /// `None` sends a plain form field (no `filename`).
    pub filename: Option<&'a str>,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

impl FilePart<'_> {
    /// A part named `field` holding `bytes` as `filename`.
    pub fn file<'a>(field: &'a str, filename: &'a str, bytes: &'a [u8]) -> FilePart<'a> {
        FilePart { field, filename: Some(filename), content_type: "application/octet-stream", bytes }
    }

    /// The `Content-Type` header and the body.
    pub fn encode(&self) -> (String, Vec<u8>) {
        let boundary = format!("rivet-test-{}", uuid::Uuid::now_v7().simple());
        let mut body = Vec::new();
        let disposition = match self.filename {
            Some(name) => format!("form-data; name=\"{}\"; filename=\"{name}\"", self.field),
            None => format!("form-data; name=\"{}\"", self.field),
        };
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {}\r\n\r\n",
                self.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(self.bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}

/// A reply, with the body parsed as JSON when it is JSON.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as received (`text` is its lossy UTF-8 reading).
    pub bytes: Vec<u8>,
}

impl Reply {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The problem `code`, if the reply is a problem.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.text)
    }
}

/// Access and refresh token of a session.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// A running application over its own database.
#[derive(Debug)]
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub settings: Settings,
    handle: ServerHandle,
    db: Option<TestDatabase>,
}

impl TestApp {
    /// Starts the application on a fresh database.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the application on a fresh database, after `tweak` adjusts the settings.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        let db = test_database(backend).await;
        let mut settings = settings_for(backend, &db);
        tweak(&mut settings);
        let mut app = Self::start(settings, backend).await;
        app.db = Some(db);
        app
    }

    /// Starts another instance with exactly these settings (for example on
    /// the database of a running one).
    pub async fn start(settings: Settings, backend: Backend) -> Self {
        let app = Application::build(&settings).await.unwrap_or_else(|e| panic!("the application starts: {e}"));
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("HTTP client");
        Self { base, client, backend, settings, handle, db: None }
    }

    /// Sends a request built by `build` and collects the reply.
    pub async fn send(&self, build: reqwest::RequestBuilder) -> Reply {
        let res = build.send().await.expect("the request reaches the server");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("the body is readable").to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body, text, bytes }
    }

    /// A request builder for `method` on `path`, with a bearer token when given.
    pub fn request(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(reqwest::Method::GET, path, token)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(reqwest::Method::DELETE, path, token)).await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Reply {
        self.send(self.request(reqwest::Method::POST, path, token).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> Reply {
        self.send(self.request(reqwest::Method::PATCH, path, token).json(body)).await
    }

    /// Sends a `multipart/form-data` body of one file part (`field`, with
    /// `filename` when given) by `method` to `path`.
    pub async fn upload(&self, method: reqwest::Method, path: &str, part: &FilePart<'_>, token: Option<&str>) -> Reply {
        let (content_type, body) = part.encode();
        self.send(self.request(method, path, token).header("content-type", content_type).body(body)).await
    }

    /// The files under the local storage directory (blobs and any staging
    /// files), for checks that nothing is left behind.
    pub fn stored_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() { walk(&path, out) } else { out.push(path) }
            }
        }
        let mut out = Vec::new();
        walk(&self.settings.storage.dir, &mut out);
        out
    }

    /// Registers an account and returns the user body.
    pub async fn register(&self, email: &str, password: &str) -> Value {
        let r = self.post("/api/v1/auth/register", &json!({ "email": email, "password": password }), None).await;
        assert_eq!(r.status, 201, "registration of {email} should succeed: {r}");
        r.body
    }

    /// Logs in and returns the tokens.
    pub async fn login(&self, email: &str, password: &str) -> Tokens {
        let r = self.post("/api/v1/auth/login", &json!({ "email": email, "password": password }), None).await;
        assert_eq!(r.status, 200, "login of {email} should succeed: {r}");
        Tokens {
            access: r.body["access_token"].as_str().expect("access_token").to_owned(),
            refresh: r.body["refresh_token"].as_str().expect("refresh_token").to_owned(),
        }
    }

    /// Registers and logs in a `user`.
    pub async fn signed_in_user(&self, email: &str) -> (Value, Tokens) {
        let user = self.register(email, PASSWORD).await;
        (user, self.login(email, PASSWORD).await)
    }

    /// Creates an account with `role` the way an operator does (`rivet user
    /// create`), logs it in and returns the user id and tokens.
    pub async fn signed_in_as(&self, email: &str, role: rivet_domain::Role) -> (String, Tokens) {
        let services = rivet_app::Services::build(&self.settings).await.expect("services");
        let input =
            rivet_domain::accounts::Registration { email: email.into(), password: PASSWORD.into(), full_name: None };
        let user = services.accounts.create(input, role).await.expect("operator creates the account");
        services.db.close();
        (user.id.to_string(), self.login(email, PASSWORD).await)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stop the server before its database goes away.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
        // The instance that owns the database also owns its mail folder.
        if self.db.is_some() {
            let _ = std::fs::remove_dir_all(&self.settings.email.file_dir);
            let _ = std::fs::remove_dir_all(&self.settings.storage.dir);
        }
    }
}

impl TestApp {
    /// The raw messages the `file` transport wrote to `to`, oldest first.
    pub fn emails_to(&self, to: &str) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(&self.settings.email.file_dir) else { return Vec::new() };
        let mut files: Vec<PathBuf> = dir
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        let header = format!("\r\nto: {}\r\n", to.to_lowercase());
        files
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter(|m| m.to_lowercase().contains(&header))
            .map(|m| quoted_printable_decoded(&m))
            .collect()
    }

    /// Waits up to 15 s for an email to `to` that contains `needle`, and returns it.
    pub async fn wait_for_email_with(&self, to: &str, needle: &str) -> String {
        let found = eventually(std::time::Duration::from_secs(15), async || {
            self.emails_to(to).iter().any(|m| m.contains(needle))
        })
        .await;
        assert!(found.is_some(), "expected an email to {to} containing {needle:?}; got {:#?}", self.emails_to(to));
        self.emails_to(to).into_iter().find(|m| m.contains(needle)).expect("found above")
    }

    /// Waits up to 15 s for the `n`-th (1-based) email to `to` and returns it.
    pub async fn wait_for_email(&self, to: &str, n: usize) -> String {
        let found = eventually(std::time::Duration::from_secs(15), async || self.emails_to(to).len() >= n).await;
        assert!(found.is_some(), "expected email number {n} to {to}, found {}", self.emails_to(to).len());
        self.emails_to(to).swap_remove(n - 1)
    }
}

/// A message with quoted-printable soft line breaks and `=XX` escapes
/// undone (mailers encode long body lines that way), so links read whole.
pub fn quoted_printable_decoded(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The token of the first `{public_url}/{page}?token=...` link in a raw email.
pub fn link_token(email: &str, page: &str) -> String {
    let marker = format!("/{page}?token=");
    let start = email.find(&marker).unwrap_or_else(|| panic!("no {page} link in the email:\n{email}")) + marker.len();
    email[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// A password that satisfies the policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// Polls `check` every 100 ms until it returns true or `limit` passes;
/// returns the time it took.
pub async fn eventually(
    limit: std::time::Duration,
    mut check: impl AsyncFnMut() -> bool,
) -> Option<std::time::Duration> {
    let start = std::time::Instant::now();
    while start.elapsed() <= limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

/// Runs each named test body on SQLite, on PostgreSQL, and on PostgreSQL
/// through PgBouncer in transaction mode. A body is a plain
/// `async fn name(app: TestApp)` beside the call, which rustfmt formats;
/// `on_both_backends!(name, other)` makes the tests `name::sqlite`,
/// `name::postgres` and `name::pgbouncer`, each handed a fresh [`TestApp`]
/// on its own database.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::TestApp::spawn($crate::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::TestApp::spawn($crate::Backend::Postgres).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn pgbouncer() {
                super::$name($crate::TestApp::spawn($crate::Backend::PgBouncer).await).await;
            }
        }
    )+};
}
