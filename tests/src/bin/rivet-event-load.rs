//! A load client for Rivet's event streams, used by `scripts/bench-events.sh`.
//!
//! `rivet-event-load idle URL TOKEN N HOLD_SECS` opens N WebSocket
//! subscribers on URL (`ws://host:port`), waits until every one is `ready`,
//! prints `ready N` and holds them HOLD_SECS (the script reads the server's
//! memory meanwhile), then prints how many are still open.
//!
//! `rivet-event-load fanout URLS TOKEN N RATE SECS WRITE_URLS WRITER PRODUCT`
//! spreads N subscribers over the comma-separated URLS, then changes the
//! stock of PRODUCT RATE times a second for SECS through WRITE_URLS in
//! turn (as WRITER), and measures, for every delivery, the time from the
//! event's `occurred_at` (taken in the writing transaction, before its
//! commit) to its arrival: an upper bound on commit-to-delivery. It prints
//! percentiles over all deliveries and over each event's slowest delivery
//! (the time to reach every subscriber), and the deliveries missing; then
//! the changes' own latency and, for each event, the time from its writer's
//! 2xx (which follows the commit) to its slowest delivery: a lower bound on
//! commit-to-delivery. The commit lies between the two. With a tenth
//! argument, a file path, it writes each event's product version and the
//! microsecond (Unix time) its slowest delivery arrived, one per line, for
//! the script to set against PostgreSQL's commit timestamps.

use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn usage() -> ! {
    eprintln!("usage: rivet-event-load idle URL TOKEN N HOLD_SECS");
    eprintln!("       rivet-event-load fanout URLS TOKEN N RATE SECS WRITE_URLS WRITER PRODUCT [ARRIVALS_FILE]");
    std::process::exit(2)
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| usage())
}

/// Opens one subscriber and waits for `ready`.
async fn subscribe(url: &str, token: &str, topics: &str) -> Result<Socket, String> {
    let mut request =
        format!("{url}/api/v1/events/ws?topics={topics}").into_client_request().map_err(|e| e.to_string())?;
    let bearer = format!("Bearer {token}").parse().map_err(|_| "a header value".to_owned())?;
    request.headers_mut().insert("authorization", bearer);
    // A small read buffer: tungstenite zeroes the whole buffer before each
    // read, and at its default 128 KiB that memset was a quarter of this
    // client's CPU, taken from the servers it shares the machine with.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await.map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) if t.contains("\"ready\"") => Ok(ws),
        other => Err(format!("no ready message: {other:?}")),
    }
}

/// Opens `n` subscribers, `parallel` handshakes at a time.
async fn open_all(urls: &[String], token: &str, n: usize, topics: &str) -> Vec<Socket> {
    let parallel = 64;
    let mut sockets = Vec::with_capacity(n);
    let mut failures = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(parallel) {
        let opening = chunk.iter().map(|i| subscribe(&urls[i % urls.len()], token, topics));
        for result in futures_util::future::join_all(opening).await {
            match result {
                Ok(ws) => sockets.push(ws),
                Err(e) => {
                    failures += 1;
                    if failures <= 3 {
                        eprintln!("subscriber failed: {e}");
                    }
                }
            }
        }
    }
    if failures > 0 {
        eprintln!("{failures} subscribers failed to open");
    }
    sockets
}

/// The string value of the first `"name":"…"` in `json`.
fn field<'a>(json: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("\"{name}\":\"");
    let start = json.find(&key)? + key.len();
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{label}: n={} p50={:.1}ms p90={:.1}ms p99={:.1}ms p99.9={:.1}ms max={:.1}ms",
        ms.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 90.0),
        percentile(&ms, 99.0),
        percentile(&ms, 99.9),
        ms.last().copied().unwrap_or(f64::NAN)
    );
}

async fn idle(args: &[String]) {
    let (url, token): (String, String) = (arg(args, 2), arg(args, 3));
    let (n, hold): (usize, u64) = (arg(args, 4), arg(args, 5));
    let started = Instant::now();
    let sockets = open_all(&[url], &token, n, "product").await;
    println!("ready {} in {:.1}s", sockets.len(), started.elapsed().as_secs_f64());
    // Keep every socket read (answering the server's pings) while holding.
    let open = Arc::new(std::sync::atomic::AtomicUsize::new(sockets.len()));
    for mut ws in sockets {
        let open = open.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = ws.next().await {
                if let Message::Close(_) = message {
                    break;
                }
            }
            open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        });
    }
    tokio::time::sleep(Duration::from_secs(hold)).await;
    println!("still open after {hold}s: {}", open.load(std::sync::atomic::Ordering::Relaxed));
}

async fn fanout(args: &[String]) {
    let urls: Vec<String> = arg::<String>(args, 2).split(',').map(str::to_owned).collect();
    let token: String = arg(args, 3);
    let (n, rate, secs): (usize, u64, u64) = (arg(args, 4), arg(args, 5), arg(args, 6));
    let writers: Vec<String> = arg::<String>(args, 7).split(',').map(str::to_owned).collect();
    let (writer, product): (String, String) = (arg(args, 8), arg(args, 9));
    let sockets = open_all(&urls, &token, n, "product.stock_changed").await;
    println!("subscribers ready: {}", sockets.len());
    // Every delivery: (event id, milliseconds from occurred_at to arrival,
    // the product version it carries, the arrival).
    type Delivery = (String, f64, i64, chrono::DateTime<chrono::Utc>);
    let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let mut readers = Vec::new();
    for mut ws in sockets {
        let deliveries = deliveries.clone();
        readers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => {
                        let arrived = chrono::Utc::now();
                        // The two fields by position, not a full parse: the
                        // client shares the machine with the servers.
                        let (Some(id), Some(at)) = (field(&text, "id"), field(&text, "occurred_at")) else {
                            continue;
                        };
                        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(at) {
                            let ms = (arrived - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0);
                            mine.push((id.to_owned(), ms as f64 / 1000.0, version_in(&text).unwrap_or(-1), arrived));
                        }
                    }
                    Ok(Some(Ok(Message::Close(frame)))) => {
                        eprintln!("a subscriber was closed: {frame:?}");
                        break;
                    }
                    Ok(Some(Ok(_))) => {}
                    Ok(Some(Err(_)) | None) => break,
                    Err(_) => break, // quiet for 5 s: the run is over
                }
            }
            let _ = ws.close(None).await;
            deliveries.lock().unwrap().extend(mine);
        }));
    }
    let client = reqwest::Client::new();
    let period = Duration::from_micros(1_000_000 / rate.max(1));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = rate * secs;
    let (mut ok, mut failed) = (0u64, 0u64);
    // By product version: when the change was sent and when its 2xx came.
    let mut answers: HashMap<i64, Sent> = HashMap::new();
    let mut pending = futures_util::stream::FuturesUnordered::new();
    let writing = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        let url = format!("{}/api/v1/products/{product}/stock-adjustments", writers[i as usize % writers.len()]);
        let request = client
            .post(url)
            .bearer_auth(&writer)
            .json(&serde_json::json!({"delta": if i % 2 == 0 { 1 } else { -1 }, "reason": "bench"}));
        // A task of its own, so its timings are taken when it runs, not
        // when this loop next polls it.
        pending.push(tokio::spawn(async move {
            let sent = chrono::Utc::now();
            match request.send().await {
                Ok(r) if r.status().is_success() => {
                    let answered = chrono::Utc::now();
                    Some(r.text().await.ok().and_then(|body| version_in(&body)).map(|v| (v, Sent { sent, answered })))
                }
                Ok(r) => {
                    eprintln!("a change was answered {}: {}", r.status(), r.text().await.unwrap_or_default());
                    None
                }
                Err(e) => {
                    eprintln!("a change failed: {e}");
                    None
                }
            }
        }));
        while let Some(Some(done)) = futures_util::FutureExt::now_or_never(pending.next()) {
            tally(done.unwrap_or(None), &mut ok, &mut failed, &mut answers);
        }
    }
    while let Some(done) = pending.next().await {
        tally(done.unwrap_or(None), &mut ok, &mut failed, &mut answers);
    }
    let elapsed = writing.elapsed().as_secs_f64();
    println!("changes: {ok} ok, {failed} failed, {:.1}/s", ok as f64 / elapsed);
    for reader in readers {
        let _ = reader.await;
    }
    let deliveries = std::mem::take(&mut *deliveries.lock().unwrap());
    let mut slowest: HashMap<String, (f64, usize)> = HashMap::new();
    let mut last_arrival: HashMap<i64, chrono::DateTime<chrono::Utc>> = HashMap::new();
    for (id, ms, version, arrived) in &deliveries {
        let e = slowest.entry(id.clone()).or_insert((0.0, 0));
        e.0 = e.0.max(*ms);
        e.1 += 1;
        let last = last_arrival.entry(*version).or_insert(*arrived);
        *last = (*last).max(*arrived);
    }
    let expected = ok as usize * n;
    println!(
        "deliveries: {} of {expected} expected ({} missing)",
        deliveries.len(),
        expected.saturating_sub(deliveries.len())
    );
    let partial = slowest.values().filter(|(_, count)| *count < n).count();
    println!("events reaching every subscriber: {} of {} ({partial} partial)", slowest.len() - partial, slowest.len());
    report("every delivery", deliveries.iter().map(|(_, ms, _, _)| *ms).collect());
    report("to the last subscriber", slowest.values().map(|(ms, _)| *ms).collect());
    let millis = |d: chrono::TimeDelta| d.num_microseconds().unwrap_or(0) as f64 / 1000.0;
    report("a change's request (sent to 2xx)", answers.values().map(|s| millis(s.answered - s.sent)).collect());
    report(
        "from the writer's 2xx to the last subscriber (negative: delivered first)",
        answers.iter().filter_map(|(v, s)| last_arrival.get(v).map(|last| millis(*last - s.answered))).collect(),
    );
    if let Some(path) = args.get(10) {
        let lines: String = last_arrival
            .iter()
            .filter(|(version, _)| **version >= 0)
            .map(|(version, at)| format!("{version} {}\n", at.timestamp_micros()))
            .collect();
        std::fs::write(path, lines).expect("the arrivals file can be written");
    }
}

/// When a change was sent and when its 2xx came.
struct Sent {
    sent: chrono::DateTime<chrono::Utc>,
    answered: chrono::DateTime<chrono::Utc>,
}

/// Counts one change's outcome (`None`: it failed) and keeps its timings
/// by the product version it produced.
fn tally(done: Option<Option<(i64, Sent)>>, ok: &mut u64, failed: &mut u64, answers: &mut HashMap<i64, Sent>) {
    match done {
        Some(timed) => {
            *ok += 1;
            if let Some((version, sent)) = timed {
                answers.insert(version, sent);
            }
        }
        None => *failed += 1,
    }
}

/// The product `"version":N` in an event's or a product's JSON.
fn version_in(json: &str) -> Option<i64> {
    let start = json.find("\"version\":")? + "\"version\":".len();
    let digits = &json[start..];
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("idle") => idle(&args).await,
        Some("fanout") => fanout(&args).await,
        _ => usage(),
    }
}
