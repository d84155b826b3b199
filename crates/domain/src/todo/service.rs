//! Todo use cases. Every call is scoped to its owner: another user's todo
//! does not exist as far as the caller can tell.

use super::{Description, NewTodo, Priority, Status, Tag, Todo, TodoChanges, TodoId, TodoQuery, TodoStats, TodoTitle};
use crate::collection::{Page, Start};
use crate::error::{Error, Result};
use crate::patch::Patch;
use crate::ports::TodoRepository;
use crate::time::now;
use crate::user::UserId;
use crate::validation::ValidationErrors;
use crate::version::IfVersion;
use chrono::NaiveDate;
use std::sync::Arc;
use tracing::instrument;

/// A todo to create, as received.
#[derive(Debug, Clone, Default)]
pub struct NewTodoInput {
    pub title: String,
    pub description: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub tags: Option<Vec<String>>,
}

/// A partial update, as received; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct TodoPatch {
    pub title: Patch<String>,
    pub description: Patch<String>,
    pub status: Patch<String>,
    pub priority: Patch<String>,
    pub due_date: Patch<NaiveDate>,
    pub tags: Patch<Vec<String>>,
}

fn tags(errors: &mut ValidationErrors, raw: Option<Vec<String>>) -> Option<Vec<Tag>> {
    match Tag::parse_list(&raw?) {
        Ok(mut tags) => {
            tags.sort();
            Some(tags)
        }
        Err(list) => {
            list.into_iter().for_each(|e| errors.push(e));
            None
        }
    }
}

/// The todo use cases.
#[derive(Clone)]
pub struct Todos {
    repo: Arc<dyn TodoRepository>,
}

impl std::fmt::Debug for Todos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Todos").finish_non_exhaustive()
    }
}

impl Todos {
    pub fn new(repo: Arc<dyn TodoRepository>) -> Self {
        Self { repo }
    }

    /// Creates a todo for `owner`.
    ///
    /// # Errors
    /// `Validation` listing every broken rule.
    #[instrument(skip_all, fields(owner = %owner))]
    pub async fn create(&self, owner: UserId, input: NewTodoInput) -> Result<Todo> {
        let mut errors = ValidationErrors::new();
        let title = errors.check("title", TodoTitle::parse(&input.title));
        let description = input.description.and_then(|d| errors.check("description", Description::parse(&d)));
        let status = input.status.map(|s| errors.check("status", Status::parse(&s)));
        let priority = input.priority.map(|p| errors.check("priority", Priority::parse(&p)));
        let tags = tags(&mut errors, input.tags);
        errors.into_result()?;
        let title = title.expect("validated");
        let todo = NewTodo {
            id: TodoId::new(),
            owner_id: owner,
            title,
            description,
            status: status.flatten().unwrap_or(Status::Pending),
            priority: priority.flatten().unwrap_or(Priority::Medium),
            due_date: input.due_date,
            tags: tags.unwrap_or_default(),
            created_at: now(),
        };
        Ok(self.repo.insert(todo).await?)
    }

    /// One of `owner`'s todos.
    ///
    /// # Errors
    /// `NotFound`, also for another user's todo.
    pub async fn get(&self, owner: UserId, id: TodoId) -> Result<Todo> {
        self.repo.find(owner, id).await?.ok_or(Error::NotFound)
    }

    /// Applies a partial update if the stored version satisfies `expected`.
    ///
    /// # Errors
    /// `Validation`, `NotFound`, `PreconditionFailed`.
    #[instrument(skip_all, fields(owner = %owner, todo = %id))]
    pub async fn update(&self, owner: UserId, id: TodoId, patch: TodoPatch, expected: &IfVersion) -> Result<Todo> {
        let mut errors = ValidationErrors::new();
        let changes = TodoChanges {
            title: patch.title.required("title", &mut errors, |t| TodoTitle::parse(&t)),
            description: patch.description.nullable("description", &mut errors, |d| Description::parse(&d)),
            status: patch.status.required("status", &mut errors, |s| Status::parse(&s)),
            priority: patch.priority.required("priority", &mut errors, |p| Priority::parse(&p)),
            due_date: patch.due_date.nullable("due_date", &mut errors, Ok),
            tags: patch.tags.required("tags", &mut errors, Ok).and_then(|raw| tags(&mut errors, Some(raw))),
        };
        errors.into_result()?;
        if changes.is_empty() {
            // Nothing to write: answer with the todo as it is, version unchanged.
            let todo = self.get(owner, id).await?;
            return if expected.allows(todo.version) { Ok(todo) } else { Err(Error::PreconditionFailed) };
        }
        self.repo.update(owner, id, &changes, expected, now()).await?.into_result()
    }

    /// Deletes a todo if the stored version satisfies `expected`.
    ///
    /// # Errors
    /// `NotFound`, `PreconditionFailed`.
    #[instrument(skip_all, fields(owner = %owner, todo = %id))]
    pub async fn delete(&self, owner: UserId, id: TodoId, expected: &IfVersion) -> Result<()> {
        self.repo.delete(owner, id, expected).await?.into_result()
    }

    /// A page of `owner`'s todos.
    ///
    /// # Errors
    /// `Validation` for a cursor of another sort order.
    #[instrument(skip_all, fields(owner = %owner))]
    pub async fn list(&self, owner: UserId, query: &TodoQuery) -> Result<Page<Todo>> {
        if let Start::After(position) = &query.page.start {
            position
                .check(&query.sort)
                .map_err(|e| Error::Validation(ValidationErrors::single(e.field, e.code, e.message)))?;
        }
        Ok(self.repo.list(owner, query).await?)
    }

    /// Counts over `owner`'s todos.
    ///
    /// # Errors
    /// Storage failures only.
    #[instrument(skip_all, fields(owner = %owner))]
    pub async fn stats(&self, owner: UserId) -> Result<TodoStats> {
        let at = now();
        Ok(self.repo.stats(owner, at.date_naive(), at).await?)
    }
}
