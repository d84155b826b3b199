//! The product catalogue: public to read (active products), changed by
//! holders of `products:write`. Stock changes go through atomic adjustments.

mod fields;
mod query;
mod service;

pub use fields::{Category, Currency, MAX_PRICE_CENTS, MAX_STOCK, ProductName, Sku, price_cents, stock};
pub use query::{ProductFilter, ProductQuery, ProductSort};
pub use service::{NewProductInput, ProductPatch, Products, StockAdjustment};

use crate::time::Timestamp;
use crate::todo::Description;

id_type! {
    /// A product's identifier.
    ProductId
}

/// A product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub sku: Sku,
    pub name: ProductName,
    pub description: Option<Description>,
    pub price_cents: i64,
    pub currency: Currency,
    pub category: Category,
    pub stock: i64,
    pub is_active: bool,
    pub image_url: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A validated product to insert.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub id: ProductId,
    pub sku: Sku,
    pub name: ProductName,
    pub description: Option<Description>,
    pub price_cents: i64,
    pub currency: Currency,
    pub category: Category,
    pub stock: i64,
    pub is_active: bool,
    pub created_at: Timestamp,
}

/// Validated changes; `None` leaves a field, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub sku: Option<Sku>,
    pub name: Option<ProductName>,
    pub description: Option<Option<Description>>,
    pub price_cents: Option<i64>,
    pub currency: Option<Currency>,
    pub category: Option<Category>,
    pub stock: Option<i64>,
    pub is_active: Option<bool>,
}

impl ProductChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.sku.is_none()
            && self.name.is_none()
            && self.description.is_none()
            && self.price_cents.is_none()
            && self.currency.is_none()
            && self.category.is_none()
            && self.stock.is_none()
            && self.is_active.is_none()
    }
}

/// What a stock adjustment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adjusted {
    Done(Box<Product>),
    NotFound,
    /// The stock would go below zero.
    Insufficient,
    /// The stock would go above [`MAX_STOCK`].
    AboveLimit,
}
