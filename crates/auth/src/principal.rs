//! The authenticated caller of a request.

use crate::error::AuthError;
use crate::rbac::{Permission, permissions};
use rivet_domain::{Role, SessionId, UserId};

/// Who is calling, as established from a valid, live access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    /// The user's current role (read with the session check, not from the token).
    pub role: Role,
    /// The session the access token belongs to.
    pub session_id: SessionId,
}

impl Principal {
    /// True when the principal's role grants `permission`.
    pub fn has(&self, permission: Permission) -> bool {
        permissions(self.role).contains(&permission)
    }

    /// Succeeds when the principal's role grants `permission`.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] otherwise.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        if self.has(permission) { Ok(()) } else { Err(AuthError::Forbidden(permission.action())) }
    }
}
