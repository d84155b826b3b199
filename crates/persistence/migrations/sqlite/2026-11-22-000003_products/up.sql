-- The product catalogue and its stock ledger (SQLite types as in the
-- accounts migration). The CHECK constraints repeat the domain's ranges.
CREATE TABLE products (
    id          TEXT PRIMARY KEY,
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    price_cents INTEGER NOT NULL CHECK (price_cents BETWEEN 0 AND 100000000),
    currency    TEXT NOT NULL CHECK (length(currency) = 3),
    category    TEXT NOT NULL,
    stock       INTEGER NOT NULL CHECK (stock BETWEEN 0 AND 1000000),
    is_active   INTEGER NOT NULL DEFAULT 1,
    image_url   TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT products_sku_key UNIQUE (sku)
);
-- Public lists see active products only: each sort order the API offers is
-- indexed behind the active flag, ending in the id tie-breaker.
CREATE INDEX products_active_name_idx ON products (is_active, name, id);
CREATE INDEX products_active_price_idx ON products (is_active, price_cents, id);
CREATE INDEX products_active_created_idx ON products (is_active, created_at, id);
CREATE INDEX products_active_stock_idx ON products (is_active, stock, id);
CREATE INDEX products_category_idx ON products (category, is_active, name);
CREATE INDEX products_currency_idx ON products (currency, is_active);

CREATE TABLE stock_adjustments (
    id          TEXT PRIMARY KEY,
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    delta       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    stock_after INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX stock_adjustments_product_idx ON stock_adjustments (product_id, created_at);
