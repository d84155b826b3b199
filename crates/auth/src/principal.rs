//! The authenticated caller of a request.

use crate::error::AuthError;
use crate::rbac::{Permission, permissions};
use rivet_domain::api_key::{Scope, Scopes};
use rivet_domain::{Role, SessionId, UserId};

/// Who is calling: a user through a session's access token, or through one
/// of their API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    /// The user's current role (read with the check, not from the token).
    pub role: Role,
    /// The session of an access token; `None` for an API key.
    pub session_id: Option<SessionId>,
    /// An API key's scopes; `None` for an access token (the role's permissions).
    pub scopes: Option<Scopes>,
}

/// The scope an API key needs to use a permission.
pub fn scope_for(permission: Permission) -> Scope {
    match permission {
        Permission::ProductsWrite => Scope::ProductsWrite,
        Permission::UsersRead => Scope::UsersRead,
        Permission::UsersWrite => Scope::UsersWrite,
    }
}

/// The permission a role needs to grant a scope to one of its keys; `None`
/// for the scopes over one's own data, which every role may grant.
pub fn permission_for(scope: Scope) -> Option<Permission> {
    match scope {
        Scope::TodosRead | Scope::TodosWrite | Scope::ProfileRead => None,
        Scope::ProductsWrite => Some(Permission::ProductsWrite),
        Scope::UsersRead => Some(Permission::UsersRead),
        Scope::UsersWrite => Some(Permission::UsersWrite),
    }
}

impl Principal {
    /// True when the role grants `permission` and, for an API key, its scopes do too.
    pub fn has(&self, permission: Permission) -> bool {
        permissions(self.role).contains(&permission) && self.scopes.is_none_or(|s| s.contains(scope_for(permission)))
    }

    /// Succeeds when [`Principal::has`] does.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] when the role lacks it; [`AuthError::InsufficientScope`]
    /// when only the API key does.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        if !permissions(self.role).contains(&permission) {
            return Err(AuthError::Forbidden(permission.action()));
        }
        self.require_scope(scope_for(permission))
    }

    /// An API key must carry `scope`; an access token passes.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`].
    pub fn require_scope(&self, scope: Scope) -> Result<(), AuthError> {
        match self.scopes {
            Some(s) if !s.contains(scope) => Err(AuthError::InsufficientScope(scope.as_str())),
            _ => Ok(()),
        }
    }

    /// Only a signed-in user, not an API key, may `action` (manage keys,
    /// change the password, end sessions, change or delete the account).
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for an API key.
    pub fn require_session(&self, action: &'static str) -> Result<SessionId, AuthError> {
        self.session_id.ok_or(AuthError::Forbidden(action))
    }
}
