//! Authentication use cases: login, refresh rotation, logout, and turning an
//! access token into a [`Principal`].

use crate::error::{AuthError, Result};
use crate::jwt::JwtCodec;
use crate::principal::Principal;
use crate::refresh;
use crate::revocation::StatusCache;
use chrono::Duration as ChronoDuration;
use rivet_domain::ports::{PasswordHasher, SessionRepository, UserRepository};
use rivet_domain::session::{Consumed, RevokeReason};
use rivet_domain::time::now;
use rivet_domain::{Email, NewSession, Password, SessionId, User, UserId};
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, instrument, warn};

/// Lifetimes and caching, handed in by the application.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub refresh_ttl: Duration,
    /// How long a session's status may be served from memory; the upper
    /// bound on how late a revocation reaches access tokens on an instance.
    pub status_cache_ttl: Duration,
}

/// What a client receives after login or refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
}

/// The authentication use cases.
pub struct AuthService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    hasher: Arc<dyn PasswordHasher>,
    jwt: JwtCodec,
    settings: AuthSettings,
    /// Verified against when the email is unknown, so that answer costs a real hash.
    dummy_hash: String,
    cache: StatusCache,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").field("jwt", &self.jwt).field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl AuthService {
    /// Wires the service. Computes the dummy hash once, at the configured cost.
    ///
    /// # Errors
    /// [`AuthError::Crypto`] if hashing fails.
    pub async fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        hasher: Arc<dyn PasswordHasher>,
        jwt: JwtCodec,
        settings: AuthSettings,
    ) -> Result<Self> {
        let (random, _) = refresh::generate();
        let dummy = Password::parse(&random, None).map_err(|e| AuthError::Crypto(e.message.into()))?;
        let dummy_hash = hasher.hash(&dummy).await.map_err(AuthError::Crypto)?;
        let cache = StatusCache::new(settings.status_cache_ttl);
        Ok(Self { users, sessions, hasher, jwt, settings, dummy_hash, cache })
    }

    /// The access-token codec.
    pub fn jwt(&self) -> &JwtCodec {
        &self.jwt
    }

    /// Checks credentials and starts a session.
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`] for an unknown email or a wrong
    /// password — after the same bcrypt work in both cases;
    /// [`AuthError::AccountDisabled`] for a deactivated account with the right password.
    #[instrument(skip_all)]
    pub async fn login(&self, email: &str, password: &str) -> Result<(User, TokenPair)> {
        let found = match Email::parse(email) {
            Ok(email) => self.users.find_credentials_by_email(&email).await?,
            Err(_) => None,
        };
        let Some(creds) = found else {
            let _ = self.hasher.verify(password, &self.dummy_hash).await.map_err(AuthError::Crypto)?;
            return Err(AuthError::InvalidCredentials);
        };
        if !self.hasher.verify(password, &creds.password_hash).await.map_err(AuthError::Crypto)? {
            return Err(AuthError::InvalidCredentials);
        }
        if !creds.user.is_active {
            return Err(AuthError::AccountDisabled);
        }
        let user = creds.user;
        let session = SessionId::new();
        let (refresh_token, hash) = refresh::generate();
        let created_at = now();
        let expires_at = created_at + self.refresh_ttl();
        self.sessions
            .create(NewSession { id: session, user_id: user.id, created_at, expires_at, refresh_token: hash })
            .await?;
        info!(user_id = %user.id, session_id = %session, "session started");
        let pair = self.pair(&user, session, refresh_token)?;
        Ok((user, pair))
    }

    /// Rotates a refresh token: the presented one is spent, a successor is
    /// issued in the same session. Presenting a spent token ends the session.
    ///
    /// # Errors
    /// [`AuthError::RefreshTokenReused`] on a replay; [`AuthError::InvalidToken`]
    /// for an unknown, expired or revoked token; [`AuthError::AccountDisabled`].
    #[instrument(skip_all)]
    pub async fn refresh(&self, token: &str) -> Result<TokenPair> {
        if token.is_empty() || token.len() > refresh::MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken("the refresh token is not valid"));
        }
        let at = now();
        let record = match self.sessions.consume_refresh_token(&refresh::hash(token), at).await? {
            Consumed::Fresh(record) => record,
            Consumed::AlreadyUsed(record) => {
                self.sessions.revoke(record.session_id, RevokeReason::RefreshTokenReused, at).await?;
                self.cache.forget(record.session_id);
                let (user_id, session_id) = (record.user_id, record.session_id);
                warn!(user_id = %user_id, session_id = %session_id, "refresh token reused; session revoked");
                return Err(AuthError::RefreshTokenReused);
            }
            Consumed::Unknown => return Err(AuthError::InvalidToken("the refresh token is not valid")),
        };
        if record.expires_at <= at {
            return Err(AuthError::InvalidToken("the refresh token has expired"));
        }
        let status =
            self.sessions.status(record.session_id).await?.ok_or(AuthError::InvalidToken("the session has ended"))?;
        if status.session_revoked {
            return Err(AuthError::InvalidToken("the session has ended"));
        }
        if !status.user_active {
            return Err(AuthError::AccountDisabled);
        }
        let user = self.users.find(record.user_id).await?.ok_or(AuthError::InvalidToken("the session has ended"))?;
        let (refresh_token, hash) = refresh::generate();
        self.sessions.add_refresh_token(record.session_id, &hash, at, at + self.refresh_ttl()).await?;
        self.pair(&user, record.session_id, refresh_token)
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are
    /// ignored: logging out twice is not an error.
    ///
    /// # Errors
    /// Storage failures only.
    #[instrument(skip_all)]
    pub async fn logout(&self, token: &str) -> Result<()> {
        if token.is_empty() || token.len() > refresh::MAX_TOKEN_LEN {
            return Ok(());
        }
        if let Some(session) = self.sessions.session_of_refresh_token(&refresh::hash(token)).await? {
            self.sessions.revoke(session, RevokeReason::Logout, now()).await?;
            self.cache.forget(session);
        }
        Ok(())
    }

    /// Ends every session of a user.
    ///
    /// # Errors
    /// Storage failures only.
    #[instrument(skip_all, fields(user_id = %user))]
    pub async fn logout_all(&self, user: UserId) -> Result<u64> {
        let ended = self.sessions.revoke_all(user, None, RevokeReason::LogoutAll, now()).await?;
        self.forget_user(user);
        Ok(ended)
    }

    /// Drops this instance's cached view of a user's sessions, so a change
    /// made through this instance applies to its next request at once.
    pub fn forget_user(&self, user: UserId) {
        self.cache.forget_user(user);
    }

    /// Verifies an access token and checks that its session is live and its
    /// user active.
    ///
    /// # Errors
    /// [`AuthError::TokenExpired`], [`AuthError::InvalidToken`],
    /// [`AuthError::AccountDisabled`].
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.authenticate_verified(&self.verify(token)?).await
    }

    /// Checks an access token's signature and claims only (no session
    /// lookup): for callers that need the user before the full check, such
    /// as rate limiting, and hand the result on to
    /// [`AuthService::authenticate_verified`] so the signature is checked once.
    ///
    /// # Errors
    /// [`AuthError::TokenExpired`], [`AuthError::InvalidToken`].
    pub fn verify(&self, token: &str) -> Result<Verified> {
        Ok(Verified(self.jwt.verify(token)?))
    }

    /// [`AuthService::authenticate`] for a token already verified.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] (session ended), [`AuthError::AccountDisabled`].
    pub async fn authenticate_verified(&self, verified: &Verified) -> Result<Principal> {
        let claims = &verified.0;
        self.session_principal(UserId(claims.sub), SessionId(claims.sid), false).await
    }

    /// The caller of session `session` of `user`, when the session is live
    /// and the user active. `fresh` reads the database even when this
    /// instance holds a cached answer: event streams re-check with it when
    /// told that some of the user's credentials were revoked.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] (session ended), [`AuthError::AccountDisabled`].
    pub async fn session_principal(&self, user: UserId, session: SessionId, fresh: bool) -> Result<Principal> {
        let cached = if fresh { None } else { self.cache.get(session) };
        let status = match cached {
            Some(status) => status,
            None => {
                let status =
                    self.sessions.status(session).await?.ok_or(AuthError::InvalidToken("the session has ended"))?;
                self.cache.put(session, status);
                status
            }
        };
        if status.user_id != user || status.session_revoked {
            return Err(AuthError::InvalidToken("the session has ended"));
        }
        if !status.user_active {
            return Err(AuthError::AccountDisabled);
        }
        Ok(Principal { user_id: status.user_id, role: status.role, session_id: Some(session), scopes: None })
    }

    fn refresh_ttl(&self) -> ChronoDuration {
        ChronoDuration::from_std(self.settings.refresh_ttl).unwrap_or(ChronoDuration::days(30))
    }

    fn pair(&self, user: &User, session: SessionId, refresh_token: String) -> Result<TokenPair> {
        Ok(TokenPair {
            access_token: self.jwt.issue(user.id, user.role, session)?,
            expires_in: self.jwt.ttl().as_secs(),
            refresh_token,
            refresh_expires_in: self.settings.refresh_ttl.as_secs(),
        })
    }
}

/// An access token whose signature and claims passed [`AuthService::verify`];
/// only that function makes one, so holding one proves the check was done.
#[derive(Debug, Clone)]
pub struct Verified(crate::jwt::AccessClaims);

impl Verified {
    /// The user the token was issued to.
    pub fn user(&self) -> uuid::Uuid {
        self.0.sub
    }
}
