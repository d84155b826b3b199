//! Uploads and downloads over HTTP: the one file part of a
//! `multipart/form-data` body streamed into a use case, and a stored blob
//! streamed out with its length, `ETag`, `Range` (206/416) and
//! `If-None-Match` (304).

use crate::conditional::not_modified;
use crate::error::{ApiError, Location};
use actix_multipart::{Field, Multipart};
use actix_web::body::SizedStream;
use actix_web::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    HeaderMap, IF_RANGE, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use rivet_domain::ValidationErrors;
use rivet_domain::files::Files;
use rivet_domain::storage::{BlobKey, BlobRead, ByteStream, StorageError};
use std::ops::Range;

/// Bytes of other form fields skipped before the file part.
const MAX_SKIPPED: usize = 64 * 1024;
/// Chunks buffered between the request and the store.
const CHANNEL_CHUNKS: usize = 2;

/// The file part of a `multipart/form-data` upload, found but not yet read.
#[allow(missing_debug_implementations)] // actix-multipart's types are not Debug
pub struct FilePart {
    /// The client's name for the file (sanitised by the use case).
    pub filename: String,
    field: Field,
    /// The rest of the body; kept so the part stays readable.
    _form: Multipart,
}

fn missing(name: &str, code: &'static str, message: &str) -> ApiError {
    ApiError::Invalid { location: Location::Body, errors: ValidationErrors::single(name, code, message) }
}

fn multipart_failure(e: &actix_multipart::MultipartError) -> ApiError {
    ApiError::MalformedBody(format!("multipart body: {e}"))
}

/// Finds the part named `name` in a `multipart/form-data` body.
///
/// # Errors
/// 415 when the body is not `multipart/form-data`; 422 when there is no
/// part `name`, it is not a file, or a file comes in a part of another name;
/// 400 when the body is broken; 413 when the plain fields before it are
/// larger than 64 KiB.
pub async fn file_part(headers: &HeaderMap, mut form: Multipart, name: &str) -> Result<FilePart, ApiError> {
    let multipart = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return Err(ApiError::UnsupportedMediaType { expected: "multipart/form-data" });
    }
    let mut skipped = 0usize;
    loop {
        let mut field = match form.next().await {
            Some(Ok(field)) => field,
            Some(Err(e)) => return Err(multipart_failure(&e)),
            None => return Err(missing(name, "required", "a file part with this name is required")),
        };
        let filename = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        if field.name() == Some(name) {
            let Some(filename) = filename else {
                return Err(missing(name, "not_a_file", "must be a file part (with a filename)"));
            };
            return Ok(FilePart { filename, field, _form: form });
        }
        if filename.is_some() {
            return Err(missing(name, "required", "the file must be sent in the part with this name"));
        }
        while let Some(chunk) = field.next().await {
            skipped += chunk.map_err(|e| multipart_failure(&e))?.len();
            if skipped > MAX_SKIPPED {
                return Err(ApiError::PayloadTooLarge { limit: MAX_SKIPPED });
            }
        }
    }
}

impl FilePart {
    /// Runs `consume` over the part's bytes. The part is read here and its
    /// chunks handed over through a channel of two, so `consume` gets a
    /// `Send` stream (the store may run on any thread) and memory stays
    /// bounded; when `consume` finishes early (a limit, a failure), reading
    /// stops at once.
    pub async fn stream_into<T, Fut: Future<Output = T>>(self, consume: impl FnOnce(ByteStream) -> Fut) -> T {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, StorageError>>(CHANNEL_CHUNKS);
        let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
        let consume = consume(Box::pin(body));
        let mut field = self.field;
        let pump = async move {
            while let Some(chunk) = field.next().await {
                let item = chunk.map_err(|e| StorageError::Interrupted(e.to_string().into()));
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        };
        let consume = std::pin::pin!(consume);
        let pump = std::pin::pin!(pump);
        match futures_util::future::select(consume, pump).await {
            futures_util::future::Either::Left((out, _)) => out,
            futures_util::future::Either::Right(((), consume)) => consume.await,
        }
    }
}

/// What a `Range` header asks of a blob of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The whole blob (no `Range`, one that cannot be parsed, several
    /// ranges, or an `If-Range` that no longer matches).
    Whole,
    /// One satisfiable byte range.
    Part(Range<u64>),
    /// A range outside the blob. → 416
    Unsatisfiable,
}

/// Reads `Range: bytes=a-b` (also `a-` and `-n`) for a blob of `size` bytes
/// whose strong tag is `etag`.
pub fn wanted(req: &HttpRequest, size: u64, etag: &str) -> Wanted {
    let Some(range) = req.headers().get(RANGE).and_then(|v| v.to_str().ok()) else { return Wanted::Whole };
    if let Some(if_range) = req.headers().get(IF_RANGE).and_then(|v| v.to_str().ok())
        && if_range.trim() != etag
    {
        return Wanted::Whole;
    }
    let Some(spec) = range.trim().strip_prefix("bytes=") else { return Wanted::Whole };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else { return Wanted::Whole };
    let parse = |s: &str| s.trim().parse::<u64>().ok();
    let range = match (start.trim().is_empty(), end.trim().is_empty()) {
        (true, false) => match parse(end) {
            None => return Wanted::Whole,
            Some(0) => return Wanted::Unsatisfiable,
            Some(n) => size.saturating_sub(n)..size,
        },
        (false, true) => match parse(start) {
            Some(a) => a..size,
            None => return Wanted::Whole,
        },
        (false, false) => match (parse(start), parse(end)) {
            (Some(a), Some(b)) if a <= b => a..(b.saturating_add(1)).min(size),
            _ => return Wanted::Whole,
        },
        (true, true) => return Wanted::Whole,
    };
    if range.start >= size || range.is_empty() { Wanted::Unsatisfiable } else { Wanted::Part(range) }
}

/// The strong tag of content with this SHA-256.
pub fn etag_of(sha256: &str) -> String {
    format!("\"{sha256}\"")
}

/// How a download is presented.
#[derive(Debug, Clone, Copy)]
pub struct Presentation<'a> {
    pub content_type: &'a str,
    pub etag: &'a str,
    pub cache_control: &'static str,
    /// `Content-Disposition: attachment` with this (sanitised) name.
    pub attachment_name: Option<&'a str>,
}

fn common(res: &mut actix_web::HttpResponseBuilder, p: &Presentation<'_>) {
    res.insert_header((ETAG, p.etag))
        .insert_header((CACHE_CONTROL, p.cache_control))
        .insert_header((ACCEPT_RANGES, "bytes"))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"));
    if let Some(name) = p.attachment_name {
        res.insert_header((CONTENT_DISPOSITION, content_disposition(name)));
    }
}

/// 304 for a matching `If-None-Match`.
fn unchanged(p: &Presentation<'_>) -> HttpResponse {
    let mut res = HttpResponse::NotModified();
    common(&mut res, p);
    res.finish()
}

/// 200 with the whole blob, or 206 with the range that was read.
fn serve(p: &Presentation<'_>, blob: BlobRead, partial: bool) -> HttpResponse {
    let mut res = if partial { HttpResponse::PartialContent() } else { HttpResponse::Ok() };
    common(&mut res, p);
    res.insert_header((CONTENT_TYPE, p.content_type));
    let length = blob.range.end - blob.range.start;
    if partial {
        res.insert_header((
            CONTENT_RANGE,
            format!("bytes {}-{}/{}", blob.range.start, blob.range.end.saturating_sub(1), blob.size),
        ));
    }
    res.body(SizedStream::new(length, blob.body))
}

/// Answers a download of the blob under `key` (`size` bytes, from its row):
/// 304 for a matching `If-None-Match`, 416 for a range outside it, 206 for
/// one range, else 200 with the whole file.
///
/// # Errors
/// 416; the store's failures.
pub async fn download(
    files: &Files,
    req: &HttpRequest,
    p: &Presentation<'_>,
    key: &BlobKey,
    size: u64,
) -> Result<HttpResponse, ApiError> {
    if not_modified(req, p.etag) {
        return Ok(unchanged(p));
    }
    let range = match wanted(req, size, p.etag) {
        Wanted::Whole => None,
        Wanted::Part(r) => Some(r),
        Wanted::Unsatisfiable => return Err(ApiError::RangeNotSatisfiable { size }),
    };
    let partial = range.is_some();
    let blob = files.open(key, range).await?;
    Ok(serve(p, blob, partial))
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`
/// (RFC 6266): the name is already free of separators, quotes and controls.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name.chars().map(|c| if c.is_ascii() && c != '%' { c } else { '_' }).collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn range(header: &str, size: u64) -> Wanted {
        wanted(&TestRequest::default().insert_header((RANGE, header)).to_http_request(), size, "\"t\"")
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(range("bytes=0-3", 10), Wanted::Part(0..4));
        assert_eq!(range("bytes=5-", 10), Wanted::Part(5..10));
        assert_eq!(range("bytes=-3", 10), Wanted::Part(7..10));
        assert_eq!(range("bytes=-30", 10), Wanted::Part(0..10), "a suffix longer than the file is all of it");
        assert_eq!(range("bytes=8-100", 10), Wanted::Part(8..10), "the end is clamped");
        assert_eq!(range("bytes=10-", 10), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=-0", 10), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=4-2", 10), Wanted::Whole, "an invalid range is ignored");
        assert_eq!(range("bytes=0-1,4-5", 10), Wanted::Whole, "several ranges get the whole file");
        assert_eq!(range("items=0-1", 10), Wanted::Whole);
        let stale = TestRequest::default()
            .insert_header((RANGE, "bytes=0-1"))
            .insert_header((IF_RANGE, "\"other\""))
            .to_http_request();
        assert_eq!(wanted(&stale, 10, "\"t\""), Wanted::Whole, "If-Range that no longer matches");
    }

    #[test]
    fn dispositions_carry_a_fallback_and_the_utf8_name() {
        assert_eq!(
            content_disposition("résumé 1.pdf"),
            "attachment; filename=\"r_sum_ 1.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf"
        );
        assert_eq!(content_disposition("a%b"), "attachment; filename=\"a_b\"; filename*=UTF-8''a%25b");
    }
}
