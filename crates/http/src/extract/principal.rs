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

/// The token of an `Authorization: Bearer <token>` header.
///
/// # Errors
/// `Unauthenticated` when absent; `invalid_token` for another scheme.
pub(crate) fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Err(ApiError::Unauthenticated) };
    let value = value.to_str().map_err(|_| AuthError::InvalidToken("the Authorization header is not valid"))?;
    let (scheme, token) =
        value.trim().split_once(' ').ok_or(AuthError::InvalidToken("expected `Authorization: Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::InvalidToken("expected `Authorization: Bearer <token>`").into());
    }
    Ok(token.trim().to_owned())
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
