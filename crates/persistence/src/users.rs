//! The user repository.

use crate::db::Database;
use crate::error::Result;
use crate::rows::{NewUserRow, UserChangeset, UserRow};
use crate::schema::users;
use crate::todos::versions;
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::collection::Page;
use rivet_domain::events::NewEvent;
use rivet_domain::jobs::Outbox;
use rivet_domain::ports::{Updated, UserRepository};
use rivet_domain::time::Timestamp;
use rivet_domain::user::UserQuery;
use rivet_domain::version::IfVersion;
use rivet_domain::{Email, NewUser, RepoError, Role, User, UserChanges, UserCredentials, UserId};
use tracing::instrument;

/// The advisory lock serialising changes that may remove administrator rights.
const ADMINS_LOCK: &str = "users.admins";

/// The number of active administrators other than `except`.
#[diesel::dsl::auto_type]
fn other_active_admins(except: DbUuid) -> _ {
    let admin: &'static str = Role::Admin.as_str();
    let active: bool = true;
    users::table.filter(users::role.eq(admin)).filter(users::is_active.eq(active)).filter(users::id.ne(except)).count()
}

/// Users in the database.
#[derive(Debug, Clone)]
pub struct UserStore {
    db: Database,
}

impl UserStore {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    async fn find_row(&self, id: UserId) -> Result<Option<UserRow>> {
        with_conn!(read self.db, |conn| Ok(users::table
            .find(DbUuid(id.0))
            .select(UserRow::as_select())
            .first(conn)
            .await
            .optional()?))
    }

    async fn find_row_by_email(&self, email: &Email) -> Result<Option<UserRow>> {
        with_conn!(read self.db, |conn| {
            Ok(users::table
                .filter(users::email.eq(email.as_str()))
                .select(UserRow::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }
}

#[async_trait]
impl UserRepository for UserStore {
    #[instrument(skip_all)]
    async fn insert_with(&self, user: NewUser, outbox: &Outbox) -> Result<User, RepoError> {
        let row = NewUserRow::from(&user);
        Ok(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let user = diesel::insert_into(users::table)
                    .values(&row)
                    .returning(UserRow::as_returning())
                    .get_result(c)
                    .await?;
                sql::write_outbox(c, outbox).await?;
                user.into_user()
            })
            .await
        })?)
    }

    #[instrument(skip_all)]
    async fn find(&self, id: UserId) -> Result<Option<User>, RepoError> {
        Ok(self.find_row(id).await?.map(UserRow::into_user).transpose()?)
    }

    #[instrument(skip_all)]
    async fn find_credentials_by_email(&self, email: &Email) -> Result<Option<UserCredentials>, RepoError> {
        Ok(self.find_row_by_email(email).await?.map(UserRow::into_credentials).transpose()?)
    }

    #[instrument(skip_all)]
    async fn find_credentials(&self, id: UserId) -> Result<Option<UserCredentials>, RepoError> {
        Ok(self.find_row(id).await?.map(UserRow::into_credentials).transpose()?)
    }

    #[instrument(skip_all)]
    async fn update_with(
        &self,
        id: UserId,
        changes: &UserChanges,
        expected: &IfVersion,
        now: Timestamp,
        outbox: &Outbox,
    ) -> Result<Updated<User>, RepoError> {
        let set = UserChangeset::from(changes);
        let key = DbUuid(id.0);
        let allowed = versions(expected);
        let may_demote = changes.role.is_some_and(|r| r != Role::Admin) || changes.is_active == Some(false);
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                if may_demote {
                    sql::lock(c, ADMINS_LOCK).await?;
                    let current = users::table.find(key).select(UserRow::as_select()).first(c).await.optional()?;
                    let Some(current) = current else { return Ok(Updated::NotFound) };
                    if changes.removes_admin_rights(&current.into_user()?)
                        && other_active_admins(key).get_result::<i64>(c).await? == 0
                    {
                        return Ok(Updated::LastAdmin);
                    }
                }
                let mut update = diesel::update(users::table).filter(users::id.eq(key)).into_boxed();
                if let Some(allowed) = &allowed {
                    update = update.filter(users::version.eq_any(allowed.clone()));
                }
                let row = update
                    .set((&set, users::version.eq(users::version + 1i64), users::updated_at.eq(DbTime(now))))
                    .returning(UserRow::as_returning())
                    .get_result(c)
                    .await
                    .optional()?;
                match row {
                    Some(row) => {
                        sql::write_outbox(c, outbox).await?;
                        if changes.is_active == Some(false) {
                            sql::record(c, &[NewEvent::access_revoked(id, None, now)]).await?;
                        }
                        Ok(Updated::Done(row.into_user()?))
                    }
                    None => {
                        let exists: Option<i64> =
                            users::table.find(key).select(users::version).first(c).await.optional()?;
                        Ok(if exists.is_some() { Updated::Stale } else { Updated::NotFound })
                    }
                }
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn list(&self, query: &UserQuery) -> Result<Page<User>, RepoError> {
        Ok(self.db.list_users(query).await?)
    }

    #[instrument(skip_all)]
    async fn delete(&self, id: UserId, expected: &IfVersion) -> Result<Updated<()>, RepoError> {
        let key = DbUuid(id.0);
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                sql::lock(c, ADMINS_LOCK).await?;
                // The user's row lock keeps uploads from adding attachments
                // whose blobs the jobs below would miss.
                if !sql::lock_user(c, key).await? {
                    return Ok(Updated::NotFound);
                }
                let current = users::table.find(key).select(UserRow::as_select()).first(c).await?;
                let user = current.into_user()?;
                if !expected.allows(user.version) {
                    return Ok(Updated::Stale);
                }
                if user.role == Role::Admin
                    && user.is_active
                    && other_active_admins(key).get_result::<i64>(c).await? == 0
                {
                    return Ok(Updated::LastAdmin);
                }
                let blobs = sql::attachment_keys(c, None, key).await?;
                diesel::delete(users::table.find(key)).execute(c).await?;
                sql::delete_blobs_later(c, blobs).await?;
                sql::record(c, &[NewEvent::access_revoked(id, None, rivet_domain::time::now())]).await?;
                Ok(Updated::Done(()))
            })
            .await
        }))?)
    }
}
