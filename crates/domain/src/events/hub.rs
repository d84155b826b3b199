//! The hub: one reader of the event log per instance, fanning each event
//! out to the subscribers it concerns.
//!
//! The hub keeps a cursor in the log and reads after it whenever it is
//! woken ([`Waker::wake`], called by the fan-out channel — PostgreSQL
//! `NOTIFY`, Redis or this process — when any instance commits events) and
//! at least every `poll_interval`, so an event is delivered even when a
//! wake-up was lost. Every subscriber has a bounded queue: one that falls
//! `buffer` events behind is dropped from the hub and told so, never
//! buffered without bound.
//!
//! A subscriber that resumes after a position first reads what it missed
//! from the log itself (only its own events, a page at a time, as fast as
//! it consumes them), then joins the hub, reads the gap between its last
//! page and the hub's cursor at that moment, and from then on takes the
//! hub's events: in order, with no gap and no duplicate, because every
//! position the hub dispatches lies after that cursor.

use super::{Audience, Event, EventLog, EventPosition, Subscription, Topics};
use crate::error::RepoError;
use crate::user::UserId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tracing::warn;

/// How the hub paces itself.
#[derive(Debug, Clone, Copy)]
pub struct HubOptions {
    /// Events a subscriber may fall behind before it is closed.
    pub buffer: usize,
    /// The longest time between two reads of the log, whatever the wake-ups.
    pub poll_interval: Duration,
    /// Events read per query.
    pub page: u32,
}

impl Default for HubOptions {
    fn default() -> Self {
        Self { buffer: 256, poll_interval: Duration::from_secs(1), page: 500 }
    }
}

/// The first retry after a read that found events held back by a running
/// transaction; it doubles up to `poll_interval`.
const HELD_BACK_RETRY: Duration = Duration::from_millis(5);

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// It fell `buffer` events behind; it may resume from its last event.
    Lagging,
    /// The hub stopped (the server is shutting down).
    Stopped,
}

/// What a subscriber gets next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Event(Arc<Event>),
    /// The resume position is older than the log keeps: refetch, then
    /// carry on with the live events that follow.
    Reset,
    /// Some of the subscriber's credentials were revoked: check yours.
    Recheck,
    Closed(CloseReason),
}

pub(super) enum Delivery {
    Event(Arc<Event>),
    Recheck,
}

pub(super) const OPEN: u8 = 0;
pub(super) const LAGGING: u8 = 1;

pub(super) struct Slot {
    pub(super) user: UserId,
    pub(super) topics: Topics,
    pub(super) tx: mpsc::Sender<Delivery>,
    pub(super) state: Arc<AtomicU8>,
}

pub(super) struct State {
    /// False until the log's head was read: the hub starts there.
    pub(super) started: bool,
    /// The last position dispatched; everything up to it has been read.
    pub(super) cursor: Option<EventPosition>,
    pub(super) next_id: u64,
    pub(super) slots: HashMap<u64, Slot>,
}

pub(super) struct Inner {
    pub(super) log: Arc<dyn EventLog>,
    pub(super) options: HubOptions,
    pub(super) wake: Notify,
    pub(super) stopped: AtomicBool,
    pub(super) state: Mutex<State>,
}

impl Inner {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `events` to the subscribers they concern and moves the cursor.
    fn dispatch(&self, events: Vec<Event>) {
        let mut state = self.state();
        let mut gone = Vec::new();
        for event in events {
            state.cursor = Some(event.position);
            let event = Arc::new(event);
            for (id, slot) in &state.slots {
                let delivery = if event.kind.is_internal() {
                    if event.audience != Audience::Owner(slot.user) {
                        continue;
                    }
                    Delivery::Recheck
                } else if event.audience.includes(slot.user) && slot.topics.contains(event.kind) {
                    Delivery::Event(event.clone())
                } else {
                    continue;
                };
                match slot.tx.try_send(delivery) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        slot.state.store(LAGGING, Ordering::Release);
                        gone.push(*id);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => gone.push(*id),
                }
            }
            for id in gone.drain(..) {
                state.slots.remove(&id);
            }
        }
    }

    /// Starts the cursor at the log's head, once.
    pub(super) async fn ensure_started(&self) -> Result<(), RepoError> {
        if self.state().started {
            return Ok(());
        }
        let head = self.log.head().await?;
        let mut state = self.state();
        if !state.started {
            state.started = true;
            state.cursor = head;
        }
        Ok(())
    }

    /// Reads and dispatches everything readable; true when some events
    /// are held back by a transaction still running.
    async fn catch_up(&self) -> Result<bool, RepoError> {
        self.ensure_started().await?;
        loop {
            let cursor = self.state().cursor;
            let page = self.log.after(cursor, None, self.options.page).await?;
            let full = page.events.len() >= self.options.page as usize;
            self.dispatch(page.events);
            if !full {
                return Ok(page.held_back);
            }
        }
    }
}

/// Wakes a hub: the log has grown. Cheap to clone and to call.
#[derive(Clone)]
pub struct Waker(Arc<Inner>);

impl Waker {
    /// Asks the hub to read the log now; false once the hub has stopped
    /// (the caller can stop listening).
    pub fn wake(&self) -> bool {
        self.0.wake.notify_one();
        !self.is_stopped()
    }

    /// True once the hub has stopped.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waker").finish_non_exhaustive()
    }
}

impl super::EventSignal for Waker {
    fn signal(&self) {
        self.wake();
    }
}

/// Stops the hub's task when the last [`Hub`] handle goes.
struct StopOnDrop(Arc<Inner>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Release);
        self.0.wake.notify_one();
    }
}

/// An instance's event hub. Clones share one hub; it stops when the last
/// clone is dropped, closing its subscriptions with [`CloseReason::Stopped`].
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
    _stop: Arc<StopOnDrop>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("options", &self.inner.options).finish_non_exhaustive()
    }
}

impl Hub {
    /// Starts a hub, its task on the current tokio runtime. It begins at
    /// the log's end, read now if the database answers, else as soon as it
    /// does (the server starts while the database is down).
    pub async fn start(log: Arc<dyn EventLog>, options: HubOptions) -> Self {
        let inner = Arc::new(Inner {
            log,
            options,
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
            state: Mutex::new(State { started: false, cursor: None, next_id: 0, slots: HashMap::new() }),
        });
        if let Err(e) = inner.ensure_started().await {
            warn!(error = %crate::error::display_chain(&e), "cannot read the event log yet; the hub starts when it can");
        }
        tokio::spawn(run(inner.clone()));
        Self { _stop: Arc::new(StopOnDrop(inner.clone())), inner }
    }

    /// Stops the hub now (the server is shutting down): every subscription
    /// ends with [`CloseReason::Stopped`] and no new one is fed.
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::Release);
        self.inner.wake.notify_one();
    }

    /// What the fan-out channel calls when the log grew.
    pub fn waker(&self) -> Waker {
        Waker(self.inner.clone())
    }

    /// Subscribers now connected.
    pub fn subscribers(&self) -> usize {
        self.inner.state().slots.len()
    }

    /// The options the hub runs with.
    pub fn options(&self) -> HubOptions {
        self.inner.options
    }

    /// Subscribes `user` to `topics`, after `after` when resuming.
    ///
    /// # Errors
    /// When the log cannot be read.
    pub async fn subscribe(
        &self,
        user: UserId,
        topics: Topics,
        after: Option<EventPosition>,
    ) -> Result<Subscription, RepoError> {
        self.inner.ensure_started().await?;
        Subscription::start(self.inner.clone(), user, topics, after).await
    }
}

async fn run(inner: Arc<Inner>) {
    let mut retry: Option<Duration> = None;
    while !inner.stopped.load(Ordering::Acquire) {
        let wait = retry.unwrap_or(inner.options.poll_interval);
        let _ = tokio::time::timeout(wait, inner.wake.notified()).await;
        if inner.stopped.load(Ordering::Acquire) {
            break;
        }
        retry = match inner.catch_up().await {
            Ok(true) => Some(retry.map_or(HELD_BACK_RETRY, |r| (r * 2).min(inner.options.poll_interval))),
            Ok(false) => None,
            Err(e) => {
                warn!(error = %crate::error::display_chain(&e), "cannot read the event log; retrying");
                None
            }
        };
    }
    inner.state().slots.clear();
}
