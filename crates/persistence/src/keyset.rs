//! Keyset paging shared by every collection: boxed comparisons of a sort
//! column with a cursor value, and the "strictly after this position"
//! predicate built from them.

use crate::error::Result;

/// A boolean condition on table `T` for backend `DB`, boxed so that
/// conditions chosen at run time compose.
pub(crate) type Condition<T, DB> = Box<dyn diesel::BoxableExpression<T, DB, SqlType = diesel::sql_types::Bool>>;

/// How a sort column compares with a cursor value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cmp {
    Lt,
    Eq,
    Gt,
}

/// `column <op> value`, boxed.
pub(crate) fn by<T, DB, E, V>(column: E, value: V, op: Cmp) -> Condition<T, DB>
where
    DB: diesel::backend::Backend,
    E: diesel::Expression,
    E::SqlType: diesel::sql_types::SingleValue,
    V: diesel::expression::AsExpression<E::SqlType>,
    diesel::dsl::Lt<E, V>: diesel::BoxableExpression<T, DB, SqlType = diesel::sql_types::Bool> + 'static,
    diesel::dsl::Eq<E, V>: diesel::BoxableExpression<T, DB, SqlType = diesel::sql_types::Bool> + 'static,
    diesel::dsl::Gt<E, V>: diesel::BoxableExpression<T, DB, SqlType = diesel::sql_types::Bool> + 'static,
{
    use diesel::ExpressionMethods;
    match op {
        Cmp::Lt => Box::new(column.lt(value)),
        Cmp::Eq => Box::new(column.eq(value)),
        Cmp::Gt => Box::new(column.gt(value)),
    }
}

/// The keyset predicate "strictly after `position` in `sort`", built once for
/// every collection: for some sort term *i*, every earlier term equals the
/// position's value and term *i* is beyond it; the id breaks ties last.
/// `id` compares the id column with the position's id; `compare` maps a sort
/// key and a cursor value to the comparison of the matching column, or an
/// error for a value of the wrong kind.
pub(crate) fn keyset_after<T, DB, K: rivet_domain::collection::SortKey>(
    sort: &rivet_domain::collection::Sort<K>,
    position: &rivet_domain::collection::Position,
    id: impl Fn(Cmp) -> Condition<T, DB>,
    compare: impl Fn(K, &rivet_domain::collection::KeyValue, Cmp) -> Result<Condition<T, DB>>,
) -> Result<Condition<T, DB>>
where
    T: 'static,
    DB: diesel::backend::Backend + diesel::backend::DieselReserveSpecialization + 'static,
{
    use diesel::BoolExpressionMethods;
    let mut after = id(if sort.id_descending() { Cmp::Lt } else { Cmp::Gt });
    for (term, value) in sort.terms().iter().zip(&position.keys).rev() {
        let beyond = compare(term.key, value, if term.descending { Cmp::Lt } else { Cmp::Gt })?;
        let equal = compare(term.key, value, Cmp::Eq)?;
        after = Box::new(beyond.or(equal.and(after)));
    }
    Ok(after)
}
