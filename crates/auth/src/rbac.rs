//! Roles → permissions: the single table that decides what each role may do.
//! Handlers ask for a [`Permission`]; nothing else compares roles.

use rivet_domain::Role;

/// Something a principal may be allowed to do beyond its own account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Create, change and delete products; see inactive ones.
    ProductsWrite,
    /// List and read any user.
    UsersRead,
    /// Change and delete any user.
    UsersWrite,
}

impl Permission {
    /// The scope name used in API keys and documentation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProductsWrite => "products:write",
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
        }
    }

    /// What a refusal says the caller may not do.
    pub fn action(self) -> &'static str {
        match self {
            Self::ProductsWrite => "change products or see inactive ones",
            Self::UsersRead => "read other users",
            Self::UsersWrite => "change other users",
        }
    }
}

/// The permissions a role grants. Every role also owns its own account,
/// todos and API keys; those need no permission, only ownership.
pub fn permissions(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        Role::User => &[],
        Role::Manager => &[ProductsWrite],
        Role::Admin => &[ProductsWrite, UsersRead, UsersWrite],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_holds_what_the_spec_grants_and_no_more() {
        assert!(permissions(Role::User).is_empty());
        assert_eq!(permissions(Role::Manager), &[Permission::ProductsWrite]);
        for p in [Permission::ProductsWrite, Permission::UsersRead, Permission::UsersWrite] {
            assert!(permissions(Role::Admin).contains(&p), "admin lacks {p:?}");
        }
    }

    #[test]
    fn a_higher_role_includes_every_permission_of_a_lower_one() {
        for pair in Role::ALL.windows(2) {
            for p in permissions(pair[0]) {
                assert!(permissions(pair[1]).contains(p), "{:?} lacks {p:?} of {:?}", pair[1], pair[0]);
            }
        }
    }
}
