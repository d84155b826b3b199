//! User accounts: identity, profile and role.

mod email;
mod name;
mod password;
mod query;
mod role;

pub use email::Email;
pub use name::FullName;
pub use password::Password;
pub use query::{UserFilter, UserQuery, UserSort};
pub use role::Role;

use crate::time::Timestamp;

id_type! {
    /// A user's identifier.
    UserId
}

/// A user account as the rest of the system sees it. The password hash is
/// deliberately absent: it travels only inside [`UserCredentials`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub full_name: Option<FullName>,
    pub role: Role,
    pub is_active: bool,
    pub email_verified: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented by every update; the basis of ETags and optimistic concurrency.
    pub version: i64,
}

/// A user together with the stored password hash, for credential checks only.
#[derive(Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials").field("user", &self.user).field("password_hash", &"<redacted>").finish()
    }
}

/// Everything needed to insert a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub full_name: Option<FullName>,
    pub password_hash: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// Changes to a user's row; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<Email>,
    /// `Some(None)` clears the name.
    pub full_name: Option<Option<FullName>>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
    pub email_verified: Option<bool>,
    pub password_hash: Option<String>,
}

impl UserChanges {
    /// True when applying the changes would leave the row as it is.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.full_name.is_none()
            && self.role.is_none()
            && self.is_active.is_none()
            && self.email_verified.is_none()
            && self.password_hash.is_none()
    }

    /// True when the change takes away administrator rights from an active admin.
    pub fn removes_admin_rights(&self, current: &User) -> bool {
        let is_admin_now = current.role == Role::Admin && current.is_active;
        let stays_admin =
            self.role.unwrap_or(current.role) == Role::Admin && self.is_active.unwrap_or(current.is_active);
        is_admin_now && !stays_admin
    }
}
