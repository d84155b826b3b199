//! `ApiError`: every failure the API can answer with, and the one exhaustive
//! mapping from failure to problem+json response.

use crate::problem::{Problem, ProblemField};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use rivet_auth::AuthError;
use rivet_domain::error::{BoxError, display_chain};
use rivet_domain::files::UploadError;
use rivet_domain::storage::StorageError;
use rivet_domain::{Error as DomainError, ValidationErrors};
use tracing::{error, warn};

mod families;
use families::{
    auth_problem, bearer_challenge, conflict_problem, fields, internal_problem, repo_problem, validation_problem,
};

/// Where a piece of invalid input was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Body,
    Query,
    Path,
    Header,
}

impl Location {
    fn as_str(self) -> &'static str {
        match self {
            Self::Body => "body",
            Self::Query => "query",
            Self::Path => "path",
            Self::Header => "header",
        }
    }
}

/// Everything the API answers an error with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not parseable JSON or form data. → 400 `malformed_body`
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// A WebSocket endpoint got a plain request. → 426 `upgrade_required` with `Upgrade: websocket`
    #[error("websocket upgrade required: {0}")]
    UpgradeRequired(String),
    /// No credentials were sent. → 401 `unauthenticated`
    #[error("authentication required")]
    Unauthenticated,
    /// Authentication or authorization failed. → 401 / 403 (see [`AuthError`]); storage → 503 / 500
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A use case failed. → 404, 409, 422; storage → 503 / 500
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// No route matches the path. → 404 `not_found`
    #[error("no such resource")]
    RouteNotFound,
    /// The path exists but not for this method. → 405 `method_not_allowed` with `Allow`
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// The body is larger than allowed. → 413 `payload_too_large`
    #[error("body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A header, or all of them, is larger than `[server]` allows. → 431 `headers_too_large`
    #[error("request headers too large")]
    HeadersTooLarge { detail: String },
    /// The path and query are longer than `[server]` allows. → 414 `uri_too_long`
    #[error("request target exceeds {limit} bytes")]
    UriTooLong { limit: usize },
    /// The body's content type is not the expected one. → 415 `unsupported_media_type`
    #[error("expected {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// Input broke validation rules. → 422 `validation_failed`
    #[error("validation failed")]
    Invalid { location: Location, errors: ValidationErrors },
    /// The input has a field the endpoint does not accept. → 422 `unknown_field`
    #[error("unknown field {field}")]
    UnknownField { location: Location, field: String },
    /// The `Idempotency-Key` was used with a different request. → 422 `idempotency_key_reused`
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still running. → 409 `idempotency_in_progress`
    #[error("idempotent request in progress")]
    IdempotencyInProgress,
    /// The client spent its request budget. → 429 `rate_limited` with
    /// `Retry-After` and the `RateLimit-*` headers
    #[error("rate limit exceeded")]
    RateLimited { limit: u32, reset_secs: u64 },
    /// The request ran past `[server] request_timeout_secs`. → 503 `timeout`
    #[error("request timed out")]
    Timeout { after_secs: u64 },
    /// A download `Range` outside the file. → 416 `range_not_satisfiable`
    /// with `Content-Range: bytes */size`
    #[error("range outside {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// An upload failed. → 413, 409 `storage_quota_exceeded`, 415, 507, 503
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// A bug or an unexpected failure. → 500 `internal`
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// A body validation error from a domain field error list.
    pub fn invalid_body(errors: ValidationErrors) -> Self {
        Self::Invalid { location: Location::Body, errors }
    }
}

impl ApiError {
    fn problem(&self) -> (Problem, Vec<(HeaderName, HeaderValue)>) {
        let none = Vec::new();
        match self {
            Self::MalformedBody(why) => (
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_body",
                    "Malformed body",
                    format!("the body could not be parsed: {why}"),
                ),
                none,
            ),
            Self::UpgradeRequired(why) => (
                Problem::new(
                    StatusCode::UPGRADE_REQUIRED,
                    "upgrade_required",
                    "WebSocket upgrade required",
                    format!("open this endpoint as a WebSocket: {why}"),
                ),
                vec![(header::UPGRADE, HeaderValue::from_static("websocket"))],
            ),
            Self::Unauthenticated => (
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Authentication required",
                    "send an access token as `Authorization: Bearer <token>`",
                ),
                vec![bearer_challenge(None, "")],
            ),
            Self::Auth(e) => auth_problem(e),
            Self::Domain(e) => (domain_problem(e), none),
            Self::RangeNotSatisfiable { size } => (
                Problem::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    "Range not satisfiable",
                    format!("the file has {size} bytes"),
                ),
                HeaderValue::from_str(&format!("bytes */{size}"))
                    .map(|v| vec![(header::CONTENT_RANGE, v)])
                    .unwrap_or_default(),
            ),
            Self::Upload(e) => (upload_problem(e), none),
            Self::RouteNotFound => {
                (Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found", "no resource at this path"), none)
            }
            Self::MethodNotAllowed { allow } => (
                Problem::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "Method not allowed",
                    format!("this resource accepts {allow}"),
                ),
                HeaderValue::from_str(allow).map(|v| vec![(header::ALLOW, v)]).unwrap_or_default(),
            ),
            Self::PayloadTooLarge { limit } => (
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Payload too large",
                    format!("the body must be at most {limit} bytes"),
                ),
                none,
            ),
            Self::HeadersTooLarge { detail } => (
                Problem::new(
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "headers_too_large",
                    "Request headers too large",
                    detail.clone(),
                ),
                none,
            ),
            Self::UriTooLong { limit } => (
                Problem::new(
                    StatusCode::URI_TOO_LONG,
                    "uri_too_long",
                    "Request target too long",
                    format!("the path and query must be at most {limit} bytes"),
                ),
                none,
            ),
            Self::UnsupportedMediaType { expected } => (
                Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Unsupported media type",
                    format!("send the body as {expected}"),
                ),
                none,
            ),
            Self::Invalid { location, errors } => (validation_problem(*location, errors), none),
            Self::UnknownField { location, field } => {
                let mut p = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_field",
                    "Unknown field",
                    format!("`{field}` is not a field this endpoint accepts"),
                );
                p.errors = vec![ProblemField {
                    location: location.as_str(),
                    field: field.clone(),
                    code: "unknown_field",
                    message: "is not accepted here".into(),
                }];
                (p, none)
            }
            Self::IdempotencyKeyReused => (
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "Idempotency key reused",
                    "this Idempotency-Key was used with a different request; use a new key",
                ),
                none,
            ),
            Self::IdempotencyInProgress => (
                Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency_in_progress",
                    "Request in progress",
                    "the first request with this Idempotency-Key is still running; retry shortly",
                ),
                none,
            ),
            Self::RateLimited { limit, reset_secs } => (
                Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "Too many requests",
                    format!("the limit of {limit} requests per window is spent; retry in {reset_secs} s"),
                ),
                crate::rate_limit::rejection_headers(*limit, *reset_secs),
            ),
            Self::Timeout { after_secs } => (
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    "Request timed out",
                    format!("the request took longer than {after_secs} s; retry later"),
                ),
                none,
            ),
            Self::Internal(_) => (internal_problem(), none),
        }
    }
}

/// The problem a use case's failure is answered with.
fn domain_problem(e: &DomainError) -> Problem {
    match e {
        DomainError::Validation(errors) => {
            let mut p = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Validation failed",
                errors.to_string(),
            );
            p.errors = fields(Location::Body, errors);
            p
        }
        DomainError::NotFound => {
            Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found", "the resource does not exist")
        }
        DomainError::Conflict(c) => conflict_problem(*c),
        DomainError::LastAdmin => Problem::new(StatusCode::CONFLICT, "last_admin", "Last administrator", e.to_string()),
        DomainError::InsufficientStock => Problem::new(
            StatusCode::CONFLICT,
            "insufficient_stock",
            "Insufficient stock",
            "the adjustment would take the stock below zero",
        ),
        DomainError::PreconditionFailed => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "Precondition failed",
            "the resource has changed since the version in If-Match; fetch it again",
        ),
        DomainError::InvalidToken => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Invalid token",
            "the link is invalid, used or expired; ask for a new one",
        ),
        DomainError::Repo(r) => repo_problem(r),
        DomainError::Hashing(_) => internal_problem(),
    }
}

/// The problem an upload's failure is answered with.
fn upload_problem(e: &UploadError) -> Problem {
    match e {
        UploadError::TooLarge { limit } => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
            format!("the file must be at most {limit} bytes"),
        ),
        UploadError::QuotaExceeded { limit } => Problem::new(
            StatusCode::CONFLICT,
            "storage_quota_exceeded",
            "Storage quota exceeded",
            format!("your files may take {limit} bytes together; delete some first"),
        ),
        UploadError::NotAnImage => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            "the image must be PNG, JPEG or WebP (decided by its content)",
        ),
        UploadError::Storage(StorageError::Interrupted(_)) => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_body",
            "Malformed body",
            "the upload ended before the file part was complete",
        ),
        UploadError::Storage(StorageError::TooLarge { limit }) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
            format!("the file must be at most {limit} bytes"),
        ),
        UploadError::Storage(StorageError::Full(_)) => Problem::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "insufficient_storage",
            "Insufficient storage",
            "the file store is full; nothing was kept; retry later",
        ),
        UploadError::Storage(StorageError::Unavailable(_)) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable",
            "the file store cannot be reached; retry later",
        ),
        UploadError::Storage(StorageError::NotFound | StorageError::Internal(_)) => internal_problem(),
        UploadError::Domain(e) => domain_problem(e),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let (problem, mut headers) = self.problem();
        // 503 and 507 are the service's state (the database is down,
        // overloaded or full), not a bug: a warning, or an outage would
        // flood the error log with one line per request.
        if matches!(problem.status, 503 | 507) {
            warn!(error = %display_chain(self), code = problem.code, "request refused");
        } else if problem.status >= 500 {
            error!(error = %display_chain(self), code = problem.code, "request failed");
        }
        if problem.status == 503 && !headers.iter().any(|(n, _)| n == header::RETRY_AFTER) {
            headers.push((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        problem.into_response(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivet_domain::files::UploadError;
    use rivet_domain::storage::StorageError;

    #[test]
    fn upload_failures_have_their_own_statuses() {
        let cases: [(UploadError, u16, &str); 6] = [
            (UploadError::TooLarge { limit: 5 }, 413, "payload_too_large"),
            (UploadError::QuotaExceeded { limit: 5 }, 409, "storage_quota_exceeded"),
            (UploadError::NotAnImage, 415, "unsupported_media_type"),
            (UploadError::Storage(StorageError::Full("disk full".into())), 507, "insufficient_storage"),
            (UploadError::Storage(StorageError::Unavailable("no route".into())), 503, "service_unavailable"),
            (UploadError::Storage(StorageError::Interrupted("reset".into())), 400, "malformed_body"),
        ];
        for (e, status, code) in cases {
            let problem = upload_problem(&e);
            assert_eq!((problem.status, problem.code), (status, code), "{e:?}");
        }
        let res = ApiError::Upload(UploadError::Storage(StorageError::Unavailable("down".into()))).error_response();
        let retry = res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok());
        assert_eq!((res.status().as_u16(), retry), (503, Some("5")), "a 503 says when to retry");
    }
}
