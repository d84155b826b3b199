//! User bodies.

use super::sets;
use crate::extract::Patch;
use chrono::{DateTime, Utc};
use rivet_domain::User;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A user as the API shows it. No password hash, ever.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = User)]
pub struct UserBody {
    pub id: Uuid,
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub full_name: Option<String>,
    #[schema(value_type = sets::Role, example = "user")]
    pub role: String,
    pub is_active: bool,
    pub email_verified: bool,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
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
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    /// `null` clears the name.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    #[serde(default)]
    pub full_name: Patch<String>,
    /// A new address is unverified until confirmed.
    #[schema(value_type = String, format = Email, max_length = 254)]
    #[serde(default)]
    pub email: Patch<String>,
}

/// `POST /users/me/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// 8–128 characters, not a common password, not the email.
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// `PATCH /users/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUpdateUser {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    #[serde(default)]
    pub full_name: Patch<String>,
    #[schema(value_type = sets::Role, example = "manager")]
    #[serde(default)]
    pub role: Patch<String>,
    #[schema(value_type = bool)]
    #[serde(default)]
    pub is_active: Patch<bool>,
}

/// Filters of `GET /users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserFilterParams {
    /// Roles to include (comma-separated in the query: `role=admin,manager`).
    #[param(value_type = Option<Vec<sets::Role>>, style = Form, explode = false)]
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub email_verified: Option<bool>,
    /// Case-insensitive substring of the email or the name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

impl crate::collection::Filters for UserFilterParams {
    const LISTS: &'static [&'static str] = &["role"];
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
            Some(list) => {
                list.split(',').filter_map(|r| errors.check("role", rivet_domain::Role::parse(r.trim()))).collect()
            }
        };
        let q = errors.check("q", rivet_domain::collection::search_text(self.q.as_deref())).flatten();
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
