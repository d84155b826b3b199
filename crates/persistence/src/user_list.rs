//! Listing users: filters, keyset pagination and sorting in one query per
//! page (plus a count when asked for), written once for both backends.

use crate::db::Database;
use crate::error::{Error, Result};
use crate::keyset::{Condition, by, keyset_after};
use crate::rows::UserRow;
use crate::schema::users;
use crate::sql::coalesce;
use crate::types::DbTime;
use crate::types::DbUuid;
use crate::with_conn;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rivet_domain::User;
use rivet_domain::collection::{KeyValue, Page, Start};
use rivet_domain::user::{UserQuery, UserSort};

fn text(v: &KeyValue) -> Result<String> {
    match v {
        KeyValue::Text(s) => Ok(s.clone()),
        other => Err(Error::Corrupt(format!("cursor value {other:?} is not text"))),
    }
}

fn time(v: &KeyValue) -> Result<DbTime> {
    match v {
        KeyValue::Time(t) => Ok(DbTime(*t)),
        other => Err(Error::Corrupt(format!("cursor value {other:?} is not a time"))),
    }
}

impl Database {
    /// One page of users (see [`rivet_domain::collection`] for the paging rules).
    pub(crate) async fn list_users(&self, query: &UserQuery) -> Result<Page<User>> {
        let UserQuery { filter, sort, page } = query;
        let (rows, total): (Vec<UserRow>, Option<i64>) = with_conn!(read self, |conn, sql| {
            let mut q = sql::users_matching(users::table.select(UserRow::as_select()).into_boxed(), filter);
            match &page.start {
                Start::First => {}
                Start::Offset(n) => q = q.offset(i64::from(*n)),
                Start::After(position) => {
                    let id = |op| by(users::id, DbUuid(position.id), op);
                    let compare = |key, v: &KeyValue, op| -> Result<Condition<users::table, sql::Db>> {
                        Ok(match key {
                            UserSort::CreatedAt => by(users::created_at, time(v)?, op),
                            UserSort::Email => by(users::email, text(v)?, op),
                            UserSort::FullName => by(coalesce(users::full_name, ""), text(v)?, op),
                        })
                    };
                    q = q.filter(keyset_after(sort, position, id, compare)?)
                }
            }
            for term in sort.terms() {
                q = match (term.key, term.descending) {
                    (UserSort::CreatedAt, false) => q.then_order_by(users::created_at.asc()),
                    (UserSort::CreatedAt, true) => q.then_order_by(users::created_at.desc()),
                    (UserSort::Email, false) => q.then_order_by(users::email.asc()),
                    (UserSort::Email, true) => q.then_order_by(users::email.desc()),
                    (UserSort::FullName, false) => q.then_order_by(coalesce(users::full_name, "").asc()),
                    (UserSort::FullName, true) => q.then_order_by(coalesce(users::full_name, "").desc()),
                };
            }
            q = if sort.id_descending() { q.then_order_by(users::id.desc()) } else { q.then_order_by(users::id.asc()) };
            let rows = q.limit(i64::from(page.limit) + 1).load(conn).await?;
            let total = if page.include_total {
                Some(sql::users_matching(users::table.count().into_boxed(), filter).get_result::<i64>(conn).await?)
            } else {
                None
            };
            Ok((rows, total))
        })?;
        let users = rows.into_iter().map(UserRow::into_user).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(users, page, sort, total))
    }
}
