//! Account use cases: registration, profile changes, password changes and
//! administration of users.
//!
//! Authorization is not decided here: callers (the HTTP layer through
//! `rivet-auth`'s `Principal`) check permissions before calling the
//! administrative functions. The rules that hold whoever calls — validation,
//! unique emails, at least one active administrator — are enforced here and
//! in the repositories.
//!
//! Emails these use cases cause (welcome, verification, password reset) are
//! written as jobs in the same transaction as the change, with the one-time
//! token they carry ([`crate::jobs::Outbox`]); see [`email_flows`].

mod email_flows;

use crate::collection::{Page, Start};
use crate::email::{EmailMessage, Templates};
use crate::error::{Error, Result};
use crate::jobs::{NewJob, Outbox, Task};
use crate::one_time_token::{NewOneTimeToken, OneTimeTokenRepository, TokenPurpose, TokenSecrets};
use crate::patch::Patch;
use crate::ports::{PasswordHasher, SessionRepository, UserRepository};
use crate::session::{RevokeReason, SessionId};
use crate::time::now;
use crate::user::{Email, FullName, NewUser, Password, Role, User, UserChanges, UserId, UserQuery};
use crate::validation::{FieldError, ValidationErrors};
use crate::version::IfVersion;
use std::sync::Arc;
use tracing::instrument;

/// Input of a registration, as received.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub full_name: Option<String>,
}

/// A user's change to their own profile. The name can be cleared; the
/// email cannot.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub full_name: Patch<String>,
    pub email: Patch<String>,
}

/// An administrator's change to a user. The name can be cleared; the role
/// and the active flag cannot.
#[derive(Debug, Clone, Default)]
pub struct AdminPatch {
    pub full_name: Patch<String>,
    pub role: Patch<String>,
    pub is_active: Patch<bool>,
}

/// The ports the account use cases reach.
#[derive(Clone)]
#[allow(missing_debug_implementations)] // trait objects; `Accounts` is Debug.
pub struct AccountPorts {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn OneTimeTokenRepository>,
    pub secrets: Arc<dyn TokenSecrets>,
}

/// The account use cases.
#[derive(Clone)]
pub struct Accounts {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn OneTimeTokenRepository>,
    secrets: Arc<dyn TokenSecrets>,
    templates: Templates,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

fn parse_name(errors: &mut ValidationErrors, raw: Patch<String>) -> Option<Option<FullName>> {
    raw.nullable("full_name", errors, |s| FullName::parse(&s))
}

impl Accounts {
    /// Wires the use cases to their ports; emails are rendered by `templates`.
    pub fn new(ports: AccountPorts, templates: Templates) -> Self {
        let AccountPorts { users, sessions, hasher, tokens, secrets } = ports;
        Self { users, sessions, hasher, tokens, secrets, templates }
    }

    /// Registers a self-service account with the `user` role and queues the
    /// welcome email, which carries the first verification link.
    ///
    /// # Errors
    /// `Validation` listing every broken rule; `Conflict(EmailTaken)`.
    #[instrument(skip_all)]
    pub async fn register(&self, input: Registration) -> Result<User> {
        let user = self.new_user(input, Role::User).await?;
        let outbox = self.mail_with_token(user.id, &user.email, TokenPurpose::VerifyEmail, |t, to, token| {
            t.welcome(to, user.full_name.as_ref(), token)
        });
        Ok(self.users.insert_with(user, &outbox).await?)
    }

    /// Creates an account with any role (operators' CLI, bootstrap admin).
    /// No email is sent; the user can ask for a verification link later.
    ///
    /// # Errors
    /// As [`Accounts::register`].
    #[instrument(skip_all, fields(role = %role))]
    pub async fn create(&self, input: Registration, role: Role) -> Result<User> {
        let user = self.new_user(input, role).await?;
        Ok(self.users.insert(user).await?)
    }

    /// The outbox of one emailed link: a fresh one-time token for `user`
    /// (only its hash is stored) and the job that mails `render`'s message
    /// carrying it to `email`.
    fn mail_with_token(
        &self,
        user: UserId,
        email: &Email,
        purpose: TokenPurpose,
        render: impl FnOnce(&Templates, &Email, &str) -> EmailMessage,
    ) -> Outbox {
        let (token, hash) = self.secrets.mint();
        let at = now();
        let stored = NewOneTimeToken {
            hash,
            user_id: user,
            purpose,
            email: email.clone(),
            created_at: at,
            expires_at: at + purpose.ttl(),
        };
        let message = render(&self.templates, email, &token);
        Outbox { tokens: vec![stored], jobs: vec![NewJob::new(&Task::SendEmail { message }, at)] }
    }

    async fn new_user(&self, input: Registration, role: Role) -> Result<NewUser> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&input.email));
        let password = errors.check("password", Password::parse(&input.password, email.as_ref()));
        let full_name = parse_name(&mut errors, input.full_name.into()).flatten();
        errors.into_result()?;
        let (Some(email), Some(password)) = (email, password) else {
            unreachable!("errors were empty, so both parsed");
        };
        let password_hash = self.hasher.hash(&password).await.map_err(Error::Hashing)?;
        Ok(NewUser { id: UserId::new(), email, full_name, password_hash, role, created_at: now() })
    }

    /// A user by id.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get(&self, id: UserId) -> Result<User> {
        self.users.find(id).await?.ok_or(Error::NotFound)
    }

    /// A page of users. The caller checks the `users:read` permission.
    ///
    /// # Errors
    /// `Validation` when the page's cursor belongs to another sort order.
    #[instrument(skip_all)]
    pub async fn list(&self, query: &UserQuery) -> Result<Page<User>> {
        if let Start::After(position) = &query.page.start {
            position
                .check(&query.sort)
                .map_err(|e| Error::Validation(ValidationErrors::single(e.field, e.code, e.message)))?;
        }
        Ok(self.users.list(query).await?)
    }

    /// Changes the caller's own profile. A new email address is unverified,
    /// and a verification link is mailed to it in the same transaction.
    ///
    /// # Errors
    /// `Validation`, `Conflict(EmailTaken)`, `NotFound`, `PreconditionFailed`.
    #[instrument(skip_all, fields(user_id = %id))]
    pub async fn update_profile(&self, id: UserId, patch: ProfilePatch, expected: &IfVersion) -> Result<User> {
        let mut errors = ValidationErrors::new();
        let full_name = parse_name(&mut errors, patch.full_name);
        let email = patch.email.required("email", &mut errors, |e| Email::parse(&e));
        errors.into_result()?;
        let current = self.get(id).await?;
        let email = email.filter(|e| *e != current.email);
        let outbox = email.as_ref().map_or_else(Outbox::default, |new_email| {
            self.mail_with_token(id, new_email, TokenPurpose::VerifyEmail, Templates::verify_email)
        });
        let changes =
            UserChanges { email_verified: email.as_ref().map(|_| false), email, full_name, ..Default::default() };
        if changes.is_empty() {
            return self.apply(id, &changes, expected).await;
        }
        self.users.update_with(id, &changes, expected, now(), &outbox).await?.into_result()
    }

    /// Changes the caller's password after checking the current one, and ends
    /// every other session of the user (the current one stays signed in).
    ///
    /// # Errors
    /// `Validation` (`current_password` incorrect, new password against policy), `NotFound`.
    #[instrument(skip_all, fields(user_id = %id))]
    pub async fn change_password(
        &self,
        id: UserId,
        current_session: Option<SessionId>,
        current: &str,
        new: &str,
    ) -> Result<()> {
        let creds = self.users.find_credentials(id).await?.ok_or(Error::NotFound)?;
        let mut errors = ValidationErrors::new();
        let valid = self.hasher.verify(current, &creds.password_hash).await.map_err(Error::Hashing)?;
        if !valid {
            errors.push(FieldError::new("current_password", "incorrect", "is not your current password"));
        }
        let new_password = errors.check("new_password", Password::parse(new, Some(&creds.user.email)));
        errors.into_result()?;
        let new_password = new_password.expect("validated above");
        let password_hash = self.hasher.hash(&new_password).await.map_err(Error::Hashing)?;
        let changes = UserChanges { password_hash: Some(password_hash), ..Default::default() };
        self.apply(id, &changes, &IfVersion::Any).await?;
        self.sessions.revoke_all(id, current_session, RevokeReason::PasswordChanged, now()).await?;
        Ok(())
    }

    /// Deletes a user with everything they own.
    ///
    /// # Errors
    /// `NotFound`; `LastAdmin` for the last active administrator.
    #[instrument(skip_all, fields(user_id = %id))]
    pub async fn delete(&self, id: UserId, expected: &IfVersion) -> Result<()> {
        self.users.delete(id, expected).await?.into_result()
    }

    /// An administrator's change of a user's name, role or active flag.
    /// Deactivating a user ends all of their sessions.
    ///
    /// # Errors
    /// `Validation`, `NotFound`, `LastAdmin`.
    #[instrument(skip_all, fields(user_id = %id))]
    pub async fn admin_update(&self, id: UserId, patch: AdminPatch, expected: &IfVersion) -> Result<User> {
        let mut errors = ValidationErrors::new();
        let full_name = parse_name(&mut errors, patch.full_name);
        let role = patch.role.required("role", &mut errors, |r| Role::parse(&r));
        let is_active = patch.is_active.required("is_active", &mut errors, Ok);
        errors.into_result()?;
        let changes = UserChanges { full_name, role, is_active, ..Default::default() };
        let user = self.apply(id, &changes, expected).await?;
        if is_active == Some(false) {
            self.sessions.revoke_all(id, None, RevokeReason::Deactivated, now()).await?;
        }
        Ok(user)
    }

    async fn apply(&self, id: UserId, changes: &UserChanges, expected: &IfVersion) -> Result<User> {
        if changes.is_empty() {
            let user = self.get(id).await?;
            return if expected.allows(user.version) { Ok(user) } else { Err(Error::PreconditionFailed) };
        }
        self.users.update(id, changes, expected, now()).await?.into_result()
    }
}
