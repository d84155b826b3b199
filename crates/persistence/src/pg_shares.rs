//! The PostgreSQL pool, split into one share per thread that runs requests.
//!
//! A connection's I/O runs as a task on the tokio runtime that opened it,
//! and Rivet's HTTP server runs one single-threaded runtime per worker
//! thread. With one pool shared by every worker, a request on worker B that
//! draws a connection worker A opened makes every query cross threads
//! twice: B hands the query to A's runtime, which writes it and reads the
//! answer, then wakes B. Under load that is a context switch or two per
//! query on each side, and a query waits for A even when B is idle.
//!
//! So the pool is split into shares of `max_connections` in all: one per
//! HTTP worker, and one for everything else. A thread that runs a
//! single-threaded runtime — an HTTP worker — keeps to one worker share,
//! its home, assigned round-robin on the thread's first request, and so
//! opens, and runs the I/O of, the connections it uses. A thread of a
//! multi-threaded runtime (startup, the job worker, the event hub) uses the
//! last share, so the connections it opens never land in a worker's share.
//! When every connection of a thread's share is busy while another share
//! has one idle, the request borrows that one (its queries then cross
//! threads) rather than wait; only when no share has one idle does it
//! queue, on its own share, within `acquire_timeout`.

use crate::pg_conn::PgConn;
use deadpool::managed::{Object, TimeoutType, Timeouts};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Pool as DeadPool, PoolError};
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A pooled PostgreSQL connection.
pub type PgObject = Object<AsyncDieselConnectionManager<PgConn>>;

/// The shares of one database's PostgreSQL pool. Cheap to clone.
#[derive(Clone)]
#[allow(missing_debug_implementations)] // deadpool's pools are not Debug
pub struct PgShares {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tells this pool's homes apart from other pools' in the thread-local
    /// table (a process may hold several databases: tests, embedders).
    id: usize,
    shares: Vec<DeadPool<PgConn>>,
    /// The next home to hand out.
    next: AtomicUsize,
    /// A borrow never waits: it takes an idle connection or none.
    borrow: Timeouts,
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's home share in each pool it used: (pool id, share).
    static HOMES: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

/// How `total` connections split into `shares` (as even as can be, none
/// empty): at most `total` shares, the first `total % shares` one larger.
pub(crate) fn share_sizes(total: usize, shares: usize) -> Vec<usize> {
    let total = total.max(1);
    let shares = shares.clamp(1, total);
    (0..shares).map(|i| total / shares + usize::from(i < total % shares)).collect()
}

impl PgShares {
    /// The pool for `workers` HTTP workers: one share per worker and one
    /// for other work (one pool when `workers` is 1 or `total` too small to
    /// split), built by `build(size)` for each size of [`share_sizes`].
    pub(crate) fn new<E>(
        total: usize,
        workers: usize,
        mut build: impl FnMut(usize) -> Result<DeadPool<PgConn>, E>,
    ) -> Result<Self, E> {
        let count = if workers > 1 && total > workers { workers + 1 } else { 1 };
        let shares = share_sizes(total, count).into_iter().map(&mut build).collect::<Result<Vec<_>, E>>()?;
        let borrow = Timeouts { wait: Some(Duration::ZERO), ..shares[0].timeouts() };
        Ok(Self {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                shares,
                next: AtomicUsize::new(0),
                borrow,
            }),
        })
    }

    /// Every share, for status and closing.
    pub(crate) fn shares(&self) -> &[DeadPool<PgConn>] {
        &self.inner.shares
    }

    /// This thread's home share: a worker share for a thread that runs a
    /// single-threaded runtime, else the last (the other work's).
    fn home(&self) -> usize {
        let inner = &*self.inner;
        HOMES.with_borrow_mut(|homes| {
            if let Some(&(_, share)) = homes.iter().find(|(id, _)| *id == inner.id) {
                return share;
            }
            let workers = inner.shares.len() - 1;
            let single_threaded = tokio::runtime::Handle::try_current()
                .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
            let share = if single_threaded { inner.next.fetch_add(1, Ordering::Relaxed) % workers } else { workers };
            homes.push((inner.id, share));
            share
        })
    }

    /// A connection: from this thread's share when it has one free (or room
    /// to open one), else an idle one of another share, else the first of
    /// this thread's share to come free, within the acquire timeout.
    ///
    /// # Errors
    /// The pool's: a timeout (all busy), a connection that cannot be
    /// opened, a closed pool.
    pub async fn get(&self) -> Result<PgObject, PoolError> {
        let shares = &self.inner.shares;
        if shares.len() == 1 {
            return shares[0].get().await;
        }
        let home = self.home();
        match shares[home].timeout_get(&self.inner.borrow).await {
            Err(PoolError::Timeout(TimeoutType::Wait)) => {}
            result => return result,
        }
        for (i, share) in shares.iter().enumerate() {
            if i != home
                && share.status().available > 0
                && let Ok(conn) = share.timeout_get(&self.inner.borrow).await
            {
                return Ok(conn);
            }
        }
        shares[home].get().await
    }
}

#[cfg(test)]
mod tests {
    use super::share_sizes;

    #[test]
    fn shares_split_the_total_evenly_and_never_exceed_it() {
        assert_eq!(share_sizes(10, 1), vec![10]);
        assert_eq!(share_sizes(10, 2), vec![5, 5]);
        assert_eq!(share_sizes(10, 3), vec![4, 3, 3]);
        assert_eq!(share_sizes(10, 4), vec![3, 3, 2, 2]);
        // Never an empty share: fewer connections than threads, fewer shares.
        assert_eq!(share_sizes(2, 8), vec![1, 1]);
        assert_eq!(share_sizes(1, 0), vec![1]);
        for total in 1..40 {
            for shares in 0..12 {
                let sizes = share_sizes(total, shares);
                assert_eq!(sizes.iter().sum::<usize>(), total, "{total} over {shares}");
                assert!(sizes.iter().all(|s| *s >= 1));
            }
        }
    }
}
