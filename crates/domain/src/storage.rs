//! Blob storage: the port that uploaded files go through, and what the use
//! cases add on top of any adapter — a stream meter that counts, hashes and
//! stops an upload at its limit, and content detection from the bytes
//! themselves.
//!
//! Blobs are addressed by a [`BlobKey`] that Rivet generates; a client's file
//! name never becomes part of a key. A blob is written before the row that
//! refers to it, and deleted only by a job enqueued in the transaction that
//! removes the row, so a row never points at a missing blob and a blob with
//! no row is an orphan the sweep removes.

use crate::error::BoxError;
use crate::time::Timestamp;
use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// A stream of bytes: an upload on its way in, a download on its way out.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, StorageError>> + Send>>;

/// What a blob store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No blob under the key.
    #[error("blob not found")]
    NotFound,
    /// The upload went past the limit the meter was given; nothing is kept.
    #[error("upload larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The client's stream failed (a broken multipart body, a dropped
    /// connection); nothing is kept.
    #[error("upload interrupted")]
    Interrupted(#[source] BoxError),
    /// The store refused the write for want of space.
    #[error("storage full")]
    Full(#[source] BoxError),
    /// The store could not be reached; worth retrying.
    #[error("blob storage unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else.
    #[error("blob storage failure")]
    Internal(#[source] BoxError),
}

/// The kinds of blob, each under a prefix of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlobKind {
    /// A todo attachment.
    Attachment,
    /// A product image.
    ProductImage,
}

impl BlobKind {
    /// Every kind, for the orphan sweep.
    pub const ALL: [Self; 2] = [Self::Attachment, Self::ProductImage];

    /// The key prefix of this kind, with its trailing slash.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Attachment => "attachments/",
            Self::ProductImage => "product-images/",
        }
    }
}

/// Where a blob lives in the store: a kind's prefix and a fresh UUIDv7,
/// never anything a client chose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

impl BlobKey {
    /// A new key for a blob of `kind`.
    pub fn generate(kind: BlobKind) -> Self {
        Self(format!("{}{}", kind.prefix(), uuid::Uuid::now_v7()))
    }

    /// A stored key read back (from a row or a listing), if it has the shape
    /// Rivet generates.
    pub fn parse(s: &str) -> Option<Self> {
        BlobKind::ALL.iter().find_map(|k| {
            let id = s.strip_prefix(k.prefix())?;
            uuid::Uuid::parse_str(id).ok().filter(|u| u.hyphenated().to_string() == id).map(|_| Self(s.to_owned()))
        })
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the store knows of a blob without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub modified: Timestamp,
}

/// A blob (or a byte range of it) being read.
pub struct BlobRead {
    /// The whole blob's size.
    pub size: u64,
    /// The bytes `body` yields.
    pub range: Range<u64>,
    pub body: ByteStream,
}

impl std::fmt::Debug for BlobRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRead").field("size", &self.size).field("range", &self.range).finish_non_exhaustive()
    }
}

/// A place to keep blobs: local disk, an S3-compatible bucket, or anything
/// an embedding service supplies.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores the stream under `key` and returns its size. The blob appears
    /// under `key` whole or not at all: if the stream fails (or the store
    /// does), nothing is left under `key`. Keys are fresh, so a put never
    /// overwrites.
    async fn put(&self, key: &BlobKey, body: ByteStream) -> Result<u64, StorageError>;

    /// Reads the blob, or the byte `range` of it (already checked against
    /// its size by the caller, who has the size from the row).
    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobRead, StorageError>;

    /// The blob's size and time, or `None` when there is none.
    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, StorageError>;

    /// Removes the blob; removing an absent blob succeeds.
    async fn delete(&self, key: &BlobKey) -> Result<(), StorageError>;

    /// Every blob under the prefix of `kind`, for the orphan sweep.
    async fn list(&self, kind: BlobKind) -> Result<Vec<(BlobKey, BlobMeta)>, StorageError>;
}

/// How many leading bytes a meter keeps for content detection.
const SNIFF_LEN: usize = 512;

/// What a [`Metered`] stream has seen so far.
#[derive(Debug, Default)]
struct Reading {
    size: u64,
    hash: Sha256,
    head: Vec<u8>,
}

/// The result of metering a whole upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// The first bytes (up to 512), for [`detect`].
    pub head: Vec<u8>,
}

/// Reads what a [`Metered`] stream saw, after the store consumed it.
#[derive(Debug, Clone)]
pub struct Meter(Arc<Mutex<Reading>>);

impl Meter {
    /// The size, digest and leading bytes of everything that passed.
    pub fn measured(&self) -> Measured {
        let reading = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Measured {
            size: reading.size,
            sha256: crate::hex(&reading.hash.clone().finalize()),
            head: reading.head.clone(),
        }
    }
}

/// An upload stream that counts its bytes, hashes them, keeps the first few
/// for detection, and fails with [`StorageError::TooLarge`] the moment it
/// passes `limit` — before the chunk that crosses it reaches the store.
pub struct Metered {
    inner: ByteStream,
    limit: u64,
    reading: Arc<Mutex<Reading>>,
    done: bool,
}

impl std::fmt::Debug for Metered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metered").field("limit", &self.limit).finish_non_exhaustive()
    }
}

impl Metered {
    /// Meters `inner`, allowing at most `limit` bytes.
    pub fn new(inner: ByteStream, limit: u64) -> (Self, Meter) {
        let reading = Arc::new(Mutex::new(Reading::default()));
        (Self { inner, limit, reading: reading.clone(), done: false }, Meter(reading))
    }

    /// As a [`ByteStream`] for a store.
    pub fn boxed(self) -> ByteStream {
        Box::pin(self)
    }
}

impl Stream for Metered {
    type Item = Result<Bytes, StorageError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let limit = self.limit;
                let mut reading = self.reading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let size = reading.size + chunk.len() as u64;
                if size > limit {
                    drop(reading);
                    self.done = true;
                    return Poll::Ready(Some(Err(StorageError::TooLarge { limit })));
                }
                reading.size = size;
                reading.hash.update(&chunk);
                let room = SNIFF_LEN.saturating_sub(reading.head.len());
                reading.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(e)))
            }
            other => other,
        }
    }
}

/// Image types a product image may have, decided by their full signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Png,
    Jpeg,
    Webp,
}

impl ImageType {
    /// The type of an image whose content starts with `head`, if it is one.
    /// Checks the whole signature: PNG's 8-byte header, JPEG's `FF D8 FF`,
    /// WebP's `RIFF` + size + `WEBP`.
    pub fn detect(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// The media type served.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    /// The type named by a stored media type.
    pub fn from_mime(mime: &str) -> Option<Self> {
        [Self::Png, Self::Jpeg, Self::Webp].into_iter().find(|t| t.mime() == mime)
    }
}

/// The media type an attachment is served as, from its leading bytes alone:
/// images, PDF, ZIP, GIF by signature; UTF-8 text without NUL bytes as
/// `text/plain`; everything else `application/octet-stream`. HTML and SVG
/// are text here, so an upload is never served as a page or a script.
pub fn detect(head: &[u8]) -> &'static str {
    if let Some(image) = ImageType::detect(head) {
        return image.mime();
    }
    const SIGNATURES: [(&[u8], &str); 5] = [
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\x1f\x8b\x08", "application/gzip"),
    ];
    if let Some((_, mime)) = SIGNATURES.iter().find(|(sig, _)| head.starts_with(sig)) {
        return mime;
    }
    if !head.is_empty() && !head.contains(&0) && utf8_prefix(head) {
        return "text/plain; charset=utf-8";
    }
    "application/octet-stream"
}

/// Whether `head` is valid UTF-8, allowing a character cut off at its end.
fn utf8_prefix(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// A file name fit for `Content-Disposition`: the last path component of
/// what the client sent, without control characters, quotes, backslashes or
/// separators, at most 255 bytes; `file` when nothing is left.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut out = String::new();
    for c in last.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | '/' | '\\' | ';')) {
        if out.len() + c.len_utf8() > 255 {
            break;
        }
        out.push(c);
    }
    let trimmed = out.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() { "file".to_owned() } else { trimmed.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn chunks(parts: &[&'static [u8]]) -> ByteStream {
        let items: Vec<Result<Bytes, StorageError>> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Box::pin(futures_util::stream::iter(items))
    }

    #[tokio::test]
    async fn the_meter_counts_hashes_and_keeps_the_head() {
        let (metered, meter) = Metered::new(chunks(&[b"hello ", b"world"]), 11);
        let out: Vec<_> = metered.collect().await;
        assert!(out.iter().all(Result::is_ok));
        let m = meter.measured();
        assert_eq!(m.size, 11);
        assert_eq!(m.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert_eq!(m.head, b"hello world");
    }

    #[tokio::test]
    async fn the_meter_stops_before_the_chunk_that_crosses_the_limit() {
        let (metered, meter) = Metered::new(chunks(&[b"12345", b"678", b"9"]), 7);
        let out: Vec<_> = metered.collect().await;
        assert_eq!(out.len(), 2, "one chunk passes, the next fails, then the stream ends");
        assert!(matches!(out[1], Err(StorageError::TooLarge { limit: 7 })));
        assert_eq!(meter.measured().size, 5);
    }

    #[test]
    fn images_need_their_whole_signature() {
        assert_eq!(ImageType::detect(b"\x89PNG\r\n\x1a\nrest"), Some(ImageType::Png));
        assert_eq!(ImageType::detect(b"\x89PNG\r\n"), None, "a PNG prefix is not a PNG");
        assert_eq!(ImageType::detect(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageType::Jpeg));
        assert_eq!(ImageType::detect(&[0xFF, 0xD8]), None);
        assert_eq!(ImageType::detect(b"RIFF\x10\0\0\0WEBPVP8 "), Some(ImageType::Webp));
        assert_eq!(ImageType::detect(b"XXXX\x10\0\0\0WEBPVP8 "), None, "WEBP without RIFF");
        assert_eq!(ImageType::detect(b"RIFF\x10\0\0\0WAVEfmt "), None, "RIFF that is not WebP");
        assert_eq!(ImageType::detect(b"<svg xmlns="), None);
    }

    #[test]
    fn markup_is_served_as_text() {
        assert_eq!(detect(b"<html><script>alert(1)</script>"), "text/plain; charset=utf-8");
        assert_eq!(detect(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), "text/plain; charset=utf-8");
        assert_eq!(detect(b"%PDF-1.7"), "application/pdf");
        assert_eq!(detect(b"\x00\x01\x02"), "application/octet-stream");
        assert_eq!(detect("caf\u{e9}".as_bytes()), "text/plain; charset=utf-8");
        assert_eq!(detect(&"é".as_bytes()[..1]), "text/plain; charset=utf-8", "a cut-off character");
        assert_eq!(detect(&[0xC3, 0x28]), "application/octet-stream", "invalid UTF-8");
    }

    #[test]
    fn file_names_lose_paths_quotes_and_controls() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_filename("a\"b'c;d\r\ne.txt"), "abcde.txt");
        assert_eq!(sanitize_filename(".."), "file");
        assert_eq!(sanitize_filename(""), "file");
        assert_eq!(sanitize_filename("résumé 2026.pdf"), "résumé 2026.pdf");
        assert!(sanitize_filename(&"é".repeat(300)).len() <= 255);
    }

    #[test]
    fn keys_parse_only_in_the_generated_shape() {
        let key = BlobKey::generate(BlobKind::Attachment);
        assert_eq!(BlobKey::parse(key.as_str()), Some(key.clone()));
        assert!(key.as_str().starts_with("attachments/"));
        assert_eq!(BlobKey::parse("attachments/../../etc/passwd"), None);
        assert_eq!(BlobKey::parse("elsewhere/0190b7e4-0000-7000-8000-000000000000"), None);
        assert_eq!(BlobKey::parse("attachments/0190B7E4-0000-7000-8000-000000000000"), None);
    }
}
