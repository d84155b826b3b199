//! Problems by family — storage, conflicts, validation, authentication —
//! used by [`ApiError`](super::ApiError)'s one exhaustive mapping.

use super::Location;
use crate::problem::{Problem, ProblemField};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use rivet_auth::AuthError;
use rivet_domain::{Conflict, RepoError, ValidationErrors};

/// Status, code, title and detail of a storage failure.
pub(super) fn repo_problem(e: &RepoError) -> Problem {
    match e {
        RepoError::Unavailable(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable",
            "the service is temporarily unable to reach its database; retry shortly",
        ),
        RepoError::Conflict(c) => conflict_problem(*c),
        RepoError::Full(_) => Problem::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "insufficient_storage",
            "Insufficient storage",
            "the database's disk is full; nothing of this request was kept, retry once space is freed",
        ),
        RepoError::Internal(_) => internal_problem(),
    }
}

pub(super) fn conflict_problem(c: Conflict) -> Problem {
    match c {
        Conflict::EmailTaken => Problem::new(
            StatusCode::CONFLICT,
            "email_taken",
            "Email taken",
            "an account with this email address already exists",
        ),
        Conflict::Concurrent => {
            Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", "the resource was changed concurrently; retry")
        }
        Conflict::SkuTaken => {
            Problem::new(StatusCode::CONFLICT, "sku_taken", "SKU taken", "another product already has this SKU")
        }
        Conflict::TooManyAttachments => {
            Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", "a todo has at most 20 attachments")
        }
        Conflict::StockLimit => Problem::new(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            "the adjustment would take the stock above 1000000",
        ),
    }
}

pub(super) fn internal_problem() -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "an unexpected error occurred; it has been logged",
    )
}

/// A 422 for broken rules. When every broken rule is a bad cursor the code
/// says so (`invalid_cursor`): the client's remedy is to restart paging.
pub(super) fn validation_problem(location: Location, errors: &ValidationErrors) -> Problem {
    let only_cursor = !errors.is_empty() && errors.errors().iter().all(|e| e.code == "invalid_cursor");
    let (code, title) =
        if only_cursor { ("invalid_cursor", "Invalid cursor") } else { ("validation_failed", "Validation failed") };
    let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, title, errors.to_string());
    p.errors = fields(location, errors);
    p
}

pub(super) fn fields(location: Location, errors: &ValidationErrors) -> Vec<ProblemField> {
    errors
        .errors()
        .iter()
        .map(|e| ProblemField {
            location: location.as_str(),
            field: e.field.clone(),
            code: e.code,
            message: e.message.clone(),
        })
        .collect()
}

pub(super) fn bearer_challenge(error: Option<&str>, description: &str) -> (HeaderName, HeaderValue) {
    let value = match error {
        Some(code) => format!("Bearer realm=\"rivet\", error=\"{code}\", error_description=\"{description}\""),
        None => "Bearer realm=\"rivet\"".to_owned(),
    };
    (header::WWW_AUTHENTICATE, HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer")))
}

pub(super) fn auth_problem(e: &AuthError) -> (Problem, Vec<(HeaderName, HeaderValue)>) {
    let unauthorized = StatusCode::UNAUTHORIZED;
    match e {
        AuthError::InvalidCredentials => {
            (Problem::new(unauthorized, "invalid_credentials", "Invalid credentials", e.to_string()), vec![])
        }
        AuthError::InvalidToken(why) => (
            Problem::new(unauthorized, "invalid_token", "Invalid token", *why),
            vec![bearer_challenge(Some("invalid_token"), why)],
        ),
        AuthError::TokenExpired => (
            Problem::new(unauthorized, "token_expired", "Token expired", e.to_string()),
            vec![bearer_challenge(Some("invalid_token"), "the access token has expired")],
        ),
        AuthError::RefreshTokenReused => {
            (Problem::new(unauthorized, "refresh_token_reused", "Refresh token reused", e.to_string()), vec![])
        }
        AuthError::AccountDisabled => {
            (Problem::new(StatusCode::FORBIDDEN, "account_disabled", "Account disabled", e.to_string()), vec![])
        }
        AuthError::Forbidden(_) => {
            (Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", e.to_string()), vec![])
        }
        AuthError::InsufficientScope(_) => {
            (Problem::new(StatusCode::FORBIDDEN, "insufficient_scope", "Insufficient scope", e.to_string()), vec![])
        }
        AuthError::Invalid(errors) => (validation_problem(Location::Body, errors), vec![]),
        AuthError::NotFound => {
            (Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found", "the resource does not exist"), vec![])
        }
        AuthError::Repo(r) => (repo_problem(r), vec![]),
        AuthError::Crypto(_) => (internal_problem(), vec![]),
    }
}
