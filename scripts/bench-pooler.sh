#!/usr/bin/env bash
# What a request costs and what a transaction-mode pooler changes, measured on
# the release binary over loopback with wrk:
#
#   - Rivet straight on PostgreSQL with prepared statements (`pooler = "none"`)
#     and with one-shot statements (`pooler = "transaction"`): the price of the
#     one-shot path;
#   - Rivet through PgBouncer in transaction mode (`default_pool_size = 4`),
#     first with prepared statements (what breaks) and then with
#     `pooler = "transaction"` and `direct_url`;
#   - per request: PostgreSQL transactions (from pg_stat_database), Redis
#     commands (INFO commandstats, rate limiting on the redis backend) and the
#     CPU time of Rivet, PostgreSQL, PgBouncer and Redis (from /proc; for
#     PostgreSQL every server process plus what exited ones left to the
#     postmaster).
#
# Usage: scripts/bench-pooler.sh [seconds per run, default 6] [connections, default 32]
# Needs: PostgreSQL on 127.0.0.1:5432 (trust), Redis on 127.0.0.1:6379, wrk,
# pgbouncer (Debian packages). Prints one Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-6}
conns=${2:-32}
export PATH="$PATH:/usr/sbin"
for tool in wrk pgbouncer psql redis-cli curl python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

cargo build --release -q -p rivet-api-server
bin=target/release/rivet
work=$(mktemp -d /tmp/rivet-bench-pooler.XXXXXX)
chmod 755 "$work"
port=18090
bouncer_port=18091
server=""
bouncer=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$bouncer" ] && kill "$bouncer" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# PgBouncer in transaction mode, in front of the shared server.
cat > "$work/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/users.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 2000
logfile =
pidfile =
EOF
echo '"postgres" ""' > "$work/users.txt"
chmod 644 "$work"/*
if [ "$(id -u)" = 0 ]; then
  setpriv --reuid=postgres --regid=postgres --clear-groups pgbouncer "$work/pgbouncer.ini" 2>"$work/pgbouncer.log" &
else
  pgbouncer "$work/pgbouncer.ini" 2>"$work/pgbouncer.log" &
fi
bouncer=$!
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$bouncer_port) 2>/dev/null && break; sleep 0.1; done

psql_q() { psql -qtAX -h 127.0.0.1 -U postgres -d postgres -c "$1"; }
xacts() { psql_q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$1'"; }
redis_calls() {
  redis-cli -h 127.0.0.1 -p 6379 info commandstats |
    awk -F'[=,:]' '/^cmdstat_/ { if ($1 != "cmdstat_info") n += $3 } END { print n + 0 }'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# PostgreSQL's CPU: every live server process, plus what exited children
# left in the postmaster's account (it waits for them).
postgres_ticks() {
  local postmaster total=0 pid
  postmaster=$(head -n1 "$(psql_q 'SHOW data_directory')/postmaster.pid")
  for pid in $(pgrep -u postgres -x postgres); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo $((total + $(awk '{ print $16 + $17 }' "/proc/$postmaster/stat")))
}
redis_pid=$(pgrep -x redis-server | head -n1)
ticks_per_sec=$(getconf CLK_TCK)

# start LABEL DB_PORT POOLER DIRECT(yes/no) RATE_LIMIT(off/redis)
start() {
  local label=$1 db_port=$2 pooler=$3 direct=$4 limit=$5
  db="rivet_bench_pooler_${label//-/_}"
  psql_q "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  psql_q "CREATE DATABASE $db" >/dev/null
  local env=(
    RIVET_ENV=development
    "DATABASE_URL=postgres://postgres@127.0.0.1:$db_port/$db"
    "RIVET__DATABASE__POOLER=$pooler"
    RIVET__SERVER__HOST=127.0.0.1 "RIVET__SERVER__PORT=$port"
    RIVET__LOG__LEVEL=warn RIVET__AUTH__BCRYPT_COST=4
    "RIVET__EMAIL__FILE_DIR=$work/mail" "RIVET__STORAGE__DIR=$work/files"
  )
  [ "$direct" = yes ] && env+=("RIVET__DATABASE__DIRECT_URL=postgres://postgres@127.0.0.1:5432/$db")
  if [ "$limit" = redis ]; then
    env+=(RIVET__RATE_LIMIT__BACKEND=redis RIVET__RATE_LIMIT__API_PER_MINUTE=100000000 RIVET__RATE_LIMIT__CREDENTIAL_PER_MINUTE=1000000)
  else
    env+=(RIVET__RATE_LIMIT__ENABLED=false)
  fi
  env -i PATH="$PATH" "${env[@]}" "$bin" serve 2>"$work/$label.log" &
  server=$!
  for _ in $(seq 1 100); do curl -fs "localhost:$port/health/live" >/dev/null && break; sleep 0.1; done
  if ! kill -0 "$server" 2>/dev/null; then
    echo "| $label | did not start: $(tail -n1 "$work/$label.log") |"
    return 1
  fi
  # With prepared statements behind the pooler requests fail at random:
  # each seeding step is retried until it succeeds.
  local credentials='{"email":"bench@example.com","password":"correct horse battery staple"}'
  retry curl -fs -o /dev/null -XPOST "localhost:$port/api/v1/auth/register" -H 'content-type: application/json' -d "$credentials"
  token=$(retry_json access_token -XPOST "localhost:$port/api/v1/auth/login" -H 'content-type: application/json' -d "$credentials")
  todo=""
  for i in $(seq 1 30); do
    todo=$(retry_json id -XPOST "localhost:$port/api/v1/todos" -H "authorization: Bearer $token" \
      -H 'content-type: application/json' -d "{\"title\":\"seed $i\",\"tags\":[\"home\",\"t$((i % 3))\"]}")
  done
}

retry() {
  for _ in $(seq 1 50); do "$@" && return 0; sleep 0.05; done
  echo "gave up: $*" >&2
  return 1
}

# retry_json FIELD CURL-ARGS...: the field of the first successful answer.
retry_json() {
  local field=$1 body
  shift
  for _ in $(seq 1 50); do
    if body=$(curl -fs "$@"); then
      python3 -c "import json,sys; print(json.load(sys.stdin)['$field'])" <<<"$body"
      return 0
    fi
    sleep 0.05
  done
  echo "gave up: curl $*" >&2
  return 1
}

stop() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
  psql_q "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
}

cat > "$work/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"title":"from wrk","tags":["load"]}'
wrk.headers["Content-Type"] = "application/json"
EOF

# run LABEL SCENARIO PATH [LUA]: one wrk run, one table row.
run() {
  local label=$1 scenario=$2 path=$3 lua=${4:-}
  local args=(-t2 "-c$conns" "-d${secs}s" --latency -H "authorization: Bearer $token")
  [ -n "$lua" ] && args+=(-s "$lua")
  sleep 1.2 # let the statistics of earlier work reach pg_stat_database
  local x0 r0 c0 p0 b0 d0 out x1 r1 c1 p1 b1 d1
  x0=$(xacts "$db"); r0=$(redis_calls); c0=$(cpu_ticks "$server")
  p0=$(postgres_ticks); b0=$(cpu_ticks "$bouncer"); d0=$(cpu_ticks "$redis_pid")
  out=$(wrk "${args[@]}" "http://127.0.0.1:$port$path")
  c1=$(cpu_ticks "$server"); r1=$(redis_calls)
  p1=$(postgres_ticks); b1=$(cpu_ticks "$bouncer"); d1=$(cpu_ticks "$redis_pid")
  sleep 1.2
  x1=$(xacts "$db")
  python3 - "$label" "$scenario" "$out" "$x0" "$x1" "$r0" "$r1" "$c0" "$c1" "$ticks_per_sec" \
    "$((p1 - p0))" "$((b1 - b0))" "$((d1 - d0))" <<'EOF'
import re, sys
label, scenario, out, x0, x1, r0, r1, c0, c1, hz, pg, bouncer, redis = sys.argv[1:]
total = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
bad = int(bad.group(1)) if bad else 0
sock = re.search(r"Socket errors: (.*)", out)
sock = sock.group(1).strip() if sock else "none"
p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
p99 = p99.group(1) if p99 else "?"
per = lambda d: f"{d / total:.2f}" if total else "?"
micros = lambda ticks: f"{int(ticks) * 1e6 / int(hz) / total:.0f}" if total else "?"
print(f"| {label} | {scenario} | {rps:,.0f} | {p99} | {bad:,} of {total:,} | {sock} | "
      f"{per(int(x1) - int(x0))} | {per(int(r1) - int(r0))} | {micros(int(c1) - int(c0))} | "
      f"{micros(pg)} | {micros(bouncer) if 'pgbouncer' in label else '—'} | {micros(redis)} |")
EOF
}

echo
echo "wrk -t2 -c$conns -d${secs}s per row; machine: $(nproc) cores; commit $(git rev-parse --short HEAD)"
echo
echo "| setup | scenario | req/s | p99 | non-2xx | socket errors | PG transactions / req | Redis commands / req | CPU µs / req: Rivet | PostgreSQL | PgBouncer | Redis |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for setup in "direct-prepared 5432 none no off" "direct-oneshot 5432 transaction no off" \
  "pgbouncer-prepared $bouncer_port none no off" "pgbouncer-oneshot $bouncer_port transaction yes off" \
  "direct-prepared-redis-limits 5432 none no redis"; do
  read -r label db_port pooler direct limit <<<"$setup"
  start "$label" "$db_port" "$pooler" "$direct" "$limit" || { stop; continue; }
  run "$label" "GET /todos/{id}" "/api/v1/todos/$todo"
  run "$label" "GET /todos?limit=20" "/api/v1/todos?limit=20"
  run "$label" "POST /todos" "/api/v1/todos" "$work/post.lua"
  stop
done
