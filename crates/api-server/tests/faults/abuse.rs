//! Abuse over raw TCP: oversized headers (431), request targets (414) and
//! bodies (413), JSON nested 10,000 levels deep, invalid UTF-8, malformed
//! framing and a mutation fuzzer of raw requests — each a clear 4xx or a
//! closed connection, never a 5xx, never a crash — and slowloris
//! connections that do not slow `/health/live` down.

use crate::harness::{Dir, Rivet, percentile};
use rivet_persistence::testing::TestDatabase;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the server sent back to one raw request.
#[derive(Debug)]
struct Raw {
    status: Option<u16>,
    text: String,
}

/// Sends `bytes` on a new connection and reads until the server closes it
/// or `wait` passes; the status is that of the first response, if any.
async fn raw(port: u16, bytes: &[u8], wait: Duration) -> Raw {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("the server accepts connections");
    // The server may answer and close before reading everything.
    let _ = stream.write_all(bytes).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    // One response is enough.
                    if response_complete(&got) {
                        break;
                    }
                }
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.strip_prefix("HTTP/1.1 ").and_then(|r| r.get(..3)).and_then(|s| s.parse().ok());
    Raw { status, text }
}

/// True once `got` holds a response head and its `content-length` body.
fn response_complete(got: &[u8]) -> bool {
    let text = String::from_utf8_lossy(got);
    let Some(end) = text.find("\r\n\r\n") else { return false };
    let length = text[..end]
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().ok()))
        .flatten();
    length.is_some_and(|n| got.len() >= end + 4 + n)
}

fn request(head: &str) -> Vec<u8> {
    format!("{head}\r\nhost: 127.0.0.1\r\n\r\n").into_bytes()
}

fn with_body(method_path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r =
        format!("{method_path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len())
            .into_bytes();
    r.extend_from_slice(body);
    r
}

/// A problem+json answer with `status` and `code`.
fn assert_problem(raw: &Raw, status: u16, code: &str, what: &str) {
    assert_eq!(raw.status, Some(status), "{what}: {}", &raw.text[..raw.text.len().min(600)]);
    let lower = raw.text.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{what}: not problem+json: {}",
        &raw.text[..raw.text.len().min(600)]
    );
    assert!(
        raw.text.contains(&format!("\"code\":\"{code}\"")),
        "{what}: code is not {code}: {}",
        &raw.text[..raw.text.len().min(600)]
    );
}

/// A client error as problem+json (which 4xx depends on where parsing stopped).
fn assert_4xx_problem(raw: &Raw, what: &str) {
    assert!(raw.status.is_some_and(|s| (400..500).contains(&s)), "{what}: {}", &raw.text[..raw.text.len().min(600)]);
    let lower = raw.text.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{what}: not problem+json: {}",
        &raw.text[..raw.text.len().min(600)]
    );
}

/// A small deterministic generator (xorshift64*) for the fuzzer.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Framings a parser must refuse, each with the reason it is broken.
fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    let mut cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("no version", b"GET /health/live\r\n\r\n".to_vec()),
        ("unknown version", b"GET /health/live HTTP/7.3\r\nhost: x\r\n\r\n".to_vec()),
        ("spaces for a request line", b"   \r\n\r\n".to_vec()),
        ("a header without a colon", b"GET /health/live HTTP/1.1\r\nhost x\r\n\r\n".to_vec()),
        ("a NUL in a header value", b"GET /health/live HTTP/1.1\r\nhost: x\r\nx-a: a\0b\r\n\r\n".to_vec()),
        ("a space before the colon", b"GET /health/live HTTP/1.1\r\nhost : x\r\n\r\n".to_vec()),
        ("obsolete line folding", b"GET /health/live HTTP/1.1\r\nhost: x\r\nx-a: a\r\n b\r\n\r\n".to_vec()),
        ("a control character in the method", b"G\x01T /health/live HTTP/1.1\r\nhost: x\r\n\r\n".to_vec()),
        ("a negative content-length", b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-length: -5\r\n\r\n".to_vec()),
        ("two different content-lengths", b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}".to_vec()),
        ("a content-length that overflows", b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999999999999999999\r\n\r\n".to_vec()),
        (
            "content-length and chunked together",
            b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
        ),
        ("a chunk size that is not hex", b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec()),
        ("an unknown transfer coding", b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n".to_vec()),
        ("bytes over 127 in the target", b"GET /api/v1/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n".to_vec()),
        ("a target that is not a path", b"GET health HTTP/1.1\r\nhost: x\r\n\r\n".to_vec()),
        ("a percent-encoded invalid UTF-8 path", b"GET /api/v1/products/%FF%FE%00 HTTP/1.1\r\nhost: x\r\n\r\n".to_vec()),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello to a plain port".to_vec()),
    ];
    cases.push(("too many headers", {
        let mut r = b"GET /health/live HTTP/1.1\r\nhost: x\r\n".to_vec();
        for i in 0..200 {
            r.extend_from_slice(format!("x-h{i}: v\r\n").as_bytes());
        }
        r.extend_from_slice(b"\r\n");
        r
    }));
    cases
}

#[tokio::test]
async fn abusive_requests_get_clear_4xx_answers_and_never_a_5xx_or_a_crash() {
    let db = TestDatabase::sqlite().expect("a SQLite test database");
    let dir = Dir::new("abuse");
    let mut server = Rivet::start(dir.path(), db.url(), &[]).await;
    let port = server.port;
    let wait = Duration::from_secs(3);

    // Header and target limits (16 KiB per header, 64 KiB in all).
    let ok = raw(port, &request(&format!("GET /health/live HTTP/1.1\r\nx-big: {}", "a".repeat(15 * 1024))), wait).await;
    assert_eq!(ok.status, Some(200), "a 15 KiB header is within the limit: {}", ok.text);
    let big =
        raw(port, &request(&format!("GET /health/live HTTP/1.1\r\nx-big: {}", "a".repeat(20 * 1024))), wait).await;
    assert_problem(&big, 431, "headers_too_large", "a 20 KiB header");
    let many: String = (0..5).map(|i| format!("\r\nx-part-{i}: {}", "b".repeat(14 * 1024))).collect();
    let total = raw(port, &request(&format!("GET /health/live HTTP/1.1{many}")), wait).await;
    assert_problem(&total, 431, "headers_too_large", "five 14 KiB headers");
    let huge =
        raw(port, &request(&format!("GET /health/live HTTP/1.1\r\nx-big: {}", "c".repeat(200 * 1024))), wait).await;
    assert_eq!(
        huge.status,
        Some(431),
        "a 200 KiB header (refused by the HTTP parser): {}",
        &huge.text[..huge.text.len().min(300)]
    );
    let target = raw(port, &request(&format!("GET /health/live?q={} HTTP/1.1", "d".repeat(20 * 1024))), wait).await;
    assert_problem(&target, 414, "uri_too_long", "a 20 KiB request target");
    let target = raw(port, &request(&format!("GET /health/live?q={} HTTP/1.1", "d".repeat(70 * 1024))), wait).await;
    assert_eq!(target.status, Some(400), "a 70 KiB request target (refused by the HTTP parser): {}", target.text);

    // Bodies: too large, too deep, not UTF-8, not JSON.
    let large =
        raw(port, &with_body("POST /api/v1/auth/login", "application/json", &vec![b' '; 2 * 1024 * 1024]), wait).await;
    assert_problem(&large, 413, "payload_too_large", "a 2 MiB JSON body");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep = raw(port, &with_body("POST /api/v1/auth/login", "application/json", deep.as_bytes()), wait).await;
    assert_4xx_problem(&deep, "JSON nested 10,000 levels deep");
    let deep_objects = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
    let deep_objects =
        raw(port, &with_body("POST /api/v1/auth/login", "application/json", deep_objects.as_bytes()), wait).await;
    assert_4xx_problem(&deep_objects, "objects nested 10,000 levels deep");
    // Deep inside a field the endpoint does take.
    let deep_field = format!("{{\"email\":{}1{},\"password\":\"x\"}}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_field =
        raw(port, &with_body("POST /api/v1/auth/login", "application/json", deep_field.as_bytes()), wait).await;
    assert_4xx_problem(&deep_field, "an array nested 10,000 levels deep in a field");
    let utf8 = raw(
        port,
        &with_body("POST /api/v1/auth/login", "application/json", b"{\"email\":\"\xff\xfe\",\"password\":\"x\"}"),
        wait,
    )
    .await;
    assert_problem(&utf8, 400, "malformed_body", "invalid UTF-8 in a JSON body");

    // Malformed framing: a 4xx or a closed connection.
    for (what, bytes) in malformed() {
        let answer = raw(port, &bytes, wait).await;
        if let Some(status) = answer.status {
            assert!(
                (400..500).contains(&status),
                "{what}: answered {status}: {}",
                &answer.text[..answer.text.len().min(400)]
            );
        }
    }

    // Mutations of valid requests: flipped, dropped, duplicated and
    // inserted bytes, 50 connections at a time.
    let seeds: [&[u8]; 3] = [
        b"GET /api/v1/products?limit=5&sort=-price_cents HTTP/1.1\r\nhost: x\r\naccept: application/json\r\n\r\n",
        b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 45\r\n\r\n{\"email\":\"a@example.com\",\"password\":\"secret\"}",
        b"POST /api/v1/auth/register HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut fuzzed = 0;
    let mut answered = std::collections::BTreeMap::<u16, usize>::new();
    for _batch in 0..10 {
        let mut batch = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let mut bytes = seeds[rng.below(seeds.len())].to_vec();
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(bytes.len());
                match rng.below(4) {
                    0 => bytes[at] = (rng.next() & 0xff) as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    2 => bytes.insert(at, bytes[at]),
                    _ => {
                        let alphabet = b"\r\n:; \0\xff0-9";
                        bytes.insert(at, alphabet[rng.below(alphabet.len())]);
                    }
                }
            }
            batch.spawn(async move {
                let answer = raw(port, &bytes, Duration::from_secs(2)).await;
                (bytes, answer)
            });
        }
        while let Some(done) = batch.join_next().await {
            let (bytes, answer) = done.unwrap();
            fuzzed += 1;
            if let Some(status) = answer.status {
                *answered.entry(status).or_default() += 1;
                assert!(
                    status < 500,
                    "a fuzzed request was answered {status}: {:?}\n{}",
                    String::from_utf8_lossy(&bytes),
                    answer.text
                );
            }
        }
    }
    assert!(server.is_running(), "the server died:\n{}", server.log());
    let live = raw(port, &request("GET /health/live HTTP/1.1"), wait).await;
    assert_eq!(live.status, Some(200), "after the abuse: {}", live.text);
    assert!(!server.log().contains("panicked"), "a panic was logged:\n{}", server.log());
    println!(
        "abuse: limits 431/414/413, deep JSON a 4xx problem, bad UTF-8 400, {} malformed framings 4xx or closed, {fuzzed} fuzzed requests (statuses {answered:?}), no 5xx, no crash",
        malformed().len()
    );
}

#[tokio::test]
async fn slowloris_connections_do_not_slow_liveness_down() {
    let db = TestDatabase::sqlite().expect("a SQLite test database");
    let dir = Dir::new("slowloris");
    let mut server = Rivet::start(dir.path(), db.url(), &[]).await;
    let port = server.port;
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"GET /health/live HTTP/1.1\r\nhost: x\r\nx-slow: ").await.unwrap();
        slow.push(s);
    }
    let dripping = tokio::spawn(async move {
        // A byte a second on every connection, never finishing the head.
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            for s in &mut slow {
                let _ = s.write_all(b"a").await;
            }
        }
        slow.len()
    });
    let mut times = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(7) {
        let t = Instant::now();
        let live =
            raw(port, b"GET /health/live HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", Duration::from_secs(5))
                .await;
        assert_eq!(live.status, Some(200), "liveness under slowloris: {}", live.text);
        times.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let held = dripping.await.unwrap();
    times.sort();
    let (p50, p95) = (percentile(&times, 50.0), percentile(&times, 95.0));
    assert!(server.is_running());
    assert!(p95 < Duration::from_millis(50), "liveness p95 {p95:?} under {held} slowloris connections");
    println!(
        "slowloris: {held} connections dripping a byte a second; {} liveness probes on new connections, p50 {p50:?}, p95 {p95:?}",
        times.len()
    );
}
