//! Listing and summarising a user's todos.

use super::{Priority, Status, Todo};
use crate::collection::{KeyValue, Keyed, PageRequest, Sort, SortKey};
use crate::time::Timestamp;
use chrono::NaiveDate;

/// The fields todos can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TodoSort {
    CreatedAt,
    UpdatedAt,
    /// Todos without a due date sort after every dated one (ascending).
    DueDate,
    /// By rank: low < medium < high < urgent.
    Priority,
    Title,
}

impl SortKey for TodoSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("created_at", TodoSort::CreatedAt),
        ("updated_at", TodoSort::UpdatedAt),
        ("due_date", TodoSort::DueDate),
        ("priority", TodoSort::Priority),
        ("title", TodoSort::Title),
    ];
}

/// The date that stands in for "no due date" when sorting: after every real one.
pub fn undated() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date")
}

impl Keyed<TodoSort> for Todo {
    fn key_value(&self, key: TodoSort) -> KeyValue {
        match key {
            TodoSort::CreatedAt => KeyValue::Time(self.created_at),
            TodoSort::UpdatedAt => KeyValue::Time(self.updated_at),
            TodoSort::DueDate => KeyValue::Date(self.due_date.unwrap_or_else(undated)),
            TodoSort::Priority => KeyValue::Int(i64::from(self.priority.rank())),
            TodoSort::Title => KeyValue::Text(self.title.as_str().to_owned()),
        }
    }

    fn key_id(&self) -> uuid::Uuid {
        self.id.0
    }
}

/// Which todos to list; every set field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodoFilter {
    /// Any of these statuses (empty: all).
    pub statuses: Vec<Status>,
    /// Any of these priorities (empty: all).
    pub priorities: Vec<Priority>,
    /// Carries this tag.
    pub tag: Option<String>,
    /// Due strictly before.
    pub due_before: Option<NaiveDate>,
    /// Due strictly after.
    pub due_after: Option<NaiveDate>,
    /// `Some(true)`: due before `today` and not done; `Some(false)`: the rest.
    pub overdue: Option<bool>,
    /// Case-insensitive substring of the title or the description.
    pub q: Option<String>,
    /// Created strictly after.
    pub created_after: Option<Timestamp>,
    /// "Today" for `overdue`, in UTC.
    pub today: NaiveDate,
}

/// A page of a user's todos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoQuery {
    pub filter: TodoFilter,
    pub sort: Sort<TodoSort>,
    pub page: PageRequest,
}

/// Counts over a user's todos, computed in the database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TodoStats {
    pub total: i64,
    /// Per status, every status present (zero when none).
    pub by_status: Vec<(Status, i64)>,
    /// Per priority, every priority present (zero when none).
    pub by_priority: Vec<(Priority, i64)>,
    /// Due before today and not done.
    pub overdue: i64,
    /// Due today and not done.
    pub due_today: i64,
    /// Completed in the last 7 × 24 hours.
    pub completed_last_7_days: i64,
    /// Done ÷ total, 0 when there are none.
    pub completion_rate: f64,
}
