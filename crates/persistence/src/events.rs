//! The event log's reader and purge, and the stream tickets; events are
//! written by each change's own transaction (`per_backend::record`).

use crate::db::Database;
use crate::error::{Error, Result};
use crate::schema::{event_horizon, event_tickets, events};
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::events::{
    Audience, Event, EventLog, EventPage, EventPosition, EventType, NewTicket, TicketRepository,
};
use rivet_domain::time::Timestamp;
use rivet_domain::{RepoError, SessionId, UserId};
use tracing::instrument;

/// The event log in the database.
#[derive(Debug, Clone)]
pub struct EventStore {
    db: Database,
}

impl EventStore {
    /// The log in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[derive(QueryableByName)]
struct EventRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = crate::types::sql::UtcTime)]
    occurred_at: DbTime,
    #[diesel(sql_type = Nullable<crate::types::sql::Uuid>)]
    audience: Option<DbUuid>,
    #[diesel(sql_type = Nullable<BigInt>)]
    version: Option<i64>,
    #[diesel(sql_type = Text)]
    data: String,
    /// Committed by a transaction newer than one still running: not readable yet.
    #[diesel(sql_type = Bool)]
    held: bool,
}

#[derive(QueryableByName)]
struct PositionRow {
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = BigInt)]
    id: i64,
}

impl EventRow {
    fn into_event(self) -> Result<Event> {
        Ok(Event {
            position: EventPosition { tx: self.txid, seq: self.id },
            kind: EventType::parse(&self.kind).ok_or_else(|| Error::Corrupt(format!("event type {:?}", self.kind)))?,
            audience: self.audience.map_or(Audience::Everyone, |u| Audience::Owner(UserId(u.0))),
            version: self.version,
            data: serde_json::from_str(&self.data).map_err(|e| Error::Corrupt(format!("event data: {e}")))?,
            occurred_at: self.occurred_at.0,
        })
    }
}

fn position(tx: i64, seq: i64) -> Option<EventPosition> {
    (tx >= 0 && seq >= 0).then_some(EventPosition { tx, seq })
}

#[async_trait]
impl EventLog for EventStore {
    #[instrument(skip_all)]
    async fn after(
        &self,
        after: Option<EventPosition>,
        for_user: Option<UserId>,
        limit: u32,
    ) -> Result<EventPage, RepoError> {
        let from = after.unwrap_or(EventPosition { tx: -1, seq: -1 });
        let rows: Vec<EventRow> = with_conn!(read self.db, |conn, sql| {
            Ok(diesel::sql_query(sql::EVENTS_AFTER)
                .bind::<BigInt, _>(from.tx)
                .bind::<BigInt, _>(from.seq)
                .bind::<BigInt, _>(i64::from(limit))
                .bind::<Nullable<crate::types::sql::Uuid>, _>(for_user.map(|u| DbUuid(u.0)))
                .load(conn)
                .await?)
        })?;
        let mut page = EventPage::default();
        for row in rows {
            if row.held {
                page.held_back = true;
                break;
            }
            page.events.push(row.into_event()?);
        }
        Ok(page)
    }

    #[instrument(skip_all)]
    async fn head(&self) -> Result<Option<EventPosition>, RepoError> {
        let row: Option<PositionRow> = with_conn!(read self.db, |conn, sql| {
            Ok(diesel::sql_query(sql::EVENTS_HEAD).get_result(conn).await.optional()?)
        })?;
        Ok(row.and_then(|r| position(r.txid, r.id)))
    }

    #[instrument(skip_all)]
    async fn horizon(&self) -> Result<Option<EventPosition>, RepoError> {
        let (tx, seq): (i64, i64) = with_conn!(read self.db, |conn| {
            Ok(event_horizon::table.find(1).select((event_horizon::tx, event_horizon::seq)).first(conn).await?)
        })?;
        Ok(position(tx, seq))
    }

    #[instrument(skip_all)]
    async fn purge_before(&self, cutoff: Timestamp) -> Result<u64, RepoError> {
        let at = DbTime(rivet_domain::time::now());
        Ok(with_conn!(self.db, |conn| {
            conn.transaction(async |c| {
                diesel::delete(event_tickets::table.filter(event_tickets::expires_at.le(at))).execute(c).await?;
                let old = events::table.filter(events::occurred_at.lt(DbTime(cutoff)));
                let last: Option<(i64, i64)> = old
                    .select((events::txid, events::id))
                    .order((events::txid.desc(), events::id.desc()))
                    .first(c)
                    .await
                    .optional()?;
                let Some((tx, seq)) = last else { return Ok(0) };
                let n = diesel::delete(old).execute(c).await?;
                diesel::update(
                    event_horizon::table
                        .filter(event_horizon::id.eq(1))
                        .filter(event_horizon::tx.lt(tx).or(event_horizon::tx.eq(tx).and(event_horizon::seq.lt(seq)))),
                )
                .set((event_horizon::tx.eq(tx), event_horizon::seq.eq(seq)))
                .execute(c)
                .await?;
                Ok(n as u64)
            })
            .await
        })?)
    }
}

#[async_trait]
impl TicketRepository for EventStore {
    #[instrument(skip_all)]
    async fn issue(&self, ticket: NewTicket) -> Result<(), RepoError> {
        Ok(with_conn!(self.db, |conn| {
            diesel::insert_into(event_tickets::table)
                .values((
                    event_tickets::ticket_hash.eq(&ticket.hash),
                    event_tickets::user_id.eq(DbUuid(ticket.user_id.0)),
                    event_tickets::session_id.eq(DbUuid(ticket.session_id.0)),
                    event_tickets::expires_at.eq(DbTime(ticket.expires_at)),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })?)
    }

    #[instrument(skip_all)]
    async fn redeem(&self, hash: &str, now: Timestamp) -> Result<Option<(UserId, SessionId)>, RepoError> {
        let holder: Option<(DbUuid, DbUuid)> = with_conn!(self.db, |conn| {
            Ok(diesel::delete(
                event_tickets::table
                    .filter(event_tickets::ticket_hash.eq(hash))
                    .filter(event_tickets::expires_at.gt(DbTime(now))),
            )
            .returning((event_tickets::user_id, event_tickets::session_id))
            .get_result(conn)
            .await
            .optional()?)
        })?;
        Ok(holder.map(|(u, s)| (UserId(u.0), SessionId(s.0))))
    }
}
