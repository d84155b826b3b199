//! Files over HTTP on both databases and both stores (a local directory, and
//! an S3 bucket on a real moto server): todo attachments (owner-scoped,
//! limits, quota, streaming downloads with ranges and tags) and product
//! images (signatures, public caching, replacement), and that no blob
//! outlives its row; then one bucket shared by two instances, and the sweep.

use reqwest::Method;
use rivet_app::settings::{Secret, Settings, StorageBackend};
use rivet_domain::Role;
use rivet_domain::storage::{BlobKind, BlobStore};
use rivet_e2e::{Backend, FilePart, Reply, TestApp, eventually, on_both_backends};
use rivet_storage::testing::Moto;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

async fn todo(app: &TestApp, token: &str) -> String {
    let r = app.post("/api/v1/todos", &json!({"title": "With files"}), Some(token)).await;
    assert_eq!(r.status, 201, "{r}");
    r.body["id"].as_str().unwrap().to_owned()
}

async fn attach(app: &TestApp, token: &str, todo: &str, name: &str, bytes: &[u8]) -> Reply {
    let part = FilePart::file("file", name, bytes);
    app.upload(Method::POST, &format!("/api/v1/todos/{todo}/attachments"), &part, Some(token)).await
}

/// How many blobs the app's store holds: every file under the local
/// directory (staging files included), or every object in the bucket.
async fn blob_count(app: &TestApp) -> usize {
    match app.settings.storage.backend {
        StorageBackend::Local => app.stored_files().len(),
        StorageBackend::S3 => {
            let store = rivet_app::blob_store(&app.settings).unwrap();
            let mut n = 0;
            for kind in BlobKind::ALL {
                n += store.list(kind).await.unwrap().len();
            }
            n
        }
    }
}

/// Waits until the store holds exactly `n` blobs (deletions run as jobs).
async fn settles_at(app: &TestApp, n: usize) {
    let took = eventually(Duration::from_secs(10), async || blob_count(app).await == n).await;
    assert!(took.is_some(), "the store should hold {n} blobs, not {}", blob_count(app).await);
}

/// Points `settings` at a fresh bucket on `moto`.
fn on_s3(settings: &mut Settings, moto: &Moto) {
    let options = moto.options("rivet-e2e");
    settings.storage.backend = StorageBackend::S3;
    settings.storage.bucket = options.bucket;
    settings.storage.endpoint = options.endpoint.unwrap_or_default();
    settings.storage.region = options.region.unwrap_or_default();
    settings.storage.access_key_id = options.access_key_id.unwrap_or_default();
    settings.storage.secret_access_key = Secret::new(options.secret_access_key.unwrap_or_default());
    settings.storage.path_style = true;
}

/// A moto server with the e2e bucket.
fn moto_bucket() -> Moto {
    let moto = Moto::start();
    moto.create_bucket("rivet-e2e");
    moto
}

fn unchanged(_: &mut Settings) {}

fn small_quota(settings: &mut Settings) {
    settings.storage.max_bytes_per_user = 3000;
}

/// Runs each body five times: on SQLite and PostgreSQL, each with the local
/// store and with an S3 bucket (a moto server of its own), and through
/// PgBouncer with the local store, after `$tweak` adjusts the settings.
macro_rules! on_every_store {
    ($tweak:path => $($name:ident),+ $(,)?) => {$(
        mod $name {
            use super::*;
            async fn run(backend: Backend, s3: bool) {
                let moto = s3.then(moto_bucket);
                let app = TestApp::spawn_with(backend, |s| {
                    $tweak(s);
                    if let Some(moto) = &moto {
                        on_s3(s, moto);
                    }
                })
                .await;
                super::$name(app).await;
                drop(moto);
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_local() {
                run(Backend::Sqlite, false).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_local() {
                run(Backend::Postgres, false).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn pgbouncer_local() {
                run(Backend::PgBouncer, false).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_s3() {
                run(Backend::Sqlite, true).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() {
                run(Backend::Postgres, true).await;
            }
        }
    )+};
}

async fn an_attachment_round_trips_with_ranges_and_tags(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let todo = todo(&app, &t.access).await;
    let content = b"Buy milk, eggs and bread.\n".repeat(100);
    let up = attach(&app, &t.access, &todo, "../../shopping list.txt", &content).await;
    assert_eq!(up.status, 201, "{up}");
    let id = up.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/todos/{todo}/attachments/{id}");
    assert_eq!(up.header("location"), Some(path.as_str()));
    assert_eq!(up.body["filename"], "shopping list.txt", "no path survives");
    assert_eq!(up.body["content_type"], "text/plain; charset=utf-8");
    assert_eq!(up.body["size_bytes"], content.len());
    assert_eq!(up.body["sha256"], hex_sha256(&content));

    let list = app.get(&format!("/api/v1/todos/{todo}/attachments"), Some(&t.access)).await;
    assert_eq!((list.status, list.body["items"].as_array().map(Vec::len)), (200, Some(1)), "{list}");
    assert_eq!(list.body["items"][0], up.body);

    let whole = app.get(&path, Some(&t.access)).await;
    assert_eq!(whole.status, 200, "{whole}");
    assert_eq!(whole.bytes, content);
    let etag = format!("\"{}\"", hex_sha256(&content));
    assert_eq!(whole.header("etag"), Some(etag.as_str()));
    assert_eq!(whole.header("content-length"), Some(content.len().to_string().as_str()));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(whole.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(whole.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        whole.header("content-disposition"),
        Some("attachment; filename=\"shopping list.txt\"; filename*=UTF-8''shopping%20list.txt")
    );

    let part = app.send(app.request(Method::GET, &path, Some(&t.access)).header("range", "bytes=4-7")).await;
    assert_eq!((part.status, part.text.as_str()), (206, "milk"), "{part}");
    assert_eq!(part.header("content-range"), Some(format!("bytes 4-7/{}", content.len()).as_str()));
    let beyond = app.send(app.request(Method::GET, &path, Some(&t.access)).header("range", "bytes=99999-")).await;
    assert_eq!((beyond.status, beyond.code()), (416, "range_not_satisfiable"), "{beyond}");
    assert_eq!(beyond.header("content-range"), Some(format!("bytes */{}", content.len()).as_str()));
    let same = app.send(app.request(Method::GET, &path, Some(&t.access)).header("if-none-match", &etag)).await;
    assert_eq!((same.status, same.text.as_str()), (304, ""));

    let stats = app.get("/api/v1/users/me/stats", Some(&t.access)).await;
    assert_eq!(stats.body["storage_bytes"], content.len(), "{stats}");
    assert_eq!(blob_count(&app).await, 1);

    assert_eq!(app.delete(&path, Some(&t.access)).await.status, 204);
    assert_eq!(app.get(&path, Some(&t.access)).await.status, 404);
    assert_eq!(app.delete(&path, Some(&t.access)).await.status, 404);
    let stats = app.get("/api/v1/users/me/stats", Some(&t.access)).await;
    assert_eq!(stats.body["storage_bytes"], 0);
    settles_at(&app, 0).await;
}

async fn another_users_attachments_are_not_found(app: TestApp) {
    let (_, ada) = app.signed_in_user("ada@example.com").await;
    let (_, bob) = app.signed_in_user("bob@example.com").await;
    let todo = todo(&app, &ada.access).await;
    let up = attach(&app, &ada.access, &todo, "secret.txt", b"mine").await;
    let path = format!("/api/v1/todos/{todo}/attachments/{}", up.body["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&bob.access)).await.status, 404);
    assert_eq!(app.delete(&path, Some(&bob.access)).await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/todos/{todo}/attachments"), Some(&bob.access)).await.status, 404);
    let theirs = attach(&app, &bob.access, &todo, "intruder.txt", b"not yours").await;
    assert_eq!((theirs.status, theirs.code()), (404, "not_found"), "{theirs}");
    assert_eq!(app.get(&path, None).await.status, 401);
    assert_eq!(app.get(&path, Some(&ada.access)).await.status, 200, "the owner still has it");
    assert_eq!(blob_count(&app).await, 1, "the refused upload left nothing");
}

async fn bad_uploads_are_refused_and_leave_nothing(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let todo = todo(&app, &t.access).await;
    let url = format!("/api/v1/todos/{todo}/attachments");
    let json = app.post(&url, &json!({"file": "x"}), Some(&t.access)).await;
    assert_eq!((json.status, json.code()), (415, "unsupported_media_type"), "{json}");
    let wrong = app.upload(Method::POST, &url, &FilePart::file("document", "a.txt", b"x"), Some(&t.access)).await;
    assert_eq!((wrong.status, wrong.code()), (422, "validation_failed"), "{wrong}");
    assert_eq!(wrong.body["errors"][0]["field"], "file");
    let big_wrong = vec![1u8; 200 * 1024];
    let misnamed = app.upload(Method::POST, &url, &FilePart::file("other", "b.bin", &big_wrong), Some(&t.access)).await;
    assert_eq!((misnamed.status, misnamed.code()), (422, "validation_failed"), "a large misnamed file: {misnamed}");
    let empty = attach(&app, &t.access, &todo, "empty.txt", b"").await;
    assert_eq!((empty.status, empty.code()), (422, "validation_failed"), "{empty}");
    let not_a_file = FilePart { filename: None, ..FilePart::file("file", "", b"just text") };
    let plain = app.upload(Method::POST, &url, &not_a_file, Some(&t.access)).await;
    assert_eq!((plain.status, plain.code()), (422, "validation_failed"), "{plain}");
    let huge = attach(&app, &t.access, &todo, "big.bin", &vec![7u8; 5 * 1024 * 1024 + 1]).await;
    assert_eq!((huge.status, huge.code()), (413, "payload_too_large"), "{huge}");
    let html = attach(&app, &t.access, &todo, "page.html", b"<html><script>alert(1)</script></html>").await;
    assert_eq!(html.body["content_type"], "text/plain; charset=utf-8", "markup is never served as a page");
    let list = app.get(&url, Some(&t.access)).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1), "only the HTML file was kept: {list}");
    settles_at(&app, 1).await;
}

async fn quota_and_count_limits_hold(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let (a, b) = (todo(&app, &t.access).await, todo(&app, &t.access).await);
    assert_eq!(attach(&app, &t.access, &a, "one.bin", &[1u8; 2000]).await.status, 201);
    let over = attach(&app, &t.access, &b, "two.bin", &[2u8; 1500]).await;
    assert_eq!((over.status, over.code()), (409, "storage_quota_exceeded"), "{over}");
    assert_eq!(attach(&app, &t.access, &b, "fits.bin", &[3u8; 1000]).await.status, 201, "exactly the quota");
    let full = attach(&app, &t.access, &b, "more.bin", &[4u8; 1]).await;
    assert_eq!((full.status, full.code()), (409, "storage_quota_exceeded"), "{full}");
    settles_at(&app, 2).await;
}

async fn a_todo_takes_at_most_twenty_attachments(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let todo = todo(&app, &t.access).await;
    for i in 0..20 {
        let r = attach(&app, &t.access, &todo, &format!("f{i}.txt"), b"x").await;
        assert_eq!(r.status, 201, "attachment {i}: {r}");
    }
    let extra = attach(&app, &t.access, &todo, "f20.txt", b"x").await;
    assert_eq!((extra.status, extra.code()), (409, "conflict"), "{extra}");
    settles_at(&app, 20).await;
}

async fn deleting_a_todo_or_its_owner_removes_the_blobs(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let (a, b) = (todo(&app, &t.access).await, todo(&app, &t.access).await);
    for (todo, name) in [(&a, "a1"), (&a, "a2"), (&b, "b1")] {
        assert_eq!(attach(&app, &t.access, todo, name, name.as_bytes()).await.status, 201);
    }
    assert_eq!(app.delete(&format!("/api/v1/todos/{a}"), Some(&t.access)).await.status, 204);
    settles_at(&app, 1).await;
    let me = app.send(app.request(Method::DELETE, "/api/v1/users/me", Some(&t.access))).await;
    assert_eq!(me.status, 204, "{me}");
    settles_at(&app, 0).await;
}

async fn product_images_are_checked_public_and_replaced(app: TestApp) {
    let (_, m) = app.signed_in_as("manager@example.com", Role::Manager).await;
    let body = json!({"sku": "IMG-1", "name": "Pictured", "price_cents": 100, "currency": "EUR", "category": "art"});
    let product = app.post("/api/v1/products", &body, Some(&m.access)).await;
    let id = product.body["id"].as_str().unwrap().to_owned();
    let url = format!("/api/v1/products/{id}/image");
    assert_eq!(app.get(&url, None).await.status, 404, "no image yet");

    let set = app.upload(Method::PUT, &url, &FilePart::file("image", "cat.png", PNG), Some(&m.access)).await;
    assert_eq!(set.status, 200, "{set}");
    let image_url = set.body["image_url"].as_str().unwrap().to_owned();
    assert!(image_url.starts_with(&format!("{url}?v=")), "{image_url}");
    assert_eq!(set.body["version"], product.body["version"].as_i64().unwrap() + 1);
    let got = app.get(&image_url, None).await;
    assert_eq!((got.status, got.header("content-type")), (200, Some("image/png")), "{got}");
    assert_eq!(got.header("cache-control"), Some("public, max-age=3600"));
    let etag = format!("\"{}\"", hex_sha256(PNG));
    assert_eq!(got.header("etag"), Some(etag.as_str()));
    let same = app.send(app.request(Method::GET, &url, None).header("if-none-match", &etag)).await;
    assert_eq!(same.status, 304);
    assert_eq!(app.get(&format!("/api/v1/products/{id}"), None).await.body["image_url"], image_url.as_str());

    let text = FilePart { content_type: "image/png", ..FilePart::file("image", "fake.png", b"<svg xmlns=\"x\"/>") };
    let fake = app.upload(Method::PUT, &url, &text, Some(&m.access)).await;
    assert_eq!((fake.status, fake.code()), (415, "unsupported_media_type"), "{fake}");
    let (_, user) = app.signed_in_user("ada@example.com").await;
    let denied = app.upload(Method::PUT, &url, &FilePart::file("image", "x.png", PNG), Some(&user.access)).await;
    assert_eq!(denied.status, 403, "{denied}");

    let jpeg = app.upload(Method::PUT, &url, &FilePart::file("image", "cat.jpg", JPEG), Some(&m.access)).await;
    assert_eq!(jpeg.status, 200, "{jpeg}");
    assert_eq!(app.get(&url, None).await.header("content-type"), Some("image/jpeg"));
    settles_at(&app, 1).await;
    assert_eq!(app.delete(&format!("/api/v1/products/{id}"), Some(&m.access)).await.status, 204);
    settles_at(&app, 0).await;
}

on_every_store!(unchanged =>
    an_attachment_round_trips_with_ranges_and_tags,
    another_users_attachments_are_not_found,
    bad_uploads_are_refused_and_leave_nothing,
    a_todo_takes_at_most_twenty_attachments,
    deleting_a_todo_or_its_owner_removes_the_blobs,
    product_images_are_checked_public_and_replaced,
);
on_every_store!(small_quota => quota_and_count_limits_hold);

mod shared_bucket {
    use super::*;

    /// Two instances on one database and one bucket: what one stores, the
    /// other serves; what one deletes leaves the bucket.
    async fn two_instances_share_one_bucket(backend: Backend) {
        let moto = moto_bucket();
        let first = TestApp::spawn_with(backend, |s| on_s3(s, &moto)).await;
        let second = TestApp::start(first.settings.clone(), backend).await;

        let (_, m) = first.signed_in_as("manager@example.com", Role::Manager).await;
        let body = json!({"sku": "S3-1", "name": "Shared", "price_cents": 100, "currency": "EUR", "category": "art"});
        let id = first.post("/api/v1/products", &body, Some(&m.access)).await.body["id"].as_str().unwrap().to_owned();
        let url = format!("/api/v1/products/{id}/image");
        let set = first.upload(Method::PUT, &url, &FilePart::file("image", "p.png", PNG), Some(&m.access)).await;
        assert_eq!(set.status, 200, "{set}");
        let served = second.get(&url, None).await;
        assert_eq!((served.status, served.header("content-type")), (200, Some("image/png")), "{served}");
        assert_eq!(served.bytes, PNG, "the other instance serves the same bytes");

        let (_, t) = second.signed_in_user("ada@example.com").await;
        let todo = todo(&second, &t.access).await;
        let content: Vec<u8> = (0..6 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
        let too_big = attach(&second, &t.access, &todo, "big.bin", &content).await;
        assert_eq!((too_big.status, too_big.code()), (413, "payload_too_large"), "{too_big}");
        let file = &content[..3 * 1024 * 1024];
        let up = attach(&second, &t.access, &todo, "data.bin", file).await;
        assert_eq!(up.status, 201, "{up}");
        let path = format!("/api/v1/todos/{todo}/attachments/{}", up.body["id"].as_str().unwrap());
        let whole = first.get(&path, Some(&t.access)).await;
        assert_eq!((whole.status, whole.bytes.len()), (200, file.len()), "{whole}");
        assert_eq!(hex_sha256(&whole.bytes), up.body["sha256"].as_str().unwrap(), "the bytes read are those written");
        let range = first.send(first.request(Method::GET, &path, Some(&t.access)).header("range", "bytes=10-19")).await;
        assert_eq!((range.status, range.bytes.as_slice()), (206, &file[10..20]), "{range}");
        settles_at(&first, 2).await;

        assert_eq!(first.delete(&path, Some(&t.access)).await.status, 204);
        assert_eq!(first.delete(&format!("/api/v1/products/{id}"), Some(&m.access)).await.status, 204);
        settles_at(&first, 0).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        two_instances_share_one_bucket(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        two_instances_share_one_bucket(Backend::Postgres).await;
    }
}

/// A blob with no row (an upload cut off between its blob and its row) is
/// removed by the sweep once it is an hour old; younger orphans and every
/// blob a row refers to stay.
async fn the_sweep_removes_only_old_orphans(app: TestApp) {
    use rivet_domain::storage::BlobKey;
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let todo = todo(&app, &t.access).await;
    let kept = attach(&app, &t.access, &todo, "kept.txt", b"referenced").await;
    assert_eq!(kept.status, 201, "{kept}");
    let store = rivet_storage::ObjectStorage::local(&app.settings.storage.dir).unwrap();
    let mut orphans = Vec::new();
    for _ in 0..2 {
        let key = BlobKey::generate(BlobKind::Attachment);
        let body = Box::pin(futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"lost"))]));
        store.put(&key, body).await.unwrap();
        orphans.push(key);
    }
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
    let age = |key: &BlobKey| {
        let file = std::fs::File::options().write(true).open(app.settings.storage.dir.join(key.as_str())).unwrap();
        file.set_modified(two_hours_ago).unwrap();
    };
    // The referenced blob and one orphan are old; the other orphan is fresh.
    let referenced = store.list(BlobKind::Attachment).await.unwrap();
    for (key, _) in &referenced {
        if key != &orphans[1] {
            age(key);
        }
    }
    let services = rivet_app::Services::build(&app.settings).await.unwrap();
    assert_eq!(services.tasks.sweep_orphans().await.unwrap(), 1, "one old orphan");
    let left: Vec<BlobKey> = store.list(BlobKind::Attachment).await.unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.contains(&orphans[0]) && left.contains(&orphans[1]));
    let path = format!("/api/v1/todos/{todo}/attachments/{}", kept.body["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&t.access)).await.bytes, b"referenced", "the old referenced blob stays");
    services.db.close();
}

on_both_backends!(the_sweep_removes_only_old_orphans);
