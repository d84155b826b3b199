//! Account flows that go through the user's mailbox: email verification
//! and password reset.
//!
//! Rules that hold whoever calls:
//! - A token is stored hashed, works once, and expires (24 h to verify, 30 min
//!   to reset). Using one uses up every other token of the same purpose.
//! - A reset request answers the same whether or not the address has an
//!   account, and mails nothing for an unknown or deactivated one, so the
//!   endpoint cannot be used to find out who has an account.
//! - A reset ends every session of the user; it also proves the user reads
//!   the mailbox, so a reset sent to the current address verifies it.

use super::Accounts;
use crate::email::Templates;
use crate::error::{Error, Result};
use crate::one_time_token::{TokenHolder, TokenPurpose};
use crate::session::RevokeReason;
use crate::time::now;
use crate::user::{Email, Password, User, UserChanges, UserId};
use crate::validation::ValidationErrors;
use crate::version::IfVersion;
use tracing::{info, instrument};

/// Longest string taken as a one-time token: ours are 43 characters, and
/// hashing megabytes of attacker input would be a cheap attack.
const MAX_TOKEN_LEN: usize = 256;

impl Accounts {
    /// A presented token's hash, holder and user, if it is valid for
    /// `purpose` — without using it up.
    async fn presented(&self, token: &str, purpose: TokenPurpose) -> Result<(String, TokenHolder, User)> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::InvalidToken);
        }
        let hash = self.secrets.hash(token);
        let holder = self.tokens.find(&hash, purpose, now()).await?.ok_or(Error::InvalidToken)?;
        let user = self.users.find(holder.user_id).await?.ok_or(Error::InvalidToken)?;
        Ok((hash, holder, user))
    }

    /// Mails a new verification link to the user's current address, unless
    /// it is verified already (then nothing happens: the answer is the same,
    /// so a client cannot tell a stale screen from a fresh one).
    ///
    /// # Errors
    /// `NotFound` when the user is gone.
    #[instrument(skip_all, fields(user_id = %id))]
    pub async fn resend_verification(&self, id: UserId) -> Result<()> {
        let user = self.get(id).await?;
        if user.email_verified {
            return Ok(());
        }
        let outbox = self.mail_with_token(id, &user.email, TokenPurpose::VerifyEmail, Templates::verify_email);
        Ok(self.tokens.issue(&outbox).await?)
    }

    /// Marks the address a verification token was sent to as verified, if it
    /// is still the user's address.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown, used or expired token, or one sent to an
    /// address the user has since replaced.
    #[instrument(skip_all)]
    pub async fn verify_email(&self, token: &str) -> Result<()> {
        let purpose = TokenPurpose::VerifyEmail;
        // Check before using: a link to a replaced address must not use up
        // the link to the current one.
        let (hash, holder, user) = self.presented(token, purpose).await?;
        if user.email != holder.email {
            return Err(Error::InvalidToken);
        }
        self.tokens.consume(&hash, purpose, now()).await?.ok_or(Error::InvalidToken)?;
        if !user.email_verified {
            let changes = UserChanges { email_verified: Some(true), ..Default::default() };
            self.users.update(user.id, &changes, &IfVersion::Any, now()).await?.into_result()?;
        }
        Ok(())
    }

    /// Mails a password-reset link if `email` belongs to an active account.
    /// Succeeds the same way whether or not it does.
    ///
    /// # Errors
    /// `Validation` when `email` is not an email address at all.
    #[instrument(skip_all)]
    pub async fn forgot_password(&self, email: &str) -> Result<()> {
        let email =
            Email::parse(email).map_err(|e| Error::Validation(ValidationErrors::single(e.field, e.code, e.message)))?;
        let Some(creds) = self.users.find_credentials_by_email(&email).await? else { return Ok(()) };
        if !creds.user.is_active {
            return Ok(());
        }
        let outbox =
            self.mail_with_token(creds.user.id, &email, TokenPurpose::ResetPassword, Templates::password_reset);
        Ok(self.tokens.issue(&outbox).await?)
    }

    /// Sets a new password with a reset token and ends every session.
    ///
    /// The new password is checked before the token is used, so a password
    /// the policy refuses does not burn the link.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown, used or expired token; `Validation`
    /// (`new_password`) when the password breaks the policy.
    #[instrument(skip_all)]
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<()> {
        let purpose = TokenPurpose::ResetPassword;
        let (hash, _, user) = self.presented(token, purpose).await?;
        let password = Password::parse(new_password, Some(&user.email))
            .map_err(|e| Error::Validation(ValidationErrors::single("new_password", e.code, e.message)))?;
        let password_hash = self.hasher.hash(&password).await.map_err(Error::Hashing)?;
        let holder = self.tokens.consume(&hash, purpose, now()).await?.ok_or(Error::InvalidToken)?;
        let proves_mailbox = holder.email == user.email && !user.email_verified;
        let changes = UserChanges {
            password_hash: Some(password_hash),
            email_verified: proves_mailbox.then_some(true),
            ..Default::default()
        };
        self.users.update(user.id, &changes, &IfVersion::Any, now()).await?.into_result()?;
        let ended = self.sessions.revoke_all(user.id, None, RevokeReason::PasswordReset, now()).await?;
        info!(user_id = %user.id, sessions_ended = ended, "password reset");
        Ok(())
    }
}
