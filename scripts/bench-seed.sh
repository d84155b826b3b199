#!/usr/bin/env bash
# Seeds a migrated Rivet database for `scripts/bench.sh` with a realistic
# volume, in SQL (seconds, where the API would take minutes at production
# bcrypt cost):
#
#   - 1,000 users: the bench account (created before with `rivet user
#     create`, so its password hash is real) and 999 more sharing its hash;
#   - 100,000 todos, 1,000 of them the bench account's, each with two tags,
#     spread over statuses, priorities, due dates and creation times;
#   - 10,000 products over 25 categories, nine in ten active.
#
# (SQLite's || binds tighter than %, hence the parentheses.)
#
# Ids are fixed patterns so the load scripts know them without asking:
# user n  a0000000-0000-4000-8000-<n, 12 digits>
# todo n  b0000000-0000-4000-8000-<n, 12 digits> (n <= 1000: the bench account's)
# product c0000000-0000-4000-8000-<n, 12 digits>
#
# Usage: scripts/bench-seed.sh postgres URL | sqlite FILE   (BENCH_EMAIL: the bench account)
set -euo pipefail
kind=$1
target=$2
email=${BENCH_EMAIL:-bench@example.com}
users=999
todos=100000
products=10000

case "$kind" in
postgres)
  psql -qX -v ON_ERROR_STOP=1 "$target" <<SQL
BEGIN;
INSERT INTO users (id, email, full_name, password_hash, role, is_active, email_verified, created_at, updated_at, version)
SELECT ('a0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'seed-' || n || '@example.com',
       'Seed User ' || n, b.password_hash, 'user', true, true,
       now() - n * interval '1 minute', now() - n * interval '1 minute', 1
FROM generate_series(1, $users) n, (SELECT password_hash FROM users WHERE email = '$email') b;

INSERT INTO todos (id, owner_id, title, description, status, priority, due_date, completed_at, created_at, updated_at, version)
SELECT ('b0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       CASE WHEN n <= 1000 THEN b.id
            ELSE ('a0000000-0000-4000-8000-' || lpad((n % $users + 1)::text, 12, '0'))::uuid END,
       'Todo number ' || n,
       CASE WHEN n % 3 = 0 THEN 'A longer description of todo number ' || n || ', as people write them.' END,
       (ARRAY['pending', 'in_progress', 'done'])[n % 3 + 1], n % 4,
       CASE WHEN n % 2 = 0 THEN current_date + (n % 60 - 30) END,
       CASE WHEN n % 3 = 2 THEN now() - n * interval '1 second' END,
       now() - n * interval '1 second', now() - n * interval '1 second', 1
FROM generate_series(1, $todos) n, (SELECT id FROM users WHERE email = '$email') b;

INSERT INTO todo_tags (todo_id, tag)
SELECT ('b0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, t
FROM generate_series(1, $todos) n, LATERAL (VALUES ('tag-' || (n % 20)), ('area-' || (n % 7))) v(t);

INSERT INTO products (id, sku, name, description, price_cents, currency, category, stock, is_active, image_url,
                      created_at, updated_at, version)
SELECT ('c0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'SKU-' || lpad(n::text, 6, '0'),
       'Product ' || n, 'Product number ' || n || ' of the bench catalogue.', (n * 7919) % 100000, 'EUR',
       'cat-' || (n % 25), n % 1000, n % 10 <> 0, NULL,
       now() - n * interval '1 second', now() - n * interval '1 second', 1
FROM generate_series(1, $products) n;
COMMIT;
VACUUM ANALYZE;
SQL
  ;;
sqlite)
  stamp="strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || n || ' seconds') || '.000000Z'"
  sqlite3 -bail "$target" <<SQL
PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $users)
INSERT INTO users (id, email, full_name, password_hash, role, is_active, email_verified, created_at, updated_at, version)
SELECT 'a0000000-0000-4000-8000-' || printf('%012d', n), 'seed-' || n || '@example.com', 'Seed User ' || n,
       (SELECT password_hash FROM users WHERE email = '$email'), 'user', 1, 1,
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || n || ' minutes') || '.000000Z',
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || n || ' minutes') || '.000000Z', 1
FROM s;

WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $todos)
INSERT INTO todos (id, owner_id, title, description, status, priority, due_date, completed_at, created_at, updated_at, version)
SELECT 'b0000000-0000-4000-8000-' || printf('%012d', n),
       CASE WHEN n <= 1000 THEN (SELECT id FROM users WHERE email = '$email')
            ELSE 'a0000000-0000-4000-8000-' || printf('%012d', n % $users + 1) END,
       'Todo number ' || n,
       CASE WHEN n % 3 = 0 THEN 'A longer description of todo number ' || n || ', as people write them.' END,
       CASE n % 3 WHEN 0 THEN 'pending' WHEN 1 THEN 'in_progress' ELSE 'done' END, n % 4,
       CASE WHEN n % 2 = 0 THEN date('now', (n % 60 - 30) || ' days') END,
       CASE WHEN n % 3 = 2 THEN $stamp END,
       $stamp, $stamp, 1
FROM s;

WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $todos)
INSERT INTO todo_tags (todo_id, tag)
SELECT 'b0000000-0000-4000-8000-' || printf('%012d', n), 'tag-' || (n % 20) FROM s
UNION ALL
SELECT 'b0000000-0000-4000-8000-' || printf('%012d', n), 'area-' || (n % 7) FROM s;

WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $products)
INSERT INTO products (id, sku, name, description, price_cents, currency, category, stock, is_active, image_url,
                      created_at, updated_at, version)
SELECT 'c0000000-0000-4000-8000-' || printf('%012d', n), 'SKU-' || printf('%06d', n), 'Product ' || n,
       'Product number ' || n || ' of the bench catalogue.', (n * 7919) % 100000, 'EUR', 'cat-' || (n % 25),
       n % 1000, n % 10 <> 0, NULL, $stamp, $stamp, 1
FROM s;
COMMIT;
ANALYZE;
SQL
  ;;
*)
  echo "usage: $0 postgres URL | sqlite FILE" >&2
  exit 2
  ;;
esac
