//! One-time tokens: the secrets in email-verification and password-reset
//! links. Only a hash is stored; a token is single-use and expires.

use crate::error::RepoError;
use crate::jobs::Outbox;
use crate::time::Timestamp;
use crate::user::{Email, UserId};
use async_trait::async_trait;

/// What a token lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// Confirm that the user reads mail at `email`. Valid for 24 hours.
    VerifyEmail,
    /// Set a new password without the old one. Valid for 30 minutes.
    ResetPassword,
}

impl TokenPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }

    /// How long a token of this purpose stays valid.
    pub fn ttl(self) -> chrono::Duration {
        match self {
            Self::VerifyEmail => chrono::Duration::hours(24),
            Self::ResetPassword => chrono::Duration::minutes(30),
        }
    }
}

/// A token to store: its hash, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOneTimeToken {
    pub hash: String,
    pub user_id: UserId,
    pub purpose: TokenPurpose,
    /// The address the token was mailed to.
    pub email: Email,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Whom a valid token was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    pub user_id: UserId,
    pub email: Email,
}

/// Minting and hashing of token secrets (cryptography stays out of the
/// domain; `rivet-auth` implements this).
pub trait TokenSecrets: Send + Sync {
    /// A fresh random token and the hash to store.
    fn mint(&self) -> (String, String);

    /// The stored form of a presented token.
    fn hash(&self, token: &str) -> String;
}

/// Storage of one-time tokens.
#[async_trait]
pub trait OneTimeTokenRepository: Send + Sync {
    /// Writes tokens and the jobs that mail them, in one transaction.
    async fn issue(&self, outbox: &Outbox) -> Result<(), RepoError>;

    /// The holder of an unused, unexpired token, without using it.
    async fn find(&self, hash: &str, purpose: TokenPurpose, now: Timestamp) -> Result<Option<TokenHolder>, RepoError>;

    /// Uses a token, atomically: of two concurrent calls exactly one gets the
    /// holder. Every other outstanding token of the same user and purpose is
    /// used up with it.
    async fn consume(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> Result<Option<TokenHolder>, RepoError>;

    /// Deletes tokens that expired before `now`; returns how many.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError>;
}
