-- The durable event log, written in the transaction of each change. `txid`
-- is the writing transaction's id: readers return only events of
-- transactions older than every running one, in (txid, id) order, so a
-- transaction that took its id early but commits late is never skipped.
CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    txid        BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    type        TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    -- The todo's owner; NULL for events everyone may see.
    audience    UUID,
    version     BIGINT,
    data        TEXT NOT NULL
);
CREATE INDEX events_position_idx ON events (txid, id);
CREATE INDEX events_occurred_at_idx ON events (occurred_at);
