//! Statements shared by several repositories, written once and compiled once
//! per backend.
//!
//! This directory is not a module of its own: `for_pg.rs` and
//! `for_sqlite.rs` each include it with their own `Conn` (the pooled
//! connection type) and `Db` (the diesel backend), so every function here is
//! a plain, non-generic function of one backend. That sidesteps restating
//! diesel's trait bounds for a generic backend (some of the types they would
//! name, such as an `ON CONFLICT DO NOTHING` insert, are private to diesel).
//! `with_conn!(db, |conn, sql| ...)` names the module of the backend in use
//! as `sql`, so a repository body calls `sql::lock(c, NAME)` whichever it is.

mod filters;

use super::{Conn, Db};
use crate::error::{Error, Result};
use crate::jobs::ClaimedRow;
use crate::outbox::{NewJobRow, NewTokenRow};
use crate::schema::{
    advisory_locks, attachments, events, jobs, one_time_tokens, product_images, products, todo_tags, todos, users,
};
use crate::todo_rows::TagRow;
use crate::types::{DbTime, DbUuid};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
pub(crate) use filters::{products_matching, todos_matching, users_matching};
use rivet_domain::jobs::{JobState, NewJob, Outbox, Task};

/// Takes the named advisory lock for the rest of the current transaction by
/// updating its row: a row lock on PostgreSQL, the database write lock on
/// SQLite. Call it first in a transaction that reads before it writes.
pub(crate) async fn lock(conn: &mut Conn, name: &str) -> Result<()> {
    let updated = diesel::update(advisory_locks::table.filter(advisory_locks::name.eq(name)))
        .set(advisory_locks::acquisitions.eq(advisory_locks::acquisitions + 1i64))
        .execute(conn)
        .await?;
    if updated == 1 { Ok(()) } else { Err(Error::Corrupt(format!("advisory lock row {name:?} is missing"))) }
}

/// Inserts jobs, skipping any whose `unique_key` exists, and returns how many
/// were added. One statement per row: diesel-async's SQLite connection has no
/// multi-row insert.
pub(crate) async fn insert_jobs(conn: &mut Conn, new: &[NewJob]) -> Result<u64> {
    let mut added = 0u64;
    for job in new {
        let n = diesel::insert_into(jobs::table)
            .values(NewJobRow::from(job))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        added += n as u64;
    }
    Ok(added)
}

/// Writes an outbox's one-time tokens and jobs inside the caller's
/// transaction.
pub(crate) async fn write_outbox(conn: &mut Conn, outbox: &Outbox) -> Result<()> {
    for token in &outbox.tokens {
        diesel::insert_into(one_time_tokens::table).values(NewTokenRow::from(token)).execute(conn).await?;
    }
    insert_jobs(conn, &outbox.jobs).await?;
    Ok(())
}

/// Marks the jobs `ids` running under `worker`'s lease until `until` and
/// returns them.
pub(crate) async fn take(
    conn: &mut Conn,
    ids: Vec<DbUuid>,
    worker: &str,
    now: DbTime,
    until: DbTime,
) -> Result<Vec<ClaimedRow>> {
    Ok(diesel::update(jobs::table.filter(jobs::id.eq_any(ids)))
        .set((
            jobs::state.eq(JobState::Running.as_str()),
            jobs::locked_by.eq(worker),
            jobs::locked_until.eq(until),
            jobs::attempts.eq(jobs::attempts + 1),
            jobs::updated_at.eq(now),
        ))
        .returning((jobs::id, jobs::kind, jobs::payload, jobs::attempts, jobs::max_attempts))
        .load(conn)
        .await?)
}

/// Inserts a todo's tag rows, one statement each: diesel's multi-row INSERT
/// for SQLite exists only for its synchronous connection, and a todo has at
/// most 20 tags.
pub(crate) async fn insert_tags(conn: &mut Conn, rows: &[TagRow<'_>]) -> Result<()> {
    for row in rows {
        diesel::insert_into(todo_tags::table).values(row).execute(conn).await?;
    }
    Ok(())
}

/// Enqueues the deletion of the blobs under `keys`, whose rows this
/// transaction deletes: the blobs go only if the rows do.
pub(crate) async fn delete_blobs_later(conn: &mut Conn, keys: Vec<String>) -> Result<()> {
    let at = rivet_domain::time::now();
    let jobs: Vec<NewJob> = keys.into_iter().map(|key| NewJob::new(&Task::DeleteBlob { key }, at)).collect();
    insert_jobs(conn, &jobs).await?;
    Ok(())
}

/// Locks the owner's todo for the rest of the transaction (a row lock on
/// PostgreSQL, the write lock on SQLite) by an UPDATE that changes nothing,
/// and returns its version; `None` when the owner has no such todo. Writers
/// of a todo's attachments take it first, so they serialise per todo.
pub(crate) async fn lock_todo(conn: &mut Conn, owner: DbUuid, todo: DbUuid) -> Result<Option<i64>> {
    Ok(diesel::update(todos::table.filter(todos::id.eq(todo)).filter(todos::owner_id.eq(owner)))
        .set(todos::version.eq(todos::version))
        .returning(todos::version)
        .get_result(conn)
        .await
        .optional()?)
}

/// Locks a user's row the same way; `false` when there is none. Quota
/// checks take it, so one owner's uploads serialise across todos.
pub(crate) async fn lock_user(conn: &mut Conn, user: DbUuid) -> Result<bool> {
    let n = diesel::update(users::table.filter(users::id.eq(user)))
        .set(users::version.eq(users::version))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Locks a product's row the same way, returning its version and its
/// image's blob key.
pub(crate) async fn lock_product(conn: &mut Conn, product: DbUuid) -> Result<Option<(i64, Option<String>)>> {
    let version: Option<i64> = diesel::update(products::table.filter(products::id.eq(product)))
        .set(products::version.eq(products::version))
        .returning(products::version)
        .get_result(conn)
        .await
        .optional()?;
    let Some(version) = version else { return Ok(None) };
    let image = product_images::table.find(product).select(product_images::blob_key).first(conn).await.optional()?;
    Ok(Some((version, image)))
}

/// The blob keys of the attachments of one todo, or of all of one owner's.
pub(crate) async fn attachment_keys(conn: &mut Conn, todo: Option<DbUuid>, owner: DbUuid) -> Result<Vec<String>> {
    let mut q = attachments::table.filter(attachments::owner_id.eq(owner)).select(attachments::blob_key).into_boxed();
    if let Some(todo) = todo {
        q = q.filter(attachments::todo_id.eq(todo));
    }
    Ok(q.load(conn).await?)
}

/// Records `new` in the event log inside the caller's transaction: the
/// events exist exactly when the change commits. (`txid` takes its default,
/// the transaction's id on PostgreSQL.)
pub(crate) async fn record(conn: &mut Conn, new: &[rivet_domain::events::NewEvent]) -> Result<()> {
    use rivet_domain::events::Audience;
    for event in new {
        let audience = match event.audience {
            Audience::Owner(user) => Some(DbUuid(user.0)),
            Audience::Everyone => None,
        };
        diesel::insert_into(events::table)
            .values((
                events::kind.eq(event.kind.as_str()),
                events::occurred_at.eq(DbTime(event.occurred_at)),
                events::audience.eq(audience),
                events::version.eq(event.version),
                events::data.eq(event.data.to_string()),
            ))
            .execute(conn)
            .await?;
    }
    if let (Some(notify), false) = (super::NOTIFY_EVENTS, new.is_empty()) {
        diesel::sql_query(notify).execute(conn).await?;
    }
    Ok(())
}
