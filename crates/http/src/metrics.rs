//! Prometheus metrics, served at `GET /metrics` in the text format.
//!
//! The HTTP series are recorded by [`crate::context::RequestContext`] for
//! every request, labelled by method, route *template* (`/api/v1/todos/{id}`,
//! never the raw path, so labels stay few) and status. Gauges of other parts
//! (database pool, job queue) come from [`MetricsSource`]s the application
//! registers; rate-limit counters from the [`RateLimiter`].

use crate::rate_limit::RateLimiter;
use actix_web::http::Method;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    /// Observations per bucket (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
}

/// Request series keyed by (method, route template, status).
type HttpSeries = BTreeMap<(&'static str, Arc<str>, u16), Series>;

/// Renders gauges of one part of the application.
#[async_trait]
pub trait MetricsSource: Send + Sync {
    /// Appends metric families in the Prometheus text format.
    async fn render(&self, out: &mut String);
}

/// The registry; registered as `web::Data<Metrics>`.
#[derive(Clone, Default)]
pub struct Metrics {
    http: Arc<Mutex<HttpSeries>>,
    sources: Vec<Arc<dyn MetricsSource>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("sources", &self.sources.len()).finish_non_exhaustive()
    }
}

/// The method as a label; methods outside the standard set share one label,
/// so a client inventing methods cannot multiply the series.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
    ];
    KNOWN.iter().find(|(m, _)| m == method).map_or("OTHER", |(_, name)| name)
}

/// Escapes a label value.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// A registry that also renders `sources`.
    pub fn new(sources: Vec<Arc<dyn MetricsSource>>) -> Self {
        Self { http: Arc::default(), sources }
    }

    /// Records one finished request. The route template is taken by value:
    /// the request already owns it, so recording allocates nothing.
    pub fn observe(&self, method: &Method, route: Arc<str>, status: u16, seconds: f64) {
        let mut http = self.http.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let series = http.entry((method_label(method), route, status)).or_default();
        series.count += 1;
        series.sum += seconds;
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            series.buckets[i] += 1;
        }
    }

    /// Every metric, in the Prometheus text format (version 0.0.4).
    pub async fn render(&self, limiter: Option<&RateLimiter>) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let http = self.http.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        out.push_str(
            "# HELP rivet_http_requests_total HTTP requests answered, by method, route template and status.\n",
        );
        out.push_str("# TYPE rivet_http_requests_total counter\n");
        for ((method, route, status), s) in &http {
            let _ = writeln!(
                out,
                "rivet_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                label(route),
                s.count
            );
        }
        out.push_str(
            "# HELP rivet_http_request_duration_seconds \
             Time from request to response, by method, route template and status.\n",
        );
        out.push_str("# TYPE rivet_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in &http {
            let labels = format!("method=\"{method}\",route=\"{}\",status=\"{status}\"", label(route));
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                cumulative += n;
                let _ =
                    writeln!(out, "rivet_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(out, "rivet_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "rivet_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "rivet_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        if let Some(limiter) = limiter {
            out.push_str("# HELP rivet_rate_limit_rejections_total Requests refused with 429.\n");
            out.push_str("# TYPE rivet_rate_limit_rejections_total counter\n");
            let _ = writeln!(out, "rivet_rate_limit_rejections_total {}", limiter.rejected());
            out.push_str(
                "# HELP rivet_rate_limit_store_errors_total \
                 Failures of the rate-limit counter store (requests then fail open or get 503).\n",
            );
            out.push_str("# TYPE rivet_rate_limit_store_errors_total counter\n");
            let _ = writeln!(out, "rivet_rate_limit_store_errors_total {}", limiter.store_errors());
        }
        for source in &self.sources {
            source.render(&mut out).await;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_lands_in_its_bucket_and_every_larger_one() {
        let m = Metrics::default();
        m.observe(&Method::GET, "/api/v1/todos/{id}".into(), 200, 0.02);
        m.observe(&Method::GET, "/api/v1/todos/{id}".into(), 200, 3.0);
        m.observe(&Method::from_bytes(b"BREW").unwrap(), "unmatched".into(), 405, 0.001);
        let text = m.render(None).await;
        let route = "method=\"GET\",route=\"/api/v1/todos/{id}\",status=\"200\"";
        assert!(text.contains(&format!("rivet_http_requests_total{{{route}}} 2")), "{text}");
        assert!(
            text.contains(&format!("rivet_http_request_duration_seconds_bucket{{{route},le=\"0.01\"}} 0")),
            "{text}"
        );
        assert!(
            text.contains(&format!("rivet_http_request_duration_seconds_bucket{{{route},le=\"0.025\"}} 1")),
            "{text}"
        );
        assert!(text.contains(&format!("rivet_http_request_duration_seconds_bucket{{{route},le=\"5\"}} 2")), "{text}");
        assert!(text.contains(&format!("rivet_http_request_duration_seconds_count{{{route}}} 2")), "{text}");
        assert!(
            text.contains("rivet_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"} 1"),
            "{text}"
        );
    }
}
