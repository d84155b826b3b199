//! `Idempotency-Key` on POST creates: the first request with a key runs and
//! its answer is stored (24 h, per principal); a repeat with the same method,
//! path and body replays that answer with `Idempotent-Replayed: true`; the
//! same key with a different request is 422 `idempotency_key_reused`; a
//! repeat while the first still runs is 409 `idempotency_in_progress`.
//! Server errors are not stored, so a retry after a 5xx runs again.

use crate::error::{ApiError, Location};
use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, ETAG, HeaderName, LOCATION};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use rivet_auth::Principal;
use rivet_domain::ValidationErrors;
use rivet_domain::idempotency::{Claim, ClaimRequest, IdempotencyKey, StoredResponse};
use rivet_domain::ports::IdempotencyStore;
use rivet_domain::time::now;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::warn;

const KEY: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The request's key, if it sent one.
fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get(KEY) else { return Ok(None) };
    let key = IdempotencyKey::parse(raw.to_str().unwrap_or("\u{0}"));
    key.map(|k| Some(k.as_str().to_owned())).map_err(|e| ApiError::Invalid {
        location: Location::Header,
        errors: ValidationErrors::single(e.field, e.code, e.message),
    })
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let mut res = HttpResponseBuilder::new(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    res.insert_header((CONTENT_TYPE, stored.content_type)).insert_header((REPLAYED, "true"));
    if let Some(l) = stored.location {
        res.insert_header((LOCATION, l));
    }
    if let Some(e) = stored.etag {
        res.insert_header((ETAG, e));
    }
    res.body(stored.body)
}

fn header(res: &HttpResponse, name: HeaderName) -> Option<String> {
    res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Runs `work` at most once per key: see the module comment. `body` is the
/// parsed request body; its canonical JSON, with method and path, is the
/// request's fingerprint.
///
/// # Errors
/// 422 for a malformed or reused key, 409 while the first request runs,
/// storage failures; otherwise whatever `work` answers.
pub async fn once<B, F>(
    store: &dyn IdempotencyStore,
    req: &HttpRequest,
    who: &Principal,
    body: &B,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    B: Serialize,
    F: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(key) = key_of(req)? else { return work.await };
    let principal = format!("user:{}", who.user_id);
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b" ");
    hasher.update(req.path());
    hasher.update(b"\n");
    hasher.update(serde_json::to_vec(body).map_err(|e| ApiError::Internal(Box::new(e)))?);
    let fingerprint = rivet_domain::hex(&hasher.finalize());
    let claim = ClaimRequest { principal: &principal, key: &key, fingerprint: &fingerprint, now: now() };
    match store.claim(&claim).await.map_err(rivet_domain::Error::from)? {
        Claim::Done(stored) => Ok(replay(stored)),
        Claim::InProgress => Err(ApiError::IdempotencyInProgress),
        Claim::Mismatch => Err(ApiError::IdempotencyKeyReused),
        Claim::Started => {
            let response = work.await.unwrap_or_else(|e| e.error_response());
            if response.status().is_server_error() {
                if let Err(e) = store.release(&principal, &key).await {
                    warn!(error = %e, "could not release an idempotency claim; it expires with its lease");
                }
                return Ok(response);
            }
            let (status, location, etag) = (response.status(), header(&response, LOCATION), header(&response, ETAG));
            let content_type = header(&response, CONTENT_TYPE).unwrap_or_else(|| "application/json".into());
            let body = response
                .into_body()
                .try_into_bytes()
                .map_err(|_| ApiError::Internal("a create answered with a streaming body".into()))?;
            let stored = StoredResponse {
                status: status.as_u16(),
                content_type,
                location,
                etag,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            store.complete(&principal, &key, &stored).await.map_err(rivet_domain::Error::from)?;
            let mut res = replay(stored);
            res.headers_mut().remove(REPLAYED);
            Ok(res)
        }
    }
}
