//! API keys: long-lived credentials a user creates for scripts and other
//! services, each limited to the scopes given at creation — never beyond
//! the owner's own permissions, which `rivet-auth` checks.

use crate::time::Timestamp;
use crate::user::{Role, UserId};
use crate::validation::FieldError;
use uuid::Uuid;

/// An API key's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiKeyId(pub Uuid);

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    TodosRead,
    TodosWrite,
    ProductsWrite,
    UsersRead,
    UsersWrite,
    ProfileRead,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::TodosRead,
        Scope::TodosWrite,
        Scope::ProductsWrite,
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::ProfileRead,
    ];

    /// The wire name (`todos:read`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TodosRead => "todos:read",
            Self::TodosWrite => "todos:write",
            Self::ProductsWrite => "products:write",
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
            Self::ProfileRead => "profile:read",
        }
    }

    /// # Errors
    /// `one_of` for an unknown scope.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            FieldError::new(
                "scopes",
                "one_of",
                "must be one of: todos:read, todos:write, products:write, users:read, users:write, profile:read",
            )
        })
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    /// The scopes, in a fixed order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = Self::default();
        iter.into_iter().for_each(|s| set.insert(s));
        set
    }
}

/// An API key as stored, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the key, to recognise it in a list.
    pub prefix: String,
    pub scopes: Scopes,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A key to insert: only the hash of its secret is kept.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: Scopes,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A key found by its secret, with its owner's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    pub key: ApiKey,
    pub user_active: bool,
    pub role: Role,
}
