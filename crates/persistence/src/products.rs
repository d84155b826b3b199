//! The product repository: writes, reads and atomic stock adjustments.
//! Lists are in `product_list.rs`.

use crate::db::Database;
use crate::error::Result;
use crate::product_rows::{NewProductRow, ProductChangeset, ProductRow};
use crate::schema::{products, stock_adjustments};
use crate::todos::versions;
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::RepoError;
use rivet_domain::collection::Page;
use rivet_domain::events::{EventType, NewEvent};
use rivet_domain::ports::{ProductRepository, Updated};
use rivet_domain::product::{Adjusted, MAX_STOCK, NewProduct, Product, ProductChanges, ProductId, ProductQuery};
use rivet_domain::time::Timestamp;
use rivet_domain::time::now;
use rivet_domain::version::IfVersion;
use tracing::instrument;

/// Products in the database.
#[derive(Debug, Clone)]
pub struct ProductStore {
    pub(crate) db: Database,
}

impl ProductStore {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ProductRepository for ProductStore {
    #[instrument(skip_all)]
    async fn insert(&self, product: NewProduct) -> Result<Product, RepoError> {
        let row = NewProductRow::from(&product);
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let stored: ProductRow = diesel::insert_into(products::table)
                    .values(&row)
                    .returning(ProductRow::as_returning())
                    .get_result(c)
                    .await?;
                let event = NewEvent::product(
                    EventType::ProductCreated,
                    product.id.0,
                    stored.version,
                    None,
                    product.created_at,
                );
                sql::record(c, &[event]).await?;
                stored.into_product()
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError> {
        Ok(with_conn!(read self.db, |conn| {
            let row: Option<ProductRow> =
                products::table.find(DbUuid(id.0)).select(ProductRow::as_select()).first(conn).await.optional()?;
            row.map(ProductRow::into_product).transpose()
        })?)
    }

    #[instrument(skip_all)]
    async fn update(
        &self,
        id: ProductId,
        changes: &ProductChanges,
        expected: &IfVersion,
        now: Timestamp,
    ) -> Result<Updated<Product>, RepoError> {
        let (key, set, allowed) = (DbUuid(id.0), ProductChangeset::from(changes), versions(expected));
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let mut update = diesel::update(products::table).filter(products::id.eq(key)).into_boxed();
                if let Some(allowed) = allowed {
                    update = update.filter(products::version.eq_any(allowed));
                }
                let row: Option<ProductRow> = update
                    .set((&set, products::version.eq(products::version + 1i64), products::updated_at.eq(DbTime(now))))
                    .returning(ProductRow::as_returning())
                    .get_result(c)
                    .await
                    .optional()?;
                match row {
                    Some(row) => {
                        sql::record(c, &[NewEvent::product(EventType::ProductUpdated, id.0, row.version, None, now)])
                            .await?;
                        Ok(Updated::Done(row.into_product()?))
                    }
                    None => {
                        let exists: Option<i64> =
                            products::table.find(key).select(products::version).first(c).await.optional()?;
                        Ok(if exists.is_some() { Updated::Stale } else { Updated::NotFound })
                    }
                }
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn delete(&self, id: ProductId, expected: &IfVersion) -> Result<Updated<()>, RepoError> {
        let key = DbUuid(id.0);
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let Some((version, image)) = sql::lock_product(c, key).await? else { return Ok(Updated::NotFound) };
                if !expected.allows(version) {
                    return Ok(Updated::Stale);
                }
                diesel::delete(products::table.find(key)).execute(c).await?;
                sql::delete_blobs_later(c, image.into_iter().collect()).await?;
                sql::record(c, &[NewEvent::product(EventType::ProductDeleted, id.0, version, None, now())]).await?;
                Ok(Updated::Done(()))
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn list(&self, query: &ProductQuery) -> Result<Page<Product>, RepoError> {
        Ok(self.list_products(query).await?)
    }

    /// One conditional UPDATE decides: concurrent adjustments serialise on
    /// the row (PostgreSQL re-checks the condition against the newest stock;
    /// SQLite has one writer), so they add up exactly and never go below 0.
    #[instrument(skip_all)]
    async fn adjust_stock(
        &self,
        id: ProductId,
        delta: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<Adjusted, RepoError> {
        let key = DbUuid(id.0);
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let row: Option<ProductRow> = diesel::update(products::table)
                    .filter(products::id.eq(key))
                    .filter((products::stock + delta).ge(0i64))
                    .filter((products::stock + delta).le(MAX_STOCK))
                    .set((
                        products::stock.eq(products::stock + delta),
                        products::version.eq(products::version + 1i64),
                        products::updated_at.eq(DbTime(now)),
                    ))
                    .returning(ProductRow::as_returning())
                    .get_result(c)
                    .await
                    .optional()?;
                let Some(row) = row else {
                    let stock: Option<i64> =
                        products::table.find(key).select(products::stock).first(c).await.optional()?;
                    return Ok(match stock {
                        None => Adjusted::NotFound,
                        Some(s) if s + delta < 0 => Adjusted::Insufficient,
                        Some(_) => Adjusted::AboveLimit,
                    });
                };
                diesel::insert_into(stock_adjustments::table)
                    .values((
                        stock_adjustments::id.eq(DbUuid(uuid::Uuid::now_v7())),
                        stock_adjustments::product_id.eq(key),
                        stock_adjustments::delta.eq(delta),
                        stock_adjustments::reason.eq(reason),
                        stock_adjustments::stock_after.eq(row.stock),
                        stock_adjustments::created_at.eq(DbTime(now)),
                    ))
                    .execute(c)
                    .await?;
                let event = NewEvent::product(EventType::ProductStockChanged, id.0, row.version, Some(row.stock), now);
                sql::record(c, &[event]).await?;
                Ok(Adjusted::Done(Box::new(row.into_product()?)))
            })
            .await
        }))?)
    }
}
