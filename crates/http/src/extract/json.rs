//! JSON bodies: `application/json` only, size-limited, unknown fields refused.

use super::data_error;
use crate::error::{ApiError, Location};
use crate::state::HttpLimits;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// A JSON request body deserialized into `T`. Give `T`
/// `#[serde(deny_unknown_fields)]`; unknown fields answer 422 `unknown_field`.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// True for `application/json` and `application/*+json`, with any parameters.
pub(crate) fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads the whole payload, refusing more than `limit` bytes.
pub(crate) async fn read_limited(req: &HttpRequest, mut payload: Payload, limit: usize) -> Result<BytesMut, ApiError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::MalformedBody(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            if !is_json(&req) {
                return Err(ApiError::UnsupportedMediaType { expected: "application/json" });
            }
            let limit = req
                .app_data::<web::Data<HttpLimits>>()
                .map_or(HttpLimits::default().max_json_bytes, |l| l.max_json_bytes);
            let body = read_limited(&req, payload, limit).await?;
            let mut de = serde_json::Deserializer::from_slice(&body);
            let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                match inner.classify() {
                    serde_json::error::Category::Data => data_error(Location::Body, &path, &inner.to_string()),
                    _ => ApiError::MalformedBody(inner.to_string()),
                }
            })?;
            de.end().map_err(|e| ApiError::MalformedBody(e.to_string()))?;
            Ok(Json(value))
        })
    }
}

/// Reads an `application/x-www-form-urlencoded` body into a map, size-limited.
///
/// # Errors
/// `UnsupportedMediaType`, `PayloadTooLarge` or `MalformedBody`.
pub async fn read_form(
    req: &HttpRequest,
    payload: Payload,
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !ct.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(ApiError::UnsupportedMediaType { expected: "application/x-www-form-urlencoded" });
    }
    let limit =
        req.app_data::<web::Data<HttpLimits>>().map_or(HttpLimits::default().max_json_bytes, |l| l.max_json_bytes);
    let body = read_limited(req, payload, limit).await?;
    serde_urlencoded::from_bytes(&body).map_err(|e| ApiError::MalformedBody(e.to_string()))
}
