//! User bodies.

use crate::extract::Patch;
use chrono::{DateTime, Utc};
use rivet_domain::User;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A user as the API shows it. No password hash, ever.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct UserBody {
    pub id: Uuid,
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub full_name: Option<String>,
    #[schema(example = "user")]
    pub role: String,
    pub is_active: bool,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.as_str().to_owned(),
            full_name: u.full_name.map(|n| n.as_str().to_owned()),
            role: u.role.as_str().to_owned(),
            is_active: u.is_active,
            email_verified: u.email_verified,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// `PATCH /users/me`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateMe {
    /// `null` clears the name.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub full_name: Patch<String>,
    /// A new address is unverified until confirmed.
    #[schema(value_type = Option<String>, format = Email)]
    pub email: Patch<String>,
}

/// `POST /users/me/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// `PATCH /users/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AdminUpdateUser {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub full_name: Patch<String>,
    /// `user`, `manager` or `admin`.
    #[schema(value_type = Option<String>, example = "manager")]
    pub role: Patch<String>,
    #[schema(value_type = Option<bool>)]
    pub is_active: Patch<bool>,
}

/// Filters of `GET /users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserFilterParams {
    /// One role or a comma-separated list.
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub email_verified: Option<bool>,
    /// Case-insensitive substring of the email or the name.
    pub q: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

impl UserFilterParams {
    /// The domain filter, or every broken rule.
    ///
    /// # Errors
    /// Unknown roles; a `q` longer than 200 characters.
    pub fn into_filter(self) -> Result<rivet_domain::user::UserFilter, rivet_domain::ValidationErrors> {
        let mut errors = rivet_domain::ValidationErrors::new();
        let roles = match self.role.as_deref() {
            None => Vec::new(),
            Some(list) => list.split(',').filter_map(|r| errors.check("role", rivet_domain::Role::parse(r.trim()))).collect(),
        };
        let q = self.q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            errors.push(rivet_domain::FieldError::new("q", "length", "must be at most 200 characters"));
        }
        errors.into_result()?;
        Ok(rivet_domain::user::UserFilter {
            roles,
            is_active: self.is_active,
            email_verified: self.email_verified,
            q,
            created_after: self.created_after,
            created_before: self.created_before,
        })
    }
}
