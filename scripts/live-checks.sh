#!/usr/bin/env bash
# Checks that need a running server, against the binary cargo built:
#   1. the /docs page in headless Chromium: Authorize (OAuth2 password flow)
#      and execute GET /api/v1/users/me (tests/browser/docs-authorize.mjs);
#   2. openapi-spec-validator on the served document;
#   3. clients generated from the served document run a user's flow against
#      the server: TypeScript (openapi-typescript + openapi-fetch, checked by
#      tsc, tests/clients/typescript) and Python (openapi-python-client,
#      checked by mypy, tests/clients/python);
#   4. Schemathesis against /api/v1/openapi.json, authenticated as an
#      administrator: no 5xx, every response matches its documented schema.
# Installs Debian's chromium, the npm packages and the Python tools (in a
# venv, pinned by tests/clients/python/requirements.txt) when missing. Usage: scripts/live-checks.sh [path/to/rivet]
set -euo pipefail
cd "$(dirname "$0")/.."
RIVET=$(realpath "${1:-target/debug/rivet}")
PORT=${RIVET_LIVE_PORT:-18080}
BASE="http://127.0.0.1:$PORT"
SCHEMATHESIS_VERSION=4.32.5
SPEC_VALIDATOR_VERSION=0.9.0
# Schemathesis examples per operation and phase; raise for a deeper run.
EXAMPLES=${RIVET_SCHEMATHESIS_EXAMPLES:-30}

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)
VENV=target/live-checks-venv
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
if ! "$VENV/bin/pip" show openapi-spec-validator 2>/dev/null | grep -q "^Version: $SPEC_VALIDATOR_VERSION$"; then
  "$VENV/bin/pip" install -q "openapi-spec-validator==$SPEC_VALIDATOR_VERSION"
fi
CLIENT_VENV=target/client-checks-venv
if ! cmp -s tests/clients/python/requirements.txt "$CLIENT_VENV/requirements.txt"; then
  rm -rf "$CLIENT_VENV"
  python3 -m venv "$CLIENT_VENV"
  "$CLIENT_VENV/bin/pip" install -q --no-deps -r tests/clients/python/requirements.txt
  cp tests/clients/python/requirements.txt "$CLIENT_VENV/requirements.txt"
fi
(cd tests/clients/typescript && npm ci --no-audit --no-fund --silent)

WORK=$(mktemp -d)
SERVER=""
cleanup() {
  status=$?
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  wait 2>/dev/null
  if [ "$status" -ne 0 ] && [ -f "$WORK/server.log" ]; then
    echo "--- server errors during the run ---"
    grep -E ' ERROR ' "$WORK/server.log" | tail -n 40 || true
    cp "$WORK/server.log" target/live-checks-server.log 2>/dev/null && echo "(whole log: target/live-checks-server.log)"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export RIVET_ENV=test RIVET_CONFIG_DIR="$WORK/none" DATABASE_URL="sqlite://$WORK/live.db"
ADMIN_PASSWORD="live-check administrator passphrase"
(cd "$WORK" && "$RIVET" user create --email live-admin@example.com --password "$ADMIN_PASSWORD" --role admin >/dev/null)
(cd "$WORK" && RIVET__SERVER__PORT=$PORT exec "$RIVET" serve >"$WORK/server.log" 2>&1) &
SERVER=$!
for _ in $(seq 1 50); do curl -fs "$BASE/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$BASE/health/ready" >/dev/null || { cat "$WORK/server.log"; echo "the server did not become ready"; exit 1; }

echo "==> the OpenAPI document validates (openapi-spec-validator $SPEC_VALIDATOR_VERSION)"
curl -fs "$BASE/api/v1/openapi.json" -o "$WORK/openapi.json"
"$VENV/bin/openapi-spec-validator" "$WORK/openapi.json"

echo "==> docs page in headless Chromium"
node tests/browser/docs-authorize.mjs "$BASE"

echo "==> an administrator, and a product for the flows and the stock adjustments"
TOKEN=$(curl -fs -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"live-admin@example.com\",\"password\":\"$ADMIN_PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# The product stock adjustments are tested against (see tests/schemathesis.toml).
RIVET_LIVE_PRODUCT_ID=$(curl -fs -X POST "$BASE/api/v1/products" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' \
  -d '{"sku":"LIVE-STOCK","name":"Stock adjusted by the live checks","price_cents":100,"currency":"EUR","category":"live","stock":500000}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
export RIVET_LIVE_PRODUCT_ID

echo "==> TypeScript client (openapi-typescript + openapi-fetch): generate, tsc --noEmit, run the flow"
(
  cd tests/clients/typescript
  RIVET_OPENAPI="$WORK/openapi.json" npm run -s generate
  npx tsc --noEmit
  npx tsc
  RIVET_BASE="$BASE" node dist/flow.js
)

echo "==> Python client (openapi-python-client): generate, mypy, run the flow"
PY_CLIENT="$WORK/python-client"
CLIENT_BIN=$(realpath "$CLIENT_VENV/bin")
PATH="$CLIENT_BIN:$PATH" openapi-python-client generate --path "$WORK/openapi.json" \
  --output-path "$PY_CLIENT/rivet_client" --meta none
(
  cd tests/clients/python
  MYPYPATH="$PY_CLIENT" "$CLIENT_BIN/mypy" --cache-dir "$WORK/mypy-cache" flow.py
  # wrong_types.py must fail, once for each of its four wrong lines.
  if MYPYPATH="$PY_CLIENT" "$CLIENT_BIN/mypy" --cache-dir "$WORK/mypy-cache" wrong_types.py \
    >"$WORK/wrong.txt"; then
      echo "mypy accepted wrong_types.py: the generated enums are not typed"; exit 1
  fi
  for line in 7 8 9 10; do
    grep -q "^wrong_types.py:$line: error:" "$WORK/wrong.txt" || { cat "$WORK/wrong.txt"; echo "line $line type-checked"; exit 1; }
  done
  PYTHONPATH="$PY_CLIENT" RIVET_BASE="$BASE" "$CLIENT_BIN/python" flow.py
)
echo "==> Schemathesis ($EXAMPLES examples per operation and phase)"
# Every check runs except those tests/schemathesis.toml turns off, each with
# its reason there. logout-all is left out because it would end the session
# the run authenticates with.
"$VENV/bin/st" --config-file tests/schemathesis.toml run "$BASE/api/v1/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --exclude-path /api/v1/auth/logout-all \
  --max-examples "$EXAMPLES" --seed 20261122 --no-color
if grep -qE 'status=5[0-9]{2}' "$WORK/server.log"; then
  grep -E 'status=5[0-9]{2}' "$WORK/server.log" | head
  echo "the server answered 5xx during the run"
  exit 1
fi
echo "live checks passed"
