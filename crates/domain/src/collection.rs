//! Collections, for every resource: page size, where a page starts, and the
//! sort order, each parsed and validated once.
//!
//! Pages are cut by keyset: a page ends with the [`Position`] of its last
//! row — the values of its sort keys plus its id, the final tie-breaker — and
//! the next page starts strictly after it. Rows inserted meanwhile cannot
//! shift a later page, so walking every page returns every row that existed
//! throughout the walk exactly once. An `offset` start exists for clients
//! that need to jump, bounded by [`MAX_OFFSET`].
//!
//! A resource declares its sortable fields with [`SortKey`] and how to read
//! them from an item with [`Keyed`]; its repository turns a [`Position`]
//! into a predicate on the same columns.

use crate::time::Timestamp;
use crate::validation::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Page size when the client names none.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page size.
pub const MAX_LIMIT: u32 = 100;
/// Largest offset; deeper pages are reached with cursors.
pub const MAX_OFFSET: u32 = 10_000;
/// Most sort terms in one request.
pub const MAX_SORT_TERMS: usize = 4;

/// The sortable fields of a resource.
pub trait SortKey: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Each field with its name in `sort=`.
    const FIELDS: &'static [(&'static str, Self)];

    /// The field's name.
    fn name(self) -> &'static str {
        Self::FIELDS.iter().find(|(_, k)| *k == self).map_or("?", |(n, _)| n)
    }
}

/// One sort term: a field and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortTerm<K> {
    pub key: K,
    pub descending: bool,
}

/// A validated sort order: 1 to [`MAX_SORT_TERMS`] distinct fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort<K>(Vec<SortTerm<K>>);

impl<K: SortKey> Sort<K> {
    /// A sort with one term.
    pub fn by(key: K, descending: bool) -> Self {
        Self(vec![SortTerm { key, descending }])
    }

    /// Parses `field,-other`: comma-separated fields from the allow-list, `-`
    /// for descending.
    ///
    /// # Errors
    /// `sort` field errors for unknown, repeated or too many fields.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let allowed = || K::FIELDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        let mut terms: Vec<SortTerm<K>> = Vec::new();
        for part in raw.split(',').map(str::trim) {
            let (descending, name) = match part.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, part),
            };
            let Some(&(_, key)) = K::FIELDS.iter().find(|(n, _)| *n == name) else {
                return Err(FieldError::new(
                    "sort",
                    "one_of",
                    format!("unknown sort field `{name}`; use any of: {}", allowed()),
                ));
            };
            if terms.iter().any(|t| t.key == key) {
                return Err(FieldError::new("sort", "duplicate", format!("`{name}` appears twice")));
            }
            terms.push(SortTerm { key, descending });
        }
        if terms.len() > MAX_SORT_TERMS {
            return Err(FieldError::new("sort", "length", format!("at most {MAX_SORT_TERMS} fields")));
        }
        Ok(Self(terms))
    }

    /// A regular expression for API descriptions: one field, or two
    /// different ones, each optionally `-`-prefixed. Every string it matches
    /// parses; [`Sort::parse`] also takes up to [`MAX_SORT_TERMS`] fields,
    /// which a pattern cannot state without listing every permutation.
    pub fn pattern() -> String {
        let names: Vec<&str> = K::FIELDS.iter().map(|(n, _)| *n).collect();
        let firsts: Vec<String> = names
            .iter()
            .map(|first| {
                let others: Vec<&str> = names.iter().copied().filter(|n| n != first).collect();
                if others.is_empty() {
                    format!("-?{first}")
                } else {
                    format!("-?{first}(?:,-?(?:{}))?", others.join("|"))
                }
            })
            .collect();
        format!("^(?:{})$", firsts.join("|"))
    }

    /// The terms, in order.
    pub fn terms(&self) -> &[SortTerm<K>] {
        &self.0
    }

    /// The normal form (`-created_at,email`), which cursors are bound to.
    pub fn canonical(&self) -> String {
        self.0
            .iter()
            .map(|t| format!("{}{}", if t.descending { "-" } else { "" }, t.key.name()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The id tie-breaker follows the first term's direction.
    pub fn id_descending(&self) -> bool {
        self.0.first().is_some_and(|t| t.descending)
    }
}

/// A sort-key value, as a position carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "lowercase")]
pub enum KeyValue {
    Text(String),
    Int(i64),
    Time(Timestamp),
    Date(chrono::NaiveDate),
}

/// Reading sort-key values and the id from an item.
pub trait Keyed<K> {
    fn key_value(&self, key: K) -> KeyValue;
    fn key_id(&self) -> Uuid;
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The canonical sort the position belongs to.
    pub sort: String,
    /// One value per sort term.
    pub keys: Vec<KeyValue>,
    pub id: Uuid,
}

impl Position {
    /// Checks that the position was made for `sort`.
    ///
    /// # Errors
    /// `cursor` / `invalid_cursor` otherwise.
    pub fn check<K: SortKey>(&self, sort: &Sort<K>) -> Result<(), FieldError> {
        if self.sort != sort.canonical() || self.keys.len() != sort.terms().len() {
            return Err(FieldError::new("cursor", "invalid_cursor", "the cursor belongs to another sort order"));
        }
        Ok(())
    }
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    First,
    After(Position),
    Offset(u32),
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub start: Start,
    pub include_total: bool,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, start: Start::First, include_total: false }
    }
}

impl PageRequest {
    /// Validates the paging parameters of a request.
    ///
    /// # Errors
    /// Every broken rule: `limit` out of 1–100, `offset` out of 0–10 000,
    /// both `cursor` and `offset` given.
    pub fn new(
        limit: Option<u32>,
        offset: Option<u32>,
        after: Option<Position>,
        include_total: bool,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new("limit", "range", format!("must be 1 to {MAX_LIMIT}")));
        }
        if offset.is_some_and(|o| o > MAX_OFFSET) {
            errors.push(FieldError::new(
                "offset",
                "range",
                format!("must be 0 to {MAX_OFFSET}; use the cursor for deeper pages"),
            ));
        }
        if offset.is_some() && after.is_some() {
            errors.push(FieldError::new("offset", "exclusive", "give either cursor or offset, not both"));
        }
        errors.into_result()?;
        let start = match (after, offset) {
            (Some(p), _) => Start::After(p),
            (None, Some(o)) => Start::Offset(o),
            (None, None) => Start::First,
        };
        Ok(Self { limit, start, include_total })
    }
}

/// One page of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Position>,
    /// The number of matching items, when it was asked for.
    pub total: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra
    /// row only tells that more follow.
    pub fn from_rows<K: SortKey>(mut rows: Vec<T>, request: &PageRequest, sort: &Sort<K>, total: Option<i64>) -> Self
    where
        T: Keyed<K>,
    {
        let limit = request.limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(|last| Position {
                sort: sort.canonical(),
                keys: sort.terms().iter().map(|t| last.key_value(t.key)).collect(),
                id: last.key_id(),
            })
        } else {
            None
        };
        Self { items: rows, next, total }
    }

    /// Converts the items, keeping the paging.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next, total: self.total }
    }
}

/// Most characters of a text search (`q`).
pub const MAX_SEARCH_CHARS: usize = 200;

/// The rule for a text search `q`, the same on every collection: trimmed,
/// empty means no search, at most [`MAX_SEARCH_CHARS`] characters.
///
/// # Errors
/// A `length` error on `q`.
pub fn search_text(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(q) = raw.map(str::trim).filter(|q| !q.is_empty()) else { return Ok(None) };
    if q.chars().count() > MAX_SEARCH_CHARS {
        return Err(FieldError::new("q", "length", format!("must be at most {MAX_SEARCH_CHARS} characters")));
    }
    Ok(Some(q.to_owned()))
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern and wraps the
/// lower-cased text in `%…%`: a case-insensitive substring match.
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Field {
        A,
        B,
    }

    impl SortKey for Field {
        const FIELDS: &'static [(&'static str, Self)] = &[("a", Field::A), ("b", Field::B)];
    }

    #[test]
    fn a_sort_parses_to_its_canonical_form() {
        let s = Sort::<Field>::parse(" -b , a").unwrap();
        assert_eq!(s.canonical(), "-b,a");
        assert!(s.id_descending());
        assert_eq!(Sort::<Field>::parse("c").unwrap_err().code, "one_of");
        assert_eq!(Sort::<Field>::parse("a,-a").unwrap_err().code, "duplicate");
        assert_eq!(Sort::<Field>::parse("").unwrap_err().code, "one_of");
    }

    #[test]
    fn paging_parameters_are_bounded_and_exclusive() {
        assert_eq!(PageRequest::new(None, None, None, false).unwrap().limit, 20);
        assert!(PageRequest::new(Some(0), None, None, false).is_err());
        assert!(PageRequest::new(Some(101), None, None, false).is_err());
        assert!(PageRequest::new(None, Some(10_001), None, false).is_err());
        let pos = Position { sort: "a".into(), keys: vec![KeyValue::Int(1)], id: Uuid::nil() };
        let both = PageRequest::new(Some(500), Some(1), Some(pos), false).unwrap_err();
        assert_eq!(both.errors().len(), 2, "every broken rule is reported: {both}");
    }

    #[test]
    fn a_search_is_trimmed_optional_and_bounded() {
        assert_eq!(search_text(Some("  milk ")), Ok(Some("milk".to_owned())));
        assert_eq!(search_text(Some("   ")), Ok(None));
        assert_eq!(search_text(None), Ok(None));
        assert_eq!(search_text(Some(&"é".repeat(201))).unwrap_err().code, "length");
        assert!(search_text(Some(&"é".repeat(200))).is_ok());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_A\\b"), "%50\\%\\_a\\\\b%");
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Wide {
        A,
        B,
        C,
    }

    impl SortKey for Wide {
        const FIELDS: &'static [(&'static str, Self)] = &[("a_x", Wide::A), ("b", Wide::B), ("c", Wide::C)];
    }

    proptest! {
        #[test]
        fn every_sort_the_documented_pattern_allows_parses(s in Sort::<Wide>::pattern().trim_matches(['^', '$'])) {
            prop_assert!(Sort::<Wide>::parse(&s).is_ok(), "{s}");
        }

        #[test]
        fn any_sort_that_parses_reparses_from_its_canonical_form(s in "-?[ab](,-?[ab]){0,2}") {
            if let Ok(sort) = Sort::<Field>::parse(&s) {
                prop_assert_eq!(Sort::<Field>::parse(&sort.canonical()).unwrap(), sort);
            }
        }
    }
}
