//! `POST /api/v1/auth/token`: the OAuth2 token endpoint (RFC 6749 §4.3 and
//! §6), for OAuth2 clients and the docs page's Authorize button.
//!
//! Unlike the rest of the API its client errors follow RFC 6749 §5.2
//! (`{error, error_description}`), because OAuth2 client libraries expect
//! exactly that. Server errors (5xx) stay problem+json.

use super::{Endpoint, Routes};
use crate::dto::auth::{OAuthError, OAuthToken, TokenRequest};
use crate::error::ApiError;
use crate::extract::read_form;
use crate::state::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use rivet_auth::AuthError;
use std::collections::HashMap;

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/auth/token").post(token));
}

fn oauth_error(error: &str, description: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(OAuthError { error: error.to_owned(), error_description: description.to_owned() })
}

/// Maps an authentication failure to the RFC 6749 error it is, or lets a
/// server-side failure through as a problem.
fn grant_failure(e: AuthError) -> Result<HttpResponse, ApiError> {
    match e {
        AuthError::InvalidCredentials => Ok(oauth_error("invalid_grant", "incorrect username or password")),
        AuthError::AccountDisabled => Ok(oauth_error("invalid_grant", "this account is disabled")),
        AuthError::RefreshTokenReused => {
            Ok(oauth_error("invalid_grant", "this refresh token was already used; the session has been ended"))
        }
        AuthError::InvalidToken(why) => Ok(oauth_error("invalid_grant", why)),
        AuthError::TokenExpired
        | AuthError::Forbidden(_)
        | AuthError::InsufficientScope(_)
        | AuthError::NotFound
        | AuthError::Invalid(_) => Ok(oauth_error("invalid_grant", &e.to_string())),
        AuthError::Repo(_) | AuthError::Crypto(_) => Err(e.into()),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    operation_id = "issueOAuthToken",
    tag = "auth",
    summary = "OAuth2 token endpoint (RFC 6749)",
    request_body(
        content = TokenRequest,
        content_type = "application/x-www-form-urlencoded",
        description = "`grant_type=password&username=…&password=…` or `grant_type=refresh_token&refresh_token=…`"
    ),
    responses(
        (status = 200, description = "Tokens", body = OAuthToken),
        (
            status = 400,
            description = "RFC 6749 §5.2 error: `invalid_request`, `invalid_grant`, `unsupported_grant_type`",
            body = OAuthError,
        ),
    ),
)]
pub(crate) async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let form: HashMap<String, String> = match read_form(&req, payload.into_inner()).await {
        Ok(form) => form,
        Err(ApiError::PayloadTooLarge { limit }) => return Err(ApiError::PayloadTooLarge { limit }),
        Err(e) => return Ok(oauth_error("invalid_request", &e.to_string())),
    };
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let result = match field("grant_type") {
        Some("password") => {
            let (Some(username), Some(password)) = (field("username"), field("password")) else {
                return Ok(oauth_error("invalid_request", "the password grant needs `username` and `password`"));
            };
            crate::rate_limit::spend_email_budget(&req, username).await?;
            state.auth.login(username, password).await.map(|(_, pair)| pair)
        }
        Some("refresh_token") => {
            let Some(token) = field("refresh_token") else {
                return Ok(oauth_error("invalid_request", "the refresh_token grant needs `refresh_token`"));
            };
            state.auth.refresh(token).await
        }
        Some(_) => return Ok(oauth_error("unsupported_grant_type", "supported grant types: password, refresh_token")),
        None => return Ok(oauth_error("invalid_request", "`grant_type` is required")),
    };
    match result {
        Ok(pair) => Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(OAuthToken {
            access_token: pair.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        })),
        Err(e) => grant_failure(e),
    }
}
