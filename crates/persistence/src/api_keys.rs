//! The API key repository.

use crate::db::Database;
use crate::error::{Error, Result};
use crate::schema::{api_keys, users};
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use chrono::Duration;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rivet_domain::api_key::{ApiKey, ApiKeyId, KeyOwner, NewApiKey, Scope, Scopes};
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

    async fn insert_row(&self, k: &NewApiKey) -> Result<ApiKey> {
        with_conn!(self.db, |conn| {
            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::id.eq(DbUuid(k.id.0)),
                    api_keys::user_id.eq(DbUuid(k.user_id.0)),
                    api_keys::name.eq(&k.name),
                    api_keys::prefix.eq(&k.prefix),
                    api_keys::secret_hash.eq(&k.secret_hash),
                    api_keys::scopes.eq(scope_list(k.scopes)),
                    api_keys::expires_at.eq(k.expires_at.map(DbTime)),
                    api_keys::created_at.eq(DbTime(k.created_at)),
                ))
                .returning(ApiKeyRow::as_returning())
                .get_result(conn)
                .await?
                .into_key()
        })
    }

    async fn list_rows(&self, user: UserId) -> Result<Vec<ApiKey>> {
        with_conn!(self.db, |conn| {
            let rows: Vec<ApiKeyRow> = api_keys::table
                .filter(api_keys::user_id.eq(DbUuid(user.0)))
                .order((api_keys::created_at.desc(), api_keys::id.desc()))
                .select(ApiKeyRow::as_select())
                .load(conn)
                .await?;
            rows.into_iter().map(ApiKeyRow::into_key).collect()
        })
    }

    async fn delete_row(&self, user: UserId, id: ApiKeyId) -> Result<bool> {
        with_conn!(self.db, |conn| {
            let n = diesel::delete(
                api_keys::table.filter(api_keys::id.eq(DbUuid(id.0))).filter(api_keys::user_id.eq(DbUuid(user.0))),
            )
            .execute(conn)
            .await?;
            Ok(n == 1)
        })
    }

    async fn find_row(&self, hash: &str) -> Result<Option<KeyOwner>> {
        let row: Option<(ApiKeyRow, bool, String)> = with_conn!(self.db, |conn| {
            api_keys::table
                .inner_join(users::table)
                .filter(api_keys::secret_hash.eq(hash))
                .select((ApiKeyRow::as_select(), users::is_active, users::role))
                .first(conn)
                .await
                .optional()?
        });
        row.map(|(key, user_active, role)| {
            let role = Role::parse(&role).map_err(|_| Error::Corrupt(format!("user has role {role:?}")))?;
            Ok(KeyOwner { key: key.into_key()?, user_active, role })
        })
        .transpose()
    }

    async fn touch_row(&self, id: ApiKeyId, now: Timestamp) -> Result<()> {
        let a_minute_ago = DbTime(now - Duration::minutes(1));
        with_conn!(self.db, |conn| {
            diesel::update(
                api_keys::table
                    .filter(api_keys::id.eq(DbUuid(id.0)))
                    .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.lt(a_minute_ago))),
            )
            .set(api_keys::last_used_at.eq(DbTime(now)))
            .execute(conn)
            .await?;
            Ok(())
        })
    }
}

#[async_trait]
impl ApiKeyRepository for ApiKeyStore {
    #[instrument(skip_all)]
    async fn insert(&self, key: NewApiKey) -> Result<ApiKey, RepoError> {
        Ok(self.insert_row(&key).await?)
    }

    #[instrument(skip_all)]
    async fn list(&self, user: UserId) -> Result<Vec<ApiKey>, RepoError> {
        Ok(self.list_rows(user).await?)
    }

    #[instrument(skip_all)]
    async fn delete(&self, user: UserId, id: ApiKeyId) -> Result<bool, RepoError> {
        Ok(self.delete_row(user, id).await?)
    }

    #[instrument(skip_all)]
    async fn find_by_hash(&self, secret_hash: &str) -> Result<Option<KeyOwner>, RepoError> {
        Ok(self.find_row(secret_hash).await?)
    }

    #[instrument(skip_all)]
    async fn touch(&self, id: ApiKeyId, now: Timestamp) -> Result<(), RepoError> {
        Ok(self.touch_row(id, now).await?)
    }
}
