-- The last event position the purge removed: a stream resuming before it
-- may have missed events and is told to start over. One row.
CREATE TABLE event_horizon (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    tx  BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
INSERT INTO event_horizon (id, tx, seq) VALUES (1, -1, -1);

-- Single-use tickets for opening an event stream without a token in the
-- URL (EventSource cannot send headers). Only the hash is stored.
CREATE TABLE event_tickets (
    ticket_hash TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX event_tickets_expires_at_idx ON event_tickets (expires_at);
