//! Todo bodies.

use super::sets;
use crate::extract::Patch;
use chrono::{DateTime, NaiveDate, Utc};
use rivet_domain::collection::search_text;
use rivet_domain::todo::{Priority, Status, Todo, TodoStats};
use rivet_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
#[allow(unused_imports)] // named in schema attributes only
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A todo as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = Todo)]
pub struct TodoBody {
    pub id: Uuid,
    #[schema(example = "Write the report")]
    pub title: String,
    pub description: Option<String>,
    #[schema(value_type = sets::TodoStatus, example = "pending")]
    pub status: String,
    #[schema(value_type = sets::TodoPriority, example = "medium")]
    pub priority: String,
    pub due_date: Option<NaiveDate>,
    #[schema(value_type = BTreeSet<sets::Tag>, example = json!(["work"]))]
    pub tags: Vec<String>,
    #[serde(serialize_with = "crate::dto::timestamp::optional")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Todo> for TodoBody {
    fn from(t: Todo) -> Self {
        Self {
            id: t.id.0,
            title: t.title.as_str().to_owned(),
            description: t.description.map(|d| d.as_str().to_owned()),
            status: t.status.as_str().to_owned(),
            priority: t.priority.as_str().to_owned(),
            due_date: t.due_date,
            tags: t.tags.iter().map(|g| g.as_str().to_owned()).collect(),
            completed_at: t.completed_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        }
    }
}

/// `POST /todos`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTodo {
    #[schema(example = "Write the report", min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Default `pending`.
    #[serde(default)]
    #[schema(value_type = Option<sets::TodoStatus>, example = "pending")]
    pub status: Option<String>,
    /// Default `medium`.
    #[serde(default)]
    #[schema(value_type = Option<sets::TodoPriority>, example = "high")]
    pub priority: Option<String>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// Up to 20 unique tags.
    #[serde(default)]
    #[schema(value_type = Option<BTreeSet<sets::Tag>>, max_items = 20, example = json!(["work", "q3"]))]
    pub tags: Option<Vec<String>>,
}

/// `PATCH /todos/{id}`: absent leaves a field, `null` clears a nullable one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTodo {
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    #[serde(default)]
    pub title: Patch<String>,
    /// `null` clears it.
    #[schema(value_type = Option<String>, max_length = 10000)]
    #[serde(default)]
    pub description: Patch<String>,
    #[schema(value_type = sets::TodoStatus)]
    #[serde(default)]
    pub status: Patch<String>,
    #[schema(value_type = sets::TodoPriority)]
    #[serde(default)]
    pub priority: Patch<String>,
    /// `null` clears it.
    #[schema(value_type = Option<NaiveDate>)]
    #[serde(default)]
    pub due_date: Patch<NaiveDate>,
    /// Replaces the whole set (up to 20 unique tags).
    #[schema(value_type = BTreeSet<sets::Tag>, max_items = 20)]
    #[serde(default)]
    pub tags: Patch<Vec<String>>,
}

/// Filters of `GET /todos`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TodoFilterParams {
    /// Statuses to include (comma-separated in the query: `status=pending,done`).
    #[param(value_type = Option<Vec<sets::TodoStatus>>, style = Form, explode = false)]
    pub status: Option<String>,
    /// Priorities to include (comma-separated in the query).
    #[param(value_type = Option<Vec<sets::TodoPriority>>, style = Form, explode = false)]
    pub priority: Option<String>,
    #[param(value_type = Option<sets::Tag>)]
    pub tag: Option<String>,
    pub due_before: Option<NaiveDate>,
    pub due_after: Option<NaiveDate>,
    pub overdue: Option<bool>,
    /// Case-insensitive substring of the title or the description.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
}

fn list<T>(
    errors: &mut ValidationErrors,
    field: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, FieldError>,
) -> Vec<T> {
    raw.map(|l| l.split(',').filter_map(|v| errors.check(field, parse(v.trim()))).collect()).unwrap_or_default()
}

impl crate::collection::Filters for TodoFilterParams {
    const LISTS: &'static [&'static str] = &["status", "priority"];
}

impl TodoFilterParams {
    /// The domain filter for "today" (UTC), or every broken rule.
    ///
    /// # Errors
    /// Unknown statuses or priorities; a `q` over 200 characters.
    pub fn into_filter(self, today: NaiveDate) -> Result<rivet_domain::todo::TodoFilter, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let statuses = list(&mut errors, "status", self.status.as_deref(), Status::parse);
        let priorities = list(&mut errors, "priority", self.priority.as_deref(), Priority::parse);
        let q = errors.check("q", search_text(self.q.as_deref())).flatten();
        errors.into_result()?;
        Ok(rivet_domain::todo::TodoFilter {
            statuses,
            priorities,
            tag: self.tag,
            due_before: self.due_before,
            due_after: self.due_after,
            overdue: self.overdue,
            q,
            created_after: self.created_after,
            today,
        })
    }
}

/// Counts per status.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = TodoCountsByStatus)]
pub struct ByStatus {
    pub pending: i64,
    pub in_progress: i64,
    pub done: i64,
}

/// Counts per priority.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = TodoCountsByPriority)]
pub struct ByPriority {
    pub low: i64,
    pub medium: i64,
    pub high: i64,
    pub urgent: i64,
}

/// The todo part of `GET /users/me/stats`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[schema(as = TodoStats)]
pub struct TodoStatsBody {
    pub total: i64,
    pub by_status: ByStatus,
    pub by_priority: ByPriority,
    pub overdue: i64,
    pub due_today: i64,
    pub completed_last_7_days: i64,
    pub completion_rate: f64,
}

/// `GET /users/me/stats` and `GET /users/{id}/stats`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[schema(as = UserStats)]
pub struct StatsBody {
    pub todos: TodoStatsBody,
    /// Bytes the user's attachments take (counted against
    /// `[storage] max_bytes_per_user`).
    pub storage_bytes: u64,
}

impl StatsBody {
    /// A user's todo statistics and storage use.
    pub fn new(s: TodoStats, storage_bytes: u64) -> Self {
        let status = |x: Status| s.by_status.iter().find(|(k, _)| *k == x).map_or(0, |(_, n)| *n);
        let priority = |x: Priority| s.by_priority.iter().find(|(k, _)| *k == x).map_or(0, |(_, n)| *n);
        Self {
            todos: TodoStatsBody {
                total: s.total,
                by_status: ByStatus {
                    pending: status(Status::Pending),
                    in_progress: status(Status::InProgress),
                    done: status(Status::Done),
                },
                by_priority: ByPriority {
                    low: priority(Priority::Low),
                    medium: priority(Priority::Medium),
                    high: priority(Priority::High),
                    urgent: priority(Priority::Urgent),
                },
                overdue: s.overdue,
                due_today: s.due_today,
                completed_last_7_days: s.completed_last_7_days,
                completion_rate: (s.completion_rate * 10_000.0).round() / 10_000.0,
            },
            storage_bytes,
        }
    }
}
