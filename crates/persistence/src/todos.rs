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
use std::collections::HashMap;
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

/// The tags of `ids`, one query for all of them: load it, then [`by_todo`].
#[diesel::dsl::auto_type]
pub(crate) fn tags_of(ids: Vec<DbUuid>) -> _ {
    todo_tags::table
        .filter(todo_tags::todo_id.eq_any(ids))
        .select((todo_tags::todo_id, todo_tags::tag))
        .order((todo_tags::todo_id, todo_tags::tag))
}

/// The tags in a backend's `TODO_TAGS` column, in order.
pub(crate) fn split_tags(joined: Option<String>) -> Vec<Tag> {
    let mut tags: Vec<Tag> =
        joined.as_deref().unwrap_or("").split_whitespace().map(|t| Tag::from_trusted(t.to_owned())).collect();
    tags.sort_unstable();
    tags
}

/// Tag rows grouped by todo, each todo's in byte order whatever the
/// database's collation (as [`split_tags`] orders them).
pub(crate) fn by_todo(rows: Vec<(DbUuid, String)>) -> HashMap<uuid::Uuid, Vec<Tag>> {
    let mut map: HashMap<uuid::Uuid, Vec<Tag>> = HashMap::new();
    for (id, tag) in rows {
        map.entry(id.0).or_default().push(Tag::from_trusted(tag));
    }
    for tags in map.values_mut() {
        tags.sort_unstable();
    }
    map
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
        Ok(with_conn!(self.db, |conn, sql| {
            let row: Option<(TodoRow, Option<String>)> = todos::table
                .filter(todos::id.eq(key))
                .filter(todos::owner_id.eq(DbUuid(owner.0)))
                .select((TodoRow::as_select(), diesel::dsl::sql::<Nullable<Text>>(sql::TODO_TAGS)))
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
                let mut tags = by_todo(tags_of(vec![key]).load(c).await?);
                sql::record(c, &[NewEvent::todo(EventType::TodoUpdated, owner, id.0, row.version, now)]).await?;
                Ok(Updated::Done(row.into_todo(tags.remove(&id.0).unwrap_or_default())?))
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
