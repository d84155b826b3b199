//! Middleware that bounds requests and shrinks responses:
//! - [`HeaderLimits`]: oversized headers are answered 431, an oversized
//!   request target 414, before routing.
//! - [`Draining`]: during shutdown, answers close their connections.
//! - [`Timeout`]: a request still running after `[server] request_timeout_secs`
//!   is answered 503 `timeout` (its handler future is dropped, so a database
//!   call in flight is cancelled and its connection returns to the pool).
//! - [`Compression`]: gzip for response bodies of 1 KiB or more when the
//!   client accepts it; smaller bodies are sent as they are, since
//!   compressing them costs more than it saves.

use crate::error::ApiError;
use crate::middleware::async_middleware;
use actix_web::body::{BodySize, BoxBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use std::time::Duration;

/// Bodies smaller than this are not compressed.
pub const COMPRESS_MIN_BYTES: u64 = 1024;

/// The request time limit, registered as `web::Data<RequestTimeout>`.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Answers 503 `timeout` when a route's handler (extraction included) runs
/// longer than the [`RequestTimeout`] in the app data. Every
/// [`Endpoint`](crate::routes::Endpoint) route is wrapped in it: at route
/// level the request is already routed, and the answer still passes through
/// the app's middleware (request id, security headers, CORS).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeout;

async_middleware!(Timeout, TimeoutService, |_this, service, req| {
    let Some(limit) = req.app_data::<actix_web::web::Data<RequestTimeout>>().map(|t| t.0) else {
        return service.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let request = req.request().clone();
    match tokio::time::timeout(limit, service.call(req)).await {
        Ok(res) => res.map(ServiceResponse::map_into_boxed_body),
        Err(_) => {
            tracing::warn!(after_secs = limit.as_secs(), "request timed out");
            let res = actix_web::ResponseError::error_response(&ApiError::Timeout { after_secs: limit.as_secs() });
            Ok(ServiceResponse::new(request, res))
        }
    }
});

/// The size limits of a request's head, checked before routing: a header
/// (name and value) over `max_header_bytes`, or all of them together over
/// `max_total_bytes`, is answered 431 `headers_too_large`; a request target
/// (path and query) over `max_header_bytes` is 414 `uri_too_long`. Heads over
/// 128 KiB never get this far: the HTTP parser refuses them with a bare 431,
/// and targets over 64 KiB with a bare 400.
#[derive(Debug, Clone, Copy)]
pub struct HeaderLimits {
    pub max_header_bytes: usize,
    pub max_total_bytes: usize,
}

impl Default for HeaderLimits {
    /// 16 KiB per header and 64 KiB in all, as `[server]` defaults.
    fn default() -> Self {
        Self { max_header_bytes: 16 * 1024, max_total_bytes: 64 * 1024 }
    }
}

impl HeaderLimits {
    /// The error for `head`, when it breaks a limit.
    pub fn check(&self, head: &actix_web::dev::RequestHead) -> Option<ApiError> {
        let target = head.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
        if target > self.max_header_bytes {
            return Some(ApiError::UriTooLong { limit: self.max_header_bytes });
        }
        let mut total = 0;
        for (name, value) in head.headers() {
            // As on the wire: `name: value\r\n`.
            let size = name.as_str().len() + value.len() + 4;
            if size > self.max_header_bytes {
                return Some(ApiError::HeadersTooLarge {
                    detail: format!(
                        "the {name} header is {size} bytes; a header may be at most {} bytes",
                        self.max_header_bytes
                    ),
                });
            }
            total += size;
        }
        (total > self.max_total_bytes).then(|| ApiError::HeadersTooLarge {
            detail: format!("the headers are {total} bytes together; at most {} are accepted", self.max_total_bytes),
        })
    }
}

async_middleware!(HeaderLimits, HeaderLimitsService, |limits, service, req| {
    if let Some(error) = limits.check(req.head()) {
        let res = actix_web::ResponseError::error_response(&error);
        return Ok(ServiceResponse::new(req.request().clone(), res));
    }
    service.call(req).await.map(ServiceResponse::map_into_boxed_body)
});

/// The server's shutdown, as its middleware sees it: registered as
/// `web::Data<Draining>` and wrapped around the app. It counts the requests
/// in flight (the shutdown waits for none to be left before it stops the
/// workers), and once [`Draining::start`] is called every answer closes its
/// connection (`Connection: close`), so keep-alive clients reconnect — to
/// another instance — instead of sending more requests into the drain, and
/// `GET /health/ready` answers 503 so that balancers stop routing here.
#[derive(Debug, Clone, Default)]
pub struct Draining(std::sync::Arc<DrainState>);

#[derive(Debug, Default)]
pub struct DrainState {
    draining: std::sync::atomic::AtomicBool,
    in_flight: std::sync::atomic::AtomicUsize,
}

impl Draining {
    /// Marks the server as draining.
    pub fn start(&self) {
        self.0.draining.store(true, std::sync::atomic::Ordering::Release);
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Requests whose handlers are running now.
    pub fn in_flight(&self) -> usize {
        self.0.in_flight.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Waits until no request is in flight, at most `limit`; true if none is.
    pub async fn settled(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.in_flight() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

/// Counts a request in flight while it lives (cancelled ones included).
struct InFlight(std::sync::Arc<DrainState>);

impl InFlight {
    fn enter(state: &std::sync::Arc<DrainState>) -> Self {
        state.in_flight.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

async_middleware!(Draining, DrainingService, |draining, service, req| {
    let _counted = InFlight::enter(&draining.0);
    let mut res = service.call(req).await?.map_into_boxed_body();
    if draining.is_draining() {
        res.response_mut().head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(res)
});

/// True when `Accept-Encoding` admits gzip (`gzip`, or `*`, with a non-zero q).
fn accepts_gzip(value: Option<&HeaderValue>) -> bool {
    let Some(value) = value.and_then(|v| v.to_str().ok()) else { return false };
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q == 0.0));
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// gzip for bodies of at least [`COMPRESS_MIN_BYTES`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Compression;

async_middleware!(Compression, CompressionService, |_this, service, req| {
    let gzip = accepts_gzip(req.headers().get(header::ACCEPT_ENCODING));
    let res = service.call(req).await?;
    Ok(res.map_body(|head, body| {
        let big = match body.size() {
            BodySize::Sized(n) => n >= COMPRESS_MIN_BYTES,
            BodySize::Stream => true,
            BodySize::None => false,
        };
        // A WebSocket's frames and an event stream's events must pass as
        // they come: a compressor would hold them back (or break the socket).
        let live = head.status == actix_web::http::StatusCode::SWITCHING_PROTOCOLS
            || head.headers.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
        if live {
            return BoxBody::new(body);
        }
        head.headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if gzip && big && !head.headers.contains_key(header::CONTENT_ENCODING) {
            BoxBody::new(actix_http::encoding::Encoder::response(actix_http::ContentEncoding::Gzip, head, body))
        } else {
            BoxBody::new(body)
        }
    }))
});

#[cfg(test)]
mod tests {
    use super::accepts_gzip;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn gzip_is_accepted_unless_refused_with_q_zero() {
        let accepts = |s: &'static str| accepts_gzip(Some(&HeaderValue::from_static(s)));
        assert!(accepts("gzip"));
        assert!(accepts("br;q=1.0, gzip;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, zstd"));
        assert!(!accepts_gzip(None));
    }
}
