//! Login does the same bcrypt work whether or not the email exists, so its
//! timing does not reveal which accounts exist. Checked by counting the
//! verifications, not by timing.

use async_trait::async_trait;
use rivet_auth::{AuthError, AuthService, AuthSettings, BcryptHasher, JwtCodec, JwtSettings};
use rivet_domain::collection::Page;
use rivet_domain::error::BoxError;
use rivet_domain::ports::{PasswordHasher, SessionRepository, Updated, UserRepository};
use rivet_domain::session::{Consumed, RevokeReason};
use rivet_domain::time::{Timestamp, now};
use rivet_domain::user::UserQuery;
use rivet_domain::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// bcrypt that counts its verifications.
struct Counting {
    inner: BcryptHasher,
    verifies: AtomicUsize,
}

#[async_trait]
impl PasswordHasher for Counting {
    async fn hash(&self, password: &Password) -> Result<String, BoxError> {
        self.inner.hash(password).await
    }
    async fn verify(&self, candidate: &str, hash: &str) -> Result<bool, BoxError> {
        self.verifies.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(candidate, hash).await
    }
}

/// One stored user, found by email.
struct OneUser(UserCredentials);

fn unused<T>() -> Result<T, RepoError> {
    Err(RepoError::Internal("not used by this test".into()))
}

#[async_trait]
impl UserRepository for OneUser {
    async fn insert_with(&self, _: NewUser, _: &rivet_domain::jobs::Outbox) -> Result<User, RepoError> {
        unused()
    }
    async fn find(&self, _: UserId) -> Result<Option<User>, RepoError> {
        Ok(Some(self.0.user.clone()))
    }
    async fn find_credentials_by_email(&self, email: &Email) -> Result<Option<UserCredentials>, RepoError> {
        Ok((*email == self.0.user.email).then(|| self.0.clone()))
    }
    async fn find_credentials(&self, _: UserId) -> Result<Option<UserCredentials>, RepoError> {
        unused()
    }
    async fn update_with(
        &self,
        _: UserId,
        _: &UserChanges,
        _: &rivet_domain::version::IfVersion,
        _: Timestamp,
        _: &rivet_domain::jobs::Outbox,
    ) -> Result<Updated<User>, RepoError> {
        unused()
    }
    async fn list(&self, _: &UserQuery) -> Result<Page<User>, RepoError> {
        unused()
    }
    async fn delete(&self, _: UserId, _: &rivet_domain::version::IfVersion) -> Result<Updated<()>, RepoError> {
        unused()
    }
}

/// Accepts new sessions; nothing else.
struct Sessions;

#[async_trait]
impl SessionRepository for Sessions {
    async fn create(&self, _: NewSession) -> Result<(), RepoError> {
        Ok(())
    }
    async fn consume_refresh_token(&self, _: &RefreshTokenHash, _: Timestamp) -> Result<Consumed, RepoError> {
        unused()
    }
    async fn add_refresh_token(
        &self,
        _: SessionId,
        _: &RefreshTokenHash,
        _: Timestamp,
        _: Timestamp,
    ) -> Result<(), RepoError> {
        unused()
    }
    async fn session_of_refresh_token(&self, _: &RefreshTokenHash) -> Result<Option<SessionId>, RepoError> {
        unused()
    }
    async fn revoke(&self, _: SessionId, _: RevokeReason, _: Timestamp) -> Result<bool, RepoError> {
        unused()
    }
    async fn revoke_all(
        &self,
        _: UserId,
        _: Option<SessionId>,
        _: RevokeReason,
        _: Timestamp,
    ) -> Result<u64, RepoError> {
        unused()
    }
    async fn status(&self, _: SessionId) -> Result<Option<SessionStatus>, RepoError> {
        unused()
    }
    async fn purge_expired(&self, _: Timestamp) -> Result<u64, RepoError> {
        unused()
    }
}

async fn service(active: bool) -> (AuthService, Arc<Counting>) {
    let hasher = Arc::new(Counting { inner: BcryptHasher::new(4, 1), verifies: AtomicUsize::new(0) });
    let password = Password::parse("correct horse battery staple", None).unwrap();
    let user = User {
        id: UserId::new(),
        email: Email::parse("ada@example.com").unwrap(),
        full_name: None,
        role: Role::User,
        is_active: active,
        email_verified: false,
        created_at: now(),
        updated_at: now(),
        version: 1,
    };
    let creds = UserCredentials { user, password_hash: hasher.hash(&password).await.unwrap() };
    let jwt = JwtCodec::new(&JwtSettings::hs256(b"a-test-secret-that-is-long-enough-32b")).unwrap();
    let settings = AuthSettings { refresh_ttl: Duration::from_secs(3600), status_cache_ttl: Duration::from_secs(4) };
    let svc =
        AuthService::new(Arc::new(OneUser(creds)), Arc::new(Sessions), hasher.clone(), jwt, settings).await.unwrap();
    hasher.verifies.store(0, Ordering::SeqCst);
    (svc, hasher)
}

#[tokio::test]
async fn an_unknown_email_costs_one_real_verification_like_a_wrong_password() {
    let (svc, hasher) = service(true).await;
    for (email, password) in [
        ("nobody@example.com", "correct horse battery staple"),
        ("ada@example.com", "wrong password"),
        ("not an email", "correct horse battery staple"),
    ] {
        let before = hasher.verifies.load(Ordering::SeqCst);
        assert!(matches!(svc.login(email, password).await, Err(AuthError::InvalidCredentials)), "{email}");
        assert_eq!(hasher.verifies.load(Ordering::SeqCst) - before, 1, "{email}: exactly one bcrypt verification");
    }
    let (_, pair) = svc.login("ada@example.com", "correct horse battery staple").await.unwrap();
    assert_eq!(pair.expires_in, 900);
}

#[tokio::test]
async fn a_disabled_account_is_revealed_only_to_someone_with_its_password() {
    let (svc, _) = service(false).await;
    assert!(matches!(svc.login("ada@example.com", "wrong password").await, Err(AuthError::InvalidCredentials)));
    assert!(matches!(
        svc.login("ada@example.com", "correct horse battery staple").await,
        Err(AuthError::AccountDisabled)
    ));
}
