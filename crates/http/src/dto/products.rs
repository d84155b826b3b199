//! Product bodies.

use super::sets;
use crate::extract::Patch;
use chrono::{DateTime, Utc};
use rivet_domain::product::Product;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A product as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = Product)]
pub struct ProductBody {
    pub id: Uuid,
    #[schema(value_type = sets::Sku, example = "HAM-001")]
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub price_cents: i64,
    #[schema(value_type = sets::Currency, example = "EUR")]
    pub currency: String,
    pub category: String,
    pub stock: i64,
    pub is_active: bool,
    pub image_url: Option<String>,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
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
    #[schema(value_type = sets::Sku, example = "HAM-001")]
    pub sku: String,
    #[schema(example = "Claw hammer", min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[schema(example = 1299, minimum = 0, maximum = 100000000)]
    pub price_cents: i64,
    #[schema(value_type = sets::Currency, example = "EUR")]
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
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    #[schema(value_type = sets::Sku)]
    #[serde(default)]
    pub sku: Patch<String>,
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    #[serde(default)]
    pub name: Patch<String>,
    /// `null` clears it.
    #[schema(value_type = Option<String>, max_length = 10000)]
    #[serde(default)]
    pub description: Patch<String>,
    #[schema(value_type = i64, minimum = 0, maximum = 100000000)]
    #[serde(default)]
    pub price_cents: Patch<i64>,
    #[schema(value_type = sets::Currency)]
    #[serde(default)]
    pub currency: Patch<String>,
    #[schema(value_type = String, min_length = 1, max_length = 64)]
    #[serde(default)]
    pub category: Patch<String>,
    #[schema(value_type = i64, minimum = 0, maximum = 1000000)]
    #[serde(default)]
    pub stock: Patch<i64>,
    #[schema(value_type = bool)]
    #[serde(default)]
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
    #[param(minimum = 0, maximum = 100000000)]
    pub min_price: Option<i64>,
    #[param(minimum = 0, maximum = 100000000)]
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    /// Case-insensitive substring of the name, the description or the SKU.
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(value_type = Option<sets::Currency>)]
    pub currency: Option<String>,
}

impl crate::collection::Filters for ProductFilterParams {}
