//! Listing the catalogue.

use super::{Currency, Product};
use crate::collection::{KeyValue, Keyed, PageRequest, Sort, SortKey};

/// The fields products can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    PriceCents,
    Name,
    CreatedAt,
    Stock,
}

impl SortKey for ProductSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("price_cents", ProductSort::PriceCents),
        ("name", ProductSort::Name),
        ("created_at", ProductSort::CreatedAt),
        ("stock", ProductSort::Stock),
    ];
}

impl Keyed<ProductSort> for Product {
    fn key_value(&self, key: ProductSort) -> KeyValue {
        match key {
            ProductSort::PriceCents => KeyValue::Int(self.price_cents),
            ProductSort::Name => KeyValue::Text(self.name.as_str().to_owned()),
            ProductSort::CreatedAt => KeyValue::Time(self.created_at),
            ProductSort::Stock => KeyValue::Int(self.stock),
        }
    }

    fn key_id(&self) -> uuid::Uuid {
        self.id.0
    }
}

/// Which products to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Also list inactive products (for holders of `products:write` only;
    /// the caller checks).
    pub include_inactive: bool,
    pub category: Option<String>,
    /// Price at least.
    pub min_price: Option<i64>,
    /// Price at most.
    pub max_price: Option<i64>,
    /// `Some(true)`: stock above zero; `Some(false)`: out of stock.
    pub in_stock: Option<bool>,
    /// Case-insensitive substring of name, description or SKU.
    pub q: Option<String>,
    pub currency: Option<Currency>,
}

/// A page of products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductQuery {
    pub filter: ProductFilter,
    pub sort: Sort<ProductSort>,
    pub page: PageRequest,
}
