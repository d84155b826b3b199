//! `/api/v1/api-keys`: the caller's API keys. Managed with a signed-in
//! session only — a key cannot create, list or revoke keys.

use super::{Endpoint, Routes};
use crate::dto::api_keys::{ApiKeyBody, ApiKeyList, CreateApiKey, CreatedApiKeyBody};
use crate::error::ApiError;
use crate::extract::{Authenticated, Json, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpResponse, web};
use rivet_domain::api_key::ApiKeyId;

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/api-keys").get(list).post(create));
    routes.add(Endpoint::new("/api/v1/api-keys/{id}").delete(revoke));
}

const MANAGE: &str = "manage API keys with an API key";

#[utoipa::path(
    post,
    path = "/api/v1/api-keys",
    operation_id = "createApiKey",
    tag = "api-keys",
    summary = "Create an API key (shown once)",
    security(("bearer" = [])),
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "The key; `key` is shown only now", body = CreatedApiKeyBody),
        (
            status = 403,
            description = "Called with an API key (`forbidden`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    who: Authenticated,
    body: Json<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_session(MANAGE)?;
    let created = state.api_keys.create(&who.0, &body.0.name, &body.0.scopes, body.0.expires_in_days).await?;
    Ok(HttpResponse::Created()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((LOCATION, format!("/api/v1/api-keys/{}", created.key.id.0)))
        .json(CreatedApiKeyBody { key: created.secret, api_key: created.key.into() }))
}

#[utoipa::path(
    get,
    path = "/api/v1/api-keys",
    operation_id = "listApiKeys",
    tag = "api-keys",
    summary = "Your API keys (without secrets)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every key, newest first", body = ApiKeyList),
    ),
)]
pub(crate) async fn list(state: web::Data<AppState>, who: Authenticated) -> Result<web::Json<ApiKeyList>, ApiError> {
    who.0.require_session(MANAGE)?;
    Ok(web::Json(ApiKeyList(state.api_keys.list(&who.0).await?.into_iter().map(ApiKeyBody::from).collect())))
}

#[utoipa::path(
    delete,
    path = "/api/v1/api-keys/{id}",
    operation_id = "revokeApiKey",
    tag = "api-keys",
    summary = "Revoke an API key (effective at once)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
    ),
)]
pub(crate) async fn revoke(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_session(MANAGE)?;
    state.api_keys.revoke(&who.0, ApiKeyId(path_id(&id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
