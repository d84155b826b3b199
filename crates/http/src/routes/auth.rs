//! `/api/v1/auth`: registration, login, refresh, logout.

use super::{API_PREFIX, Endpoint, Routes};
use crate::dto::auth::{Login, RefreshToken, Register, TokenPairBody};
use crate::dto::users::UserBody;
use crate::error::ApiError;
use crate::extract::{Authenticated, Json};
use crate::problem::Problem;
use crate::rate_limit::spend_email_budget;
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use rivet_auth::TokenPair;
use rivet_domain::accounts::Registration;

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/auth/register").post(register));
    routes.add(Endpoint::new("/api/v1/auth/login").post(login));
    routes.add(Endpoint::new("/api/v1/auth/refresh").post(refresh));
    routes.add(Endpoint::new("/api/v1/auth/logout").post(logout));
    routes.add(Endpoint::new("/api/v1/auth/logout-all").post(logout_all));
}

/// Token responses must never be stored by any cache.
pub(crate) fn tokens(pair: TokenPair) -> HttpResponse {
    HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(TokenPairBody::from(pair))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    operation_id = "register",
    tag = "auth",
    summary = "Create an account",
    request_body = Register,
    responses(
        (status = 201, description = "The new account; `Location` names it", body = UserBody),
        (
            status = 409,
            description = "The email is registered already (`email_taken`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<Register>,
) -> Result<HttpResponse, ApiError> {
    let Register { email, password, full_name } = body.0;
    spend_email_budget(&req, &email).await?;
    let user = state.accounts.register(Registration { email, password, full_name }).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("{API_PREFIX}/users/{}", user.id)))
        .json(UserBody::from(user)))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "login",
    tag = "auth",
    summary = "Log in: start a session",
    request_body = Login,
    responses(
        (status = 200, description = "Access and refresh token", body = TokenPairBody),
        (
            status = 401,
            description = "Wrong email or password (`invalid_credentials`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
        (
            status = 403,
            description = "The account is disabled (`account_disabled`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<Login>,
) -> Result<HttpResponse, ApiError> {
    spend_email_budget(&req, &body.0.email).await?;
    let (_, pair) = state.auth.login(&body.0.email, &body.0.password).await?;
    Ok(tokens(pair))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    operation_id = "refreshTokens",
    tag = "auth",
    summary = "Rotate a refresh token",
    request_body = RefreshToken,
    responses(
        (status = 200, description = "A new token pair; the presented refresh token is spent", body = TokenPairBody),
        (
            status = 401,
            description = "Unknown, expired or revoked token (`invalid_token`), or a spent one \
                (`refresh_token_reused`), which ends the session",
            body = Problem,
            content_type = "application/problem+json",
        ),
        (
            status = 403,
            description = "The account is disabled",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn refresh(state: web::Data<AppState>, body: Json<RefreshToken>) -> Result<HttpResponse, ApiError> {
    Ok(tokens(state.auth.refresh(&body.0.refresh_token).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    operation_id = "logout",
    tag = "auth",
    summary = "End the session of a refresh token",
    request_body = RefreshToken,
    responses(
        (status = 204, description = "The session is over (also when it already was)"),
    ),
)]
pub(crate) async fn logout(state: web::Data<AppState>, body: Json<RefreshToken>) -> Result<HttpResponse, ApiError> {
    state.auth.logout(&body.0.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/logout-all",
    operation_id = "logoutEverywhere",
    tag = "auth",
    summary = "End every session of the caller",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session is over; access tokens stop working within 5 s"),
    ),
)]
pub(crate) async fn logout_all(state: web::Data<AppState>, who: Authenticated) -> Result<HttpResponse, ApiError> {
    who.0.require_session("end sessions with an API key")?;
    state.auth.logout_all(who.0.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
