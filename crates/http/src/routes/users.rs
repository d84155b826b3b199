//! `/api/v1/users`: the caller's own account, and administration of others.

use super::{Endpoint, Routes};
use crate::collection::{Listing, PagingParams, UserPage, page_response};
use crate::conditional::{if_match, versioned};
use crate::dto::todos::StatsBody;
use crate::dto::users::{AdminUpdateUser, ChangePassword, UpdateMe, UserBody, UserFilterParams};
use crate::error::{ApiError, Location};
use crate::extract::{Authenticated, Json, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use rivet_auth::Permission;
use rivet_domain::accounts::{AdminPatch, ProfilePatch};
use rivet_domain::api_key::Scope;
use rivet_domain::collection::Sort;
use rivet_domain::user::{UserQuery, UserSort};
use rivet_domain::{User, UserId};

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/users/me").get(me).patch(update_me).delete(delete_me));
    routes.add(Endpoint::new("/api/v1/users/me/password").post(change_password));
    routes.add(Endpoint::new("/api/v1/users/me/stats").get(my_stats));
    routes.add(Endpoint::new("/api/v1/users/{id}/stats").get(user_stats));
    routes.add(Endpoint::new("/api/v1/users").get(list_users));
    routes.add(Endpoint::new("/api/v1/users/{id}").get(get_user).patch(update_user).delete(delete_user));
}

/// A user with its `ETag` (304 when `If-None-Match` already names it).
fn user(req: &HttpRequest, user: User) -> HttpResponse {
    versioned(req, HttpResponse::Ok(), user.version, &UserBody::from(user))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    operation_id = "getCurrentUser",
    tag = "users",
    summary = "Your account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, with its `ETag`", body = UserBody),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
    ),
)]
pub(crate) async fn me(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::ProfileRead)?;
    Ok(user(&req, state.accounts.get(who.0.user_id).await?))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/me",
    operation_id = "updateCurrentUser",
    tag = "users",
    summary = "Change your name or email",
    security(("bearer" = [])),
    request_body = UpdateMe,
    responses(
        (status = 200, description = "The changed account", body = UserBody),
        (
            status = 409,
            description = "The email is taken (`email_taken`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn update_me(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    body: Json<UpdateMe>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_session("change the account with an API key")?;
    let patch = ProfilePatch { full_name: body.0.full_name, email: body.0.email };
    Ok(user(&req, state.accounts.update_profile(who.0.user_id, patch, &if_match(&req)).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/me",
    operation_id = "deleteCurrentUser",
    tag = "users",
    summary = "Delete your account with everything it owns",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (
            status = 409,
            description = "You are the last active administrator (`last_admin`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn delete_me(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    who.0.require_session("delete the account with an API key")?;
    state.accounts.delete(who.0.user_id, &if_match(&req)).await?;
    state.auth.forget_user(who.0.user_id);
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/v1/users/me/password",
    operation_id = "changePassword",
    tag = "users",
    summary = "Change your password; ends your other sessions",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed"),
    ),
)]
pub(crate) async fn change_password(
    state: web::Data<AppState>,
    who: Authenticated,
    body: Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let p = who.0;
    let session = p.require_session("change the password with an API key")?;
    state.accounts.change_password(p.user_id, Some(session), &body.0.current_password, &body.0.new_password).await?;
    state.auth.forget_user(p.user_id);
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "listUsers",
    tag = "users",
    summary = "List users (`users:read`)",
    security(("bearer" = [])),
    params(PagingParams, UserFilterParams),
    responses(
        (status = 200, description = "A page of users; `Link: rel=next` when more follow", body = UserPage),
    ),
)]
pub(crate) async fn list_users(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    listing: Listing<UserFilterParams>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::UsersRead)?;
    let (sort, page) = listing.page(Sort::by(UserSort::CreatedAt, true), &state.cursors)?;
    let filter =
        listing.filter.into_filter().map_err(|errors| ApiError::Invalid { location: Location::Query, errors })?;
    let users = state.accounts.list(&UserQuery { filter, sort, page }).await?;
    Ok(page_response(&req, users.map(UserBody::from), &state.cursors))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me/stats",
    operation_id = "getCurrentUserStats",
    tag = "users",
    summary = "Statistics of your todos",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts", body = StatsBody),
    ),
)]
pub(crate) async fn my_stats(state: web::Data<AppState>, who: Authenticated) -> Result<web::Json<StatsBody>, ApiError> {
    who.0.require_scope(Scope::TodosRead)?;
    let id = who.0.user_id;
    Ok(web::Json(StatsBody::new(state.todos.stats(id).await?, state.files.used_bytes(id).await?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/stats",
    operation_id = "getUserStats",
    tag = "users",
    summary = "Statistics of a user's todos (`users:read`)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    responses(
        (status = 200, description = "Counts", body = StatsBody),
    ),
)]
pub(crate) async fn user_stats(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<web::Json<StatsBody>, ApiError> {
    who.0.require(Permission::UsersRead)?;
    let id = UserId(path_id(&id)?);
    state.accounts.get(id).await?;
    Ok(web::Json(StatsBody::new(state.todos.stats(id).await?, state.files.used_bytes(id).await?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    operation_id = "getUser",
    tag = "users",
    summary = "A user (`users:read`)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    responses(
        (status = 200, description = "The user", body = UserBody),
        (status = 304, description = "Unchanged"),
    ),
)]
pub(crate) async fn get_user(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::UsersRead)?;
    let id = UserId(path_id(&id)?);
    Ok(user(&req, state.accounts.get(id).await?))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    operation_id = "updateUser",
    tag = "users",
    summary = "Change a user's name, role or active flag (`users:write`)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    request_body = AdminUpdateUser,
    responses(
        (status = 200, description = "The changed user", body = UserBody),
        (
            status = 409,
            description = "It would remove the last active administrator (`last_admin`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn update_user(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<AdminUpdateUser>,
) -> Result<HttpResponse, ApiError> {
    who.0.require(Permission::UsersWrite)?;
    let id = UserId(path_id(&id)?);
    let AdminUpdateUser { full_name, role, is_active } = body.0;
    let patch = AdminPatch { full_name, role, is_active };
    let updated = state.accounts.admin_update(id, patch, &if_match(&req)).await?;
    state.auth.forget_user(id);
    Ok(user(&req, updated))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    operation_id = "deleteUser",
    tag = "users",
    summary = "Delete a user (`users:write`)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    responses(
        (status = 204, description = "Deleted"),
        (
            status = 409,
            description = "The last active administrator (`last_admin`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn delete_user(
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
