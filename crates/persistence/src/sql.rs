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
