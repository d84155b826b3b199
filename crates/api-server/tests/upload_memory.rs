//! Uploads stream: 32 concurrent 5 MiB uploads to the built `rivet` binary
//! (local storage, SQLite) grow its resident memory by less than 64 MiB.
//! The client streams each body from one 64 KiB buffer, so the figure is
//! the server's alone; it is read from `/proc/<pid>/status` (`VmHWM`, the
//! peak, against `VmRSS` before the burst).

mod common;

use common::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const UPLOADS: usize = 32;
const FILE_BYTES: usize = 5 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc is readable");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// One multipart upload of `FILE_BYTES`, written in `CHUNK`s over a raw
/// connection; returns the response's status line.
async fn upload(addr: &str, token: &str, todo: &str) -> String {
    let boundary = "rivet-memory-test";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head.len() + FILE_BYTES + tail.len();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /api/v1/todos/{todo}/attachments HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n{head}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let chunk = vec![b'r'; CHUNK];
    for _ in 0..FILE_BYTES / CHUNK {
        stream.write_all(&chunk).await.unwrap();
    }
    stream.write_all(tail.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).lines().next().unwrap_or_default().to_owned()
}

#[test]
fn thirty_two_concurrent_5_mib_uploads_stay_under_64_mib_of_server_memory() {
    let dir = temp_dir();
    let files = dir.0.join("files");
    let mut server = Server::start(rivet(
        &dir.0,
        &["serve"],
        &[
            ("RIVET_ENV", "test"),
            ("RIVET__SERVER__PORT", "0"),
            ("RIVET__STORAGE__DIR", files.to_str().unwrap()),
            ("RIVET__STORAGE__MAX_BYTES_PER_USER", "1073741824"),
            ("RUST_LOG", "info"),
        ],
    ));
    let line = server.wait_for("listening on");
    let base = line.split("listening on ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_owned();
    let addr = base.trim_start_matches("http://").to_owned();
    let pid = server.child.id();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let credentials = serde_json::json!({"email": "ada@example.com", "password": "correct horse battery staple"});
        let r = client.post(format!("{base}/api/v1/auth/register")).json(&credentials).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let login = client.post(format!("{base}/api/v1/auth/login")).json(&credentials).send().await.unwrap();
        let token = login.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
        let mut todos = Vec::new();
        for i in 0..UPLOADS.div_ceil(16) {
            let r = client
                .post(format!("{base}/api/v1/todos"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"title": format!("bucket {i}")}))
                .send()
                .await
                .unwrap();
            todos.push(r.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
        }
        // Warm up every path once, so the baseline includes what any first
        // upload allocates for good.
        assert!(upload(&addr, &token, &todos[0]).await.contains("201"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = status_kib(pid, "VmRSS:");

        let started = Instant::now();
        let burst = (0..UPLOADS).map(|i| {
            let (addr, token, todo) = (addr.clone(), token.clone(), todos[i % todos.len()].clone());
            tokio::spawn(async move { upload(&addr, &token, &todo).await })
        });
        let answers: Vec<String> = futures_join(burst).await;
        let took = started.elapsed();
        assert!(answers.iter().all(|a| a.contains("201")), "every upload is stored: {answers:?}");
        let peak = status_kib(pid, "VmHWM:");
        let growth_mib = peak.saturating_sub(before) as f64 / 1024.0;
        let mib = (UPLOADS * FILE_BYTES) as f64 / (1024.0 * 1024.0);
        println!(
            "{UPLOADS} concurrent uploads of 5 MiB: RSS {:.1} MiB before, peak {:.1} MiB, growth {growth_mib:.1} MiB; \
             {mib:.0} MiB in {:.2} s ({:.0} MiB/s)",
            before as f64 / 1024.0,
            peak as f64 / 1024.0,
            took.as_secs_f64(),
            mib / took.as_secs_f64(),
        );
        assert!(growth_mib < 64.0, "server memory grew by {growth_mib:.1} MiB");
    });
    assert!(server.terminate(), "the server exits cleanly");
}

async fn futures_join(tasks: impl Iterator<Item = tokio::task::JoinHandle<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.expect("the upload task finishes"));
    }
    out
}
