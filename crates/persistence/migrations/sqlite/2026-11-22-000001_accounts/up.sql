-- Accounts and sessions (SQLite). UUIDs and timestamps are TEXT: UUIDs
-- hyphenated lower-case, timestamps RFC 3339 UTC with exactly six fractional
-- digits, so text order is time order. Written from Rust, never defaulted.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    full_name      TEXT,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('user', 'manager', 'admin')),
    is_active      INTEGER NOT NULL DEFAULT 1,
    email_verified INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_created_at_idx ON users (created_at, id);
CREATE INDEX users_role_active_idx ON users (role, is_active);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    last_used_at   TEXT,
    revoked_at     TEXT,
    revoked_reason TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Only the SHA-256 of a refresh token is kept. Used tokens stay until their
-- session goes, so a replay of any earlier token is recognised.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);

-- Named rows that a transaction updates first to serialise with others doing
-- the same (see rivet-persistence's `db::lock`). Portable: a row lock on
-- PostgreSQL, the database write lock on SQLite.
CREATE TABLE advisory_locks (
    name         TEXT PRIMARY KEY,
    acquisitions INTEGER NOT NULL DEFAULT 0
);
INSERT INTO advisory_locks (name) VALUES ('users.admins');
