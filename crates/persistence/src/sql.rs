//! SQL functions both backends share, declared once for diesel.

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
