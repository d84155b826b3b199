//! Rivet's fault-injection suite: the `rivet` binary driven from outside,
//! as clients and operators meet it, while it is crashed, signalled, cut
//! off from its database or Redis, starved of connections or disk, and
//! abused over raw TCP — and, as it is deployed at scale, three instances
//! behind nginx on PgBouncer and Redis, one of them killed under load. Each
//! scenario states what must hold and checks it.
//!
//! Not part of `cargo test --workspace` (`test = false`): it kills
//! processes, starts its own PostgreSQL clusters and Redis servers, and
//! mounts a small tmpfs, which needs root. Run it with `just faults`
//! (`cargo test -p rivet-api-server --test faults -- --test-threads=1`);
//! `.ci/run` does. It needs the shared PostgreSQL (`RIVET_TEST_DATABASE_URL`)
//! and PostgreSQL's server programs, `redis-server`, `pgbouncer` and `nginx`
//! on the machine (`.ci/run` installs the last two when they are missing).

mod abuse;
mod cluster;
mod crash;
mod disk;
mod harness;
mod outage;
mod pool;
mod redis_loss;
mod servers;
mod shutdown;
