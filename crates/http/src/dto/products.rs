//! Product bodies.

use crate::extract::Patch;
use chrono::{DateTime, Utc};
use rivet_domain::product::Product;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A product as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ProductBody {
    pub id: Uuid,
    #[schema(example = "HAM-001")]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// 3–32 of `A-Z`, `0-9`, `-` (upper-cased).
    #[schema(example = "HAM-001", min_length = 3, max_length = 32)]
    pub sku: String,
    #[schema(example = "Claw hammer", min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[schema(example = 1299, minimum = 0, maximum = 100000000)]
    pub price_cents: i64,
    /// ISO 4217.
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(example = "tools", min_length = 1, max_length = 64)]
    pub category: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// `PATCH /products/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateProduct {
    #[schema(value_type = Option<String>)]
    pub sku: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[schema(value_type = Option<i64>)]
    pub price_cents: Patch<i64>,
    #[schema(value_type = Option<String>)]
    pub currency: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub category: Patch<String>,
    #[schema(value_type = Option<i64>)]
    pub stock: Patch<i64>,
    #[schema(value_type = Option<bool>)]
    pub is_active: Patch<bool>,
}

/// `POST /products/{id}/stock-adjustments`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustStock {
    /// Non-zero, −1 000 000 to 1 000 000.
    #[schema(example = -2, minimum = -1000000, maximum = 1000000)]
    pub delta: i64,
    #[schema(example = "order 1042", min_length = 1, max_length = 200)]
    pub reason: String,
}

/// Filters of `GET /products`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
