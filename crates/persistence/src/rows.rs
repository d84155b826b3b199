//! Row types and their conversion to domain types at the crate's edge.

use crate::error::Error;
use crate::schema::users;
use crate::types::{DbTime, DbUuid};
use diesel::prelude::*;
use rivet_domain::user::UserChanges;
use rivet_domain::{Email, FullName, NewUser, Role, User, UserCredentials, UserId};

/// A `users` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
#[cfg_attr(
    all(feature = "postgres", feature = "sqlite"),
    diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))
)]
pub(crate) struct UserRow {
    pub id: DbUuid,
    pub email: String,
    pub full_name: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub is_active: bool,
    pub email_verified: bool,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub version: i64,
}

impl UserRow {
    pub fn into_user(self) -> Result<User, Error> {
        Ok(self.into_credentials()?.user)
    }

    pub fn into_credentials(self) -> Result<UserCredentials, Error> {
        let role = Role::parse(&self.role)
            .map_err(|_| Error::Corrupt(format!("user {} has role {:?}", self.id.0, self.role)))?;
        let user = User {
            id: UserId(self.id.0),
            email: Email::from_trusted(self.email),
            full_name: self.full_name.map(FullName::from_trusted),
            role,
            is_active: self.is_active,
            email_verified: self.email_verified,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            version: self.version,
        };
        Ok(UserCredentials { user, password_hash: self.password_hash })
    }
}

/// A user to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct NewUserRow<'a> {
    pub id: DbUuid,
    pub email: &'a str,
    pub full_name: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

impl<'a> From<&'a NewUser> for NewUserRow<'a> {
    fn from(u: &'a NewUser) -> Self {
        Self {
            id: DbUuid(u.id.0),
            email: u.email.as_str(),
            full_name: u.full_name.as_ref().map(FullName::as_str),
            password_hash: &u.password_hash,
            role: u.role.as_str(),
            created_at: DbTime(u.created_at),
            updated_at: DbTime(u.created_at),
        }
    }
}

/// Changes to a `users` row; `None` leaves a column as it is.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserChangeset<'a> {
    pub email: Option<&'a str>,
    pub full_name: Option<Option<&'a str>>,
    pub password_hash: Option<&'a str>,
    pub role: Option<&'a str>,
    pub is_active: Option<bool>,
    pub email_verified: Option<bool>,
}

impl<'a> From<&'a UserChanges> for UserChangeset<'a> {
    fn from(c: &'a UserChanges) -> Self {
        Self {
            email: c.email.as_ref().map(Email::as_str),
            full_name: c.full_name.as_ref().map(|n| n.as_ref().map(FullName::as_str)),
            password_hash: c.password_hash.as_deref(),
            role: c.role.map(Role::as_str),
            is_active: c.is_active,
            email_verified: c.email_verified,
        }
    }
}
