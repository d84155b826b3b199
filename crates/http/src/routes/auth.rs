//! `/api/v1/auth`: registration, login, refresh, logout.

use super::{API_PREFIX, Endpoint};
use crate::dto::auth::{Login, RefreshToken, Register, TokenPairBody};
use crate::dto::users::UserBody;
use crate::error::ApiError;
use crate::extract::{Authenticated, Json};
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpResponse, web};
use rivet_auth::TokenPair;
use rivet_domain::accounts::Registration;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/register").post(register).build())
        .service(Endpoint::new("/login").post(login).build())
        .service(Endpoint::new("/refresh").post(refresh).build())
        .service(Endpoint::new("/logout").post(logout).build())
        .service(Endpoint::new("/logout-all").post(logout_all).build());
}

/// Token responses must never be stored by any cache.
pub(crate) fn tokens(pair: TokenPair) -> HttpResponse {
    HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(TokenPairBody::from(pair))
}

async fn register(state: web::Data<AppState>, body: Json<Register>) -> Result<HttpResponse, ApiError> {
    let Register { email, password, full_name } = body.0;
    let user = state.accounts.register(Registration { email, password, full_name }).await?;
    Ok(HttpResponse::Created().insert_header((LOCATION, format!("{API_PREFIX}/users/{}", user.id))).json(UserBody::from(user)))
}

async fn login(state: web::Data<AppState>, body: Json<Login>) -> Result<HttpResponse, ApiError> {
    let (_, pair) = state.auth.login(&body.0.email, &body.0.password).await?;
    Ok(tokens(pair))
}

async fn refresh(state: web::Data<AppState>, body: Json<RefreshToken>) -> Result<HttpResponse, ApiError> {
    Ok(tokens(state.auth.refresh(&body.0.refresh_token).await?))
}

async fn logout(state: web::Data<AppState>, body: Json<RefreshToken>) -> Result<HttpResponse, ApiError> {
    state.auth.logout(&body.0.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn logout_all(state: web::Data<AppState>, who: Authenticated) -> Result<HttpResponse, ApiError> {
    state.auth.logout_all(who.0.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
