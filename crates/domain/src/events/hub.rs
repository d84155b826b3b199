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

use super::{Audience, Event, EventLog, EventPosition, Topics};
use crate::error::RepoError;
use crate::user::UserId;
use std::collections::{HashMap, VecDeque};
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

enum Delivery {
    Event(Arc<Event>),
    Recheck,
}

const OPEN: u8 = 0;
const LAGGING: u8 = 1;

struct Slot {
    user: UserId,
    topics: Topics,
    tx: mpsc::Sender<Delivery>,
    state: Arc<AtomicU8>,
}

struct State {
    /// False until the log's head was read: the hub starts there.
    started: bool,
    /// The last position dispatched; everything up to it has been read.
    cursor: Option<EventPosition>,
    next_id: u64,
    slots: HashMap<u64, Slot>,
}

struct Inner {
    log: Arc<dyn EventLog>,
    options: HubOptions,
    wake: Notify,
    stopped: AtomicBool,
    state: Mutex<State>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
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
    async fn ensure_started(&self) -> Result<(), RepoError> {
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
        let mut sub = Subscription {
            inner: self.inner.clone(),
            user,
            topics,
            read_to: after,
            backlog: VecDeque::new(),
            phase: Phase::Backlog,
            reset: false,
        };
        let lost = match after {
            Some(after) => self.inner.log.horizon().await?.is_some_and(|h| after < h),
            None => true,
        };
        if lost {
            sub.reset = after.is_some();
            sub.join();
        }
        Ok(sub)
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

enum Phase {
    /// Reading the log after the resume position, before joining the hub.
    Backlog,
    /// Joined; reading the log up to the hub's cursor at joining.
    Gap { until: Option<EventPosition>, queue: Queue },
    /// Taking the hub's events.
    Joined(Queue),
}

struct Queue {
    id: u64,
    rx: mpsc::Receiver<Delivery>,
    state: Arc<AtomicU8>,
}

/// One subscriber's stream of events (see the module comment for how a
/// resume is stitched to the live stream).
pub struct Subscription {
    inner: Arc<Inner>,
    user: UserId,
    topics: Topics,
    /// The last position read, from the log or from the hub.
    read_to: Option<EventPosition>,
    backlog: VecDeque<Event>,
    phase: Phase,
    reset: bool,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("user", &self.user).field("read_to", &self.read_to).finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Phase::Gap { queue: q, .. } | Phase::Joined(q) = &self.phase {
            self.inner.state().slots.remove(&q.id);
        }
    }
}

impl Subscription {
    /// The user it delivers to.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// Joins the hub: returns the queue and the hub's cursor at that moment.
    fn register(&self) -> (Queue, Option<EventPosition>) {
        let (tx, rx) = mpsc::channel(self.inner.options.buffer.max(1));
        let state = Arc::new(AtomicU8::new(OPEN));
        let mut hub = self.inner.state();
        let id = hub.next_id;
        hub.next_id += 1;
        hub.slots.insert(id, Slot { user: self.user, topics: self.topics, tx, state: state.clone() });
        (Queue { id, rx, state }, hub.cursor)
    }

    /// Joins the hub at its cursor, skipping the log before it.
    fn join(&mut self) {
        let (queue, cursor) = self.register();
        self.read_to = self.read_to.max(cursor);
        self.phase = Phase::Joined(queue);
    }

    fn wanted(&self, event: &Event) -> bool {
        !event.kind.is_internal() && self.topics.contains(event.kind) && event.audience.includes(self.user)
    }

    /// Reads one page of the log after `read_to`, up to `until`; true when
    /// everything up to `until` (or, without one, everything readable) is read.
    async fn read_page(&mut self, until: Option<Option<EventPosition>>) -> Result<bool, RepoError> {
        let limit = self.inner.options.page;
        let page = self.inner.log.after(self.read_to, Some(self.user), limit).await?;
        let short = page.events.len() < limit as usize;
        for event in page.events {
            if let Some(until) = until
                && Some(event.position) > until
            {
                return Ok(true);
            }
            self.read_to = Some(event.position);
            if self.wanted(&event) {
                self.backlog.push_back(event);
            }
        }
        Ok(short)
    }

    /// The next event (waiting for one), a reset, a recheck or the end.
    ///
    /// # Errors
    /// When the log cannot be read while catching up; the subscriber may
    /// resume from its last event.
    pub async fn next(&mut self) -> Result<Next, RepoError> {
        loop {
            if std::mem::take(&mut self.reset) {
                return Ok(Next::Reset);
            }
            if let Some(event) = self.backlog.pop_front() {
                return Ok(Next::Event(Arc::new(event)));
            }
            match &mut self.phase {
                Phase::Backlog => {
                    if self.read_page(None).await? && self.backlog.is_empty() {
                        let (queue, until) = self.register();
                        self.phase = Phase::Gap { until, queue };
                    }
                }
                Phase::Gap { until, .. } => {
                    let until = *until;
                    if (until <= self.read_to || self.read_page(Some(until)).await?)
                        && let Phase::Gap { queue, .. } = std::mem::replace(&mut self.phase, Phase::Backlog)
                    {
                        self.phase = Phase::Joined(queue);
                    }
                }
                Phase::Joined(queue) => match queue.rx.recv().await {
                    Some(Delivery::Event(event)) => {
                        if Some(event.position) > self.read_to {
                            self.read_to = Some(event.position);
                            return Ok(Next::Event(event));
                        }
                    }
                    Some(Delivery::Recheck) => return Ok(Next::Recheck),
                    None => {
                        let reason = if queue.state.load(Ordering::Acquire) == LAGGING {
                            CloseReason::Lagging
                        } else {
                            CloseReason::Stopped
                        };
                        return Ok(Next::Closed(reason));
                    }
                },
            }
        }
    }
}
