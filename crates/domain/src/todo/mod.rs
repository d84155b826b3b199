//! Todos: each owned by one user, visible to no one else.
//!
//! Rules that hold however a todo is changed: new todos are `pending` and
//! `medium` unless told otherwise; `completed_at` is set when the status
//! becomes `done` and cleared when it leaves `done`; every change bumps
//! `version`.

mod fields;
mod query;
mod service;

pub use fields::{Description, Priority, Status, Tag, TodoTitle};
pub use query::{TodoFilter, TodoQuery, TodoSort, TodoStats};
pub use service::{NewTodoInput, TodoPatch, Todos};

use crate::time::Timestamp;
use crate::user::UserId;
use chrono::NaiveDate;

id_type! {
    /// A todo's identifier.
    TodoId
}

/// A todo with its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    pub id: TodoId,
    pub owner_id: UserId,
    pub title: TodoTitle,
    pub description: Option<Description>,
    pub status: Status,
    pub priority: Priority,
    pub due_date: Option<NaiveDate>,
    /// Sorted, unique.
    pub tags: Vec<Tag>,
    pub completed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A validated todo to insert.
#[derive(Debug, Clone)]
pub struct NewTodo {
    pub id: TodoId,
    pub owner_id: UserId,
    pub title: TodoTitle,
    pub description: Option<Description>,
    pub status: Status,
    pub priority: Priority,
    pub due_date: Option<NaiveDate>,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
}

/// Validated changes; `None` leaves a field, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct TodoChanges {
    pub title: Option<TodoTitle>,
    pub description: Option<Option<Description>>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub due_date: Option<Option<NaiveDate>>,
    /// Replaces the whole tag set.
    pub tags: Option<Vec<Tag>>,
}

impl TodoChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.due_date.is_none()
            && self.tags.is_none()
    }
}
