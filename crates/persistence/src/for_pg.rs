//! The shared statements of `src/per_backend/`, compiled for PostgreSQL, and
//! the little SQL that must differ by backend.

/// The diesel backend.
pub(crate) type Db = diesel::pg::Pg;
/// The pooled connection.
pub(crate) type Conn = crate::pg_conn::PgConn;

#[path = "per_backend/mod.rs"]
#[allow(clippy::duplicate_mod, reason = "compiled once per backend on purpose")]
mod shared;
pub(crate) use shared::*;

/// The event log after a position, for one user (`$4`) or everyone (NULL).
/// Events of transactions not older than the oldest one still running come
/// last, flagged `held`: the reader stops at the first, since such a
/// transaction may yet commit events that sort before them. So none is ever
/// skipped.
pub(crate) const EVENTS_AFTER: &str = "SELECT e.id, e.txid, e.type AS kind, e.occurred_at, e.audience, e.version, \
    e.data, e.txid >= s.xmin AS held \
    FROM events e, (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) s \
    WHERE (e.txid > $1 OR (e.txid = $1 AND e.id > $2)) AND ($4 IS NULL OR e.audience IS NULL OR e.audience = $4) \
    ORDER BY e.txid, e.id LIMIT $3";

/// The last readable position: reading after it never skips an event,
/// because every transaction that can still commit is newer.
pub(crate) const EVENTS_HEAD: &str = "SELECT txid, id FROM events \
    WHERE txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint ORDER BY txid DESC, id DESC LIMIT 1";

/// Wakes every instance's listener when the transaction commits.
pub(crate) const NOTIFY_EVENTS: Option<&str> = Some("NOTIFY rivet_events");

/// A todo's tags as one column of the `todos` row, separated by spaces (a
/// tag has none), so a single read is one statement; ordered in Rust. The
/// SQL of [`crate::todos::JoinedTags`].
pub(crate) const TODO_TAGS: &str =
    "(SELECT string_agg(todo_tags.tag, ' ') FROM todo_tags WHERE todo_tags.todo_id = todos.id)";

impl diesel::query_builder::QueryFragment<Db> for crate::todos::JoinedTags {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Db>) -> diesel::QueryResult<()> {
        out.push_sql(TODO_TAGS);
        Ok(())
    }
}

impl<C: diesel::query_builder::QueryFragment<Db>> diesel::query_builder::QueryFragment<Db> for crate::sql::OneOf<C> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Db>) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, Integer, Text};
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        match &self.values {
            crate::sql::Values::Text(v) => out.push_bind_param::<Array<Text>, _>(v)?,
            crate::sql::Values::Int(v) => out.push_bind_param::<Array<Integer>, _>(v)?,
        }
        out.push_sql(")");
        Ok(())
    }
}
