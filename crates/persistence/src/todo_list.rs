//! Listing a user's todos (one query for the page with its tags, one count
//! when asked) and their statistics (aggregate queries only).

use crate::error::{Error, Result};
use crate::keyset::{Condition, by, keyset_after};
use crate::schema::todos;
use crate::sql::due_or_last;
use crate::todo_rows::TodoRow;
use crate::todos::{JoinedTags, TodoStore, split_tags};
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use chrono::{Duration, NaiveDate};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rivet_domain::UserId;
use rivet_domain::collection::{KeyValue, Page, Start};
use rivet_domain::time::Timestamp;
use rivet_domain::todo::{Priority, Status, Todo, TodoQuery, TodoSort, TodoStats};

fn corrupt(v: &KeyValue, what: &str) -> Error {
    Error::Corrupt(format!("cursor value {v:?} is not {what}"))
}

impl TodoStore {
    pub(crate) async fn list_todos(&self, owner: UserId, query: &TodoQuery) -> Result<Page<Todo>> {
        let TodoQuery { filter, sort, page } = query;
        let (rows, total) = with_conn!(read self.db, |conn, sql| {
            // Each row carries its tags (a subquery per row of the page).
            let columns = (TodoRow::as_select(), JoinedTags);
            let mut q = sql::todos_matching(todos::table.select(columns).into_boxed(), owner, filter);
            match &page.start {
                Start::First => {}
                Start::Offset(n) => q = q.offset(i64::from(*n)),
                Start::After(position) => {
                    let id = |op| by(todos::id, DbUuid(position.id), op);
                    let compare = |key, v: &KeyValue, op| -> Result<Condition<todos::table, sql::Db>> {
                        Ok(match (key, v) {
                            (TodoSort::CreatedAt, KeyValue::Time(t)) => by(todos::created_at, DbTime(*t), op),
                            (TodoSort::UpdatedAt, KeyValue::Time(t)) => by(todos::updated_at, DbTime(*t), op),
                            (TodoSort::DueDate, KeyValue::Date(d)) => by(due_or_last(), *d, op),
                            (TodoSort::Priority, KeyValue::Int(r)) => {
                                by(todos::priority, i32::try_from(*r).map_err(|_| corrupt(v, "a rank"))?, op)
                            }
                            (TodoSort::Title, KeyValue::Text(s)) => by(todos::title, s.clone(), op),
                            (key, _) => return Err(corrupt(v, &format!("a {key:?} value"))),
                        })
                    };
                    q = q.filter(keyset_after(sort, position, id, compare)?)
                }
            }
            for term in sort.terms() {
                q = match (term.key, term.descending) {
                    (TodoSort::CreatedAt, false) => q.then_order_by(todos::created_at.asc()),
                    (TodoSort::CreatedAt, true) => q.then_order_by(todos::created_at.desc()),
                    (TodoSort::UpdatedAt, false) => q.then_order_by(todos::updated_at.asc()),
                    (TodoSort::UpdatedAt, true) => q.then_order_by(todos::updated_at.desc()),
                    (TodoSort::DueDate, false) => q.then_order_by(due_or_last().asc()),
                    (TodoSort::DueDate, true) => q.then_order_by(due_or_last().desc()),
                    (TodoSort::Priority, false) => q.then_order_by(todos::priority.asc()),
                    (TodoSort::Priority, true) => q.then_order_by(todos::priority.desc()),
                    (TodoSort::Title, false) => q.then_order_by(todos::title.asc()),
                    (TodoSort::Title, true) => q.then_order_by(todos::title.desc()),
                };
            }
            q = if sort.id_descending() { q.then_order_by(todos::id.desc()) } else { q.then_order_by(todos::id.asc()) };
            let rows: Vec<(TodoRow, Option<String>)> = q.limit(i64::from(page.limit) + 1).load(conn).await?;
            let total = if page.include_total {
                Some(
                    sql::todos_matching(todos::table.count().into_boxed(), owner, filter)
                        .get_result::<i64>(conn)
                        .await?,
                )
            } else {
                None
            };
            Ok((rows, total))
        })?;
        let items = rows.into_iter().map(|(r, tags)| r.into_todo(split_tags(tags))).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page, sort, total))
    }

    pub(crate) async fn todo_stats(&self, owner: UserId, today: NaiveDate, now: Timestamp) -> Result<TodoStats> {
        let key = DbUuid(owner.0);
        let done = Status::Done.as_str();
        let week_ago = DbTime(now - Duration::days(7));
        let (by_status, by_priority, overdue, due_today, completed) = with_conn!(read self.db, |conn| {
            let mine = || todos::table.filter(todos::owner_id.eq(key));
            let by_status: Vec<(String, i64)> =
                mine().group_by(todos::status).select((todos::status, count_star())).load(conn).await?;
            let by_priority: Vec<(i32, i64)> =
                mine().group_by(todos::priority).select((todos::priority, count_star())).load(conn).await?;
            let overdue: i64 = mine()
                .filter(todos::due_date.lt(today))
                .filter(todos::status.ne(done))
                .count()
                .get_result(conn)
                .await?;
            let due_today: i64 = mine()
                .filter(todos::due_date.eq(today))
                .filter(todos::status.ne(done))
                .count()
                .get_result(conn)
                .await?;
            let completed: i64 = mine().filter(todos::completed_at.ge(week_ago)).count().get_result(conn).await?;
            Ok((by_status, by_priority, overdue, due_today, completed))
        })?;
        let count_of = |s: Status| by_status.iter().find(|(name, _)| name == s.as_str()).map_or(0, |(_, n)| *n);
        let total: i64 = by_status.iter().map(|(_, n)| n).sum();
        let done_count = count_of(Status::Done);
        Ok(TodoStats {
            total,
            by_status: Status::ALL.iter().map(|s| (*s, count_of(*s))).collect(),
            by_priority: Priority::ALL
                .iter()
                .map(|p| (*p, by_priority.iter().find(|(r, _)| *r == p.rank()).map_or(0, |(_, n)| *n)))
                .collect(),
            overdue,
            due_today,
            completed_last_7_days: completed,
            // Counts are far below 2^52, so the conversion is exact.
            #[allow(clippy::cast_precision_loss)]
            completion_rate: if total == 0 { 0.0 } else { done_count as f64 / total as f64 },
        })
    }
}
