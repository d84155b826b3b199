//! The idempotency store.

use crate::db::Database;
use crate::error::Result;
use crate::schema::idempotency_keys as ik;
use crate::types::DbTime;
use crate::with_conn;
use async_trait::async_trait;
use chrono::Duration;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rivet_domain::RepoError;
use rivet_domain::idempotency::{Claim, ClaimRequest, LEASE_SECS, RETENTION_HOURS, StoredResponse};
use rivet_domain::ports::IdempotencyStore;
use rivet_domain::time::Timestamp;
use tracing::instrument;

/// Idempotency records in the database.
#[derive(Debug, Clone)]
pub struct IdempotencyRecords {
    db: Database,
}

type Record = (String, Option<i32>, Option<String>, Option<String>, Option<String>, Option<String>, DbTime, DbTime);

impl IdempotencyRecords {
    /// A store over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl IdempotencyStore for IdempotencyRecords {
    #[instrument(skip_all)]
    async fn claim(&self, request: &ClaimRequest<'_>) -> Result<Claim, RepoError> {
        let (now, lease, expiry) = (
            DbTime(request.now),
            DbTime(request.now + Duration::seconds(LEASE_SECS)),
            DbTime(request.now + Duration::hours(RETENTION_HOURS)),
        );
        Ok(with_conn!(self.db, |conn| {
            // A record past its retention, or a claim whose lease ran out
            // without an answer, no longer holds the key.
            diesel::delete(
                ik::table
                    .filter(ik::principal.eq(request.principal))
                    .filter(ik::key.eq(request.key))
                    .filter(ik::expires_at.lt(now).or(ik::status.is_null().and(ik::locked_until.lt(now)))),
            )
            .execute(conn)
            .await?;
            let inserted = diesel::insert_into(ik::table)
                .values((
                    ik::principal.eq(request.principal),
                    ik::key.eq(request.key),
                    ik::fingerprint.eq(request.fingerprint),
                    ik::created_at.eq(now),
                    ik::locked_until.eq(lease),
                    ik::expires_at.eq(expiry),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if inserted == 1 {
                return Ok(Claim::Started);
            }
            let found: Option<Record> = ik::table
                .filter(ik::principal.eq(request.principal))
                .filter(ik::key.eq(request.key))
                .select((
                    ik::fingerprint,
                    ik::status,
                    ik::content_type,
                    ik::location,
                    ik::etag,
                    ik::body,
                    ik::locked_until,
                    ik::expires_at,
                ))
                .first(conn)
                .await
                .optional()?;
            Ok(match found {
                // Deleted between our insert and read: the caller may retry.
                None => Claim::InProgress,
                Some((fingerprint, ..)) if fingerprint != request.fingerprint => Claim::Mismatch,
                Some((_, None, ..)) => Claim::InProgress,
                Some((_, Some(status), content_type, location, etag, body, ..)) => Claim::Done(StoredResponse {
                    status: u16::try_from(status).unwrap_or(500),
                    content_type: content_type.unwrap_or_else(|| "application/json".into()),
                    location,
                    etag,
                    body: body.unwrap_or_default(),
                }),
            })
        })?)
    }

    #[instrument(skip_all)]
    async fn complete(&self, principal: &str, key: &str, response: &StoredResponse) -> Result<(), RepoError> {
        Ok(with_conn!(self.db, |conn| {
            diesel::update(ik::table.filter(ik::principal.eq(principal)).filter(ik::key.eq(key)))
                .set((
                    ik::status.eq(i32::from(response.status)),
                    ik::content_type.eq(&response.content_type),
                    ik::location.eq(&response.location),
                    ik::etag.eq(&response.etag),
                    ik::body.eq(&response.body),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })?)
    }

    #[instrument(skip_all)]
    async fn release(&self, principal: &str, key: &str) -> Result<(), RepoError> {
        Ok(with_conn!(self.db, |conn| {
            diesel::delete(
                ik::table.filter(ik::principal.eq(principal)).filter(ik::key.eq(key)).filter(ik::status.is_null()),
            )
            .execute(conn)
            .await?;
            Ok(())
        })?)
    }

    #[instrument(skip_all)]
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        Ok(with_conn!(self.db, |conn| {
            let n = diesel::delete(ik::table.filter(ik::expires_at.lt(DbTime(now)))).execute(conn).await?;
            Ok(n as u64)
        })?)
    }
}
