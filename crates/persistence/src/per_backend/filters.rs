//! The `WHERE` clauses of the list endpoints, shared by a page's query and
//! its count. Each narrows a boxed query of any selection.

use super::Db;
use crate::schema::{products, todo_tags, todos, users};
use crate::sql::{coalesce, lower, one_of_int, one_of_text};
use crate::types::{DbTime, DbUuid};
use diesel::prelude::*;
use rivet_domain::UserId;
use rivet_domain::collection::like_pattern;
use rivet_domain::product::ProductFilter;
use rivet_domain::todo::{Status, TodoFilter};
use rivet_domain::user::UserFilter;

/// `owner`'s todos matching `f`.
pub(crate) fn todos_matching<'a, ST: 'a>(
    mut q: todos::BoxedQuery<'a, Db, ST>,
    owner: UserId,
    f: &TodoFilter,
) -> todos::BoxedQuery<'a, Db, ST> {
    q = q.filter(todos::owner_id.eq(DbUuid(owner.0)));
    if !f.statuses.is_empty() {
        q = q.filter(one_of_text(todos::status, f.statuses.iter().map(|s| s.as_str())));
    }
    if !f.priorities.is_empty() {
        q = q.filter(one_of_int(todos::priority, f.priorities.iter().map(|p| p.rank())));
    }
    if let Some(tag) = &f.tag {
        // EXISTS, probing (todo_id, tag) per candidate row: SQLite runs
        // `id IN (SELECT ...)` by listing every todo with the tag first (all
        // users' — 5,000 rows for 21 answers in `just bench`), PostgreSQL
        // plans both forms as the same semi-join.
        let tagged = todo_tags::table.filter(todo_tags::todo_id.eq(todos::id)).filter(todo_tags::tag.eq(tag.clone()));
        q = q.filter(diesel::dsl::exists(tagged));
    }
    if let Some(d) = f.due_before {
        q = q.filter(todos::due_date.lt(d));
    }
    if let Some(d) = f.due_after {
        q = q.filter(todos::due_date.gt(d));
    }
    let done = Status::Done.as_str();
    match f.overdue {
        Some(true) => q = q.filter(todos::due_date.lt(f.today).and(todos::status.ne(done))),
        Some(false) => {
            let not_overdue = todos::due_date.is_null().or(todos::due_date.ge(f.today));
            q = q.filter(not_overdue.or(todos::status.eq(done).nullable()));
        }
        None => {}
    }
    if let Some(t) = f.created_after {
        q = q.filter(todos::created_at.gt(DbTime(t)));
    }
    if let Some(needle) = f.q.as_deref() {
        let pattern = like_pattern(needle);
        let in_title = lower(todos::title).like(pattern.clone()).escape('\\');
        q = q.filter(in_title.or(lower(coalesce(todos::description, "")).like(pattern).escape('\\')));
    }
    q
}

/// The products matching `f`.
pub(crate) fn products_matching<'a, ST: 'a>(
    mut q: products::BoxedQuery<'a, Db, ST>,
    f: &ProductFilter,
) -> products::BoxedQuery<'a, Db, ST> {
    if !f.include_inactive {
        q = q.filter(products::is_active.eq(true));
    }
    if let Some(c) = &f.category {
        q = q.filter(products::category.eq(c.clone()));
    }
    if let Some(min) = f.min_price {
        q = q.filter(products::price_cents.ge(min));
    }
    if let Some(max) = f.max_price {
        q = q.filter(products::price_cents.le(max));
    }
    match f.in_stock {
        Some(true) => q = q.filter(products::stock.gt(0i64)),
        Some(false) => q = q.filter(products::stock.eq(0i64)),
        None => {}
    }
    if let Some(c) = &f.currency {
        q = q.filter(products::currency.eq(c.as_str().to_owned()));
    }
    if let Some(needle) = f.q.as_deref() {
        let pattern = like_pattern(needle);
        let in_name = lower(products::name).like(pattern.clone()).escape('\\');
        let in_description = lower(coalesce(products::description, "")).like(pattern.clone()).escape('\\');
        q = q.filter(in_name.or(in_description).or(lower(products::sku).like(pattern).escape('\\')));
    }
    q
}

/// The users matching every set field of `f`.
pub(crate) fn users_matching<'a, ST: 'a>(
    mut q: users::BoxedQuery<'a, Db, ST>,
    f: &UserFilter,
) -> users::BoxedQuery<'a, Db, ST> {
    if !f.roles.is_empty() {
        q = q.filter(one_of_text(users::role, f.roles.iter().map(|r| r.as_str())));
    }
    if let Some(active) = f.is_active {
        q = q.filter(users::is_active.eq(active));
    }
    if let Some(verified) = f.email_verified {
        q = q.filter(users::email_verified.eq(verified));
    }
    if let Some(after) = f.created_after {
        q = q.filter(users::created_at.gt(DbTime(after)));
    }
    if let Some(before) = f.created_before {
        q = q.filter(users::created_at.lt(DbTime(before)));
    }
    if let Some(needle) = f.q.as_deref() {
        let pattern = like_pattern(needle);
        let in_email = lower(users::email).like(pattern.clone()).escape('\\');
        q = q.filter(in_email.or(lower(coalesce(users::full_name, "")).like(pattern).escape('\\')));
    }
    q
}
