//! Product use cases. Who may call the writing ones is decided by the caller
//! (`products:write`); the rules here hold for everyone.

use super::{
    Adjusted, Category, Currency, NewProduct, Product, ProductChanges, ProductId, ProductName, ProductQuery, Sku,
    price_cents, stock,
};
use crate::collection::{Page, Start};
use crate::error::{Conflict, Error, Result};
use crate::patch::Patch;
use crate::ports::ProductRepository;
use crate::time::now;
use crate::todo::Description;
use crate::validation::{FieldError, ValidationErrors};
use crate::version::IfVersion;
use std::sync::Arc;
use tracing::instrument;

/// A product to create, as received.
#[derive(Debug, Clone, Default)]
pub struct NewProductInput {
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub price_cents: i64,
    pub currency: String,
    pub category: String,
    pub stock: Option<i64>,
    pub is_active: Option<bool>,
}

/// A partial update, as received.
#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub sku: Patch<String>,
    pub name: Patch<String>,
    pub description: Patch<String>,
    pub price_cents: Patch<i64>,
    pub currency: Patch<String>,
    pub category: Patch<String>,
    pub stock: Patch<i64>,
    pub is_active: Patch<bool>,
}

/// A stock adjustment, as received.
#[derive(Debug, Clone)]
pub struct StockAdjustment {
    pub delta: i64,
    pub reason: String,
}

/// The product use cases.
#[derive(Clone)]
pub struct Products {
    repo: Arc<dyn ProductRepository>,
}

impl std::fmt::Debug for Products {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Products").finish_non_exhaustive()
    }
}

impl Products {
    pub fn new(repo: Arc<dyn ProductRepository>) -> Self {
        Self { repo }
    }

    /// Adds a product.
    ///
    /// # Errors
    /// `Validation`; `Conflict(SkuTaken)`.
    #[instrument(skip_all)]
    pub async fn create(&self, input: NewProductInput) -> Result<Product> {
        let mut e = ValidationErrors::new();
        let sku = e.check("sku", Sku::parse(&input.sku));
        let name = e.check("name", ProductName::parse(&input.name));
        let description = input.description.and_then(|d| e.check("description", Description::parse(&d)));
        let price = e.check("price_cents", price_cents(input.price_cents));
        let currency = e.check("currency", Currency::parse(&input.currency));
        let category = e.check("category", Category::parse(&input.category));
        let stock = e.check("stock", stock(input.stock.unwrap_or(0)));
        e.into_result()?;
        let (Some(sku), Some(name), Some(price_cents), Some(currency), Some(category), Some(stock)) =
            (sku, name, price, currency, category, stock)
        else {
            unreachable!("no errors, so every field parsed");
        };
        let product = NewProduct {
            id: ProductId::new(),
            sku,
            name,
            description,
            price_cents,
            currency,
            category,
            stock,
            is_active: input.is_active.unwrap_or(true),
            created_at: now(),
        };
        Ok(self.repo.insert(product).await?)
    }

    /// One product; an inactive one only when `include_inactive`.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get(&self, id: ProductId, include_inactive: bool) -> Result<Product> {
        match self.repo.find(id).await? {
            Some(p) if p.is_active || include_inactive => Ok(p),
            _ => Err(Error::NotFound),
        }
    }

    /// Applies a partial update if the stored version satisfies `expected`.
    ///
    /// # Errors
    /// `Validation`, `NotFound`, `PreconditionFailed`, `Conflict(SkuTaken)`.
    #[instrument(skip_all, fields(product = %id))]
    pub async fn update(&self, id: ProductId, patch: ProductPatch, expected: &IfVersion) -> Result<Product> {
        let mut e = ValidationErrors::new();
        let changes = ProductChanges {
            sku: patch.sku.required("sku", &mut e, |s| Sku::parse(&s)),
            name: patch.name.required("name", &mut e, |n| ProductName::parse(&n)),
            description: patch.description.nullable("description", &mut e, |d| Description::parse(&d)),
            price_cents: patch.price_cents.required("price_cents", &mut e, price_cents),
            currency: patch.currency.required("currency", &mut e, |c| Currency::parse(&c)),
            category: patch.category.required("category", &mut e, |c| Category::parse(&c)),
            stock: patch.stock.required("stock", &mut e, stock),
            is_active: patch.is_active.required("is_active", &mut e, Ok),
        };
        e.into_result()?;
        if changes.is_empty() {
            let product = self.get(id, true).await?;
            return if expected.allows(product.version) { Ok(product) } else { Err(Error::PreconditionFailed) };
        }
        self.repo.update(id, &changes, expected, now()).await?.into_result()
    }

    /// Deletes a product if the stored version satisfies `expected`.
    ///
    /// # Errors
    /// `NotFound`, `PreconditionFailed`.
    pub async fn delete(&self, id: ProductId, expected: &IfVersion) -> Result<()> {
        self.repo.delete(id, expected).await?.into_result()
    }

    /// A page of products.
    ///
    /// # Errors
    /// `Validation` for a cursor of another sort order.
    pub async fn list(&self, query: &ProductQuery) -> Result<Page<Product>> {
        if let Start::After(position) = &query.page.start {
            position
                .check(&query.sort)
                .map_err(|e| Error::Validation(ValidationErrors::single(e.field, e.code, e.message)))?;
        }
        Ok(self.repo.list(query).await?)
    }

    /// Adds `delta` to the stock in one atomic statement, so concurrent
    /// adjustments add up exactly and never take the stock below zero.
    ///
    /// # Errors
    /// `Validation` (delta 0 or beyond ±1 000 000, reason 1–200 characters),
    /// `NotFound`, `InsufficientStock`, `Conflict(StockLimit)`.
    #[instrument(skip_all, fields(product = %id, delta = adjustment.delta))]
    pub async fn adjust_stock(&self, id: ProductId, adjustment: StockAdjustment) -> Result<Product> {
        let mut e = ValidationErrors::new();
        if adjustment.delta == 0 || adjustment.delta.abs() > super::MAX_STOCK {
            e.push(FieldError::new("delta", "range", "must be non-zero and between -1000000 and 1000000"));
        }
        let reason = adjustment.reason.trim();
        let n = reason.chars().count();
        if n == 0 || n > 200 {
            e.push(FieldError::new("reason", "length", "must be 1 to 200 characters"));
        }
        e.into_result()?;
        match self.repo.adjust_stock(id, adjustment.delta, reason, now()).await? {
            Adjusted::Done(p) => Ok(*p),
            Adjusted::NotFound => Err(Error::NotFound),
            Adjusted::Insufficient => Err(Error::InsufficientStock),
            Adjusted::AboveLimit => Err(Error::Conflict(Conflict::StockLimit)),
        }
    }
}
