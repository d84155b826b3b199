//! Product bodies.

use crate::extract::Patch;
use chrono::{DateTime, Utc};
use rivet_domain::product::Product;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A product as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProductBody {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub price_cents: i64,
    pub currency: String,
    pub category: String,
    pub stock: i64,
    pub is_active: bool,
    pub image_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Product> for ProductBody {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.0,
            sku: p.sku.as_str().to_owned(),
            name: p.name.as_str().to_owned(),
            description: p.description.map(|d| d.as_str().to_owned()),
            price_cents: p.price_cents,
            currency: p.currency.as_str().to_owned(),
            category: p.category.as_str().to_owned(),
            stock: p.stock,
            is_active: p.is_active,
            image_url: p.image_url,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// `POST /products`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub price_cents: i64,
    pub currency: String,
    pub category: String,
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// `PATCH /products/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateProduct {
    pub sku: Patch<String>,
    pub name: Patch<String>,
    pub description: Patch<String>,
    pub price_cents: Patch<i64>,
    pub currency: Patch<String>,
    pub category: Patch<String>,
    pub stock: Patch<i64>,
    pub is_active: Patch<bool>,
}

/// `POST /products/{id}/stock-adjustments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustStock {
    pub delta: i64,
    pub reason: String,
}

/// Filters of `GET /products`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductFilterParams {
    /// Holders of `products:write` only.
    pub include_inactive: Option<bool>,
    pub category: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    pub q: Option<String>,
    pub currency: Option<String>,
}
