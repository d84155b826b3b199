//! The shared statements of `src/per_backend/`, compiled for SQLite, and the
//! little SQL that must differ by backend.

/// The diesel backend.
pub(crate) type Db = diesel::sqlite::Sqlite;
/// The pooled connection.
pub(crate) type Conn = crate::db::SqliteConn;

#[path = "per_backend/mod.rs"]
#[allow(clippy::duplicate_mod, reason = "compiled once per backend on purpose")]
mod shared;
pub(crate) use shared::*;

/// The event log after a position, for one user (`?4`) or everyone (NULL).
/// SQLite's one writer commits in id order, and every `txid` is 0.
pub(crate) const EVENTS_AFTER: &str = "SELECT id, txid, type AS kind, occurred_at, audience, version, data, \
    0 AS held FROM events WHERE (txid > ?1 OR (txid = ?1 AND id > ?2)) \
    AND (?4 IS NULL OR audience IS NULL OR audience = ?4) ORDER BY txid, id LIMIT ?3";

/// The last position.
pub(crate) const EVENTS_HEAD: &str = "SELECT txid, id FROM events ORDER BY txid DESC, id DESC LIMIT 1";

/// SQLite has no channel between processes; the hub is told in-process.
pub(crate) const NOTIFY_EVENTS: Option<&str> = None;

/// A todo's tags as one column of the `todos` row, separated by spaces (a
/// tag has none), so a single read is one statement; ordered in Rust. The
/// SQL of [`crate::todos::JoinedTags`].
pub(crate) const TODO_TAGS: &str =
    "(SELECT group_concat(todo_tags.tag, ' ') FROM todo_tags WHERE todo_tags.todo_id = todos.id)";

impl diesel::query_builder::QueryFragment<Db> for crate::todos::JoinedTags {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Db>) -> diesel::QueryResult<()> {
        out.push_sql(TODO_TAGS);
        Ok(())
    }
}

impl<C: diesel::query_builder::QueryFragment<Db>> diesel::query_builder::QueryFragment<Db> for crate::sql::OneOf<C> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Db>) -> diesel::QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}
