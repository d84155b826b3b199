#!/usr/bin/env bash
# The event streams under load, as `docs/benchmarks.md` reports them:
#   1. one instance holding IDLE (10,000) idle WebSocket subscribers: the
#      server's resident memory once all are connected;
#   2. SUBSCRIBERS (1,000) spread over two instances on one PostgreSQL while
#      RATE (100) changes a second are made through both: the time from each
#      change's commit to its delivery to every subscriber, from
#      PostgreSQL's commit timestamps (`track_commit_timestamp`), beside two
#      bounds the client measures alone (from the event's `occurred_at`,
#      before the commit; from the writer's 2xx, after it).
# PostgreSQL: a private cluster this script starts with
# track_commit_timestamp on (initdb and pg_ctl from /usr/lib/postgresql; run
# as root, it belongs to `postgres`), or RIVET_BENCH_DATABASE_URL (commit
# times only if that server tracks them). Builds the release binaries first.
# Usage: scripts/bench-events.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT=18432
IDLE=${IDLE:-10000}
SUBSCRIBERS=${SUBSCRIBERS:-1000}
RATE=${RATE:-100}
SECS=${SECS:-30}
DB=rivet_bench_events
A=18080
B=18081

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release -q -p rivet-api-server -p rivet-e2e --bin rivet --bin rivet-event-load
RIVET=target/release/rivet
LOAD=target/release/rivet-event-load
WORK=$(mktemp -d)
PIDS=()
PG_DATA=""
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$PG_DATA" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
  else
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${RIVET_BENCH_DATABASE_URL:-}" ]; then
  ADMIN_URL=$RIVET_BENCH_DATABASE_URL
else
  PG_BIN=/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -n1)/bin
  PG_DATA=$WORK/pg
  mkdir -p "$PG_DATA"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$WORK" && chmod 755 "$WORK"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres --no-sync -E UTF8 >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/log" -w start \
    -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c track_commit_timestamp=on -c max_connections=200" >/dev/null
  ADMIN_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
fi

psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql -q "$ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="${ADMIN_URL%/*}/$DB"
export RIVET_ENV=development RIVET__RATE_LIMIT__ENABLED=false RIVET__LOG__LEVEL=warn
export RIVET__STORAGE__DIR="$WORK/files" RIVET__EMAIL__FILE_DIR="$WORK/mail"

serve() { # port
  RIVET__SERVER__PORT=$1 "$RIVET" serve >"$WORK/serve-$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/health/ready" >/dev/null && return; sleep 0.1; done
  echo "instance on $1 did not start"; cat "$WORK/serve-$1.log"; exit 1
}
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
cpu_secs() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }

"$RIVET" migrate >/dev/null
"$RIVET" user create --email bench@example.com --password "correct horse battery staple" --role manager >/dev/null
serve $A
A_PID=${PIDS[-1]}
TOKEN=$(curl -fs "http://127.0.0.1:$A/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"correct horse battery staple"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
PRODUCT=$(curl -fs "http://127.0.0.1:$A/api/v1/products" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"sku":"BENCH-1","name":"Bench","price_cents":100,"currency":"EUR","category":"bench","stock":1000}' \
  | sed -E 's/.*"id":"([^"]+)".*/\1/')

echo "== $IDLE idle subscribers on one instance"
echo "server RSS before: $(rss_mib "$A_PID") MiB"
"$LOAD" idle "ws://127.0.0.1:$A" "$TOKEN" "$IDLE" 15 >"$WORK/idle.out" 2>&1 &
LOADER=$!
for _ in $(seq 600); do grep -q '^ready' "$WORK/idle.out" && break; sleep 0.1; done
cat "$WORK/idle.out"
sleep 5
echo "server RSS with the subscribers connected: $(rss_mib "$A_PID") MiB (VmHWM $(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$A_PID/status) MiB)"
wait $LOADER
cat "$WORK/idle.out" | tail -1

echo "== $SUBSCRIBERS subscribers over two instances, $RATE changes/s for ${SECS}s"
serve $B
B_PID=${PIDS[-1]}
A_CPU=$(cpu_secs "$A_PID"); B_CPU=$(cpu_secs "$B_PID")
time "$LOAD" fanout "ws://127.0.0.1:$A,ws://127.0.0.1:$B" "$TOKEN" "$SUBSCRIBERS" "$RATE" "$SECS" \
  "http://127.0.0.1:$A,http://127.0.0.1:$B" "$TOKEN" "$PRODUCT" "$WORK/arrivals"
if [ "$(psql -qAtX "$DATABASE_URL" -c 'SHOW track_commit_timestamp')" = on ]; then
  # Each stock change's commit, by the product version it made (xid8 to xid: the low 32 bits).
  psql -qAtX -F ' ' "$DATABASE_URL" -c "SELECT (data::jsonb->>'version')::bigint,
      (extract(epoch FROM pg_xact_commit_timestamp((txid % 4294967296)::text::xid)) * 1000000)::bigint
      FROM events WHERE type = 'product.stock_changed'" >"$WORK/commits"
  python3 - "$WORK/commits" "$WORK/arrivals" <<'PY'
import sys
commits = dict(map(int, line.split()) for line in open(sys.argv[1]) if line.strip())
arrivals = dict(map(int, line.split()) for line in open(sys.argv[2]) if line.strip())
ms = sorted((arrivals[v] - commits[v]) / 1000 for v in arrivals if v in commits)
if ms:
    at = lambda p: ms[min(len(ms) - 1, round(p / 100 * (len(ms) - 1)))]
    print(f"from the commit to the last subscriber: n={len(ms)} p50={at(50):.1f}ms p90={at(90):.1f}ms "
          f"p99={at(99):.1f}ms p99.9={at(99.9):.1f}ms max={ms[-1]:.1f}ms")
PY
else
  echo "(no commit timestamps: the server runs without track_commit_timestamp)"
fi
echo "server CPU seconds during the run: A $(echo "$(cpu_secs "$A_PID") - $A_CPU" | bc), B $(echo "$(cpu_secs "$B_PID") - $B_CPU" | bc) (the load client's are under 'user'/'sys' above)"
echo "server RSS after: A $(rss_mib "$A_PID") MiB, B $(rss_mib "$B_PID") MiB"
