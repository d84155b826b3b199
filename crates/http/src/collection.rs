//! Collections over HTTP, written once for every resource:
//!
//! - [`Listing<F>`] extracts `limit`, `cursor`, `offset`, `include_total` and
//!   `sort`, and deserializes every other query parameter into the
//!   resource's filter type `F` (unknown parameters are refused).
//! - [`CursorCodec`] makes cursors opaque and tamper-evident: base64url JSON
//!   of the [`Position`] plus an HMAC-SHA256 tag. A tampered cursor, or one
//!   made for another sort order, is 422 `invalid_cursor`.
//! - [`page_response`] writes `{items, next_cursor, total}` and a
//!   `Link: <…>; rel="next"` header (RFC 8288).

use crate::error::{ApiError, Location};
use crate::extract::data_error;
use actix_web::dev::Payload;
use actix_web::http::header::LINK;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::{Ready, ready};
use hmac::{Hmac, Mac};
use rivet_domain::collection::{Page, PageRequest, Position, Sort, SortKey};
use rivet_domain::{FieldError, ValidationErrors};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the HMAC tag kept in a cursor (128 bits).
const TAG_LEN: usize = 16;
/// Longest cursor accepted before any decoding.
const MAX_CURSOR_LEN: usize = 2048;
/// The query parameters that page; every other one is a filter.
const PAGING: [&str; 5] = ["limit", "cursor", "offset", "include_total", "sort"];

/// Signs and verifies cursors.
#[derive(Clone)]
pub struct CursorCodec {
    key: [u8; 32],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(<key>)")
    }
}

fn invalid_cursor(why: &str) -> FieldError {
    FieldError::new("cursor", "invalid_cursor", why)
}

impl CursorCodec {
    /// A codec keyed by a hash of `secret` (instances sharing the secret
    /// accept each other's cursors).
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"rivet cursor key v1\0");
        hasher.update(secret);
        Self { key: hasher.finalize().into() }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length")
    }

    /// The opaque cursor for a position.
    pub fn encode(&self, position: &Position) -> String {
        let json = serde_json::to_vec(position).expect("positions serialize");
        let mut mac = self.mac();
        mac.update(&json);
        let tag = mac.finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&json), URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN]))
    }

    /// The position in a cursor, if the cursor is intact.
    ///
    /// # Errors
    /// An `invalid_cursor` field error.
    pub fn decode(&self, cursor: &str) -> Result<Position, FieldError> {
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(invalid_cursor("the cursor is too long"));
        }
        let (body, tag) = cursor.split_once('.').ok_or_else(|| invalid_cursor("the cursor is malformed"))?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid_cursor("the cursor is malformed"))?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid_cursor("the cursor is malformed"))?;
        let mut mac = self.mac();
        mac.update(&json);
        mac.verify_truncated_left(&tag)
            .map_err(|_| invalid_cursor("the cursor was altered or comes from another deployment"))?;
        serde_json::from_slice(&json).map_err(|_| invalid_cursor("the cursor is malformed"))
    }
}

/// The paging parameters every list accepts, for the API description.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // described, not read: `Listing` parses these.
pub struct PagingParams {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page (empty: the first page).
    cursor: Option<String>,
    /// Rows to skip, 0–10 000; not together with `cursor`.
    #[param(minimum = 0, maximum = 10000)]
    offset: Option<u32>,
    /// Also count the matching rows.
    include_total: Option<bool>,
    /// Comma-separated fields, `-` for descending.
    sort: Option<String>,
}

/// The paging parameters of a list request and its filters `F`.
#[derive(Debug)]
pub struct Listing<F> {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub offset: Option<u32>,
    pub include_total: bool,
    pub sort: Option<String>,
    pub filter: F,
}

fn number(errors: &mut ValidationErrors, field: &'static str, value: Option<String>) -> Option<u32> {
    let v = value?;
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::new(field, "type", "must be a non-negative whole number"));
            None
        }
    }
}

/// The filters of one list endpoint, as a query string deserializes them.
pub trait Filters: DeserializeOwned {
    /// Parameters that take a list. The document describes them
    /// comma-separated (`status=pending,done`, `explode: false`); many
    /// generated clients repeat the name instead (`status=pending&status=done`),
    /// and both mean the same list.
    const LISTS: &'static [&'static str] = &[];
}

impl<F: Filters> Listing<F> {
    fn parse(query: &str) -> Result<Self, ApiError> {
        let mut paging: [Option<String>; 5] = Default::default();
        let mut rest: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if let Some(i) = PAGING.iter().position(|p| *p == k) {
                paging[i] = Some(v.into_owned());
            } else if F::LISTS.contains(&&*k)
                && let Some((_, values)) = rest.iter_mut().find(|(name, _)| *name == k)
            {
                values.push(',');
                values.push_str(&v);
            } else {
                rest.push((k.into_owned(), v.into_owned()));
            }
        }
        let [limit, cursor, offset, include_total, sort] = paging;
        let mut errors = ValidationErrors::new();
        let limit = number(&mut errors, "limit", limit);
        let offset = number(&mut errors, "offset", offset);
        let include_total = match include_total.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                errors.push(FieldError::new("include_total", "type", "must be true or false"));
                false
            }
        };
        errors.into_result().map_err(|errors| ApiError::Invalid { location: Location::Query, errors })?;
        let rest = form_urlencoded::Serializer::new(String::new()).extend_pairs(&rest).finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(rest.as_bytes()));
        let filter = serde_path_to_error::deserialize(de)
            .map_err(|e| data_error(Location::Query, &e.path().to_string(), &e.inner().to_string()))?;
        Ok(Self { limit, cursor, offset, include_total, sort, filter })
    }

    /// The validated sort and page request, with every broken rule listed.
    ///
    /// # Errors
    /// 422 with `location: "query"`.
    pub fn page<K: SortKey>(
        &self,
        default_sort: Sort<K>,
        codec: &CursorCodec,
    ) -> Result<(Sort<K>, PageRequest), ApiError> {
        let mut errors = ValidationErrors::new();
        let sort = match self.sort.as_deref() {
            None => Some(default_sort),
            Some(raw) => errors.check("sort", Sort::parse(raw)),
        };
        // An empty `cursor=` is the first page: generated clients and forms
        // send the parameter empty rather than leave it out.
        let cursor = self.cursor.as_deref().filter(|c| !c.is_empty());
        let position = cursor.and_then(|c| errors.check("cursor", codec.decode(c)));
        if let (Some(sort), Some(position)) = (&sort, &position) {
            errors.check("cursor", position.check(sort));
        }
        let page = match PageRequest::new(self.limit, self.offset, position, self.include_total) {
            Ok(page) => Some(page),
            Err(e) => {
                e.errors().iter().cloned().for_each(|f| errors.push(f));
                None
            }
        };
        match (sort, page, errors.is_empty()) {
            (Some(sort), Some(page), true) => Ok((sort, page)),
            _ => Err(ApiError::Invalid { location: Location::Query, errors }),
        }
    }
}

impl<F: Filters> FromRequest for Listing<F> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::parse(req.query_string()))
    }
}

/// The list envelope.
#[derive(Debug, Serialize)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub total: Option<i64>,
}

/// Declares `$page`, the API description of a [`PageBody`] of `$item`: a
/// named component whose `items` refer to the item's own component, so a
/// generated client has one model per resource.
macro_rules! page_schema {
    ($page:ident, $item:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        #[derive(Debug, utoipa::ToSchema)]
        #[allow(dead_code)] // described, never built: `PageBody` is what is sent
        pub struct $page {
            items: Vec<$item>,
            /// Pass as `cursor` for the next page; `null` on the last page.
            next_cursor: Option<String>,
            /// Rows matching the filters, when `include_total=true`.
            total: Option<i64>,
        }
    };
}

page_schema!(TodoPage, crate::dto::todos::TodoBody, "todos");
page_schema!(ProductPage, crate::dto::products::ProductBody, "products");
page_schema!(UserPage, crate::dto::users::UserBody, "users");

/// Writes a page as `{items, next_cursor, total}` with a `Link` to the next
/// page that keeps the request's filters, sort and limit.
pub fn page_response<T: Serialize>(req: &HttpRequest, page: Page<T>, codec: &CursorCodec) -> HttpResponse {
    let next_cursor = page.next.as_ref().map(|p| codec.encode(p));
    let mut res = HttpResponse::Ok();
    if let Some(link) = next_link(req, next_cursor.as_deref()) {
        res.insert_header((LINK, link));
    }
    res.json(PageBody { items: page.items, next_cursor, total: page.total })
}

/// The `Link` header value for the next page: this request's path and
/// parameters with `cursor` set (and any `offset` dropped).
pub fn next_link(req: &HttpRequest, cursor: Option<&str>) -> Option<String> {
    let cursor = cursor?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "cursor" && k != "offset" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("cursor", cursor);
    Some(format!("<{}?{}>; rel=\"next\"", req.path(), query.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rivet_domain::collection::KeyValue;

    fn position() -> Position {
        Position { sort: "-created_at".into(), keys: vec![KeyValue::Text("x".into())], id: uuid::Uuid::now_v7() }
    }

    #[test]
    fn a_cursor_round_trips_and_any_change_is_detected() {
        let codec = CursorCodec::from_secret(b"k");
        let p = position();
        let cursor = codec.encode(&p);
        assert_eq!(codec.decode(&cursor).unwrap(), p);
        let mut bytes = cursor.into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(codec.decode(&tampered).unwrap_err().code, "invalid_cursor");
        let other = CursorCodec::from_secret(b"another deployment");
        assert!(other.decode(&codec.encode(&p)).is_err());
        assert!(codec.decode("garbage").is_err());
    }
}
