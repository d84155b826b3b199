//! The RFC 9457 problem-details body.

use crate::context;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::Serialize;

/// One entry of `errors` in a validation problem.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ProblemField {
    pub location: &'static str,
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// A problem-details document.
/// An RFC 9457 problem-details document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "about:blank",
    "title": "Validation failed",
    "status": 422,
    "detail": "title: must be 1 to 200 characters",
    "instance": "/api/v1/todos",
    "code": "validation_failed",
    "request_id": "01a20291-39f8-7113-8417-ba3b4989b576",
    "errors": [{"location": "body", "field": "title", "code": "length", "message": "must be 1 to 200 characters"}]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(ignore)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    /// A problem for `status` with a stable `code`, a short `title` and a
    /// `detail` safe to show to end users.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        let info = context::current();
        Self {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail: detail.into(),
            instance: info.as_ref().map(|i| i.path.clone()),
            code,
            request_id: info.map(|i| i.id.to_string()),
            errors: Vec::new(),
            extensions: serde_json::Map::new(),
        }
    }

    /// Renders the problem with extra headers.
    pub fn into_response(self, headers: Vec<(HeaderName, HeaderValue)>) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponseBuilder::new(status);
        builder.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        for h in headers {
            builder.insert_header(h);
        }
        match serde_json::to_vec(&self) {
            Ok(body) => builder.body(body),
            Err(_) => builder.finish(),
        }
    }
}
