-- The durable event log (see the PostgreSQL migration). SQLite has one
-- writer, which commits in id order, so every event's txid is 0.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    txid        INTEGER NOT NULL DEFAULT 0,
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    audience    TEXT,
    version     INTEGER,
    data        TEXT NOT NULL
);
CREATE INDEX events_position_idx ON events (txid, id);
CREATE INDEX events_occurred_at_idx ON events (occurred_at);
