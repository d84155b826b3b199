//! bcrypt password hashing on a bounded blocking pool.
//!
//! A bcrypt hash at cost 12 takes about 225 ms of CPU. Run on an async
//! worker it would stall every other request on that worker; run unbounded
//! on the blocking pool, a storm of logins would take every core. So each
//! hash runs on tokio's blocking pool behind a semaphore that admits at most
//! `max_concurrent` at once (by default one fewer than the cores), leaving
//! CPU for the rest of the API while logins queue.
//!
//! bcrypt reads at most 72 bytes of a password; the policy allows 128
//! characters, so the tail of a very long password does not strengthen it.

use async_trait::async_trait;
use rivet_domain::Password;
use rivet_domain::error::BoxError;
use rivet_domain::ports::PasswordHasher;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// bcrypt behind a concurrency limit.
#[derive(Debug, Clone)]
pub struct BcryptHasher {
    cost: u32,
    permits: Arc<Semaphore>,
}

impl BcryptHasher {
    /// A hasher with the given cost (4–31) and concurrency limit (at least 1).
    pub fn new(cost: u32, max_concurrent: usize) -> Self {
        Self { cost, permits: Arc::new(Semaphore::new(max_concurrent.max(1))) }
    }

    /// One fewer than the available cores, at least one.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    }

    async fn run<T, F>(&self, work: F) -> Result<T, BoxError>
    where
        F: FnOnce() -> Result<T, bcrypt::BcryptError> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|e| Box::new(e) as BoxError)?;
        let result = tokio::task::spawn_blocking(work).await.map_err(|e| Box::new(e) as BoxError)?;
        result.map_err(|e| Box::new(e) as BoxError)
    }
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &Password) -> Result<String, BoxError> {
        let (plain, cost) = (password.expose().to_owned(), self.cost);
        self.run(move || bcrypt::hash(plain, cost)).await
    }

    async fn verify(&self, candidate: &str, hash: &str) -> Result<bool, BoxError> {
        let (plain, hash) = (candidate.to_owned(), hash.to_owned());
        self.run(move || match bcrypt::verify(plain, &hash) {
            Err(bcrypt::BcryptError::InvalidHash(_)) => Ok(false),
            other => other,
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = BcryptHasher::new(4, 2);
        let pw = Password::parse("correct horse battery staple", None).unwrap();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert!(hasher.verify("correct horse battery staple", &hash).await.unwrap());
        assert!(!hasher.verify("correct horse battery stapler", &hash).await.unwrap());
        assert!(!hasher.verify("anything", "not a bcrypt hash").await.unwrap());
    }
}
