//! Typed query strings: bad values are 422 with `location: "query"`.

use super::data_error;
use crate::error::{ApiError, Location};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Ready, ready};
use serde::de::DeserializeOwned;

/// A query string deserialized into `T`. Give `T`
/// `#[serde(deny_unknown_fields)]` to refuse unknown parameters.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = form_urlencoded::parse(req.query_string().as_bytes());
        let de = serde_urlencoded::Deserializer::new(parsed);
        ready(
            serde_path_to_error::deserialize(de)
                .map(Query)
                .map_err(|e| data_error(Location::Query, &e.path().to_string(), &e.inner().to_string())),
        )
    }
}
