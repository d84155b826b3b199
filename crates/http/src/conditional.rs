//! Conditional requests (RFC 9110 §13): a strong `ETag` from a resource's
//! `version`, `If-None-Match` → 304 on reads, `If-Match` → 412 on writes.

use actix_web::http::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use rivet_domain::version::IfVersion;
use serde::Serialize;

/// The strong entity tag of a version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The version a strong tag names, if it is one of ours.
fn version_of(tag: &str) -> Option<i64> {
    tag.trim().strip_prefix("\"v")?.strip_suffix('"')?.parse().ok()
}

/// The tags listed in a header (`"a", W/"b"`), if present.
fn tags(req: &HttpRequest, name: actix_web::http::header::HeaderName) -> Option<Vec<&str>> {
    let value = req.headers().get(name)?.to_str().ok()?;
    Some(value.split(',').map(str::trim).filter(|t| !t.is_empty()).collect())
}

/// The write condition of `If-Match`. A weak or foreign tag matches nothing
/// (If-Match compares strongly), so the write is refused with 412.
pub fn if_match(req: &HttpRequest) -> IfVersion {
    match tags(req, IF_MATCH) {
        None => IfVersion::Any,
        Some(list) if list.contains(&"*") => IfVersion::Any,
        Some(list) => IfVersion::OneOf(list.iter().filter_map(|t| version_of(t)).collect()),
    }
}

/// True when `If-None-Match` names the current tag (weak comparison) or `*`.
pub(crate) fn not_modified(req: &HttpRequest, current: &str) -> bool {
    tags(req, IF_NONE_MATCH).is_some_and(|list| list.iter().any(|t| *t == "*" || t.trim_start_matches("W/") == current))
}

/// A single resource with its `ETag`: 304 without a body when the client's
/// `If-None-Match` already names it.
pub fn versioned<T: Serialize>(
    req: &HttpRequest,
    mut response: HttpResponseBuilder,
    version: i64,
    body: &T,
) -> HttpResponse {
    let tag = etag(version);
    if not_modified(req, &tag) {
        return HttpResponse::NotModified().insert_header((ETAG, tag)).finish();
    }
    response.insert_header((ETAG, tag)).json(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_match_reads_our_strong_tags_only() {
        let r = |v: &str| TestRequest::default().insert_header((IF_MATCH, v.to_owned())).to_http_request();
        assert_eq!(if_match(&TestRequest::default().to_http_request()), IfVersion::Any);
        assert_eq!(if_match(&r("*")), IfVersion::Any);
        assert_eq!(if_match(&r("\"v3\", \"v4\"")), IfVersion::OneOf(vec![3, 4]));
        assert_eq!(if_match(&r("W/\"v3\"")), IfVersion::OneOf(vec![]), "weak tags never match If-Match");
        assert_eq!(if_match(&r("\"abc\"")), IfVersion::OneOf(vec![]));
    }
}
