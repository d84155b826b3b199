//! Rivet's blob storage adapters behind the domain's
//! [`BlobStore`](rivet_domain::storage::BlobStore) port, both on Apache
//! Arrow's `object_store`:
//!
//! - [`ObjectStorage::local`]: a directory on local disk (the default; no
//!   setup). A blob is written to a staging file beside its final name,
//!   fsynced, and renamed into place when complete, so a crash never leaves a
//!   half file under a real key; a failed or dropped upload removes its
//!   staging file.
//! - [`ObjectStorage::s3`]: any S3-compatible service (AWS S3, MinIO, Ceph,
//!   R2, moto in the tests). A blob is a multipart upload completed only when
//!   the whole stream has arrived; a failed upload is aborted. Give the bucket
//!   a lifecycle rule that aborts incomplete multipart uploads after a day, so
//!   one cut off by a crash does not keep its parts.
//!
//! Uploads stream: at most two parts are buffered per upload in flight (256
//! KiB parts on disk; 5 MiB on S3, its smallest part size), so memory grows
//! with the number of concurrent uploads, not with their size.
//!
//! The S3 client signs with `ring` and speaks TLS through rustls with the
//! `ring` provider, the same crypto stack as Rivet's PostgreSQL TLS;
//! [`ObjectStorage::s3`] installs that provider as the process default when
//! none is installed yet.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rivet_domain::storage::StorageError> {
//! use rivet_domain::storage::{BlobKey, BlobKind, BlobStore};
//! let store = rivet_storage::ObjectStorage::local(std::path::Path::new("data/files"))?;
//! let key = BlobKey::generate(BlobKind::Attachment);
//! let body = Box::pin(futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"hello"))]));
//! assert_eq!(store.put(&key, body).await?, 5);
//! # Ok(()) }
//! ```

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, WriteMultipart};
use rivet_domain::storage::{BlobKey, BlobKind, BlobMeta, BlobRead, BlobStore, ByteStream, StorageError};
use std::ops::Range;
use std::sync::Arc;

#[doc(hidden)]
pub mod testing;

/// Parts buffered per upload before the writer waits for one to finish.
const PARTS_IN_FLIGHT: usize = 2;
/// The part size on local disk: small, since a local part has no minimum.
const LOCAL_PART: usize = 256 * 1024;
/// The part size on S3: its smallest allowed part (the last may be smaller).
const S3_PART: usize = 5 * 1024 * 1024;

/// An S3-compatible bucket. Unset credentials and region fall back to the
/// standard `AWS_*` environment variables.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub bucket: String,
    /// The service's URL (`http://127.0.0.1:9000`); unset for AWS itself.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Address the bucket in the path (`endpoint/bucket/key`) rather than
    /// the host name (`bucket.endpoint/key`); most self-hosted services need it.
    pub path_style: bool,
}

/// Blobs in an `object_store` store: local disk or an S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    part_size: usize,
    /// Whether the store is across a network, where a failed request is
    /// worth retrying (503) rather than a fault (500).
    remote: bool,
}

impl ObjectStorage {
    /// Blobs under the directory `dir`, created when missing.
    ///
    /// # Errors
    /// `Internal` when the directory cannot be created or opened.
    pub fn local(dir: &std::path::Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::Internal(Box::new(e)))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| StorageError::Internal(Box::new(e)))?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        Ok(Self { store: Arc::new(store), part_size: LOCAL_PART, remote: false })
    }

    /// Blobs in an S3-compatible bucket. Nothing is requested until the first
    /// operation; [`ObjectStorage::check`] tries the bucket at once.
    ///
    /// # Errors
    /// `Internal` when the options do not describe a usable bucket.
    pub fn s3(options: &S3Options) -> Result<Self, StorageError> {
        // Without a process-wide provider, rustls (through reqwest) has no
        // crypto to use; an error here means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&options.bucket)
            .with_virtual_hosted_style_request(!options.path_style);
        if let Some(endpoint) = &options.endpoint {
            builder = builder.with_allow_http(endpoint.starts_with("http://")).with_endpoint(endpoint);
        }
        if let Some(region) = &options.region {
            builder = builder.with_region(region);
        }
        if let Some(id) = &options.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &options.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| StorageError::Internal(Box::new(e)))?;
        Ok(Self { store: Arc::new(store), part_size: S3_PART, remote: true })
    }

    /// Lists the store's root once, to find a wrong bucket, endpoint or
    /// credentials at startup rather than at the first upload.
    ///
    /// # Errors
    /// Whatever the store answers.
    pub async fn check(&self) -> Result<(), StorageError> {
        let mut listing = self.store.list(Some(&StorePath::from("_")));
        match listing.next().await {
            Some(Err(e)) => Err(classify(self.remote, e)),
            _ => Ok(()),
        }
    }

    fn fail(&self, e: object_store::Error) -> StorageError {
        classify(self.remote, e)
    }
}

/// The domain's view of a store error.
fn classify(remote: bool, e: object_store::Error) -> StorageError {
    if matches!(e, object_store::Error::NotFound { .. }) {
        return StorageError::NotFound;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && matches!(io.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
        {
            return StorageError::Full(Box::new(e));
        }
        source = s.source();
    }
    if remote { StorageError::Unavailable(Box::new(e)) } else { StorageError::Internal(Box::new(e)) }
}

fn location(key: &BlobKey) -> StorePath {
    StorePath::from(key.as_str())
}

fn meta(m: &ObjectMeta) -> BlobMeta {
    BlobMeta { size: m.size, modified: m.last_modified }
}

#[async_trait]
impl BlobStore for ObjectStorage {
    async fn put(&self, key: &BlobKey, mut body: ByteStream) -> Result<u64, StorageError> {
        let upload = self.store.put_multipart(&location(key)).await.map_err(|e| self.fail(e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(self.fail(e));
            }
            size += chunk.len() as u64;
            writer.put(chunk);
        }
        writer.finish().await.map_err(|e| self.fail(e))?;
        Ok(size)
    }

    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobRead, StorageError> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let result = self.store.get_opts(&location(key), options).await.map_err(|e| self.fail(e))?;
        let (size, range) = (result.meta.size, result.range.clone());
        let remote = self.remote;
        let body = result.into_stream().map_err(move |e| classify(remote, e)).boxed();
        Ok(BlobRead { size, range, body })
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, StorageError> {
        match self.store.head(&location(key)).await {
            Ok(m) => Ok(Some(meta(&m))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), StorageError> {
        match self.store.delete(&location(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.fail(e)),
        }
    }

    async fn list(&self, kind: BlobKind) -> Result<Vec<(BlobKey, BlobMeta)>, StorageError> {
        let prefix = StorePath::from(kind.prefix().trim_end_matches('/'));
        let metas: Vec<ObjectMeta> = self.store.list(Some(&prefix)).try_collect().await.map_err(|e| self.fail(e))?;
        Ok(metas.iter().filter_map(|m| Some((BlobKey::parse(m.location.as_ref())?, meta(m)))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(kind: std::io::ErrorKind) -> object_store::Error {
        object_store::Error::Generic { store: "test", source: Box::new(std::io::Error::from(kind)) }
    }

    #[test]
    fn a_full_disk_or_quota_is_full_wherever_it_happens() {
        for remote in [false, true] {
            for kind in [std::io::ErrorKind::StorageFull, std::io::ErrorKind::QuotaExceeded] {
                assert!(matches!(classify(remote, generic(kind)), StorageError::Full(_)), "{kind:?}");
            }
        }
    }

    #[test]
    fn other_failures_are_retryable_only_across_a_network() {
        let denied = || generic(std::io::ErrorKind::PermissionDenied);
        assert!(matches!(classify(false, denied()), StorageError::Internal(_)));
        assert!(matches!(classify(true, denied()), StorageError::Unavailable(_)));
        let missing = object_store::Error::NotFound { path: "x".into(), source: "gone".into() };
        assert!(matches!(classify(true, missing), StorageError::NotFound));
    }
}
