//! One storage suite, run against both adapters: local disk (a fresh
//! directory per test) and S3 (a fresh moto server and bucket per test).

use bytes::Bytes;
use futures_util::StreamExt;
use rivet_domain::storage::{BlobKey, BlobKind, BlobStore, ByteStream, Metered, StorageError};
use rivet_storage::ObjectStorage;
use rivet_storage::testing::Moto;
use std::path::PathBuf;

/// A store for one test, and what keeps it alive.
struct Fixture {
    store: ObjectStorage,
    /// The local directory, to look for leftovers.
    dir: Option<PathBuf>,
    _moto: Option<Moto>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn local() -> Fixture {
    let dir = std::env::temp_dir().join(format!("rivet-storage-{}", uuid::Uuid::now_v7()));
    Fixture { store: ObjectStorage::local(&dir).unwrap(), dir: Some(dir), _moto: None }
}

fn s3() -> Fixture {
    let moto = Moto::start();
    moto.create_bucket("rivet-blobs");
    Fixture { store: ObjectStorage::s3(&moto.options("rivet-blobs")).unwrap(), dir: None, _moto: Some(moto) }
}

/// Runs `$check(&Fixture)` on each adapter, as two tests.
macro_rules! on_both_stores {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[tokio::test]
            async fn local() {
                super::$check(&super::local()).await;
            }
            #[tokio::test]
            async fn s3() {
                super::$check(&super::s3()).await;
            }
        }
    )*};
}

on_both_stores!(round_trip, ranges, missing_blobs, failed_uploads_leave_nothing, metered_limit, large_blob);

fn stream_of(parts: Vec<Vec<u8>>) -> ByteStream {
    Box::pin(futures_util::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from(p)))))
}

async fn read_all(store: &ObjectStorage, key: &BlobKey, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let read = store.get(key, range).await.unwrap();
    let mut body = read.body;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

/// Files under the local directory (staging files included).
fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(files_under(&path)) } else { out.push(path) }
    }
    out
}

async fn round_trip(f: &Fixture) {
    let key = BlobKey::generate(BlobKind::Attachment);
    let size = f.store.put(&key, stream_of(vec![b"hello, ".to_vec(), b"world".to_vec()])).await.unwrap();
    assert_eq!(size, 12);
    assert_eq!(read_all(&f.store, &key, None).await, b"hello, world");
    assert_eq!(f.store.head(&key).await.unwrap().map(|m| m.size), Some(12));
    let listed = f.store.list(BlobKind::Attachment).await.unwrap();
    assert_eq!(listed.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), std::slice::from_ref(&key));
    assert!(f.store.list(BlobKind::ProductImage).await.unwrap().is_empty(), "kinds are apart");
    f.store.delete(&key).await.unwrap();
    assert_eq!(f.store.head(&key).await.unwrap(), None);
    f.store.delete(&key).await.expect("deleting an absent blob succeeds");
}

async fn ranges(f: &Fixture) {
    let key = BlobKey::generate(BlobKind::ProductImage);
    f.store.put(&key, stream_of(vec![b"0123456789".to_vec()])).await.unwrap();
    let read = f.store.get(&key, Some(2..5)).await.unwrap();
    assert_eq!((read.size, read.range.clone()), (10, 2..5));
    assert_eq!(read_all(&f.store, &key, Some(2..5)).await, b"234");
    assert_eq!(read_all(&f.store, &key, Some(9..10)).await, b"9");
}

async fn missing_blobs(f: &Fixture) {
    let key = BlobKey::generate(BlobKind::Attachment);
    assert!(matches!(f.store.get(&key, None).await, Err(StorageError::NotFound)));
    assert_eq!(f.store.head(&key).await.unwrap(), None);
}

async fn failed_uploads_leave_nothing(f: &Fixture) {
    let key = BlobKey::generate(BlobKind::Attachment);
    let parts: Vec<Result<Bytes, StorageError>> =
        vec![Ok(Bytes::from(vec![7u8; 300 * 1024])), Err(StorageError::Interrupted("the client went away".into()))];
    let result = f.store.put(&key, Box::pin(futures_util::stream::iter(parts))).await;
    assert!(matches!(result, Err(StorageError::Interrupted(_))), "{result:?}");
    assert_eq!(f.store.head(&key).await.unwrap(), None);
    assert!(f.store.list(BlobKind::Attachment).await.unwrap().is_empty());
    if let Some(dir) = &f.dir {
        // The staging file goes in the background once the upload is dropped.
        for _ in 0..50 {
            if files_under(dir).is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(files_under(dir), Vec::<PathBuf>::new(), "no staging file is left behind");
    }
}

async fn metered_limit(f: &Fixture) {
    let key = BlobKey::generate(BlobKind::Attachment);
    let body = stream_of(vec![vec![1u8; 600 * 1024], vec![2u8; 600 * 1024]]);
    let (metered, meter) = Metered::new(body, 1024 * 1024);
    let result = f.store.put(&key, metered.boxed()).await;
    assert!(matches!(result, Err(StorageError::TooLarge { limit: 1_048_576 })), "{result:?}");
    assert_eq!(meter.measured().size, 600 * 1024, "the crossing chunk never reached the store");
    assert_eq!(f.store.head(&key).await.unwrap(), None);
}

async fn large_blob(f: &Fixture) {
    // 12 MiB in 64 KiB chunks: three S3 parts, many local ones.
    let key = BlobKey::generate(BlobKind::Attachment);
    let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let body = stream_of(vec![chunk.clone(); 192]);
    let (metered, meter) = Metered::new(body, 64 * 1024 * 1024);
    assert_eq!(f.store.put(&key, metered.boxed()).await.unwrap(), 12 * 1024 * 1024);
    let written = meter.measured();
    let read = read_all(&f.store, &key, None).await;
    assert_eq!(read.len(), 12 * 1024 * 1024);
    let (again, reread) = Metered::new(stream_of(vec![read]), u64::MAX);
    let _: Vec<_> = again.collect().await;
    assert_eq!(reread.measured().sha256, written.sha256, "the bytes read back are the bytes written");
}
