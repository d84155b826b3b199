//! The smallest use of rivet-storage: a local directory as a blob store,
//! an upload metered on its way in (size, SHA-256, a limit), a ranged read,
//! and a delete. The same calls work on an S3 bucket with
//! `ObjectStorage::s3(&S3Options { .. })`.
//!
//! `cargo run -p rivet-storage --example local_blobs`

use futures_util::StreamExt;
use rivet_domain::storage::{BlobKey, BlobKind, BlobStore, ByteStream, Metered};
use rivet_storage::ObjectStorage;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("rivet-storage-example-{}", std::process::id()));
    let store = ObjectStorage::local(&dir)?;

    let chunks = ["Rivet keeps ", "files whole ", "or not at all."].map(|s| Ok(bytes::Bytes::from(s)));
    let body: ByteStream = Box::pin(futures_util::stream::iter(chunks));
    let (metered, meter) = Metered::new(body, 1024);
    let key = BlobKey::generate(BlobKind::Attachment);
    store.put(&key, metered.boxed()).await?;
    let measured = meter.measured();
    println!("stored {key}: {} bytes, sha256 {}", measured.size, measured.sha256);

    let mut read = store.get(&key, Some(6..23)).await?;
    let mut part = Vec::new();
    while let Some(chunk) = read.body.next().await {
        part.extend_from_slice(&chunk?);
    }
    println!("bytes {:?} of {}: {:?}", read.range, read.size, String::from_utf8(part)?);

    store.delete(&key).await?;
    println!("deleted; head = {:?}", store.head(&key).await?);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
