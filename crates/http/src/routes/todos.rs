//! `/api/v1/todos`: the caller's own todos. Another user's todo answers 404
//! for every method, exactly like one that does not exist.

use super::{API_PREFIX, Endpoint, Routes};
use crate::collection::{Listing, PagingParams, TodoPage, page_response};
use crate::conditional::{if_match, versioned};
use crate::dto::sets;
use crate::dto::todos::{CreateTodo, TodoBody, TodoFilterParams, UpdateTodo};
use crate::error::{ApiError, Location};
use crate::extract::{Authenticated, Json, path_id};
use crate::idempotency;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use rivet_domain::api_key::Scope;
use rivet_domain::collection::Sort;
use rivet_domain::time::now;
use rivet_domain::todo::{NewTodoInput, TodoId, TodoPatch, TodoQuery, TodoSort};

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/todos").get(list).post(create));
    routes.add(Endpoint::new("/api/v1/todos/{id}").get(get).patch(update).delete(delete));
}

#[utoipa::path(
    get,
    path = "/api/v1/todos",
    operation_id = "listTodos",
    tag = "todos",
    summary = "List your todos",
    security(("bearer" = [])),
    params(PagingParams, TodoFilterParams),
    responses(
        (
            status = 200,
            description = "A page of todos (sort: created_at, updated_at, due_date, priority, title; default \
                -created_at)",
            body = TodoPage,
        ),
    ),
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    listing: Listing<TodoFilterParams>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosRead)?;
    let (sort, page) = listing.page(Sort::by(TodoSort::CreatedAt, true), &state.cursors)?;
    let filter = listing
        .filter
        .into_filter(now().date_naive())
        .map_err(|errors| ApiError::Invalid { location: Location::Query, errors })?;
    let todos = state.todos.list(who.0.user_id, &TodoQuery { filter, sort, page }).await?;
    Ok(page_response(&req, todos.map(TodoBody::from), &state.cursors))
}

#[utoipa::path(
    post,
    path = "/api/v1/todos",
    operation_id = "createTodo",
    tag = "todos",
    summary = "Create a todo",
    security(("bearer" = [])),
    params(
        (
            "Idempotency-Key" = Option<sets::IdempotencyKey>,
            Header,
            description = "Replays the first answer for a repeated request (24 h)",
        ),
    ),
    request_body = CreateTodo,
    responses(
        (status = 201, description = "The new todo; `Location` and `ETag`", body = TodoBody),
        (
            status = 409,
            description = "The first request with this Idempotency-Key is still running (`idempotency_in_progress`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    body: Json<CreateTodo>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosWrite)?;
    idempotency::once(state.idempotency.as_ref(), &req, &who.0, &body.0, async {
        let CreateTodo { title, description, status, priority, due_date, tags } = body.0.clone();
        let input = NewTodoInput { title, description, status, priority, due_date, tags };
        let todo = state.todos.create(who.0.user_id, input).await?;
        let mut res = HttpResponse::Created();
        res.insert_header((LOCATION, format!("{API_PREFIX}/todos/{}", todo.id)));
        Ok(versioned(&req, res, todo.version, &TodoBody::from(todo)))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/todos/{id}",
    operation_id = "getTodo",
    tag = "todos",
    summary = "One of your todos",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    responses(
        (status = 200, description = "The todo, with its `ETag`", body = TodoBody),
        (status = 304, description = "Unchanged"),
    ),
)]
pub(crate) async fn get(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosRead)?;
    let todo = state.todos.get(who.0.user_id, TodoId(path_id(&id)?)).await?;
    Ok(versioned(&req, HttpResponse::Ok(), todo.version, &TodoBody::from(todo)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/todos/{id}",
    operation_id = "updateTodo",
    tag = "todos",
    summary = "Change a todo (absent fields stay, `null` clears)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    request_body = UpdateTodo,
    responses(
        (status = 200, description = "The changed todo", body = TodoBody),
    ),
)]
pub(crate) async fn update(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateTodo>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosWrite)?;
    let id = TodoId(path_id(&id)?);
    let UpdateTodo { title, description, status, priority, due_date, tags } = body.0;
    let patch = TodoPatch { title, description, status, priority, due_date, tags };
    let todo = state.todos.update(who.0.user_id, id, patch, &if_match(&req)).await?;
    Ok(versioned(&req, HttpResponse::Ok(), todo.version, &TodoBody::from(todo)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/todos/{id}",
    operation_id = "deleteTodo",
    tag = "todos",
    summary = "Delete a todo",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource id")),
    responses(
        (status = 204, description = "Deleted"),
    ),
)]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.0.require_scope(Scope::TodosWrite)?;
    state.todos.delete(who.0.user_id, TodoId(path_id(&id)?), &if_match(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}
