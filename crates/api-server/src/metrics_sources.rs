//! The gauges `/metrics` reads from the database pool and the job queue.

use async_trait::async_trait;
use rivet_app::{Database, JobStore};
use rivet_domain::jobs::{JobQueue, JobState};
use rivet_http::metrics::MetricsSource;
use std::fmt::Write;
use std::sync::Arc;

/// Connections of the database pool: in use, idle, and requests waiting.
#[derive(Debug, Clone)]
pub struct PoolMetrics(pub Database);

#[async_trait]
impl MetricsSource for PoolMetrics {
    async fn render(&self, out: &mut String) {
        let s = self.0.pool_status();
        let in_use = s.size.saturating_sub(s.idle);
        out.push_str("# HELP rivet_db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE rivet_db_pool_connections gauge\n");
        let _ = writeln!(out, "rivet_db_pool_connections{{state=\"in_use\"}} {in_use}");
        let _ = writeln!(out, "rivet_db_pool_connections{{state=\"idle\"}} {}", s.idle);
        out.push_str("# HELP rivet_db_pool_max_connections Largest size of the database pool (on SQLite, the writer and the readers together).\n");
        out.push_str("# TYPE rivet_db_pool_max_connections gauge\n");
        let _ = writeln!(out, "rivet_db_pool_max_connections {}", s.max_size);
        out.push_str("# HELP rivet_db_pool_waiting Requests waiting for a database connection.\n");
        out.push_str("# TYPE rivet_db_pool_waiting gauge\n");
        let _ = writeln!(out, "rivet_db_pool_waiting {}", s.waiting);
    }
}

/// Jobs in the queue by state (one aggregate query per scrape).
#[derive(Debug, Clone)]
pub struct QueueMetrics(pub Arc<JobStore>);

#[async_trait]
impl MetricsSource for QueueMetrics {
    async fn render(&self, out: &mut String) {
        let Ok(depth) = self.0.depth().await else {
            // The database is down: leave the family out rather than report zeros.
            return;
        };
        out.push_str("# HELP rivet_jobs Jobs in the queue by state.\n# TYPE rivet_jobs gauge\n");
        for state in JobState::ALL {
            let n = depth.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "rivet_jobs{{state=\"{}\"}} {n}", state.as_str());
        }
    }
}

/// Event-stream subscribers connected to this instance.
#[derive(Debug, Clone)]
pub struct EventMetrics(pub rivet_domain::events::Hub);

#[async_trait]
impl MetricsSource for EventMetrics {
    async fn render(&self, out: &mut String) {
        out.push_str("# HELP rivet_event_subscribers Event-stream subscribers (WebSocket and SSE) on this instance.\n");
        out.push_str("# TYPE rivet_event_subscribers gauge\n");
        let _ = writeln!(out, "rivet_event_subscribers {}", self.0.subscribers());
    }
}
