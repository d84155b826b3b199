//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! Handlers declare their success responses and the errors particular to
//! them; [`StandardErrors`] adds, to every operation, the problem+json
//! answers that any request of its kind can get (malformed or oversized
//! bodies, failed authentication, validation, server and database errors),
//! so the document lists every status the server can send.

mod conditional;
mod refine;

use crate::docs;
use crate::problem::{Problem, ProblemField};
use crate::routes::{api_keys, auth, events, files, health, oauth, products, recovery, todos, users};
use conditional::ConditionalRequests;
use refine::Refinements;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// The document's skeleton; paths and schemas come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rivet",
        description = "Accounts and authentication, todos and a product catalogue. Errors are RFC 9457 problem details \
                       (`application/problem+json`) with a stable `code`.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        health::live, health::ready, health::metrics, docs::openapi_json,
        auth::register, auth::login, oauth::token, auth::refresh, auth::logout, auth::logout_all,
        recovery::forgot_password, recovery::reset_password, recovery::verify_email, recovery::resend_verification,
        api_keys::create, api_keys::list, api_keys::revoke,
        users::me, users::update_me, users::delete_me, users::change_password, users::my_stats,
        users::list_users, users::get_user, users::update_user, users::delete_user, users::user_stats,
        todos::list, todos::create, todos::get, todos::update, todos::delete,
        products::list, products::create, products::get, products::update, products::delete, products::adjust_stock,
        files::upload_attachment, files::list_attachments, files::download_attachment, files::detach,
        files::set_product_image, files::product_image,
        events::server_sent_events, events::websocket, events::ticket,
    ),
    components(schemas(
        Problem, ProblemField, crate::dto::sets::IdempotencyKey, crate::dto::sets::EventId,
        crate::dto::events::StreamEvent, crate::dto::events::ServerSentEvent, crate::dto::events::ClientMessage, crate::dto::events::ControlMessage,
    )),
    modifiers(&Security, &StandardErrors, &Deprecations, &Refinements, &ConditionalRequests),
    tags(
        (name = "auth", description = "Registration, login, tokens and sessions"),
        (name = "api-keys", description = "Keys for scripts and services, limited to scopes"),
        (name = "users", description = "Your account, and administration of users"),
        (name = "todos", description = "Your own todos"),
        (name = "products", description = "The public product catalogue"),
        (name = "events", description = "Real-time events: a WebSocket and Server-Sent Events over a durable log, \
            resumable after any event id"),
        (name = "operations", description = "Health and the API description"),
    )
)]
struct ApiDoc;

/// The API description as served at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Operations an API key may not call (the handlers check it with
/// `Principal::require_session`; a test compares the two).
pub const SESSION_ONLY: [(&str, &str); 9] = [
    ("post", "/api/v1/api-keys"),
    ("get", "/api/v1/api-keys"),
    ("delete", "/api/v1/api-keys/{id}"),
    ("post", "/api/v1/auth/logout-all"),
    ("post", "/api/v1/auth/verify-email/resend"),
    ("post", "/api/v1/events/tickets"),
    ("patch", "/api/v1/users/me"),
    ("delete", "/api/v1/users/me"),
    ("post", "/api/v1/users/me/password"),
];

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from /api/v1/auth/login or /api/v1/auth/token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::Password(Password::new("/api/v1/auth/token", Scopes::new()))],
                "OAuth2 password flow (RFC 6749 §4.3) on the token endpoint; the docs page's Authorize button uses it.",
            )),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "An API key (`rvt_…`) from /api/v1/api-keys, limited to its scopes",
            ))),
        );
        // Wherever a bearer token is accepted, one obtained through the
        // OAuth2 flow is the same token; and an API key is accepted too,
        // except where an operation needs a signed-in session.
        for (path, item) in &mut openapi.paths.paths {
            for (method, op) in operations_by_method(item) {
                if let Some(requirements) = &mut op.security {
                    let bearer = serde_json::to_value(SecurityRequirement::new("bearer", Vec::<String>::new())).ok();
                    if requirements.iter().any(|r| serde_json::to_value(r).ok() == bearer) {
                        requirements.push(SecurityRequirement::new("oauth2", Vec::<String>::new()));
                        if !SESSION_ONLY.contains(&(method, path.as_str())) {
                            requirements.push(SecurityRequirement::new("api_key", Vec::<String>::new()));
                        }
                    }
                }
            }
        }
    }
}

fn operations_by_method(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &mut utoipa::openapi::path::Operation)> {
    [
        ("get", &mut item.get),
        ("post", &mut item.post),
        ("put", &mut item.put),
        ("patch", &mut item.patch),
        ("delete", &mut item.delete),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
}

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build(),
    )
}

/// Marks every operation in `table` deprecated, with its dates in the description.
pub fn mark_deprecated(openapi: &mut utoipa::openapi::OpenApi, table: &[crate::routes::deprecation::Deprecation]) {
    for (path, item) in &mut openapi.paths.paths {
        for (method, op) in operations_by_method(item) {
            if let Some(d) = table.iter().find(|d| d.method == method && d.path == path) {
                op.deprecated = Some(utoipa::openapi::Deprecated::True);
                let notice = d.notice();
                op.description = Some(match op.description.take() {
                    Some(text) => format!("{text}\n\n{notice}"),
                    None => notice,
                });
            }
        }
    }
}

struct Deprecations;

impl Modify for Deprecations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        mark_deprecated(openapi, crate::routes::deprecation::DEPRECATED);
    }
}

struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let has_id = path.contains('{');
            for (method, op) in operations_by_method(item) {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = |status: &str, description: &str| {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
                };
                add(
                    "422",
                    "Invalid input (`validation_failed`, `unknown_field`, `invalid_cursor`): \
                     `errors` lists each problem",
                );
                add("500", "Unexpected failure (`internal`); the cause is logged, never shown");
                add(
                    "503",
                    "The database is unreachable (`service_unavailable`) or the request timed out (`timeout`); \
                     retry after `Retry-After` seconds",
                );
                add(
                    "431",
                    "A request header is over `[server] max_header_bytes`, or all of them over \
                     `[server] max_headers_total_bytes` (`headers_too_large`)",
                );
                if path.starts_with("/api/") {
                    add(
                        "429",
                        "The rate limit is spent (`rate_limited`); retry after `Retry-After` seconds \
                         (see the `RateLimit-*` headers)",
                    );
                }
                let upload = op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| matches!(b, RefOr::T(body) if body.content.contains_key("multipart/form-data")));
                if upload {
                    add("400", "The multipart body is broken (`malformed_body`)");
                    add("413", "The file is larger than `[server] max_upload_bytes` (`payload_too_large`)");
                    add("415", "The body is not `multipart/form-data` (`unsupported_media_type`)");
                    add("507", "The file store is full (`insufficient_storage`); nothing was kept");
                } else if op.request_body.is_some() {
                    add("400", "The body is not valid JSON (`malformed_body`)");
                    add("413", "The body is too large (`payload_too_large`)");
                    add("415", "The body is not `application/json` (`unsupported_media_type`)");
                }
                if secured {
                    add("401", "No valid access token (`unauthenticated`, `invalid_token`, `token_expired`)");
                    add("403", "The account is disabled (`account_disabled`) or lacks a permission (`forbidden`)");
                }
                if has_id {
                    add("404", "No such resource, or not yours (`not_found`)");
                }
                if method != "get" {
                    add("507", "The database's disk is full (`insufficient_storage`); nothing of the request was kept");
                }
            }
        }
    }
}
