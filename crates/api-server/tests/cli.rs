//! The `rivet` binary as an operator uses it: subcommands, configuration
//! layering and refusals, zero-setup start, PostgreSQL from `DATABASE_URL`,
//! and graceful shutdown on SIGTERM.

mod common;

use common::*;
use rivet_persistence::testing::TestDatabase;
use std::time::Duration;

const STRONG_SECRET: &str = "a-production-secret-of-at-least-32-bytes!";

#[test]
fn every_subcommand_explains_itself() {
    let dir = temp_dir();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["openapi", "--help"],
        &["worker", "--help"],
        &["user", "create", "--help"],
        &["config", "check", "--help"],
    ] {
        let out = run(&dir.0, args, &[]);
        assert!(out.status.success(), "{args:?} --help failed: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage"), "{args:?}: {}", text(&out.stdout));
    }
    assert!(text(&run(&dir.0, &["--help"], &[]).stdout).contains("config"));
}

#[test]
fn config_check_prints_the_layered_configuration_with_secrets_masked() {
    let dir = temp_dir();
    std::fs::create_dir_all(dir.0.join("config")).unwrap();
    std::fs::write(dir.0.join("config/development.toml"), "[server]\nport = 7000\nworkers = 3\n").unwrap();
    let vars = [
        ("RIVET__SERVER__PORT", "9000"),
        ("RIVET__AUTH__JWT_SECRET", "an-env-secret-that-must-not-print"),
        ("RIVET__DATABASE__URL", "sqlite://ignored.db"),
        ("DATABASE_URL", "postgres://app:hunter2@db.internal:5432/rivet"),
    ];
    let out = run(&dir.0, &["config", "check"], &vars);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cfg: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(cfg["server"]["port"], 9000, "environment beats files");
    assert_eq!(cfg["server"]["workers"], 3, "config/{{env}}.toml beats the compiled defaults");
    assert_eq!(
        cfg["database"]["url"], "postgres://app:********@db.internal:5432/rivet",
        "DATABASE_URL wins, password masked"
    );
    assert_eq!(cfg["auth"]["jwt_secret"], "********");
    assert!(!stdout.contains("hunter2") && !stdout.contains("must-not-print"));
}

#[test]
fn production_refuses_unsafe_settings_with_a_one_line_reason() {
    let dir = temp_dir();
    let prod = ("RIVET_ENV", "production");
    let pg = ("DATABASE_URL", "postgres://app@db.internal/rivet");
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[prod, pg], "development default"),
        (&[prod, pg, ("RIVET__AUTH__JWT_SECRET", "short")], "shorter than 32 bytes"),
        (&[prod, ("RIVET__AUTH__JWT_SECRET", STRONG_SECRET)], "SQLite"),
    ];
    for (vars, reason) in cases {
        let out = run(&dir.0, &["config", "check"], vars);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{vars:?} must be refused");
        assert!(stderr.contains(reason), "{vars:?}: expected {reason:?} in {stderr:?}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr:?}");
    }
    let allowed = run(
        &dir.0,
        &["config", "check"],
        &[prod, ("RIVET__AUTH__JWT_SECRET", STRONG_SECRET), ("RIVET__SERVER__ALLOW_SQLITE_IN_PRODUCTION", "true")],
    );
    assert!(allowed.status.success(), "{}", text(&allowed.stderr));
    let json_log = run(
        &dir.0,
        &["config", "check"],
        &[prod, pg, ("RIVET__AUTH__JWT_SECRET", STRONG_SECRET), ("RIVET__SOMETHING__NEW", "1")],
    );
    let line = text(&json_log.stderr);
    let first: serde_json::Value =
        serde_json::from_str(line.lines().next().unwrap_or_default()).expect("production logs are JSON lines");
    assert_eq!(first["level"], "WARN", "{line}");
}

#[test]
fn unknown_keys_warn_and_invalid_values_fail_naming_the_key() {
    let dir = temp_dir();
    let out =
        run(&dir.0, &["config", "check"], &[("RIVET__SERVER__FROM_THE_FUTURE", "1"), ("RIVET__NEWSECTION__KEY", "x")]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "unknown keys are not fatal: {stderr}");
    assert!(stderr.contains("server.from_the_future") && stderr.contains("newsection"), "{stderr}");
    for (key, value, named) in [
        ("RIVET__SERVER__PORT", "eighty", "server.port"),
        ("RIVET__AUTH__BCRYPT_COST", "99", "bcrypt_cost"),
        ("RIVET_ENV", "staging", "RIVET_ENV"),
    ] {
        let out = run(&dir.0, &["config", "check"], &[(key, value)]);
        assert!(!out.status.success(), "{key}={value} must fail");
        assert!(text(&out.stderr).contains(named), "{key}: {}", text(&out.stderr));
    }
}

fn migrate_and_create_users(url: &str) {
    let dir = temp_dir();
    let vars = [("DATABASE_URL", url), ("RIVET_ENV", "test")];
    let first = run(&dir.0, &["migrate"], &vars);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let shipped =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../persistence/migrations/postgres")).unwrap().count();
    assert!(text(&first.stdout).contains(&format!("applied {shipped} migration")), "{}", text(&first.stdout));
    let again = run(&dir.0, &["migrate"], &vars);
    assert!(text(&again.stdout).contains("applied 0 migration"), "{}", text(&again.stdout));
    let created = run(
        &dir.0,
        &["user", "create", "--email", "Root@Example.com", "--password", "operator chosen secret", "--role", "admin"],
        &vars,
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).contains("created admin root@example.com"), "{}", text(&created.stdout));
    let duplicate =
        run(&dir.0, &["user", "create", "--email", "root@example.com", "--password", "operator chosen secret"], &vars);
    assert!(
        !duplicate.status.success() && text(&duplicate.stderr).contains("already registered"),
        "{}",
        text(&duplicate.stderr)
    );
    let weak = run(&dir.0, &["user", "create", "--email", "x@example.com", "--password", "password"], &vars);
    assert!(!weak.status.success() && text(&weak.stderr).contains("password"), "{}", text(&weak.stderr));
}

#[test]
fn migrate_and_user_create_on_sqlite() {
    let db = TestDatabase::sqlite().unwrap();
    migrate_and_create_users(db.url());
}

#[test]
fn migrate_and_user_create_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::postgres(&postgres_admin_url())).unwrap_or_else(|e| panic!("{e}"));
    migrate_and_create_users(db.url());
}

fn ready(base: &str) -> serde_json::Value {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = reqwest::get(format!("{base}/health/ready")).await.expect("the server answers");
        assert_eq!(r.status().as_u16(), 200);
        r.json().await.unwrap()
    })
}

#[test]
fn with_nothing_configured_it_serves_sqlite_on_port_8080_and_stops_cleanly_on_sigterm() {
    assert!(
        std::net::TcpListener::bind("127.0.0.1:8080").is_ok(),
        "port 8080 must be free for this test (stop whatever listens there)"
    );
    let dir = temp_dir();
    let mut server = Server::start(rivet(&dir.0, &[], &[]));
    let line = server.wait_for("listening on");
    assert!(line.contains("http://127.0.0.1:8080"), "the log names the address: {line}");
    assert!(dir.0.join("data/rivet.db").exists(), "the SQLite database is created under ./data/");
    assert_eq!(ready("http://127.0.0.1:8080")["checks"]["database"], "ok");
    assert!(server.terminate(), "SIGTERM ends the server with exit status 0");
}

#[test]
fn database_url_runs_the_same_binary_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::postgres(&postgres_admin_url())).unwrap_or_else(|e| panic!("{e}"));
    let dir = temp_dir();
    let mut server = Server::start(rivet(
        &dir.0,
        &["serve"],
        &[("DATABASE_URL", db.url()), ("RIVET__SERVER__PORT", "0"), ("RIVET_ENV", "test"), ("RUST_LOG", "info")],
    ));
    server.wait_for("applied migrations");
    let line = server.wait_for("listening on");
    let base =
        line.split("listening on ").nth(1).and_then(|s| s.split_whitespace().next()).expect("an address").to_owned();
    assert_eq!(ready(&base)["checks"]["database"], "ok");
    assert!(line.contains("postgres"), "the log names the backend: {line}");
    assert!(!dir.0.join("data/rivet.db").exists(), "no SQLite file when PostgreSQL is configured");
    assert!(server.signal("-INT"), "SIGINT (Ctrl-C) also ends the server with exit status 0");
}

#[test]
fn a_dotenv_file_in_the_working_directory_is_read() {
    let dir = temp_dir();
    std::fs::write(dir.0.join(".env"), "RIVET__SERVER__PORT=9123\nRIVET__LOG__LEVEL=debug\n").unwrap();
    let out = run(&dir.0, &["config", "check"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cfg: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!((cfg["server"]["port"].as_u64(), cfg["log"]["level"].as_str()), (Some(9123), Some("debug")));
}

#[test]
fn no_password_token_or_authorization_header_reaches_the_logs() {
    let dir = temp_dir();
    let db = TestDatabase::sqlite().unwrap();
    let vars = [
        ("DATABASE_URL", db.url()),
        ("RIVET__SERVER__PORT", "0"),
        ("RIVET_ENV", "test"),
        ("RUST_LOG", "debug"),
        ("RIVET__LOG__FORMAT", "json"),
    ];
    let mut server = Server::start(rivet(&dir.0, &["serve"], &vars));
    let line = server.wait_for("listening on");
    let base = line
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    let password = "a very distinctive passphrase 4711";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (access, refresh) = rt.block_on(async {
        let c = reqwest::Client::new();
        let body = serde_json::json!({"email": "ada@example.com", "password": password});
        c.post(format!("{base}/api/v1/auth/register")).json(&body).send().await.unwrap();
        let tokens: serde_json::Value =
            c.post(format!("{base}/api/v1/auth/login")).json(&body).send().await.unwrap().json().await.unwrap();
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        assert_eq!(c.get(format!("{base}/api/v1/users/me")).bearer_auth(&access).send().await.unwrap().status(), 200);
        let form = [("grant_type", "password"), ("username", "ada@example.com"), ("password", password)];
        c.post(format!("{base}/api/v1/auth/token")).form(&form).send().await.unwrap();
        c.post(format!("{base}/api/v1/auth/refresh"))
            .json(&serde_json::json!({"refresh_token": refresh}))
            .send()
            .await
            .unwrap();
        (access, refresh)
    });
    server.wait_for("/api/v1/auth/refresh");
    std::thread::sleep(Duration::from_millis(300));
    while let Ok(line) = server.lines.try_recv() {
        server.seen.push(line);
    }
    let logs = server.seen.join("\n");
    assert!(server.terminate());
    assert!(logs.contains("\"request_id\""), "request lines are logged: {logs}");
    for secret in [password, access.as_str(), refresh.as_str(), &access[access.len() - 20..]] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    assert!(!logs.to_lowercase().contains("authorization"), "no Authorization header in the logs");
}

#[test]
fn rivet_openapi_prints_the_document_without_configuration_or_database() {
    let dir = temp_dir();
    let out = run(&dir.0, &["openapi"], &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/todos/{id}"]["patch"].is_object());
    assert!(!dir.0.join("data").exists(), "no database was touched");
}
