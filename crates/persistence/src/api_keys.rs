//! The API key repository.

use crate::db::Database;
use crate::error::{Error, Result};
use crate::schema::{api_keys, users};
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use chrono::Duration;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::api_key::{ApiKey, ApiKeyId, KeyOwner, NewApiKey, Scope, Scopes};
use rivet_domain::events::NewEvent;
use rivet_domain::ports::ApiKeyRepository;
use rivet_domain::time::Timestamp;
use rivet_domain::{RepoError, Role, UserId};
use tracing::instrument;

/// API keys in the database.
#[derive(Debug, Clone)]
pub struct ApiKeyStore {
    db: Database,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
#[cfg_attr(
    all(feature = "postgres", feature = "sqlite"),
    diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))
)]
struct ApiKeyRow {
    id: DbUuid,
    user_id: DbUuid,
    name: String,
    prefix: String,
    scopes: String,
    expires_at: Option<DbTime>,
    last_used_at: Option<DbTime>,
    created_at: DbTime,
}

impl ApiKeyRow {
    fn into_key(self) -> Result<ApiKey> {
        let scopes = self
            .scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| Scope::parse(s).map_err(|_| Error::Corrupt(format!("api key {} has scope {s:?}", self.id.0))))
            .collect::<Result<Scopes>>()?;
        Ok(ApiKey {
            id: ApiKeyId(self.id.0),
            user_id: UserId(self.user_id.0),
            name: self.name,
            prefix: self.prefix,
            scopes,
            expires_at: self.expires_at.map(|t| t.0),
            last_used_at: self.last_used_at.map(|t| t.0),
            created_at: self.created_at.0,
        })
    }
}

fn scope_list(scopes: Scopes) -> String {
    scopes.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
}

impl ApiKeyStore {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ApiKeyRepository for ApiKeyStore {
    #[instrument(skip_all)]
    async fn insert(&self, key: NewApiKey) -> Result<ApiKey, RepoError> {
        Ok(with_conn!(self.db, |conn| {
            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::id.eq(DbUuid(key.id.0)),
                    api_keys::user_id.eq(DbUuid(key.user_id.0)),
                    api_keys::name.eq(&key.name),
                    api_keys::prefix.eq(&key.prefix),
                    api_keys::secret_hash.eq(&key.secret_hash),
                    api_keys::scopes.eq(scope_list(key.scopes)),
                    api_keys::expires_at.eq(key.expires_at.map(DbTime)),
                    api_keys::created_at.eq(DbTime(key.created_at)),
                ))
                .returning(ApiKeyRow::as_returning())
                .get_result(conn)
                .await?
                .into_key()
        })?)
    }

    #[instrument(skip_all)]
    async fn list(&self, user: UserId) -> Result<Vec<ApiKey>, RepoError> {
        Ok(with_conn!(read self.db, |conn| {
            let rows: Vec<ApiKeyRow> = api_keys::table
                .filter(api_keys::user_id.eq(DbUuid(user.0)))
                .order((api_keys::created_at.desc(), api_keys::id.desc()))
                .select(ApiKeyRow::as_select())
                .load(conn)
                .await?;
            rows.into_iter().map(ApiKeyRow::into_key).collect()
        })?)
    }

    #[instrument(skip_all)]
    async fn delete(&self, user: UserId, id: ApiKeyId) -> Result<bool, RepoError> {
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let n = diesel::delete(
                    api_keys::table.filter(api_keys::id.eq(DbUuid(id.0))).filter(api_keys::user_id.eq(DbUuid(user.0))),
                )
                .execute(c)
                .await?;
                if n == 1 {
                    sql::record(c, &[NewEvent::access_revoked(user, None, rivet_domain::time::now())]).await?;
                }
                Ok(n == 1)
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn find_by_hash(&self, hash: &str) -> Result<Option<KeyOwner>, RepoError> {
        let row: Option<(ApiKeyRow, bool, String)> = with_conn!(read self.db, |conn| {
            Ok(api_keys::table
                .inner_join(users::table)
                .filter(api_keys::secret_hash.eq(hash))
                .select((ApiKeyRow::as_select(), users::is_active, users::role))
                .first(conn)
                .await
                .optional()?)
        })?;
        let owner = row.map(|(key, user_active, role)| -> Result<KeyOwner> {
            let role = Role::parse(&role).map_err(|_| Error::Corrupt(format!("user has role {role:?}")))?;
            Ok(KeyOwner { key: key.into_key()?, user_active, role })
        });
        Ok(owner.transpose()?)
    }

    #[instrument(skip_all)]
    async fn touch(&self, id: ApiKeyId, now: Timestamp) -> Result<(), RepoError> {
        let a_minute_ago = DbTime(now - Duration::minutes(1));
        Ok(with_conn!(self.db, |conn| {
            diesel::update(
                api_keys::table
                    .filter(api_keys::id.eq(DbUuid(id.0)))
                    .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.lt(a_minute_ago))),
            )
            .set(api_keys::last_used_at.eq(DbTime(now)))
            .execute(conn)
            .await?;
            Ok(())
        })?)
    }
}
