-- Todos and their tags (SQLite): UUIDs and timestamps as in the accounts
-- migration, due dates as YYYY-MM-DD text. `priority` stores the rank
-- (0 low … 3 urgent) so that sorting by it sorts by urgency.
CREATE TABLE todos (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    description  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'done')),
    priority     INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),
    due_date     TEXT,
    completed_at TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
-- One index per sort order the API offers, each led by the owner (every
-- query is owner-scoped) and ending in the id tie-breaker of the keyset.
CREATE INDEX todos_owner_created_idx ON todos (owner_id, created_at, id);
CREATE INDEX todos_owner_updated_idx ON todos (owner_id, updated_at, id);
CREATE INDEX todos_owner_due_idx ON todos (owner_id, (COALESCE(due_date, '9999-12-31')), id);
CREATE INDEX todos_owner_priority_idx ON todos (owner_id, priority, id);
CREATE INDEX todos_owner_title_idx ON todos (owner_id, title, id);
-- Filters and statistics.
CREATE INDEX todos_owner_status_due_idx ON todos (owner_id, status, due_date);
CREATE INDEX todos_owner_completed_idx ON todos (owner_id, completed_at);

CREATE TABLE todo_tags (
    todo_id TEXT NOT NULL REFERENCES todos (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (todo_id, tag)
);
CREATE INDEX todo_tags_tag_idx ON todo_tags (tag, todo_id);
