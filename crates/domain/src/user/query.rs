//! Listing users: the filters, sortable fields and query an administrator's
//! list uses.

use super::{Role, User};
use crate::collection::{KeyValue, Keyed, PageRequest, Sort, SortKey};
use crate::time::Timestamp;

/// The fields users can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    CreatedAt,
    Email,
    /// Users without a name sort as if their name were empty.
    FullName,
}

impl SortKey for UserSort {
    const FIELDS: &'static [(&'static str, Self)] =
        &[("created_at", UserSort::CreatedAt), ("email", UserSort::Email), ("full_name", UserSort::FullName)];
}

impl Keyed<UserSort> for User {
    fn key_value(&self, key: UserSort) -> KeyValue {
        match key {
            UserSort::CreatedAt => KeyValue::Time(self.created_at),
            UserSort::Email => KeyValue::Text(self.email.as_str().to_owned()),
            UserSort::FullName => {
                KeyValue::Text(self.full_name.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default())
            }
        }
    }

    fn key_id(&self) -> uuid::Uuid {
        self.id.0
    }
}

/// Which users to list; every set field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Any of these roles (empty: all).
    pub roles: Vec<Role>,
    pub is_active: Option<bool>,
    pub email_verified: Option<bool>,
    /// Case-insensitive substring of the email or the name.
    pub q: Option<String>,
    /// Created strictly after.
    pub created_after: Option<Timestamp>,
    /// Created strictly before.
    pub created_before: Option<Timestamp>,
}

/// A page of users to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub filter: UserFilter,
    pub sort: Sort<UserSort>,
    pub page: PageRequest,
}

impl Default for UserQuery {
    fn default() -> Self {
        Self { filter: UserFilter::default(), sort: Sort::by(UserSort::CreatedAt, true), page: PageRequest::default() }
    }
}
