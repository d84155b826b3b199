//! Deprecating a route, in one place: an entry in [`DEPRECATED`] makes the
//! route answer with `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and,
//! when there is one, a `Link` to its successor, and marks the operation
//! `deprecated` in the OpenAPI document with the dates in its description.
//! Clients generated from the document warn their users; clients watching
//! headers see the date the route stops working.

use actix_web::middleware::DefaultHeaders;
use chrono::DateTime;

/// A route that is going away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    /// Lower-case method, as in the OpenAPI document (`get`, `post`...).
    pub method: &'static str,
    /// The route template (`/api/v1/...`).
    pub path: &'static str,
    /// When it was deprecated (Unix seconds).
    pub since: i64,
    /// When it stops working (Unix seconds).
    pub sunset: i64,
    /// The route to use instead, if any.
    pub successor: Option<&'static str>,
}

/// Every deprecated route of this version. None yet: the first API version
/// has nothing to retire.
pub const DEPRECATED: &[Deprecation] = &[];

fn http_date(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0).unwrap_or_default().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

impl Deprecation {
    /// The entry for `method` and `path` in `table`, if any.
    pub fn find(table: &'static [Deprecation], method: &str, path: &str) -> Option<&'static Deprecation> {
        table.iter().find(|d| d.method.eq_ignore_ascii_case(method) && d.path == path)
    }

    /// The headers the route answers with.
    pub fn headers(&self) -> DefaultHeaders {
        let mut headers = DefaultHeaders::new()
            .add(("Deprecation", format!("@{}", self.since)))
            .add(("Sunset", http_date(self.sunset)));
        if let Some(successor) = self.successor {
            headers = headers.add(("Link", format!("<{successor}>; rel=\"successor-version\"")));
        }
        headers
    }

    /// The sentence added to the operation's description.
    pub fn notice(&self) -> String {
        let successor = self.successor.map(|s| format!(" Use `{s}` instead.")).unwrap_or_default();
        format!(
            "**Deprecated** since {}; stops working after {}.{successor}",
            http_date(self.since),
            http_date(self.sunset)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Endpoint;
    use actix_web::{App, HttpResponse, test as web_test};

    static TABLE: [Deprecation; 1] = [Deprecation {
        method: "get",
        path: "/old",
        since: 1_767_225_600,
        sunset: 1_782_864_000,
        successor: Some("/api/v1/new"),
    }];

    #[actix_web::test]
    async fn a_deprecated_route_announces_its_deprecation_sunset_and_successor() {
        let endpoint = Endpoint::new("/old")
            .deprecations(&TABLE)
            .get(|| async { HttpResponse::Ok().finish() })
            .post(|| async { HttpResponse::Ok().finish() });
        let app = web_test::init_service(App::new().service(endpoint.build())).await;
        let res = web_test::call_service(&app, web_test::TestRequest::get().uri("/old").to_request()).await;
        assert_eq!(res.headers().get("deprecation").unwrap(), "@1767225600");
        assert_eq!(res.headers().get("sunset").unwrap(), "Wed, 01 Jul 2026 00:00:00 GMT");
        assert_eq!(res.headers().get("link").unwrap(), "</api/v1/new>; rel=\"successor-version\"");
        let post = web_test::call_service(&app, web_test::TestRequest::post().uri("/old").to_request()).await;
        assert!(post.headers().get("deprecation").is_none(), "only the listed method is deprecated");
    }

    #[test]
    fn the_openapi_document_marks_a_deprecated_operation() {
        let mut doc = crate::openapi::document();
        let table: &'static [Deprecation] = &[Deprecation {
            method: "get",
            path: "/api/v1/products",
            since: 1_767_225_600,
            sunset: 1_782_864_000,
            successor: None,
        }];
        crate::openapi::mark_deprecated(&mut doc, table);
        let json = serde_json::to_value(&doc).unwrap();
        let op = &json["paths"]["/api/v1/products"]["get"];
        assert_eq!(op["deprecated"], true, "{op}");
        assert!(op["description"].as_str().unwrap().contains("stops working after Wed, 01 Jul 2026"), "{op}");
        assert!(json["paths"]["/api/v1/products"]["post"].get("deprecated").is_none_or(|d| d == false));
    }
}
