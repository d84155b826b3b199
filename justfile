# Shortcuts for Rivet's everyday commands (https://github.com/casey/just).
# Each recipe is one cargo command; the README gives them without `just`.

# Serve the API on 127.0.0.1:8080 (SQLite under ./data unless DATABASE_URL is set).
run:
    cargo run --release

# The whole suite: unit, repository and end-to-end tests on SQLite and PostgreSQL.
test:
    cargo test --workspace

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Apply pending migrations to the configured database and exit.
migrate:
    cargo run --release -- migrate

# The docs page in headless Chromium and Schemathesis, against a running server.
live-checks:
    cargo build
    bash scripts/live-checks.sh target/debug/rivet

# The fault-injection suite: crashes, database outages, shutdowns, Redis loss, abuse, a full disk, a cluster behind nginx (needs root).
faults:
    cargo test -p rivet-api-server --test faults -- --test-threads=1

# Everything CI runs (starts PostgreSQL and Redis if they are down).
ci:
    bash .ci/run

# Requests per second, latency, CPU and memory per scenario on PostgreSQL and SQLite, beside pgbench's floor
# (`just bench --quick` for a short before/after run); writes docs/benchmarks.md.
bench *ARGS:
    bash scripts/bench.sh {{ARGS}}

# The event streams under load (10,000 idle sockets; 1,000 subscribers over two instances); see docs/benchmarks.md.
bench-events:
    bash scripts/bench-events.sh

# What a request costs Rivet, PostgreSQL, PgBouncer and Redis, prepared vs one-shot, direct vs through PgBouncer; see docs/scaling.md.
bench-pooler *ARGS:
    bash scripts/bench-pooler.sh {{ARGS}}
