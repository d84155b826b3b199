//! Rivet's product use cases over a repository this example defines itself,
//! in memory: the domain's ports are implementable outside Rivet's
//! persistence crate, and every rule (SKU format, ISO 4217 currency, the
//! stock floor) still holds. Run with
//! `cargo run -p rivet-domain --example in_memory_catalogue`.

use async_trait::async_trait;
use rivet_domain::collection::{Page, PageRequest, Sort};
use rivet_domain::error::RepoError;
use rivet_domain::ports::{ProductRepository, Updated};
use rivet_domain::product::{
    Adjusted, NewProduct, NewProductInput, Product, ProductChanges, ProductFilter, ProductId, ProductQuery,
    ProductSort, Products, StockAdjustment,
};
use rivet_domain::time::Timestamp;
use rivet_domain::version::IfVersion;
use std::sync::{Arc, Mutex};

/// Products in a vector behind a lock: enough for a demo or a unit test.
#[derive(Default)]
struct InMemory(Mutex<Vec<Product>>);

impl InMemory {
    fn rows(&self) -> std::sync::MutexGuard<'_, Vec<Product>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl ProductRepository for InMemory {
    async fn insert(&self, p: NewProduct) -> Result<Product, RepoError> {
        let mut rows = self.rows();
        if rows.iter().any(|r| r.sku == p.sku) {
            return Err(RepoError::Conflict(rivet_domain::Conflict::SkuTaken));
        }
        let product = Product {
            id: p.id,
            sku: p.sku,
            name: p.name,
            description: p.description,
            price_cents: p.price_cents,
            currency: p.currency,
            category: p.category,
            stock: p.stock,
            is_active: p.is_active,
            image_url: None,
            created_at: p.created_at,
            updated_at: p.created_at,
            version: 1,
        };
        rows.push(product.clone());
        Ok(product)
    }

    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError> {
        Ok(self.rows().iter().find(|p| p.id == id).cloned())
    }

    async fn update(
        &self,
        id: ProductId,
        changes: &ProductChanges,
        expected: &IfVersion,
        now: Timestamp,
    ) -> Result<Updated<Product>, RepoError> {
        let mut rows = self.rows();
        let Some(p) = rows.iter_mut().find(|p| p.id == id) else { return Ok(Updated::NotFound) };
        if !expected.allows(p.version) {
            return Ok(Updated::Stale);
        }
        if let Some(name) = &changes.name {
            p.name = name.clone();
        }
        if let Some(price) = changes.price_cents {
            p.price_cents = price;
        }
        p.updated_at = now;
        p.version += 1;
        Ok(Updated::Done(p.clone()))
    }

    async fn delete(&self, id: ProductId, expected: &IfVersion) -> Result<Updated<()>, RepoError> {
        let mut rows = self.rows();
        match rows.iter().position(|p| p.id == id) {
            None => Ok(Updated::NotFound),
            Some(i) if !expected.allows(rows[i].version) => Ok(Updated::Stale),
            Some(i) => {
                rows.remove(i);
                Ok(Updated::Done(()))
            }
        }
    }

    async fn list(&self, query: &ProductQuery) -> Result<Page<Product>, RepoError> {
        let mut items: Vec<Product> =
            self.rows().iter().filter(|p| query.filter.include_inactive || p.is_active).cloned().collect();
        items.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        items.truncate(query.page.limit as usize);
        Ok(Page { items, next: None, total: None })
    }

    async fn adjust_stock(
        &self,
        id: ProductId,
        delta: i64,
        _reason: &str,
        now: Timestamp,
    ) -> Result<Adjusted, RepoError> {
        let mut rows = self.rows();
        let Some(p) = rows.iter_mut().find(|p| p.id == id) else { return Ok(Adjusted::NotFound) };
        let stock = p.stock + delta;
        if stock < 0 {
            return Ok(Adjusted::Insufficient);
        }
        p.stock = stock;
        p.updated_at = now;
        p.version += 1;
        Ok(Adjusted::Done(Box::new(p.clone())))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), rivet_domain::Error> {
    let products = Products::new(Arc::new(InMemory::default()));

    let hammer = products
        .create(NewProductInput {
            sku: "ham-001".into(),
            name: "Claw hammer".into(),
            price_cents: 1299,
            currency: "eur".into(),
            category: "tools".into(),
            stock: Some(5),
            ..NewProductInput::default()
        })
        .await?;
    println!("created {} ({}), {} in stock", hammer.sku.as_str(), hammer.currency.as_str(), hammer.stock);

    // The domain's rules apply whatever the storage: an unknown currency is refused.
    let refused = products
        .create(NewProductInput { sku: "X-1".into(), currency: "XYZ".into(), ..NewProductInput::default() })
        .await;
    println!("an invalid product is refused: {}", refused.map(|_| "accepted").unwrap_or_else(|_| "refused"));

    let sold = products.adjust_stock(hammer.id, StockAdjustment { delta: -2, reason: "order 1042".into() }).await?;
    println!("after selling two: {} in stock", sold.stock);
    let oversold = products.adjust_stock(hammer.id, StockAdjustment { delta: -10, reason: "order 1043".into() }).await;
    println!("selling ten more: {:?}", oversold.err().map(|e| e.to_string()));

    let page_request = PageRequest::new(None, None, None, false).map_err(rivet_domain::Error::Validation)?;
    let query =
        ProductQuery { filter: ProductFilter::default(), sort: Sort::by(ProductSort::Name, false), page: page_request };
    let page = products.list(&query).await?;
    println!("the catalogue lists {} product(s)", page.items.len());
    assert_eq!((sold.stock, page.items.len()), (3, 1));
    Ok(())
}
