//! Todo rows and their conversion to domain todos.

use crate::error::Error;
use crate::schema::{todo_tags, todos};
use crate::types::{DbTime, DbUuid};
use chrono::NaiveDate;
use diesel::prelude::*;
use rivet_domain::UserId;
use rivet_domain::todo::{Description, NewTodo, Priority, Status, Tag, Todo, TodoChanges, TodoId, TodoTitle};

/// A `todos` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = todos)]
#[cfg_attr(
    all(feature = "postgres", feature = "sqlite"),
    diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))
)]
pub(crate) struct TodoRow {
    pub id: DbUuid,
    pub owner_id: DbUuid,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub priority: i32,
    pub due_date: Option<NaiveDate>,
    pub completed_at: Option<DbTime>,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub version: i64,
}

impl TodoRow {
    /// The domain todo, with the tags loaded separately.
    pub fn into_todo(self, tags: Vec<Tag>) -> Result<Todo, Error> {
        let corrupt = |what: &str| Error::Corrupt(format!("todo {} has {what}", self.id.0));
        Ok(Todo {
            id: TodoId(self.id.0),
            owner_id: UserId(self.owner_id.0),
            status: Status::parse(&self.status).map_err(|_| corrupt("an unknown status"))?,
            priority: Priority::from_rank(self.priority).ok_or_else(|| corrupt("an unknown priority"))?,
            title: TodoTitle::from_trusted(self.title),
            description: self.description.map(Description::from_trusted),
            due_date: self.due_date,
            tags,
            completed_at: self.completed_at.map(|t| t.0),
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            version: self.version,
        })
    }
}

/// A todo to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = todos)]
pub(crate) struct NewTodoRow<'a> {
    pub id: DbUuid,
    pub owner_id: DbUuid,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub status: &'a str,
    pub priority: i32,
    pub due_date: Option<NaiveDate>,
    pub completed_at: Option<DbTime>,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

impl<'a> From<&'a NewTodo> for NewTodoRow<'a> {
    fn from(t: &'a NewTodo) -> Self {
        Self {
            id: DbUuid(t.id.0),
            owner_id: DbUuid(t.owner_id.0),
            title: t.title.as_str(),
            description: t.description.as_ref().map(Description::as_str),
            status: t.status.as_str(),
            priority: t.priority.rank(),
            due_date: t.due_date,
            completed_at: (t.status == Status::Done).then_some(DbTime(t.created_at)),
            created_at: DbTime(t.created_at),
            updated_at: DbTime(t.created_at),
        }
    }
}

/// A `todo_tags` row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = todo_tags)]
pub(crate) struct TagRow<'a> {
    pub todo_id: DbUuid,
    pub tag: &'a str,
}

/// The tag rows of one todo.
pub(crate) fn tag_rows(id: TodoId, tags: &[Tag]) -> Vec<TagRow<'_>> {
    tags.iter().map(|t| TagRow { todo_id: DbUuid(id.0), tag: t.as_str() }).collect()
}

/// Column changes of an update. Leaving `done` clears `completed_at` here;
/// entering `done` sets it in a second statement that keeps an existing value.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = todos)]
pub(crate) struct TodoChangeset<'a> {
    pub title: Option<&'a str>,
    pub description: Option<Option<&'a str>>,
    pub status: Option<&'a str>,
    pub priority: Option<i32>,
    pub due_date: Option<Option<NaiveDate>>,
    pub completed_at: Option<Option<DbTime>>,
}

impl<'a> From<&'a TodoChanges> for TodoChangeset<'a> {
    fn from(c: &'a TodoChanges) -> Self {
        Self {
            title: c.title.as_ref().map(TodoTitle::as_str),
            description: c.description.as_ref().map(|d| d.as_ref().map(Description::as_str)),
            status: c.status.map(Status::as_str),
            priority: c.priority.map(Priority::rank),
            due_date: c.due_date,
            completed_at: c.status.filter(|s| *s != Status::Done).map(|_| None),
        }
    }
}
