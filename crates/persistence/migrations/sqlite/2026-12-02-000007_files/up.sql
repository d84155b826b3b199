-- Files: todo attachments and product images (SQLite types as in the
-- accounts migration). A row refers to a blob in the configured store by a key Rivet generated; the blob is written before the
-- row, and deleted by a job enqueued in the transaction that deletes the row.
CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    todo_id      TEXT NOT NULL REFERENCES todos (id) ON DELETE CASCADE,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blob_key     TEXT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL CHECK (size_bytes > 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    created_at   TEXT NOT NULL,
    CONSTRAINT attachments_blob_key_key UNIQUE (blob_key)
);
CREATE INDEX attachments_todo_idx ON attachments (todo_id, created_at, id);
-- The quota sums an owner's attachments.
CREATE INDEX attachments_owner_idx ON attachments (owner_id);

-- A product's current image; replacing it enqueues the old blob's deletion.
CREATE TABLE product_images (
    product_id TEXT PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    blob_key   TEXT NOT NULL,
    image_type TEXT NOT NULL CHECK (image_type IN ('image/png', 'image/jpeg', 'image/webp')),
    size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
    sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
    updated_at TEXT NOT NULL,
    CONSTRAINT product_images_blob_key_key UNIQUE (blob_key)
);
