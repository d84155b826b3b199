//! Sessions: one per login, each a family of rotating refresh tokens.
//!
//! Refresh tokens are never stored, only their SHA-256 hashes. Every use of a
//! refresh token marks it used and issues a successor in the same session; a
//! second use of a used token is theft or a replay, and ends the session
//! (OAuth 2.0 Security BCP, RFC 9700 §4.14).

use crate::time::Timestamp;
use crate::user::{Role, UserId};

id_type! {
    /// A session's identifier; access tokens carry it as `sid`.
    SessionId
}

/// The hex-encoded SHA-256 hash of a refresh token: what storage keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(pub String);

/// A session to insert together with its first refresh token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: Timestamp,
    /// When the first refresh token (and so the session, unless refreshed) expires.
    pub expires_at: Timestamp,
    pub refresh_token: RefreshTokenHash,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A refresh token as stored, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub expires_at: Timestamp,
}

/// What happened when a refresh token was presented for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// The token was unused and is now marked used: the caller may issue a successor.
    Fresh(RefreshTokenRecord),
    /// The token had already been used: a replay. The caller must end the session.
    AlreadyUsed(RefreshTokenRecord),
    /// No such token.
    Unknown,
}

/// Why a session ended; kept for audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    Logout,
    LogoutAll,
    PasswordChanged,
    PasswordReset,
    RefreshTokenReused,
    Deactivated,
}

impl RevokeReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::Deactivated => "deactivated",
        }
    }
}

/// What an access-token check needs to know about the token's session, read
/// in one query: is it still live, and who is its user now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStatus {
    pub user_id: UserId,
    pub session_revoked: bool,
    pub user_active: bool,
    /// The user's current role, which wins over the role in an older token.
    pub role: Role,
}
