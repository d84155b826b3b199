-- See the PostgreSQL migration.
CREATE TABLE event_horizon (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    tx  INTEGER NOT NULL,
    seq INTEGER NOT NULL
);
INSERT INTO event_horizon (id, tx, seq) VALUES (1, -1, -1);

CREATE TABLE event_tickets (
    ticket_hash TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at  TEXT NOT NULL
);
CREATE INDEX event_tickets_expires_at_idx ON event_tickets (expires_at);
