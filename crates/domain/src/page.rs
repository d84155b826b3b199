//! Pages of a collection.

/// One page of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// True when more items follow this page.
    pub has_more: bool,
    /// The number of matching items, when it was asked for.
    pub total: Option<i64>,
}
