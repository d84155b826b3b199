//! `/api/v1/users`: the caller's own account, and administration of others.

use super::Endpoint;
use crate::collection::{Listing, page_response};
use crate::conditional::{if_match, versioned};
use crate::dto::todos::StatsBody;
use crate::dto::users::{AdminUpdateUser, ChangePassword, UpdateMe, UserBody, UserFilterParams};
use crate::error::{ApiError, Location};
use crate::extract::{Authenticated, Json, non_null, path_id};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use rivet_auth::Permission;
use rivet_domain::accounts::{AdminPatch, ProfilePatch};
use rivet_domain::collection::Sort;
use rivet_domain::user::{UserQuery, UserSort};
use rivet_domain::{User, UserId, ValidationErrors};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/me").get(me).patch(update_me).delete(delete_me).build())
        .service(Endpoint::new("/me/password").post(change_password).build())
        .service(Endpoint::new("/me/stats").get(my_stats).build())
        .service(Endpoint::new("/{id}/stats").get(user_stats).build())
        .service(Endpoint::new("").get(list_users).build())
        .service(Endpoint::new("/{id}").get(get_user).patch(update_user).delete(delete_user).build());
}

/// A user with its `ETag` (304 when `If-None-Match` already names it).
fn user(req: &HttpRequest, user: User) -> HttpResponse {
    versioned(req, HttpResponse::Ok(), user.version, &UserBody::from(user))
}

async fn me(state: web::Data<AppState>, who: Authenticated, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Ok(user(&req, state.accounts.get(who.0.user_id).await?))
}

async fn update_me(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    body: Json<UpdateMe>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    let email = errors.check("email", non_null("email", body.0.email)).flatten();
    errors.into_result().map_err(ApiError::invalid_body)?;
    let patch = ProfilePatch { full_name: body.0.full_name.into_option(), email };
    Ok(user(&req, state.accounts.update_profile(who.0.user_id, patch, &if_match(&req)).await?))
}

async fn delete_me(state: web::Data<AppState>, who: Authenticated, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    state.accounts.delete(who.0.user_id, &if_match(&req)).await?;
    state.auth.forget_user(who.0.user_id);
    Ok(HttpResponse::NoContent().finish())
}

async fn change_password(state: web::Data<AppState>, who: Authenticated, body: Json<ChangePassword>) -> Result<HttpResponse, ApiError> {
    let p = who.0;
    state.accounts.change_password(p.user_id, Some(p.session_id), &body.0.current_password, &body.0.new_password).await?;
    state.auth.forget_user(p.user_id);
    Ok(HttpResponse::NoContent().finish())
}

async fn list_users(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    listing: Listing<UserFilterParams>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::UsersRead)?;
    let (sort, page) = listing.page(Sort::by(UserSort::CreatedAt, true), &state.cursors)?;
    let filter = listing.filter.into_filter().map_err(|errors| ApiError::Invalid { location: Location::Query, errors })?;
    let users = state.accounts.list(&UserQuery { filter, sort, page }).await?;
    Ok(page_response(&req, users.map(UserBody::from), &state.cursors))
}

async fn my_stats(state: web::Data<AppState>, who: Authenticated) -> Result<web::Json<StatsBody>, ApiError> {
    Ok(web::Json(state.todos.stats(who.0.user_id).await?.into()))
}

async fn user_stats(state: web::Data<AppState>, who: Authenticated, id: web::Path<String>) -> Result<web::Json<StatsBody>, ApiError> {
    who.0.require(Permission::UsersRead)?;
    let id = UserId(path_id(&id)?);
    state.accounts.get(id).await?;
    Ok(web::Json(state.todos.stats(id).await?.into()))
}

async fn get_user(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::UsersRead)?;
    let id = UserId(path_id(&id)?);
    Ok(user(&req, state.accounts.get(id).await?))
}

async fn update_user(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<AdminUpdateUser>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::UsersWrite)?;
    let id = UserId(path_id(&id)?);
    let AdminUpdateUser { full_name, role, is_active } = body.0;
    let mut errors = ValidationErrors::new();
    let role = errors.check("role", non_null("role", role)).flatten();
    let is_active = errors.check("is_active", non_null("is_active", is_active)).flatten();
    errors.into_result().map_err(ApiError::invalid_body)?;
    let updated =
        state.accounts.admin_update(id, AdminPatch { full_name: full_name.into_option(), role, is_active }, &if_match(&req)).await?;
    state.auth.forget_user(id);
    Ok(user(&req, updated))
}

async fn delete_user(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::UsersWrite)?;
    let id = UserId(path_id(&id)?);
    state.accounts.delete(id, &if_match(&req)).await?;
    state.auth.forget_user(id);
    Ok(HttpResponse::NoContent().finish())
}
