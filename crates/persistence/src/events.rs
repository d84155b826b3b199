//! The event log's reader and purge; events are written by each change's
//! own transaction (`per_backend::record`).

use crate::db::Database;
use crate::error::{Error, Result};
use crate::schema::events;
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;
use rivet_domain::events::{Audience, Event, EventLog, EventPosition, EventType};
use rivet_domain::time::Timestamp;
use rivet_domain::{RepoError, UserId};
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

#[async_trait]
impl EventLog for EventStore {
    #[instrument(skip_all)]
    async fn after(&self, after: Option<EventPosition>, limit: u32) -> Result<Vec<Event>, RepoError> {
        let from = after.unwrap_or(EventPosition { tx: -1, seq: -1 });
        let limit = i64::from(limit);
        let rows: Vec<EventRow> = with_conn!(self.db, |conn, sql| {
            Ok(diesel::sql_query(sql::EVENTS_AFTER)
                .bind::<BigInt, _>(from.tx)
                .bind::<BigInt, _>(from.seq)
                .bind::<BigInt, _>(limit)
                .load(conn)
                .await?)
        })?;
        Ok(rows.into_iter().map(EventRow::into_event).collect::<Result<Vec<_>>>()?)
    }

    #[instrument(skip_all)]
    async fn purge_before(&self, cutoff: Timestamp) -> Result<u64, RepoError> {
        Ok(with_conn!(self.db, |conn| {
            let n = diesel::delete(events::table.filter(events::occurred_at.lt(DbTime(cutoff)))).execute(conn).await?;
            Ok(n as u64)
        })?)
    }
}
