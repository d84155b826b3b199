//! Product rows and their conversion to domain products.

use crate::error::Error;
use crate::schema::products;
use crate::types::{DbTime, DbUuid};
use diesel::prelude::*;
use rivet_domain::product::{Category, Currency, NewProduct, Product, ProductChanges, ProductId, ProductName, Sku};
use rivet_domain::todo::Description;

/// A `products` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = products)]
#[cfg_attr(
    all(feature = "postgres", feature = "sqlite"),
    diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))
)]
pub(crate) struct ProductRow {
    pub id: DbUuid,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub price_cents: i64,
    pub currency: String,
    pub category: String,
    pub stock: i64,
    pub is_active: bool,
    pub image_url: Option<String>,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub version: i64,
}

impl ProductRow {
    pub fn into_product(self) -> Result<Product, Error> {
        Ok(Product {
            id: ProductId(self.id.0),
            sku: Sku::from_trusted(self.sku),
            name: ProductName::from_trusted(self.name),
            description: self.description.map(Description::from_trusted),
            price_cents: self.price_cents,
            currency: Currency::from_trusted(self.currency),
            category: Category::from_trusted(self.category),
            stock: self.stock,
            is_active: self.is_active,
            image_url: self.image_url,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            version: self.version,
        })
    }
}

/// A product to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = products)]
pub(crate) struct NewProductRow<'a> {
    pub id: DbUuid,
    pub sku: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub price_cents: i64,
    pub currency: &'a str,
    pub category: &'a str,
    pub stock: i64,
    pub is_active: bool,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

impl<'a> From<&'a NewProduct> for NewProductRow<'a> {
    fn from(p: &'a NewProduct) -> Self {
        Self {
            id: DbUuid(p.id.0),
            sku: p.sku.as_str(),
            name: p.name.as_str(),
            description: p.description.as_ref().map(Description::as_str),
            price_cents: p.price_cents,
            currency: p.currency.as_str(),
            category: p.category.as_str(),
            stock: p.stock,
            is_active: p.is_active,
            created_at: DbTime(p.created_at),
            updated_at: DbTime(p.created_at),
        }
    }
}

/// Column changes of an update.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = products)]
pub(crate) struct ProductChangeset<'a> {
    pub sku: Option<&'a str>,
    pub name: Option<&'a str>,
    pub description: Option<Option<&'a str>>,
    pub price_cents: Option<i64>,
    pub currency: Option<&'a str>,
    pub category: Option<&'a str>,
    pub stock: Option<i64>,
    pub is_active: Option<bool>,
}

impl<'a> From<&'a ProductChanges> for ProductChangeset<'a> {
    fn from(c: &'a ProductChanges) -> Self {
        Self {
            sku: c.sku.as_ref().map(Sku::as_str),
            name: c.name.as_ref().map(ProductName::as_str),
            description: c.description.as_ref().map(|d| d.as_ref().map(Description::as_str)),
            price_cents: c.price_cents,
            currency: c.currency.as_ref().map(Currency::as_str),
            category: c.category.as_ref().map(Category::as_str),
            stock: c.stock,
            is_active: c.is_active,
        }
    }
}
