//! Email through a real SMTP server: Python's aiosmtpd (from PyPI, installed
//! into a virtual environment under the build's temporary folder on first
//! use) stores what it receives in a Maildir, and the test reads it back.

use rivet_api_server::settings::EmailTransport;
use rivet_e2e::{Backend, PASSWORD, TestApp, eventually, link_token, quoted_printable_decoded};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Python with aiosmtpd, made on first use.
fn smtp_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("smtp-venv");
    let python = venv.join("bin/python");
    let ready = || Command::new(&python).args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success());
    if !ready() {
        let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
        assert!(made.is_ok_and(|s| s.success()), "python3 -m venv failed: install Python 3 (Debian: python3-venv)");
        let pip = Command::new(venv.join("bin/pip")).args(["install", "--quiet", "aiosmtpd==1.4.6"]).status();
        assert!(pip.is_ok_and(|s| s.success()), "pip could not install aiosmtpd from PyPI");
    }
    assert!(ready(), "aiosmtpd is importable");
    python
}

/// An SMTP server on a free port storing mail in `maildir`; stopped on drop.
struct SmtpServer {
    child: Child,
    port: u16,
}

impl SmtpServer {
    async fn start(maildir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(smtp_python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let up = eventually(Duration::from_secs(15), async || {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await;
        assert!(up.is_some(), "aiosmtpd listens on {port}");
        Self { child, port }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn received(maildir: &Path) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(maildir.join("new")) else { return Vec::new() };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|m| quoted_printable_decoded(&m))
        .collect()
}

async fn welcome_and_reset_arrive_over_smtp(backend: Backend) {
    let maildir = std::env::temp_dir().join(format!("rivet-maildir-{}", uuid::Uuid::now_v7()));
    let smtp = SmtpServer::start(&maildir).await;
    let app = TestApp::spawn_with(backend, |s| {
        s.email.transport = EmailTransport::Smtp;
        s.email.smtp_url =
            serde_json::from_value(serde_json::json!(format!("smtp://127.0.0.1:{}", smtp.port))).unwrap();
        s.server.public_url = "https://app.example.com".into();
    })
    .await;
    app.register("ada@example.com", PASSWORD).await;
    app.post("/api/v1/auth/password/forgot", &serde_json::json!({"email": "ada@example.com"}), None).await;
    let both = eventually(Duration::from_secs(20), async || received(&maildir).len() >= 2).await;
    assert!(both.is_some(), "two messages reached the SMTP server: {:?}", received(&maildir));
    let mail = received(&maildir);
    let welcome = mail.iter().find(|m| m.contains("/verify-email?token=")).expect("the welcome email");
    let reset = mail.iter().find(|m| m.contains("/reset-password?token=")).expect("the reset email");
    for m in [welcome, reset] {
        assert!(m.contains("To: ada@example.com"), "{m}");
        assert!(m.contains("From: Rivet <no-reply@localhost>"), "{m}");
        assert!(m.contains("multipart/alternative") && m.contains("text/plain") && m.contains("text/html"), "{m}");
    }
    assert!(welcome.contains("https://app.example.com/verify-email?token="), "links use public_url: {welcome}");
    let token = link_token(welcome, "verify-email");
    let r = app.post("/api/v1/auth/verify-email", &serde_json::json!({"token": token}), None).await;
    assert_eq!(r.status, 204, "the mailed link verifies: {r}");
    let _ = std::fs::remove_dir_all(&maildir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_emails_go_out_through_a_real_smtp_server_on_both_databases() {
    // One test for both backends: they share the virtual environment.
    welcome_and_reset_arrive_over_smtp(Backend::Sqlite).await;
    welcome_and_reset_arrive_over_smtp(Backend::Postgres).await;
}
