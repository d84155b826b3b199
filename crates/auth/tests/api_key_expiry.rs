//! An expired API key is refused, and so is one whose owner is disabled;
//! a live one authenticates with exactly its scopes. (The clock cannot be
//! moved in the end-to-end suite, so the stored expiry is set here.)

use async_trait::async_trait;
use rivet_auth::{ApiKeyService, AuthError};
use rivet_domain::api_key::{ApiKey, ApiKeyId, KeyOwner, NewApiKey, Scope, Scopes};
use rivet_domain::ports::ApiKeyRepository;
use rivet_domain::time::{Timestamp, now};
use rivet_domain::{RepoError, Role, UserId};
use std::sync::Arc;

/// Finds one key, whatever the hash.
struct OneKey(KeyOwner);

#[async_trait]
impl ApiKeyRepository for OneKey {
    async fn insert(&self, _: NewApiKey) -> Result<ApiKey, RepoError> {
        Err(RepoError::Internal("not used by this test".into()))
    }
    async fn list(&self, _: UserId) -> Result<Vec<ApiKey>, RepoError> {
        Ok(vec![])
    }
    async fn delete(&self, _: UserId, _: ApiKeyId) -> Result<bool, RepoError> {
        Ok(false)
    }
    async fn find_by_hash(&self, _: &str) -> Result<Option<KeyOwner>, RepoError> {
        Ok(Some(self.0.clone()))
    }
    async fn touch(&self, _: ApiKeyId, _: Timestamp) -> Result<(), RepoError> {
        Ok(())
    }
}

fn service(expires_at: Option<Timestamp>, user_active: bool) -> ApiKeyService {
    let key = ApiKey {
        id: ApiKeyId(uuid::Uuid::now_v7()),
        user_id: UserId::new(),
        name: "k".into(),
        prefix: "rvt_abcdefgh".into(),
        scopes: [Scope::TodosRead].into_iter().collect::<Scopes>(),
        expires_at,
        last_used_at: None,
        created_at: now(),
    };
    ApiKeyService::new(Arc::new(OneKey(KeyOwner { key, user_active, role: Role::User })))
}

#[tokio::test]
async fn an_expired_key_or_a_disabled_owner_is_refused_and_a_live_key_carries_its_scopes() {
    let expired = service(Some(now() - chrono::Duration::seconds(1)), true).authenticate("rvt_secret").await;
    assert!(matches!(expired, Err(AuthError::InvalidToken(m)) if m.contains("expired")), "{expired:?}");
    let disabled = service(None, false).authenticate("rvt_secret").await;
    assert!(matches!(disabled, Err(AuthError::AccountDisabled)), "{disabled:?}");
    let live = service(Some(now() + chrono::Duration::days(1)), true).authenticate("rvt_secret").await.unwrap();
    assert_eq!(
        (live.session_id, live.scopes.map(|s| s.iter().collect::<Vec<_>>())),
        (None, Some(vec![Scope::TodosRead]))
    );
    assert!(matches!(service(None, true).authenticate("no-prefix").await, Err(AuthError::InvalidToken(_))));
}
