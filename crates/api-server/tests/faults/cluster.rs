//! Scaling out, as an operator deploys it: three `rivet serve` instances and
//! one `rivet worker` behind nginx (round-robin), on one PostgreSQL reached
//! through PgBouncer in transaction mode (`[database] pooler =
//! "transaction"`, `direct_url` for migrations and `LISTEN`) and one Redis.
//! Through the balancer the instances act as one service; then one is
//! killed with `kill -9` under load and nothing but its open requests fails.
//!
//! nginx adds `X-Upstream` (the instance that answered) to every answer, so
//! each check can tell that it crossed instances.

use crate::harness::*;
use crate::servers::Redis;
use reqwest::Method;
use rivet_persistence::testing::{PgBouncer, TestDatabase};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The per-user API budget of the cluster, shared through Redis.
const API_BUDGET: usize = 300;

/// nginx in front of `upstreams`, in one process (no master), logging to a
/// directory of its own.
struct Nginx {
    child: Child,
    base: String,
    root: PathBuf,
}

impl Nginx {
    fn start(dir: &Path, upstreams: &[u16]) -> Self {
        let port = free_port();
        let root = dir.join("nginx");
        std::fs::create_dir_all(&root).unwrap();
        let r = root.display();
        let servers: String =
            upstreams.iter().map(|p| format!("server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;\n")).collect();
        let config = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {r}/error.log warn;\npid {r}/nginx.pid;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {r}/body;\n  proxy_temp_path {r}/proxy;\n\
             fastcgi_temp_path {r}/fastcgi;\n  uwsgi_temp_path {r}/uwsgi;\n  scgi_temp_path {r}/scgi;\n\
             upstream rivet {{\n{servers}    keepalive 64;\n  }}\n\
             server {{\n    listen 127.0.0.1:{port};\n    client_max_body_size 10m;\n    location / {{\n\
             proxy_pass http://rivet;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n\
             proxy_set_header Host $host;\n      proxy_buffering off;\n      proxy_read_timeout 60s;\n\
             add_header X-Upstream $upstream_addr always;\n    }}\n  }}\n}}\n"
        );
        let file = root.join("nginx.conf");
        std::fs::write(&file, config).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&root)
            .arg("-c")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx runs (apt-get install nginx)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                std::fs::read_to_string(root.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, base: format!("http://127.0.0.1:{port}"), root }
    }

    fn errors(&self) -> String {
        std::fs::read_to_string(self.root.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One call through the balancer; panics on a transport error.
async fn through(lb: &Nginx, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Answer {
    let client = reqwest::Client::new();
    call(&client, method, &format!("{}{path}", lb.base), token, body).await.unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn upstream(a: &Answer) -> String {
    a.header("x-upstream").unwrap_or_default().to_owned()
}

async fn register(lb: &Nginx, email: &str) {
    let r =
        through(lb, Method::POST, "/api/v1/auth/register", None, Some(&json!({"email": email, "password": PASSWORD})))
            .await;
    assert_eq!(r.status, 201, "registration: {r}");
}

async fn login(lb: &Nginx, email: &str) -> Answer {
    let r = through(lb, Method::POST, "/api/v1/auth/login", None, Some(&json!({"email": email, "password": PASSWORD})))
        .await;
    assert_eq!(r.status, 200, "login: {r}");
    r
}

async fn signed_in(lb: &Nginx, label: &str) -> (String, String) {
    let email = format!("{label}-{}@example.com", uuid::Uuid::now_v7().simple());
    register(lb, &email).await;
    let r = login(lb, &email).await;
    (email, r.body["access_token"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_behind_nginx_on_pgbouncer_and_redis_act_as_one_and_survive_a_kill() {
    let dir = Dir::new("cluster");
    let db = TestDatabase::postgres(&postgres_admin_url()).await.expect("a test database");
    let bouncer = PgBouncer::start(&postgres_admin_url()).expect("pgbouncer");
    let redis = Redis::start();
    let (pooled, redis_url) = (bouncer.url_for(db.url()), redis.url());
    let env = [
        ("RIVET__DATABASE__DIRECT_URL", db.url()),
        ("RIVET__DATABASE__POOLER", "transaction"),
        ("RIVET__RATE_LIMIT__ENABLED", "true"),
        ("RIVET__RATE_LIMIT__BACKEND", "redis"),
        ("RIVET__RATE_LIMIT__REDIS_URL", redis_url.as_str()),
        ("RIVET__RATE_LIMIT__API_PER_MINUTE", "300"),
        ("RIVET__RATE_LIMIT__CREDENTIAL_PER_MINUTE", "100000"),
    ];
    // Started together on a fresh database: one migrates, the others wait.
    let (a, b, c) = tokio::join!(
        Rivet::start(dir.path(), &pooled, &env),
        Rivet::start(dir.path(), &pooled, &env),
        Rivet::start(dir.path(), &pooled, &env)
    );
    let mut instances = [a, b, c];
    let worker = Rivet::worker(dir.path(), &pooled, &env);
    let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
    let lb = Nginx::start(dir.path(), &ports);

    // Round-robin: consecutive requests reach every instance.
    let mut seen = HashSet::new();
    for _ in 0..6 {
        seen.insert(upstream(&through(&lb, Method::GET, "/health/ready", None, None).await));
    }
    assert_eq!(seen.len(), 3, "the balancer spreads requests over the three instances: {seen:?}");

    // Log in on one instance, refresh on another.
    let email = format!("ada-{}@example.com", uuid::Uuid::now_v7().simple());
    register(&lb, &email).await;
    let logged_in = login(&lb, &email).await;
    let mut refresh = logged_in.body["refresh_token"].as_str().unwrap().to_owned();
    let mut crossed = false;
    for _ in 0..6 {
        let r =
            through(&lb, Method::POST, "/api/v1/auth/refresh", None, Some(&json!({"refresh_token": refresh}))).await;
        assert_eq!(r.status, 200, "a refresh on any instance: {r}");
        refresh = r.body["refresh_token"].as_str().unwrap().to_owned();
        if upstream(&r) != upstream(&logged_in) {
            crossed = true;
            break;
        }
    }
    assert!(crossed, "a refresh was answered by another instance than the login");

    // A logout-all on one instance reaches the others within 5 s.
    let token = login(&lb, &email).await.body["access_token"].as_str().unwrap().to_owned();
    let mut accepted = HashSet::new();
    for _ in 0..6 {
        let r = through(&lb, Method::GET, "/api/v1/users/me", Some(&token), None).await;
        assert_eq!(r.status, 200, "{r}");
        accepted.insert(upstream(&r));
    }
    assert_eq!(accepted.len(), 3, "every instance accepted the token before the logout");
    let out = through(&lb, Method::POST, "/api/v1/auth/logout-all", Some(&token), Some(&json!({}))).await;
    assert_eq!(out.status, 204, "{out}");
    let started = Instant::now();
    let mut last: HashMap<String, u16> = HashMap::new();
    while started.elapsed() < Duration::from_secs(5) {
        let r = through(&lb, Method::GET, "/api/v1/users/me", Some(&token), None).await;
        last.insert(upstream(&r), r.status);
        if last.len() == 3 && last.values().all(|s| *s == 401) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        last.len() == 3 && last.values().all(|s| *s == 401),
        "within 5 s every instance refuses the logged-out token: {last:?}"
    );
    println!("logout reached all three instances in {:?}", started.elapsed());

    // One rate-limit budget for the cluster (fixed one-minute windows:
    // start early in a minute so the run stays inside one).
    while SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() % 60 > 40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (_, limited) = signed_in(&lb, "budget").await;
    let mut served: HashMap<String, usize> = HashMap::new();
    let mut refused = None;
    for n in 0..API_BUDGET * 2 {
        let r = through(&lb, Method::GET, "/api/v1/todos?limit=1", Some(&limited), None).await;
        match r.status {
            200 => *served.entry(upstream(&r)).or_default() += 1,
            429 => {
                refused = Some(n);
                break;
            }
            _ => panic!("{r}"),
        }
    }
    assert_eq!(refused, Some(API_BUDGET), "the budget of {API_BUDGET} is spent across instances: {served:?}");
    assert_eq!(served.len(), 3, "all three instances served part of it: {served:?}");

    // An Idempotency-Key replay lands on another instance and is a replay.
    let (_, token) = signed_in(&lb, "idem").await;
    let key = uuid::Uuid::now_v7().to_string();
    let post = |token: String, key: String| {
        let base = lb.base.clone();
        async move {
            let request = reqwest::Client::new()
                .post(format!("{base}/api/v1/todos"))
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&json!({"title": "once"}));
            send(request).await.unwrap()
        }
    };
    let first = post(token.clone(), key.clone()).await;
    assert_eq!(first.status, 201, "{first}");
    let mut replayed_elsewhere = false;
    for _ in 0..6 {
        let again = post(token.clone(), key.clone()).await;
        assert_eq!((again.status, again.header("idempotent-replayed")), (201, Some("true")), "{again}");
        assert_eq!(again.body["id"], first.body["id"]);
        if upstream(&again) != upstream(&first) {
            replayed_elsewhere = true;
            break;
        }
    }
    assert!(replayed_elsewhere, "a replay was answered by another instance");
    let list = through(&lb, Method::GET, "/api/v1/todos?include_total=true", Some(&token), None).await;
    assert_eq!(list.body["total"], 1, "one todo however often the request came: {list}");

    // Events cross instances: a stream on each instance hears one change.
    let (_, token) = signed_in(&lb, "events").await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let ticket = through(&lb, Method::POST, "/api/v1/events/tickets", Some(&token), Some(&json!({}))).await;
        assert_eq!(ticket.status, 201, "{ticket}");
        let url = format!("{}/api/v1/events?ticket={}", lb.base, ticket.body["ticket"].as_str().unwrap());
        let response = reqwest::Client::new().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let on = response.headers().get("x-upstream").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        streams.push((on, response));
    }
    let on: HashSet<&String> = streams.iter().map(|(u, _)| u).collect();
    assert_eq!(on.len(), 3, "one stream on each instance: {on:?}");
    let todo =
        through(&lb, Method::POST, "/api/v1/todos", Some(&token), Some(&json!({"title": "heard everywhere"}))).await;
    let id = todo.body["id"].as_str().unwrap().to_owned();
    for (on, mut response) in streams {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut text = String::new();
        while !text.contains(&id) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, response.chunk()).await {
                Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                other => panic!("the stream on {on} did not deliver the event within 5 s: {other:?} {text}"),
            }
        }
    }

    // An upload through one instance is served by the others (one store).
    let (_, token) = signed_in(&lb, "files").await;
    let todo = through(&lb, Method::POST, "/api/v1/todos", Some(&token), Some(&json!({"title": "with a file"}))).await;
    let todo = todo.body["id"].as_str().unwrap().to_owned();
    let content = b"shared by every instance\n".repeat(40);
    let up = upload(&reqwest::Client::new(), &lb.base, &token, &todo, &content).await;
    assert_eq!(up.status, 201, "{up}");
    let path = format!("/api/v1/todos/{todo}/attachments/{}", up.body["id"].as_str().unwrap());
    let mut served_by = HashSet::new();
    for _ in 0..3 {
        let r = through(&lb, Method::GET, &path, Some(&token), None).await;
        assert_eq!((r.status, r.text.as_bytes()), (200, &content[..]), "{r}");
        served_by.insert(upstream(&r));
    }
    assert_eq!(served_by.len(), 3, "every instance serves the file: {served_by:?}");

    // Jobs run exactly once: four workers (three inside `serve`, one
    // `rivet worker`) share one queue; every registration gets one email.
    let emails: Vec<String> =
        (0..24).map(|i| format!("jobs-{i}-{}@example.com", uuid::Uuid::now_v7().simple())).collect();
    for email in &emails {
        register(&lb, email).await;
    }
    let mail = dir.path().join("mail");
    assert!(unsent_mails(&mail, &emails).await.is_empty(), "every welcome email went out");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let twice: Vec<&String> = emails.iter().filter(|e| mails_to(&mail, e) != 1).collect();
    assert!(twice.is_empty(), "exactly one welcome email each: {twice:?}");

    // `kill -9` one instance under load: the balancer routes around it,
    // no acknowledged write is lost, and only requests it held fail.
    const CLIENTS: usize = 16;
    let mut tokens = Vec::new();
    // Four users per client, so no user nears the API budget.
    for i in 0..CLIENTS * 4 {
        tokens.push(signed_in(&lb, &format!("load{i}")).await.1);
    }
    let tokens = Arc::new(tokens);
    #[derive(Default)]
    struct Record {
        acknowledged: HashMap<usize, Vec<String>>,
        lost_answers: HashMap<usize, usize>,
        failures: Vec<(Instant, String)>,
        rivet_5xx: Vec<String>,
        unexpected: Vec<String>,
        ok: usize,
    }
    let record = Arc::new(Mutex::new(Record::default()));
    let start = Instant::now();
    let until = start + Duration::from_secs(6);
    let mut load = Vec::new();
    for c in 0..CLIENTS {
        let (tokens, record, base) = (tokens.clone(), record.clone(), lb.base.clone());
        load.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0usize;
            while Instant::now() < until {
                n += 1;
                let user = c * 4 + n % 4;
                let token = &tokens[user];
                let write = n.is_multiple_of(2);
                let answer = if write {
                    let body = json!({"title": format!("load {c}-{n}")});
                    call(&client, Method::POST, &format!("{base}/api/v1/todos"), Some(token), Some(&body)).await
                } else {
                    call(&client, Method::GET, &format!("{base}/api/v1/todos?limit=5"), Some(token), None).await
                };
                let mut r = record.lock().unwrap();
                match answer {
                    Ok(a) if (200..300).contains(&a.status) => {
                        r.ok += 1;
                        if write {
                            r.acknowledged.entry(user).or_default().push(a.body["id"].as_str().unwrap().to_owned());
                        }
                    }
                    Ok(a) if a.is_problem() && a.status >= 500 => r.rivet_5xx.push(a.to_string()),
                    Ok(a) if a.status < 500 => r.unexpected.push(a.to_string()),
                    Ok(a) => {
                        r.failures.push((Instant::now(), format!("{} from the balancer", a.status)));
                        if write {
                            *r.lost_answers.entry(user).or_default() += 1;
                        }
                    }
                    Err(e) => {
                        r.failures.push((Instant::now(), e));
                        if write {
                            *r.lost_answers.entry(user).or_default() += 1;
                        }
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed_at = Instant::now();
    instances[1].kill9();
    for task in load {
        task.await.unwrap();
    }
    let r = std::mem::take(&mut *record.lock().unwrap());
    println!(
        "kill -9 under load: {} answered 2xx, {} failed (the killed instance's open requests), {} Rivet 5xx",
        r.ok,
        r.failures.len(),
        r.rivet_5xx.len()
    );
    assert!(r.rivet_5xx.is_empty(), "no instance answered a 5xx: {:?}", r.rivet_5xx);
    assert!(r.unexpected.is_empty(), "every request of the load is valid: {:?}", r.unexpected);
    assert!(
        r.failures.len() <= CLIENTS,
        "at most the requests in flight on the killed instance fail: {:?}",
        r.failures
    );
    for (at, what) in &r.failures {
        assert!(
            *at >= killed_at && at.duration_since(killed_at) < Duration::from_secs(2),
            "a failure outside the moment of the kill ({:?} after it): {what}",
            at.checked_duration_since(killed_at)
        );
    }
    assert!(r.ok > 500, "the load ran: {} requests", r.ok);
    // Every acknowledged write is there, read through the survivors.
    for (user, ids) in &r.acknowledged {
        let page =
            through(&lb, Method::GET, "/api/v1/todos?limit=1&include_total=true", Some(&tokens[*user]), None).await;
        let total = page.body["total"].as_u64().unwrap() as usize;
        let unknown = r.lost_answers.get(user).copied().unwrap_or(0);
        assert!(
            total >= ids.len() && total <= ids.len() + unknown,
            "user {user}: {total} todos stored, {} acknowledged, {unknown} unanswered",
            ids.len()
        );
        let last = ids.last().unwrap();
        let read = through(&lb, Method::GET, &format!("/api/v1/todos/{last}"), Some(&tokens[*user]), None).await;
        assert_eq!(read.status, 200, "{read}");
    }
    // And the survivors keep answering at once.
    for _ in 0..4 {
        let r = through(&lb, Method::GET, "/health/ready", None, None).await;
        assert_eq!(r.status, 200, "{r} {}", lb.errors());
    }
    drop(worker);
}
