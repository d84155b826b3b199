#!/usr/bin/env bash
# `just bench`: what Rivet serves, side by side with what the database itself
# allows, in one run on one machine.
#
#   1. The floor: `pgbench -S -M prepared` (one indexed read per transaction)
#      on the same PostgreSQL at the same connection counts.
#   2. Rivet (the release binary) on a fresh PostgreSQL database and on a
#      fresh SQLite file, each seeded by scripts/bench-seed.sh (1,000 users,
#      100,000 todos with tags, 10,000 products), driven over loopback by wrk
#      (Debian) through fixed scenarios: todo by id, a page of todos, a
#      filtered todo list (status, tag, sort),
#      todo create, todo update with If-Match, the anonymous product list,
#      login at production bcrypt cost (12), /health/live, and todo by id
#      again with rate limiting on.
#   3. A connection sweep, 16 to 1,024 connections, on todo by id; then how
#      fast the server answers once it is over.
#
# Each row: requests/s, latency p50/p99/p99.9, non-2xx and 5xx answers,
# socket errors (connect, read, write, timeout), the server's CPU per 1,000
# requests, its peak resident memory during the run, and for PostgreSQL reads
# the ratio to the floor at the same connection count.
#
# Usage: scripts/bench.sh [--quick] [--backends both|postgres|sqlite] [--bin PATH] [--check] [--write]
#   --quick     2 s per run instead of 10 (the whole run well under 3 minutes)
#   --bin PATH  serve this binary instead of building the release one
#   --check     exit non-zero on any 5xx, socket error or server exit (CI)
#   --write     put the tables in docs/benchmarks.md (the default for a full run)
# Needs: wrk, psql and pgbench (PostgreSQL runs), sqlite3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/lib/postgresql/$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n1)/bin"

secs=10
backends=both
bin=""
check=false
write=""
while [ $# -gt 0 ]; do
  case "$1" in
  --quick) secs=2 ;;
  --backends) backends=$2; shift ;;
  --bin) bin=$2; shift ;;
  --check) check=true ;;
  --write) write=true ;;
  *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -z "$write" ] && { [ "$secs" = 10 ] && [ "$backends" = both ] && write=true || write=false; }
case "$backends" in both) run_pg=true run_sqlite=true ;; postgres) run_pg=true run_sqlite=false ;;
  sqlite) run_pg=false run_sqlite=true ;; *) echo "--backends both|postgres|sqlite" >&2; exit 2 ;; esac
tools=(wrk curl sqlite3)
$run_pg && tools+=(psql pgbench)
for tool in "${tools[@]}"; do command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }; done

ADMIN_URL=${RIVET_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=${RIVET_BENCH_PORT:-18070}
BASE="http://127.0.0.1:$PORT"
EMAIL=bench@example.com
PASSWORD="correct horse battery staple"
FLOOR_DB=rivet_bench_floor
DB=rivet_bench
THREADS=2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ -z "$bin" ]; then
  cargo build --release -q -p rivet-api-server --bin rivet
  bin=target/release/rivet
fi
work=$(mktemp -d /tmp/rivet-bench.XXXXXX)
server=""
failures=()
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  if $run_pg; then
    psql -qX "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS $FLOOR_DB WITH (FORCE)" \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# The peak resident set since the last reset (writing 5 to clear_refs resets
# VmHWM; where that is not allowed, the peak since the server started).
reset_peak() { echo 5 > "/proc/$1/clear_refs" 2>/dev/null || true; }
peak_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# ---- wrk scripts -----------------------------------------------------------
# Every scenario counts answers by class in each thread and prints one
# machine-readable line at the end.
cat > "$work/common.lua" <<'LUA'
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  s2, s3, s4, s5, s503 = 0, 0, 0, 0, 0
  math.randomseed(tid * 7919 + os.time())
  if prepare then prepare() end
end
function response(status, headers, body)
  if status < 300 then s2 = s2 + 1
  elseif status < 400 then s3 = s3 + 1
  elseif status < 500 then s4 = s4 + 1
  else
    s5 = s5 + 1
    if status == 503 then s503 = s503 + 1 end
  end
  if observe then observe(status, body) end
end
function done(summary, latency, requests)
  local t = { s2 = 0, s3 = 0, s4 = 0, s5 = 0, s503 = 0 }
  for _, thread in ipairs(threads) do
    for k in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d elapsed=%.3f p50=%d p99=%d p999=%d sock=%d s2=%d s3=%d s4=%d s5=%d s503=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), e.connect + e.read + e.write + e.timeout, t.s2, t.s3, t.s4, t.s5, t.s503))
end
auth = { ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or ""), ["Content-Type"] = "application/json" }
LUA
script() { # name, then the Lua body
  { cat "$work/common.lua"; cat; } > "$work/$1.lua"
}
script by_id <<'LUA'
function request()
  return wrk.format("GET", string.format("/api/v1/todos/b0000000-0000-4000-8000-%012d", math.random(1, 1000)), auth)
end
LUA
script page <<'LUA'
wrk.method = "GET"
wrk.path = "/api/v1/todos?limit=20"
wrk.headers = auth
LUA
script list <<'LUA'
wrk.method = "GET"
wrk.path = "/api/v1/todos?status=pending,in_progress&tag=tag-3&sort=-created_at&limit=20"
wrk.headers = auth
LUA
script create <<'LUA'
wrk.method = "POST"
wrk.path = "/api/v1/todos"
wrk.headers = auth
wrk.body = '{"title":"Written by the bench","description":"A todo like the ones people write.","priority":"high","tags":["bench","tag-3"]}'
LUA
# Each thread updates its own slice of the bench account's todos in turn,
# sending the version it last saw as If-Match: a slice is far larger than
# the thread's connections, so a todo is never updated twice at once.
script update <<'LUA'
function prepare()
  slice = tonumber(os.getenv("SLICE"))
  first = tonumber(os.getenv("FIRST")) + (tid - 1) * slice
  next_n, versions = 0, {}
end
function request()
  local n = first + next_n
  next_n = (next_n + 1) % slice
  local id = string.format("b0000000-0000-4000-8000-%012d", n)
  local headers = { ["Authorization"] = auth["Authorization"], ["Content-Type"] = "application/json",
                    ["If-Match"] = string.format('"v%d"', versions[id] or 1) }
  return wrk.format("PATCH", "/api/v1/todos/" .. id, headers, '{"title":"Updated by the bench","status":"in_progress"}')
end
function observe(status, body)
  if status == 200 then
    local id, version = body:match('"id":"([^"]+)"'), body:match('"version":(%d+)')
    if id and version then versions[id] = tonumber(version) end
  end
end
LUA
script products <<'LUA'
wrk.method = "GET"
wrk.path = "/api/v1/products?limit=20"
LUA
script login <<LUA
wrk.method = "POST"
wrk.path = "/api/v1/auth/login"
wrk.headers = { ["Content-Type"] = "application/json" }
wrk.body = '{"email":"$EMAIL","password":"$PASSWORD"}'
LUA
script health <<'LUA'
wrk.method = "GET"
wrk.path = "/health/live"
LUA

# ---- the server -----------------------------------------------------------
serve_env() { # url, extra env...: the server's environment, in SERVE_ENV
  SERVE_ENV=(PATH="$PATH" HOME="$work" RIVET_ENV=production
    DATABASE_URL="$1" RIVET__SERVER__HOST=127.0.0.1 RIVET__SERVER__PORT="$PORT"
    RIVET__SERVER__ALLOW_SQLITE_IN_PRODUCTION=true
    RIVET__AUTH__JWT_SECRET="bench-secret-that-is-long-enough-for-production-use-0123456789"
    RIVET__LOG__LEVEL=warn RIVET__RATE_LIMIT__ENABLED=false
    RIVET__EMAIL__TRANSPORT=log RIVET__STORAGE__DIR="$work/files")
  shift
  SERVE_ENV+=("$@")
}
start() { # url, label, extra env...
  local url=$1 label=$2
  shift 2
  serve_env "$url" "$@"
  env -i "${SERVE_ENV[@]}" "$bin" serve >"$work/$label.log" 2>&1 &
  server=$!
  for _ in $(seq 1 150); do
    curl -fs -o /dev/null "$BASE/health/ready" && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "rivet did not start ($label):" >&2
  tail -n 20 "$work/$label.log" >&2
  exit 1
}
stop() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}

ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; } # µs to ms

# ---- one run --------------------------------------------------------------
rows="$work/rows.md"
sweep_rows="$work/sweep.md"
: >"$rows"
: >"$sweep_rows"
declare -A FLOOR
# run LABEL BACKEND SCENARIO CONNECTIONS [env for wrk...]: appends a row.
run() {
  local label=$1 backend=$2 scenario=$3 conns=$4
  shift 4
  local before after out line target=${ROW_TARGET:-$rows}
  reset_peak "$server"
  before=$(cpu_ticks "$server")
  out=$(env "$@" TOKEN="$TOKEN" wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 10s \
    -s "$work/$scenario.lua" "$BASE" 2>&1) || true
  line=$(grep '^RESULT' <<<"$out" || true)
  if ! kill -0 "$server" 2>/dev/null; then
    failures+=("$backend $label c=$conns: the server exited")
    echo "| $label | $backend | $conns | server exited | | | | | | | | | |" >>"$target"
    return
  fi
  after=$(cpu_ticks "$server")
  if [ -z "$line" ]; then
    failures+=("$backend $label c=$conns: wrk printed no result: $out")
    return
  fi
  eval "${line#RESULT }"
  local rps cpu non2xx of_floor=""
  rps=$(awk -v r="$requests" -v s="$elapsed" 'BEGIN { printf "%.0f", r / s }')
  cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v r="$requests" 'BEGIN { printf "%.0f", r ? t / hz * 1e6 / r : 0 }')
  non2xx=$((s3 + s4 + s5))
  if [ "$backend" = PostgreSQL ] && [ -n "${FLOOR[$conns]:-}" ] && [[ $scenario =~ ^(by_id|page|list|products)$ ]]; then
    of_floor=$(awk -v r="$rps" -v f="${FLOOR[$conns]}" 'BEGIN { printf "%.0f%%", 100 * r / f }')
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$label" "$backend" "$conns" "$rps" "$(ms "$p50")" "$(ms "$p99")" "$(ms "$p999")" \
    "$non2xx" "$s5" "$sock" "$cpu" "$(peak_mib "$server")" "$of_floor" | tee -a "$target"
  if [ "$s5" -gt 0 ] || [ "$sock" -gt 0 ]; then
    failures+=("$backend $label c=$conns: $s5 5xx ($s503 of them 503), $sock socket errors")
  fi
  LAST_P99=$p99 LAST_RPS=$rps LAST_S503=$s503 LAST_S5=$s5 LAST_SOCK=$sock
}

floor() {
  psql -qX "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $FLOOR_DB WITH (FORCE)" -c "CREATE DATABASE $FLOOR_DB" >/dev/null
  local floor_url="${ADMIN_URL%/*}/$FLOOR_DB"
  pgbench -q -i -s 10 "$floor_url" >/dev/null 2>&1
  for c in 16 64; do
    FLOOR[$c]=$(pgbench -n -S -M prepared -c "$c" -j "$THREADS" -T "$secs" "$floor_url" 2>/dev/null |
      awk '/^tps/ { printf "%.0f", $3 }')
    printf '| `pgbench -S -M prepared` (the floor) | PostgreSQL | %s | %s | | | | | | | | | 100%% |\n' \
      "$c" "${FLOOR[$c]}" | tee -a "$rows"
  done
  psql -qX "$ADMIN_URL" -c "DROP DATABASE $FLOOR_DB WITH (FORCE)" >/dev/null
}

answer_ms() {
  curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" \
    "$BASE/api/v1/todos/b0000000-0000-4000-8000-000000000001" |
    awk '{ if ($1 != 200) printf "(status %s) ", $1; printf "%.1f", $2 * 1000 }'
}

# bench BACKEND URL: seeds a fresh database and runs every scenario on it.
bench() {
  local backend=$1 url=$2 kind
  [ "$backend" = PostgreSQL ] && kind=postgres || kind=sqlite
  serve_env "$url"
  env -i "${SERVE_ENV[@]}" "$bin" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
  env -i "${SERVE_ENV[@]}" "$bin" user create --email "$EMAIL" --password "$PASSWORD" >/dev/null
  local seeded=$SECONDS
  if [ "$kind" = postgres ]; then BENCH_EMAIL=$EMAIL bash scripts/bench-seed.sh postgres "$url" >/dev/null
  else BENCH_EMAIL=$EMAIL bash scripts/bench-seed.sh sqlite "${url#sqlite://}" >/dev/null; fi
  echo "seeded $backend in $((SECONDS - seeded)) s" >&2
  start "$url" "$kind"
  TOKEN=$(curl -fs "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  local first=1
  for c in 16 64; do
    run "GET /todos/{id}" "$backend" by_id "$c"
    run "GET /todos?limit=20" "$backend" page "$c"
    run "GET /todos?status&tag&sort (20)" "$backend" list "$c"
    run "GET /products?limit=20 (anonymous)" "$backend" products "$c"
    run "POST /todos" "$backend" create "$c"
    run "PATCH /todos/{id} with If-Match" "$backend" update "$c" FIRST=$first SLICE=250
    first=$((first + 500))
    run "GET /health/live" "$backend" health "$c"
  done
  run "POST /auth/login (bcrypt 12)" "$backend" login 4

  # The connection sweep, then how soon a fresh request is answered.
  for c in 16 64 256 1024; do
    ROW_TARGET=/dev/null run "sweep: GET /todos/{id}" "$backend" by_id "$c" >/dev/null
    printf '| %s | %s | %s | %s | %s | %s |\n' "$backend" "$c" "$LAST_RPS" \
      "$(ms "$LAST_P99")" "$LAST_S503" \
      "$((LAST_S5 - LAST_S503 + LAST_SOCK))" | tee -a "$sweep_rows"
  done
  # Right after the sweep (wrk has just closed its 1,024 connections), then
  # once more a second later.
  local at_once later
  at_once=$(answer_ms)
  sleep 1
  later=$(answer_ms)
  echo "| $backend | after the sweep: GET /todos/{id} answered in $at_once ms at once, $later ms a second later | | | | |" |
    tee -a "$sweep_rows"
  stop

  # Rate limiting on (the in-process budget, large enough never to refuse).
  start "$url" "$kind-limited" RIVET__RATE_LIMIT__ENABLED=true RIVET__RATE_LIMIT__API_PER_MINUTE=1000000000
  run "GET /todos/{id}, rate limiting on" "$backend" by_id 16
  stop
}

header='| scenario | backend | connections | req/s | p50 ms | p99 ms | p99.9 ms | non-2xx | 5xx | socket errors | server CPU µs/req | peak RSS MiB | of floor |
|---|---|---|---|---|---|---|---|---|---|---|---|---|'
echo "$header"
if $run_pg; then
  floor
  psql -qX "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  bench PostgreSQL "${ADMIN_URL%/*}/$DB"
fi
if $run_sqlite; then
  bench SQLite "sqlite://$work/bench.db"
fi

sweep_header='| backend | connections | req/s | p99 ms | 503 | other errors |
|---|---|---|---|---|---|'
printf '\nConnection sweep (GET /todos/{id}):\n\n%s\n' "$sweep_header"
cat "$sweep_rows"

if $write; then
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
  cpu_model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
  pg=$($run_pg && psql -qtAX "$ADMIN_URL" -c 'SHOW server_version' || echo "not run")
  section="$work/section.md"
  {
    echo "<!-- just-bench:begin (written by scripts/bench.sh; do not edit by hand) -->"
    echo "## Requests (\`just bench\`)"
    echo
    echo "Run of $(date -u +%Y-%m-%d) at commit \`$commit\`$dirty: $(nproc) × $cpu_model, $mem;"
    echo "PostgreSQL $pg; wrk -t$THREADS, ${secs} s per run, over loopback, every process on the same cores."
    echo "Rivet runs \`RIVET_ENV=production\`, rate limiting off except where the row says so; the"
    echo "database is seeded with 1,000 users, 100,000 todos (two tags each) and 10,000 products."
    echo "CPU is the server's user + system time per request; \"of floor\" is a read's"
    echo "requests/s over pgbench's transactions/s at the same connection count."
    echo
    echo "$header"
    cat "$rows"
    echo
    echo "Connection sweep, \`GET /todos/{id}\`:"
    echo
    echo "$sweep_header"
    cat "$sweep_rows"
    echo "<!-- just-bench:end -->"
  } >"$section"
  python3 - docs/benchmarks.md "$section" <<'PY'
import re, sys
doc, section = open(sys.argv[1]).read(), open(sys.argv[2]).read().rstrip("\n")
pattern = re.compile(r"<!-- just-bench:begin.*?<!-- just-bench:end -->", re.S)
if pattern.search(doc):
    doc = pattern.sub(lambda _: section, doc)
else:
    head, sep, rest = doc.partition("\n## ")
    doc = head.rstrip("\n") + "\n\n" + section + "\n" + (sep + rest if sep else "")
open(sys.argv[1], "w").write(doc)
PY
  echo "written to docs/benchmarks.md"
fi

if [ ${#failures[@]} -gt 0 ]; then
  printf '\nproblems:\n' >&2
  printf '  %s\n' "${failures[@]}" >&2
  $check && exit 1
fi
exit 0
