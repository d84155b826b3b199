//! The one-time token repository (email verification, password reset).

use crate::db::Database;
use crate::error::Result;
use crate::schema::one_time_tokens as ott;
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::jobs::Outbox;
use rivet_domain::one_time_token::{OneTimeTokenRepository, TokenHolder, TokenPurpose};
use rivet_domain::time::Timestamp;
use rivet_domain::{Email, RepoError, UserId};
use tracing::instrument;

/// One-time tokens in the database.
#[derive(Debug, Clone)]
pub struct OneTimeTokenStore {
    db: Database,
}

fn holder((user_id, email): (DbUuid, String)) -> TokenHolder {
    TokenHolder { user_id: UserId(user_id.0), email: Email::from_trusted(email) }
}

impl OneTimeTokenStore {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl OneTimeTokenRepository for OneTimeTokenStore {
    #[instrument(skip_all)]
    async fn issue(&self, outbox: &Outbox) -> Result<(), RepoError> {
        Ok(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                sql::write_outbox(c, outbox).await?;
                Ok(())
            })
            .await
        })?)
    }

    #[instrument(skip_all)]
    async fn find(&self, hash: &str, purpose: TokenPurpose, now: Timestamp) -> Result<Option<TokenHolder>, RepoError> {
        Ok(with_conn!(read self.db, |conn| {
            let row: Option<(DbUuid, String)> = ott::table
                .filter(ott::token_hash.eq(hash))
                .filter(ott::purpose.eq(purpose.as_str()))
                .filter(ott::used_at.is_null())
                .filter(ott::expires_at.gt(DbTime(now)))
                .select((ott::user_id, ott::email))
                .first(conn)
                .await
                .optional()?;
            Ok(row.map(holder))
        })?)
    }

    #[instrument(skip_all)]
    async fn consume(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> Result<Option<TokenHolder>, RepoError> {
        Ok(with_conn!(self.db, |conn| {
            conn.transaction(async |c| {
                // One conditional UPDATE: of two concurrent uses, one matches.
                let row: Option<(DbUuid, String)> = diesel::update(
                    ott::table
                        .filter(ott::token_hash.eq(hash))
                        .filter(ott::purpose.eq(purpose.as_str()))
                        .filter(ott::used_at.is_null())
                        .filter(ott::expires_at.gt(DbTime(now))),
                )
                .set(ott::used_at.eq(DbTime(now)))
                .returning((ott::user_id, ott::email))
                .get_result(c)
                .await
                .optional()?;
                let Some(row) = row else { return Ok(None) };
                diesel::update(
                    ott::table
                        .filter(ott::user_id.eq(row.0))
                        .filter(ott::purpose.eq(purpose.as_str()))
                        .filter(ott::used_at.is_null()),
                )
                .set(ott::used_at.eq(DbTime(now)))
                .execute(c)
                .await?;
                Ok(Some(holder(row)))
            })
            .await
        })?)
    }

    #[instrument(skip_all)]
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        Ok(with_conn!(self.db, |conn| {
            let n = diesel::delete(ott::table.filter(ott::expires_at.lt(DbTime(now)))).execute(conn).await?;
            Ok(n as u64)
        })?)
    }
}
