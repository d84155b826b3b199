//! Ports: the traits through which the domain reaches the outside world.
//! `rivet-persistence` implements the repositories for PostgreSQL and SQLite,
//! `rivet-auth` the password hasher; tests and embedding services may bring
//! their own. The job queue's port is in [`crate::jobs`], one-time tokens'
//! in [`crate::one_time_token`], email's in [`crate::email`].

pub use crate::email::Mailer;
pub use crate::jobs::JobQueue;
pub use crate::one_time_token::{OneTimeTokenRepository, TokenSecrets};

use crate::api_key::{ApiKey, ApiKeyId, KeyOwner, NewApiKey};
use crate::collection::Page;
use crate::error::{BoxError, RepoError};
use crate::idempotency::{Claim, ClaimRequest, StoredResponse};
use crate::jobs::Outbox;
use crate::product::{Adjusted, NewProduct, Product, ProductChanges, ProductId, ProductQuery};
use crate::session::{Consumed, NewSession, RefreshTokenHash, RevokeReason, SessionId, SessionStatus};
use crate::time::Timestamp;
use crate::todo::{NewTodo, Todo, TodoChanges, TodoId, TodoQuery, TodoStats};
use crate::user::{Email, NewUser, Password, User, UserChanges, UserCredentials, UserId, UserQuery};
use crate::version::IfVersion;
use async_trait::async_trait;

/// Result of a guarded update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated<T> {
    Done(T),
    NotFound,
    /// The change would leave no active administrator.
    LastAdmin,
    /// The stored version does not satisfy the write's condition.
    Stale,
}

impl<T> Updated<T> {
    /// The value, or the domain error the outcome means.
    ///
    /// # Errors
    /// `NotFound` or `LastAdmin`.
    pub fn into_result(self) -> Result<T, crate::Error> {
        match self {
            Self::Done(v) => Ok(v),
            Self::NotFound => Err(crate::Error::NotFound),
            Self::LastAdmin => Err(crate::Error::LastAdmin),
            Self::Stale => Err(crate::Error::PreconditionFailed),
        }
    }
}

/// Storage of user accounts.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Inserts a user, and in the same transaction the outbox's tokens and
    /// jobs (the welcome email).
    ///
    /// # Errors
    /// `Conflict(EmailTaken)` when the email is registered already.
    async fn insert_with(&self, user: NewUser, outbox: &Outbox) -> Result<User, RepoError>;

    /// Inserts a user with nothing else.
    ///
    /// # Errors
    /// As [`UserRepository::insert_with`].
    async fn insert(&self, user: NewUser) -> Result<User, RepoError> {
        self.insert_with(user, &Outbox::default()).await
    }

    /// Finds a user by id.
    async fn find(&self, id: UserId) -> Result<Option<User>, RepoError>;

    /// Finds a user and the password hash by (normalised) email.
    async fn find_credentials_by_email(&self, email: &Email) -> Result<Option<UserCredentials>, RepoError>;

    /// Finds a user and the password hash by id.
    async fn find_credentials(&self, id: UserId) -> Result<Option<UserCredentials>, RepoError>;

    /// Applies `changes` if the stored version satisfies `expected`, bumping
    /// `version` and `updated_at`, and writes the outbox in the same
    /// transaction when the change is made. Atomically refuses a change that
    /// would leave no active administrator.
    ///
    /// # Errors
    /// `Conflict(EmailTaken)` when a new email is registered already.
    async fn update_with(
        &self,
        id: UserId,
        changes: &UserChanges,
        expected: &IfVersion,
        now: Timestamp,
        outbox: &Outbox,
    ) -> Result<Updated<User>, RepoError>;

    /// [`UserRepository::update_with`] with nothing else to write.
    ///
    /// # Errors
    /// As [`UserRepository::update_with`].
    async fn update(
        &self,
        id: UserId,
        changes: &UserChanges,
        expected: &IfVersion,
        now: Timestamp,
    ) -> Result<Updated<User>, RepoError> {
        self.update_with(id, changes, expected, now, &Outbox::default()).await
    }

    /// A page of users matching the query's filters, in its sort order.
    async fn list(&self, query: &UserQuery) -> Result<Page<User>, RepoError>;

    /// Deletes a user (sessions and owned rows go with it). Atomically refuses
    /// to delete the last active administrator.
    async fn delete(&self, id: UserId, expected: &IfVersion) -> Result<Updated<()>, RepoError>;
}

/// Storage of sessions and their refresh tokens.
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Inserts a session and its first refresh token, atomically.
    async fn create(&self, session: NewSession) -> Result<(), RepoError>;

    /// Marks a refresh token used, atomically: of two concurrent calls with
    /// the same token exactly one sees [`Consumed::Fresh`].
    async fn consume_refresh_token(&self, hash: &RefreshTokenHash, now: Timestamp) -> Result<Consumed, RepoError>;

    /// Adds the successor of a consumed token to its session and extends the
    /// session to the successor's expiry.
    async fn add_refresh_token(
        &self,
        session: SessionId,
        hash: &RefreshTokenHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), RepoError>;

    /// The session a refresh token (used or not) belongs to.
    async fn session_of_refresh_token(&self, hash: &RefreshTokenHash) -> Result<Option<SessionId>, RepoError>;

    /// Ends one session. Returns false when it was unknown or ended already.
    async fn revoke(&self, session: SessionId, reason: RevokeReason, now: Timestamp) -> Result<bool, RepoError>;

    /// Ends every live session of a user, except `keep`. Returns how many ended.
    async fn revoke_all(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        reason: RevokeReason,
        now: Timestamp,
    ) -> Result<u64, RepoError>;

    /// The session's state and its user's current state, in one round trip.
    async fn status(&self, session: SessionId) -> Result<Option<SessionStatus>, RepoError>;

    /// Deletes sessions (and their refresh tokens) that expired before `now`.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError>;
}

/// Storage of todos. Every call is scoped to the owner.
#[async_trait]
pub trait TodoRepository: Send + Sync {
    /// Inserts a todo and its tags, atomically.
    async fn insert(&self, todo: NewTodo) -> Result<Todo, RepoError>;

    /// One of `owner`'s todos, with its tags.
    async fn find(&self, owner: UserId, id: TodoId) -> Result<Option<Todo>, RepoError>;

    /// Applies `changes` if the stored version satisfies `expected`, bumping
    /// `version` and `updated_at`, and keeping `completed_at` in step with `status`.
    async fn update(
        &self,
        owner: UserId,
        id: TodoId,
        changes: &TodoChanges,
        expected: &IfVersion,
        now: Timestamp,
    ) -> Result<Updated<Todo>, RepoError>;

    /// Deletes a todo if the stored version satisfies `expected`.
    async fn delete(&self, owner: UserId, id: TodoId, expected: &IfVersion) -> Result<Updated<()>, RepoError>;

    /// A page of `owner`'s todos with their tags, loaded in one batched query.
    async fn list(&self, owner: UserId, query: &TodoQuery) -> Result<Page<Todo>, RepoError>;

    /// Counts over `owner`'s todos, by aggregate queries.
    async fn stats(&self, owner: UserId, today: chrono::NaiveDate, now: Timestamp) -> Result<TodoStats, RepoError>;
}

/// Storage of the product catalogue.
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Inserts a product.
    ///
    /// # Errors
    /// `Conflict(SkuTaken)`.
    async fn insert(&self, product: NewProduct) -> Result<Product, RepoError>;

    /// A product, active or not.
    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError>;

    /// Applies `changes` if the stored version satisfies `expected`.
    async fn update(
        &self,
        id: ProductId,
        changes: &ProductChanges,
        expected: &IfVersion,
        now: Timestamp,
    ) -> Result<Updated<Product>, RepoError>;

    /// Deletes a product if the stored version satisfies `expected`.
    async fn delete(&self, id: ProductId, expected: &IfVersion) -> Result<Updated<()>, RepoError>;

    /// A page of products.
    async fn list(&self, query: &ProductQuery) -> Result<Page<Product>, RepoError>;

    /// Adds `delta` to the stock atomically (one conditional UPDATE) and
    /// records the adjustment with its reason.
    async fn adjust_stock(
        &self,
        id: ProductId,
        delta: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<Adjusted, RepoError>;
}

/// Storage of API keys.
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    async fn insert(&self, key: NewApiKey) -> Result<ApiKey, RepoError>;

    /// A user's keys, newest first.
    async fn list(&self, user: UserId) -> Result<Vec<ApiKey>, RepoError>;

    /// Deletes one of a user's keys; false when there was none.
    async fn delete(&self, user: UserId, id: ApiKeyId) -> Result<bool, RepoError>;

    /// The key with this secret hash, and its owner's state.
    async fn find_by_hash(&self, secret_hash: &str) -> Result<Option<KeyOwner>, RepoError>;

    /// Records a use (at most once a minute per key, to spare writes).
    async fn touch(&self, id: ApiKeyId, now: Timestamp) -> Result<(), RepoError>;
}

/// Storage of idempotency records.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims a key atomically: of two concurrent claims one gets `Started`.
    async fn claim(&self, request: &ClaimRequest<'_>) -> Result<Claim, RepoError>;

    /// Stores the answer of a claimed key.
    async fn complete(&self, principal: &str, key: &str, response: &StoredResponse) -> Result<(), RepoError>;

    /// Releases a claim whose request failed on the server side, so a retry runs again.
    async fn release(&self, principal: &str, key: &str) -> Result<(), RepoError>;

    /// Removes records older than the retention period; returns how many.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError>;
}

/// Slow, salted password hashing. Implementations must keep the work off
/// async executor threads.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a policy-checked password.
    async fn hash(&self, password: &Password) -> Result<String, BoxError>;

    /// Checks a candidate against a stored hash. A malformed hash is `Ok(false)`.
    async fn verify(&self, candidate: &str, hash: &str) -> Result<bool, BoxError>;
}

/// A round trip to the primary store, for readiness checks.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Succeeds when the store answers a trivial query.
    async fn ping(&self) -> Result<(), RepoError>;
}

/// Fixed-window hit counters for rate limiting. Windows are aligned to the
/// Unix epoch, so instances sharing a store agree on them.
#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Counts one hit on `key` in the current window of `window_secs` and
    /// returns the hits so far in it, this one included.
    async fn hit(&self, key: &str, window_secs: u64) -> Result<u64, BoxError>;

    /// A round trip to the store, for readiness checks.
    async fn ping(&self) -> Result<(), BoxError>;
}
