//! The todo repository: writes and single reads. Lists and statistics are in
//! `todo_list.rs`.

use crate::db::Database;
use crate::error::Result;
use crate::schema::{todo_tags, todos};
use crate::sql::coalesce_time;
use crate::todo_rows::{NewTodoRow, TodoChangeset, TodoRow, tag_rows};
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::collection::Page;
use rivet_domain::events::{EventType, NewEvent};
use rivet_domain::ports::{TodoRepository, Updated};
use rivet_domain::time::Timestamp;
use rivet_domain::time::now;
use rivet_domain::todo::{NewTodo, Status, Tag, Todo, TodoChanges, TodoId, TodoQuery, TodoStats};
use rivet_domain::version::IfVersion;
use rivet_domain::{RepoError, UserId};
use tracing::instrument;

/// Todos in the database.
#[derive(Debug, Clone)]
pub struct TodoStore {
    pub(crate) db: Database,
}

/// The versions a conditional write may apply to; `None` for any.
pub(crate) fn versions(expected: &IfVersion) -> Option<Vec<i64>> {
    match expected {
        IfVersion::Any => None,
        IfVersion::OneOf(v) => Some(v.clone()),
    }
}

/// One todo's tags, as read: pass them to [`sorted_tags`].
#[diesel::dsl::auto_type]
pub(crate) fn tags_of(id: DbUuid) -> _ {
    todo_tags::table.filter(todo_tags::todo_id.eq(id)).select(todo_tags::tag)
}

/// Tags in byte order, whatever the database's collation.
pub(crate) fn sorted_tags(tags: impl IntoIterator<Item = String>) -> Vec<Tag> {
    let mut tags: Vec<Tag> = tags.into_iter().map(Tag::from_trusted).collect();
    tags.sort_unstable();
    tags
}

/// A todo's tags joined by spaces (which no tag holds), as one column of its
/// `todos` row: the backend's `TODO_TAGS` subquery (written out in `for_pg`
/// and `for_sqlite`). An expression of its own rather than `dsl::sql`, whose
/// statements diesel never caches: this SQL is constant, so a statement
/// selecting it is prepared once per connection (on PostgreSQL, 51% more
/// todo reads by id per second in `just bench --quick`, 16 connections,
/// than the same statement written with `dsl::sql`).
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub(crate) struct JoinedTags;

impl diesel::expression::Expression for JoinedTags {
    type SqlType = Nullable<Text>;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for JoinedTags where todos::id: diesel::expression::AppearsOnTable<QS> {}

impl<QS> diesel::expression::SelectableExpression<QS> for JoinedTags where
    todos::id: diesel::expression::SelectableExpression<QS>
{
}

impl diesel::expression::ValidGrouping<()> for JoinedTags {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// The tags of a [`JoinedTags`] column, in order.
pub(crate) fn split_tags(joined: Option<String>) -> Vec<Tag> {
    sorted_tags(joined.as_deref().unwrap_or("").split_whitespace().map(str::to_owned))
}

impl TodoStore {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl TodoRepository for TodoStore {
    #[instrument(skip_all)]
    async fn insert(&self, todo: NewTodo) -> Result<Todo, RepoError> {
        let row = NewTodoRow::from(&todo);
        let tags = tag_rows(todo.id, &todo.tags);
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let stored: TodoRow = diesel::insert_into(todos::table)
                    .values(&row)
                    .returning(TodoRow::as_returning())
                    .get_result(c)
                    .await?;
                sql::insert_tags(c, &tags).await?;
                let event =
                    NewEvent::todo(EventType::TodoCreated, todo.owner_id, todo.id.0, stored.version, todo.created_at);
                sql::record(c, &[event]).await?;
                stored.into_todo(todo.tags.clone())
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn find(&self, owner: UserId, id: TodoId) -> Result<Option<Todo>, RepoError> {
        let key = DbUuid(id.0);
        // One statement: the row and its tags, aggregated by a subquery.
        Ok(with_conn!(read self.db, |conn| {
            let row: Option<(TodoRow, Option<String>)> = todos::table
                .filter(todos::id.eq(key))
                .filter(todos::owner_id.eq(DbUuid(owner.0)))
                .select((TodoRow::as_select(), JoinedTags))
                .first(conn)
                .await
                .optional()?;
            row.map(|(row, tags)| row.into_todo(split_tags(tags))).transpose()
        })?)
    }

    #[instrument(skip_all)]
    async fn update(
        &self,
        owner: UserId,
        id: TodoId,
        changes: &TodoChanges,
        expected: &IfVersion,
        now: Timestamp,
    ) -> Result<Updated<Todo>, RepoError> {
        let (key, owner_key, set, allowed) =
            (DbUuid(id.0), DbUuid(owner.0), TodoChangeset::from(changes), versions(expected));
        let new_tags = changes.tags.as_ref().map(|t| tag_rows(id, t));
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                // The first statement writes, so SQLite takes its write lock at once.
                let mut update = diesel::update(todos::table)
                    .filter(todos::id.eq(key))
                    .filter(todos::owner_id.eq(owner_key))
                    .into_boxed();
                if let Some(allowed) = &allowed {
                    update = update.filter(todos::version.eq_any(allowed.clone()));
                }
                let row: Option<TodoRow> = update
                    .set((&set, todos::version.eq(todos::version + 1i64), todos::updated_at.eq(DbTime(now))))
                    .returning(TodoRow::as_returning())
                    .get_result(c)
                    .await
                    .optional()?;
                let Some(mut row) = row else {
                    let exists: Option<i64> = todos::table
                        .filter(todos::id.eq(key))
                        .filter(todos::owner_id.eq(owner_key))
                        .select(todos::version)
                        .first(c)
                        .await
                        .optional()?;
                    return Ok(if exists.is_some() { Updated::Stale } else { Updated::NotFound });
                };
                if changes.status == Some(Status::Done) {
                    diesel::update(todos::table.find(key))
                        .set(todos::completed_at.eq(coalesce_time(todos::completed_at, DbTime(now))))
                        .execute(c)
                        .await?;
                    row.completed_at = row.completed_at.or(Some(DbTime(now)));
                }
                if let Some(new_tags) = &new_tags {
                    diesel::delete(todo_tags::table.filter(todo_tags::todo_id.eq(key))).execute(c).await?;
                    sql::insert_tags(c, new_tags).await?;
                }
                // New tags come sorted from the domain; unchanged ones are read.
                let tags = match &changes.tags {
                    Some(tags) => tags.clone(),
                    None => sorted_tags(tags_of(key).load(c).await?),
                };
                sql::record(c, &[NewEvent::todo(EventType::TodoUpdated, owner, id.0, row.version, now)]).await?;
                Ok(Updated::Done(row.into_todo(tags)?))
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn delete(&self, owner: UserId, id: TodoId, expected: &IfVersion) -> Result<Updated<()>, RepoError> {
        let (key, owner_key) = (DbUuid(id.0), DbUuid(owner.0));
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let Some(version) = sql::lock_todo(c, owner_key, key).await? else { return Ok(Updated::NotFound) };
                if !expected.allows(version) {
                    return Ok(Updated::Stale);
                }
                // The attachments go with the todo (ON DELETE CASCADE); their
                // blobs by jobs written here, so they go only if it does.
                let blobs = sql::attachment_keys(c, Some(key), owner_key).await?;
                diesel::delete(todos::table.find(key)).execute(c).await?;
                sql::delete_blobs_later(c, blobs).await?;
                sql::record(c, &[NewEvent::todo(EventType::TodoDeleted, owner, id.0, version, now())]).await?;
                Ok(Updated::Done(()))
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn list(&self, owner: UserId, query: &TodoQuery) -> Result<Page<Todo>, RepoError> {
        Ok(self.list_todos(owner, query).await?)
    }

    #[instrument(skip_all)]
    async fn stats(&self, owner: UserId, today: chrono::NaiveDate, now: Timestamp) -> Result<TodoStats, RepoError> {
        Ok(self.todo_stats(owner, today, now).await?)
    }
}
