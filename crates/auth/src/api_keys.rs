//! API keys: `rvt_` followed by 256 random bits, stored as a SHA-256 hash,
//! limited to scopes the owner's role may grant. Each use is checked against
//! the database (no cache), so a revoked or expired key stops at once.

use crate::error::{AuthError, Result};
use crate::principal::{Principal, permission_for};
use crate::refresh;
use rivet_domain::api_key::{ApiKey, ApiKeyId, NewApiKey, Scope, Scopes};
use rivet_domain::ports::ApiKeyRepository;
use rivet_domain::time::now;
use rivet_domain::{FieldError, ValidationErrors};
use std::sync::Arc;
use tracing::{instrument, warn};

/// What every key starts with, so leaked keys are easy to recognise.
pub const KEY_PREFIX: &str = "rvt_";
/// Characters of a key kept in the clear, to recognise it in a list.
const SHOWN: usize = 12;

/// A new key: the stored record and the secret, shown once.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

/// The API key use cases.
#[derive(Clone)]
pub struct ApiKeyService {
    repo: Arc<dyn ApiKeyRepository>,
}

impl std::fmt::Debug for ApiKeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyService").finish_non_exhaustive()
    }
}

impl ApiKeyService {
    pub fn new(repo: Arc<dyn ApiKeyRepository>) -> Self {
        Self { repo }
    }

    /// Creates a key for the caller with `scopes`, each of which the
    /// caller's role must be able to grant.
    ///
    /// # Errors
    /// `Invalid` listing every problem; storage failures.
    #[instrument(skip_all, fields(user_id = %who.user_id))]
    pub async fn create(
        &self,
        who: &Principal,
        name: &str,
        scopes: &[String],
        expires_in_days: Option<u32>,
    ) -> Result<CreatedKey> {
        let mut errors = ValidationErrors::new();
        let name = errors.check("name", rivet_domain::validation::single_line("name", name, 100));
        if scopes.is_empty() {
            errors.push(FieldError::new("scopes", "length", "at least one scope"));
        }
        let mut set = Scopes::default();
        for (i, raw) in scopes.iter().enumerate() {
            match Scope::parse(raw) {
                Err(mut e) => {
                    e.field = format!("scopes[{i}]");
                    errors.push(e);
                }
                Ok(s) if permission_for(s).is_some_and(|p| !crate::rbac::permissions(who.role).contains(&p)) => {
                    errors.push(FieldError::new(
                        format!("scopes[{i}]"),
                        "not_permitted",
                        format!("your role cannot grant {raw}"),
                    ));
                }
                Ok(s) => set.insert(s),
            }
        }
        if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            errors.push(FieldError::new("expires_in_days", "range", "must be 1 to 3650"));
        }
        errors.into_result()?;
        let (token, _) = refresh::generate();
        let secret = format!("{KEY_PREFIX}{token}");
        let created_at = now();
        let key = NewApiKey {
            id: ApiKeyId(uuid::Uuid::now_v7()),
            user_id: who.user_id,
            name: name.unwrap_or_default(),
            prefix: secret.chars().take(SHOWN).collect(),
            secret_hash: refresh::hash(&secret).0,
            scopes: set,
            expires_at: expires_in_days.map(|d| created_at + chrono::Duration::days(i64::from(d))),
            created_at,
        };
        Ok(CreatedKey { key: self.repo.insert(key).await?, secret })
    }

    /// The caller's keys, without secrets.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn list(&self, who: &Principal) -> Result<Vec<ApiKey>> {
        Ok(self.repo.list(who.user_id).await?)
    }

    /// Revokes one of the caller's keys; it stops working at once.
    ///
    /// # Errors
    /// `NotFound` for a key that is not the caller's.
    pub async fn revoke(&self, who: &Principal, id: ApiKeyId) -> Result<()> {
        if self.repo.delete(who.user_id, id).await? { Ok(()) } else { Err(AuthError::NotFound) }
    }

    /// The caller behind an `X-API-Key`.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown or expired key; `AccountDisabled`.
    pub async fn authenticate(&self, secret: &str) -> Result<Principal> {
        if !secret.starts_with(KEY_PREFIX) || secret.len() > refresh::MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken("the API key is not valid"));
        }
        let found = self
            .repo
            .find_by_hash(&refresh::hash(secret).0)
            .await?
            .ok_or(AuthError::InvalidToken("the API key is not valid"))?;
        let at = now();
        if found.key.expires_at.is_some_and(|e| e <= at) {
            return Err(AuthError::InvalidToken("the API key has expired"));
        }
        if !found.user_active {
            return Err(AuthError::AccountDisabled);
        }
        if let Err(e) = self.repo.touch(found.key.id, at).await {
            warn!(error = %e, "could not record an API key's use");
        }
        Ok(Principal { user_id: found.key.user_id, role: found.role, session_id: None, scopes: Some(found.key.scopes) })
    }
}
