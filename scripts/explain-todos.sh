#!/usr/bin/env bash
# Seeds 100,000 todos (50 users × 2,000, three tags each) into a scratch
# PostgreSQL database migrated by `rivet migrate`, then prints EXPLAIN
# (ANALYZE, BUFFERS) for the todo list queries as the repository issues them
# (owner scope, filter, sort, id tie-breaker, LIMIT page+1). Writes
# docs/query-plans.md. Usage: scripts/explain-todos.sh [path/to/rivet]
set -euo pipefail
cd "$(dirname "$0")/.."
RIVET=${1:-target/release/rivet}
ADMIN=${RIVET_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=rivet_explain
URL="${ADMIN%/*}/$DB"
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
trap 'psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
DATABASE_URL="$URL" RIVET_ENV=test "$RIVET" migrate >/dev/null
psql "$URL" -q <<'SQL'
INSERT INTO users (id, email, password_hash, role, created_at, updated_at)
SELECT gen_random_uuid(), 'user' || u || '@example.com', 'x', 'user', now(), now() FROM generate_series(1, 50) u;
INSERT INTO todos (id, owner_id, title, description, status, priority, due_date, completed_at, created_at, updated_at)
SELECT gen_random_uuid(), u.id, 'todo ' || n, CASE WHEN n % 3 = 0 THEN 'notes about item ' || n END,
       (ARRAY['pending','in_progress','done'])[1 + n % 3], n % 4,
       CASE WHEN n % 5 = 0 THEN NULL ELSE current_date + (n % 90) - 30 END,
       CASE WHEN n % 3 = 2 THEN now() - (n % 20) * interval '1 day' END,
       now() - n * interval '1 minute', now() - n * interval '1 minute'
FROM users u CROSS JOIN generate_series(1, 2000) n;
INSERT INTO todo_tags (todo_id, tag) SELECT id, t FROM todos, unnest(ARRAY['all', 'p' || priority, 's' || length(status)]) t;
ANALYZE;
SQL
OWNER=$(psql "$URL" -Atc "SELECT id FROM users ORDER BY email LIMIT 1")
COLS='"todos"."id", "todos"."owner_id", "todos"."title", "todos"."description", "todos"."status", "todos"."priority", "todos"."due_date", "todos"."completed_at", "todos"."created_at", "todos"."updated_at", "todos"."version"'
declare -a NAMES QUERIES
add() { NAMES+=("$1"); QUERIES+=("$2"); }
add "first page, default sort (-created_at)" \
  "SELECT $COLS FROM todos WHERE owner_id = '$OWNER' ORDER BY created_at DESC, id DESC LIMIT 21"
add "next page by cursor (-created_at)" \
  "SELECT $COLS FROM todos WHERE owner_id = '$OWNER' AND (created_at < now() - interval '500 minutes' OR (created_at = now() - interval '500 minutes' AND id < '00000000-0000-0000-0000-000000000000')) ORDER BY created_at DESC, id DESC LIMIT 21"
add "status filter, sort by priority rank (-priority)" \
  "SELECT $COLS FROM todos WHERE owner_id = '$OWNER' AND status IN ('pending', 'in_progress') ORDER BY priority DESC, id DESC LIMIT 21"
add "sort by due date, undated last" \
  "SELECT $COLS FROM todos WHERE owner_id = '$OWNER' ORDER BY COALESCE(\"todos\".\"due_date\", '9999-12-31') ASC, id ASC LIMIT 21"
add "overdue=true" \
  "SELECT $COLS FROM todos WHERE owner_id = '$OWNER' AND due_date < current_date AND status <> 'done' ORDER BY created_at DESC, id DESC LIMIT 21"
add "tag filter" \
  "SELECT $COLS FROM todos WHERE owner_id = '$OWNER' AND id IN (SELECT todo_id FROM todo_tags WHERE tag = 'p3') ORDER BY created_at DESC, id DESC LIMIT 21"
add "text search q (title, description)" \
  "SELECT $COLS FROM todos WHERE owner_id = '$OWNER' AND (lower(title) LIKE '%item 1%' ESCAPE '\\' OR lower(COALESCE(description, '')) LIKE '%item 1%' ESCAPE '\\') ORDER BY created_at DESC, id DESC LIMIT 21"
add "tags of one page (batched)" \
  "SELECT todo_id, tag FROM todo_tags WHERE todo_id IN (SELECT id FROM todos WHERE owner_id = '$OWNER' ORDER BY created_at DESC LIMIT 20) ORDER BY todo_id, tag"
add "statistics: counts by status" \
  "SELECT status, count(*) FROM todos WHERE owner_id = '$OWNER' GROUP BY status"
OUT=docs/query-plans.md
{
  echo "# Query plans of the todo list (PostgreSQL, 100,000 todos)"
  echo
  echo "Produced by \`scripts/explain-todos.sh\` on $(date -u +%Y-%m-%d) ($(psql "$URL" -Atc 'SHOW server_version'), $(nproc) cores):"
  echo "50 users × 2,000 todos, three tags each; every query is scoped to one owner,"
  echo "as the API's are. Each plan below is \`EXPLAIN (ANALYZE, BUFFERS)\` of the query"
  echo "the repository issues for that request."
  echo
  echo "| request | index used | execution time |"
  echo "|---|---|---|"
  for i in "${!NAMES[@]}"; do
    plan=$(psql "$URL" -Atc "EXPLAIN (ANALYZE, BUFFERS) ${QUERIES[$i]}")
    index=$(grep -oE 'Index (Only )?Scan( Backward)? using [a-z_]+|Bitmap Index Scan on [a-z_]+' <<<"$plan" | sed -E 's/.* (using|on) //' | sort -u | paste -sd, - || true)
    time=$(grep -oE 'Execution Time: [0-9.]+ ms' <<<"$plan" | sed 's/Execution Time: //')
    echo "| ${NAMES[$i]} | ${index:-none} | $time |"
  done
  echo
  for i in "${!NAMES[@]}"; do
    echo "## ${NAMES[$i]}"
    echo
    echo '```sql'
    echo "${QUERIES[$i]}" | sed "s/$COLS/<todo columns>/"
    echo '```'
    echo '```'
    psql "$URL" -Atc "EXPLAIN (ANALYZE, BUFFERS) ${QUERIES[$i]}"
    echo '```'
    echo
  done
} > "$OUT"
echo "wrote $OUT"
