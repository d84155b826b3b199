//! Listing products: one query per page (plus a count when asked).

use crate::error::{Error, Result};
use crate::keyset::{Condition, by, keyset_after};
use crate::product_rows::ProductRow;
use crate::products::ProductStore;
use crate::schema::products;
use crate::types::DbTime;
use crate::types::DbUuid;
use crate::with_conn;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rivet_domain::collection::{KeyValue, Page, Start};
use rivet_domain::product::{Product, ProductQuery, ProductSort};

fn corrupt(v: &KeyValue) -> Error {
    Error::Corrupt(format!("cursor value {v:?} does not fit its sort key"))
}

impl ProductStore {
    pub(crate) async fn list_products(&self, query: &ProductQuery) -> Result<Page<Product>> {
        let ProductQuery { filter, sort, page } = query;
        let (rows, total): (Vec<ProductRow>, Option<i64>) = with_conn!(read self.db, |conn, sql| {
            let mut q = sql::products_matching(products::table.select(ProductRow::as_select()).into_boxed(), filter);
            match &page.start {
                Start::First => {}
                Start::Offset(n) => q = q.offset(i64::from(*n)),
                Start::After(position) => {
                    let id = |op| by(products::id, DbUuid(position.id), op);
                    let compare = |key, v: &KeyValue, op| -> Result<Condition<products::table, sql::Db>> {
                        Ok(match (key, v) {
                            (ProductSort::PriceCents, KeyValue::Int(n)) => by(products::price_cents, *n, op),
                            (ProductSort::Stock, KeyValue::Int(n)) => by(products::stock, *n, op),
                            (ProductSort::Name, KeyValue::Text(s)) => by(products::name, s.clone(), op),
                            (ProductSort::CreatedAt, KeyValue::Time(t)) => by(products::created_at, DbTime(*t), op),
                            _ => return Err(corrupt(v)),
                        })
                    };
                    q = q.filter(keyset_after(sort, position, id, compare)?)
                }
            }
            for term in sort.terms() {
                q = match (term.key, term.descending) {
                    (ProductSort::PriceCents, false) => q.then_order_by(products::price_cents.asc()),
                    (ProductSort::PriceCents, true) => q.then_order_by(products::price_cents.desc()),
                    (ProductSort::Name, false) => q.then_order_by(products::name.asc()),
                    (ProductSort::Name, true) => q.then_order_by(products::name.desc()),
                    (ProductSort::CreatedAt, false) => q.then_order_by(products::created_at.asc()),
                    (ProductSort::CreatedAt, true) => q.then_order_by(products::created_at.desc()),
                    (ProductSort::Stock, false) => q.then_order_by(products::stock.asc()),
                    (ProductSort::Stock, true) => q.then_order_by(products::stock.desc()),
                };
            }
            q = if sort.id_descending() {
                q.then_order_by(products::id.desc())
            } else {
                q.then_order_by(products::id.asc())
            };
            let rows = q.limit(i64::from(page.limit) + 1).load(conn).await?;
            let total = if page.include_total {
                Some(
                    sql::products_matching(products::table.count().into_boxed(), filter)
                        .get_result::<i64>(conn)
                        .await?,
                )
            } else {
                None
            };
            Ok((rows, total))
        })?;
        let items = rows.into_iter().map(ProductRow::into_product).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page, sort, total))
    }
}
