-- The product catalogue, and a ledger of stock adjustments. The CHECK
-- constraints repeat the domain's ranges so no write can break them.
CREATE TABLE products (
    id          UUID PRIMARY KEY,
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    price_cents BIGINT NOT NULL CHECK (price_cents BETWEEN 0 AND 100000000),
    currency    TEXT NOT NULL CHECK (length(currency) = 3),
    category    TEXT NOT NULL,
    stock       BIGINT NOT NULL CHECK (stock BETWEEN 0 AND 1000000),
    is_active   BOOLEAN NOT NULL DEFAULT TRUE,
    image_url   TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
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
    id          UUID PRIMARY KEY,
    product_id  UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    delta       BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    stock_after BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX stock_adjustments_product_idx ON stock_adjustments (product_id, created_at);
