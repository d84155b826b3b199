//! API key bodies.

use super::sets;
use chrono::{DateTime, Utc};
use rivet_domain::api_key::{ApiKey, Scope};
use serde::{Deserialize, Serialize};
#[allow(unused_imports)] // named in schema attributes only
use std::collections::BTreeSet;
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    #[schema(example = "nightly export", min_length = 1, max_length = 100)]
    pub name: String,
    /// Scopes your role may grant; at least one (a repeated scope counts once).
    #[schema(value_type = Vec<sets::Scope>, min_items = 1, example = json!(["todos:read"]))]
    pub scopes: Vec<String>,
    /// Omit for a key that does not expire.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// An API key without its secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyBody {
    pub id: Uuid,
    pub name: String,
    /// The key's first characters.
    #[schema(example = "rvt_Zq3xv9Tk")]
    pub prefix: String,
    #[schema(value_type = BTreeSet<sets::Scope>)]
    pub scopes: Vec<String>,
    #[serde(serialize_with = "crate::dto::timestamp::optional")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::dto::timestamp::optional")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id.0,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(Scope::as_str).map(str::to_owned).collect(),
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
        }
    }
}

/// Every key of the caller, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList(pub Vec<ApiKeyBody>);

/// A new key: the one time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = CreatedApiKey)]
pub struct CreatedApiKeyBody {
    /// Send it as `X-API-Key`. Store it now: it is never shown again.
    pub key: String,
    #[serde(flatten)]
    pub api_key: ApiKeyBody,
}
