//! SQL functions both backends share, declared once for diesel.

use crate::types::sql::UtcTime;
use diesel::sql_types::{Nullable, Text};

diesel::define_sql_function! {
    /// `lower(text)`. SQLite folds ASCII letters only; emails are stored
    /// lower-cased from Rust, so their search is exact on both backends.
    fn lower(x: Text) -> Text;
}

diesel::define_sql_function! {
    /// `coalesce(nullable text, text)`: sorts and searches nullable text as
    /// the fallback, the same way on both backends.
    fn coalesce(x: Nullable<Text>, y: Text) -> Text;
}

diesel::define_sql_function! {
    /// `coalesce(nullable timestamp, timestamp)`: keeps a completion time
    /// once set.
    #[sql_name = "coalesce"]
    fn coalesce_time(x: Nullable<UtcTime>, y: UtcTime) -> Nullable<UtcTime>;
}

/// The due date todos without one sort as: after every real date. Written as
/// the same SQL literal as in the `todos_owner_due_idx` expression index of
/// both migrations, so PostgreSQL can use that index for the sort.
pub fn due_or_last() -> diesel::expression::SqlLiteral<diesel::sql_types::Date> {
    diesel::dsl::sql::<diesel::sql_types::Date>("COALESCE(\"todos\".\"due_date\", '9999-12-31')")
}

/// The bytes a filtered set of attachments takes, 0 for none, as a BIGINT on
/// both backends (PostgreSQL's `SUM(bigint)` is `numeric`).
pub fn attachment_bytes() -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(COALESCE(SUM(\"attachments\".\"size_bytes\"), 0) AS BIGINT)")
}

/// `column IN (values)` with the list as one bind value, so the statement's
/// text is the same however many values there are and diesel caches it
/// prepared. (diesel's `eq_any` writes one `?` per value on SQLite, which
/// it then never caches: a filtered list was parsed and planned on every
/// request.) PostgreSQL: `column = ANY($1)`, an array; SQLite: `column IN
/// (SELECT value FROM json_each(?))`, a JSON array. Built by [`one_of_text`]
/// and [`one_of_int`]; the SQL is in `for_pg.rs` and `for_sqlite.rs`.
#[derive(Debug, Clone)]
pub(crate) struct OneOf<C> {
    pub column: C,
    /// For PostgreSQL.
    #[cfg(feature = "postgres")]
    pub values: Values,
    /// The values as a JSON array, for SQLite.
    #[cfg(feature = "sqlite")]
    pub json: String,
}

/// The values of a [`OneOf`].
#[cfg(feature = "postgres")]
#[derive(Debug, Clone)]
pub(crate) enum Values {
    Text(Vec<String>),
    Int(Vec<i32>),
}

/// `column IN (values)` for a text column.
pub(crate) fn one_of_text<'v, C>(column: C, values: impl IntoIterator<Item = &'v str>) -> OneOf<C> {
    let values: Vec<String> = values.into_iter().map(str::to_owned).collect();
    OneOf {
        column,
        #[cfg(feature = "sqlite")]
        json: serde_json::to_string(&values).unwrap_or_default(),
        #[cfg(feature = "postgres")]
        values: Values::Text(values),
    }
}

/// `column IN (values)` for an integer column.
pub(crate) fn one_of_int<C>(column: C, values: impl IntoIterator<Item = i32>) -> OneOf<C> {
    let values: Vec<i32> = values.into_iter().collect();
    OneOf {
        column,
        #[cfg(feature = "sqlite")]
        json: serde_json::to_string(&values).unwrap_or_default(),
        #[cfg(feature = "postgres")]
        values: Values::Int(values),
    }
}

impl<C: diesel::Expression> diesel::Expression for OneOf<C> {
    type SqlType = diesel::sql_types::Bool;
}

impl<C: diesel::expression::ValidGrouping<()>> diesel::expression::ValidGrouping<()> for OneOf<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C: diesel::AppearsOnTable<QS>, QS: ?Sized> diesel::AppearsOnTable<QS> for OneOf<C> {}

impl<C: diesel::SelectableExpression<QS>, QS: ?Sized> diesel::SelectableExpression<QS> for OneOf<C> {}

impl<C> diesel::query_builder::QueryId for OneOf<C> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}
