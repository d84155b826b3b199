#!/usr/bin/env bash
# The event streams under load, as `docs/benchmarks.md` reports them:
#   1. one instance holding IDLE (10,000) idle WebSocket subscribers: the
#      server's resident memory once all are connected;
#   2. SUBSCRIBERS (1,000) spread over two instances on one PostgreSQL while
#      RATE (100) changes a second are made through both: the time from each
#      change's event (taken in its transaction) to its delivery.
# Needs PostgreSQL (RIVET_BENCH_DATABASE_URL, default the local server) and
# builds the release binaries first. Usage: scripts/bench-events.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL=${RIVET_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
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
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

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
  "http://127.0.0.1:$A,http://127.0.0.1:$B" "$TOKEN" "$PRODUCT"
echo "server CPU seconds during the run: A $(echo "$(cpu_secs "$A_PID") - $A_CPU" | bc), B $(echo "$(cpu_secs "$B_PID") - $B_CPU" | bc) (the load client's are under 'user'/'sys' above)"
echo "server RSS after: A $(rss_mib "$A_PID") MiB, B $(rss_mib "$B_PID") MiB"
