//! The session repository: sessions and their rotating refresh tokens.

use crate::db::Database;
use crate::error::Result;
use crate::schema::{refresh_tokens, sessions, users};
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::events::NewEvent;
use rivet_domain::ports::SessionRepository;
use rivet_domain::session::{Consumed, RevokeReason};
use rivet_domain::time::Timestamp;
use rivet_domain::{
    NewSession, RefreshTokenHash, RefreshTokenRecord, RepoError, Role, SessionId, SessionStatus, UserId,
};
use tracing::instrument;

/// Sessions in the database.
#[derive(Debug, Clone)]
pub struct SessionStore {
    db: Database,
}

type TokenTuple = (DbUuid, DbUuid, DbTime);

fn record((session_id, user_id, expires_at): TokenTuple) -> RefreshTokenRecord {
    RefreshTokenRecord { session_id: SessionId(session_id.0), user_id: UserId(user_id.0), expires_at: expires_at.0 }
}

impl SessionStore {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SessionRepository for SessionStore {
    #[instrument(skip_all)]
    async fn create(&self, session: NewSession) -> Result<(), RepoError> {
        let (id, user, created, expires) =
            (DbUuid(session.id.0), DbUuid(session.user_id.0), DbTime(session.created_at), DbTime(session.expires_at));
        Ok(with_conn!(self.db, |conn| {
            conn.transaction(async |c| {
                diesel::insert_into(sessions::table)
                    .values((
                        sessions::id.eq(id),
                        sessions::user_id.eq(user),
                        sessions::created_at.eq(created),
                        sessions::expires_at.eq(expires),
                    ))
                    .execute(c)
                    .await?;
                diesel::insert_into(refresh_tokens::table)
                    .values((
                        refresh_tokens::token_hash.eq(&session.refresh_token.0),
                        refresh_tokens::session_id.eq(id),
                        refresh_tokens::user_id.eq(user),
                        refresh_tokens::created_at.eq(created),
                        refresh_tokens::expires_at.eq(expires),
                    ))
                    .execute(c)
                    .await?;
                Ok(())
            })
            .await
        })?)
    }

    #[instrument(skip_all)]
    async fn consume_refresh_token(&self, hash: &RefreshTokenHash, now: Timestamp) -> Result<Consumed, RepoError> {
        let cols = (refresh_tokens::session_id, refresh_tokens::user_id, refresh_tokens::expires_at);
        Ok(with_conn!(self.db, |conn| {
            // One statement decides the race: only the first caller sees the row unused.
            let fresh: Option<TokenTuple> = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(&hash.0))
                    .filter(refresh_tokens::used_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(DbTime(now)))
            .returning(cols)
            .get_result(conn)
            .await
            .optional()?;
            if let Some(t) = fresh {
                return Ok(Consumed::Fresh(record(t)));
            }
            let used: Option<TokenTuple> = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&hash.0))
                .select(cols)
                .first(conn)
                .await
                .optional()?;
            Ok(used.map_or(Consumed::Unknown, |t| Consumed::AlreadyUsed(record(t))))
        })?)
    }

    #[instrument(skip_all)]
    async fn add_refresh_token(
        &self,
        session: SessionId,
        hash: &RefreshTokenHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), RepoError> {
        let sid = DbUuid(session.0);
        Ok(with_conn!(self.db, |conn| {
            conn.transaction(async |c| {
                let user: DbUuid = diesel::update(sessions::table.find(sid))
                    .set((sessions::expires_at.eq(DbTime(expires_at)), sessions::last_used_at.eq(DbTime(now))))
                    .returning(sessions::user_id)
                    .get_result(c)
                    .await?;
                diesel::insert_into(refresh_tokens::table)
                    .values((
                        refresh_tokens::token_hash.eq(&hash.0),
                        refresh_tokens::session_id.eq(sid),
                        refresh_tokens::user_id.eq(user),
                        refresh_tokens::created_at.eq(DbTime(now)),
                        refresh_tokens::expires_at.eq(DbTime(expires_at)),
                    ))
                    .execute(c)
                    .await?;
                Ok(())
            })
            .await
        })?)
    }

    #[instrument(skip_all)]
    async fn session_of_refresh_token(&self, hash: &RefreshTokenHash) -> Result<Option<SessionId>, RepoError> {
        Ok(with_conn!(read self.db, |conn| {
            let sid: Option<DbUuid> = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&hash.0))
                .select(refresh_tokens::session_id)
                .first(conn)
                .await
                .optional()?;
            Ok(sid.map(|s| SessionId(s.0)))
        })?)
    }

    #[instrument(skip_all)]
    async fn revoke(&self, session: SessionId, reason: RevokeReason, now: Timestamp) -> Result<bool, RepoError> {
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let user: Option<DbUuid> =
                    diesel::update(sessions::table.find(DbUuid(session.0)).filter(sessions::revoked_at.is_null()))
                        .set((sessions::revoked_at.eq(DbTime(now)), sessions::revoked_reason.eq(reason.as_str())))
                        .returning(sessions::user_id)
                        .get_result(c)
                        .await
                        .optional()?;
                let Some(user) = user else { return Ok(false) };
                sql::record(c, &[NewEvent::access_revoked(UserId(user.0), Some(session), now)]).await?;
                Ok(true)
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn revoke_all(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        reason: RevokeReason,
        now: Timestamp,
    ) -> Result<u64, RepoError> {
        // A nil id never matches a session, so "keep nothing" needs no second query shape.
        let keep = DbUuid(keep.map_or(uuid::Uuid::nil(), |s| s.0));
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let n = diesel::update(
                    sessions::table
                        .filter(sessions::user_id.eq(DbUuid(user.0)))
                        .filter(sessions::revoked_at.is_null())
                        .filter(sessions::id.ne(keep)),
                )
                .set((sessions::revoked_at.eq(DbTime(now)), sessions::revoked_reason.eq(reason.as_str())))
                .execute(c)
                .await?;
                if n > 0 {
                    sql::record(c, &[NewEvent::access_revoked(user, None, now)]).await?;
                }
                Ok(n as u64)
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn status(&self, session: SessionId) -> Result<Option<SessionStatus>, RepoError> {
        let row: Option<(DbUuid, Option<DbTime>, bool, String)> = with_conn!(read self.db, |conn| {
            Ok(sessions::table
                .inner_join(users::table)
                .filter(sessions::id.eq(DbUuid(session.0)))
                .select((sessions::user_id, sessions::revoked_at, users::is_active, users::role))
                .first(conn)
                .await
                .optional()?)
        })?;
        Ok(row
            .map(|(user_id, revoked_at, user_active, role)| {
                let role = Role::parse(&role)
                    .map_err(|_| crate::Error::Corrupt(format!("user {} has role {role:?}", user_id.0)))?;
                Ok::<_, crate::Error>(SessionStatus {
                    user_id: UserId(user_id.0),
                    session_revoked: revoked_at.is_some(),
                    user_active,
                    role,
                })
            })
            .transpose()?)
    }

    #[instrument(skip_all)]
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        Ok(with_conn!(self.db, |conn| {
            // Refresh tokens go with their session (ON DELETE CASCADE).
            let n = diesel::delete(sessions::table.filter(sessions::expires_at.lt(DbTime(now)))).execute(conn).await?;
            Ok(n as u64)
        })?)
    }
}
