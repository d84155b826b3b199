//! The bearer-token principal.

use crate::context;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use rivet_auth::{AuthError, Principal, Verified};

/// The authenticated caller. Without an `Authorization` header the request
/// is refused with 401 `unauthenticated`; a bad, expired or revoked token
/// with 401 `invalid_token` / `token_expired`.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub Principal);

/// The API-key header.
pub const API_KEY: header::HeaderName = header::HeaderName::from_static("x-api-key");

/// The one parser of `Authorization: Bearer <token>` (the scheme in any
/// case, RFC 9110 §11.1), used by the extractors and the rate limiter alike:
/// `Ok(None)` when the header is absent, the reason when it is not a bearer
/// token.
pub(crate) fn bearer_token(headers: &header::HeaderMap) -> Result<Option<&str>, &'static str> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| "the Authorization header is not valid")?;
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err("expected `Authorization: Bearer <token>`"),
    }
}

/// The bearer token a request must carry.
///
/// # Errors
/// `Unauthenticated` when absent; `invalid_token` for another scheme.
pub(crate) fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    match bearer_token(req.headers()) {
        Ok(Some(token)) => Ok(token.to_owned()),
        Ok(None) => Err(ApiError::Unauthenticated),
        Err(why) => Err(AuthError::InvalidToken(why).into()),
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let api_key = req.headers().get(API_KEY).map(|v| v.to_str().map(str::to_owned));
        let token = bearer(req);
        // Verified already by the rate limiter, when it ran.
        let verified = req.extensions().get::<Verified>().cloned();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state is not configured".into()))?;
            let principal = match api_key {
                Some(key) => {
                    state
                        .api_keys
                        .authenticate(&key.map_err(|_| AuthError::InvalidToken("the API key is not valid"))?)
                        .await?
                }
                None => {
                    let token = token?;
                    match verified {
                        Some(verified) => state.auth.authenticate_verified(&verified).await?,
                        None => state.auth.authenticate(&token).await?,
                    }
                }
            };
            context::record_user(&principal.user_id);
            Ok(Authenticated(principal))
        })
    }
}

/// The caller if credentials were sent, `None` for an anonymous request. A
/// bad, expired or revoked token is still refused (401), never silently
/// treated as anonymous.
#[derive(Debug, Clone, Copy)]
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequest for MaybePrincipal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().get(header::AUTHORIZATION).is_none() && req.headers().get(API_KEY).is_none() {
            return Box::pin(async { Ok(MaybePrincipal(None)) });
        }
        let authenticated = Authenticated::from_request(req, payload);
        Box::pin(async move { Ok(MaybePrincipal(Some(authenticated.await?.0))) })
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;
    use actix_web::test::TestRequest;

    fn parse(value: Option<&str>) -> Result<Option<String>, &'static str> {
        let req = match value {
            Some(v) => TestRequest::default().insert_header(("authorization", v)),
            None => TestRequest::default(),
        }
        .to_http_request();
        bearer_token(req.headers()).map(|t| t.map(str::to_owned))
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case_and_anything_else_is_refused() {
        assert_eq!(parse(None), Ok(None));
        assert_eq!(parse(Some("Bearer abc.def")), Ok(Some("abc.def".into())));
        assert_eq!(parse(Some("bearer   abc ")), Ok(Some("abc".into())));
        assert_eq!(parse(Some("BEARER abc")), Ok(Some("abc".into())));
        for bad in ["Basic YWRhOnB3", "Bearer", "Bearer   ", "abc", ""] {
            assert!(parse(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
