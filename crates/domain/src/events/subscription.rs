//! One subscriber's stream: a resume read from the log, stitched to the
//! hub's live events (see the hub's module comment for why no event is
//! skipped or sent twice).

use super::hub::{Delivery, Inner, LAGGING, OPEN, Slot};
use super::{CloseReason, Event, EventPosition, Next, Topics};
use crate::error::RepoError;
use crate::user::UserId;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use tokio::sync::mpsc;

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
    /// A subscription of `user` to `topics`: after `after`, read from the log
    /// first; with no resume point, or one older than the log keeps (a
    /// reset), live from the hub's cursor.
    pub(super) async fn start(
        inner: Arc<Inner>,
        user: UserId,
        topics: Topics,
        after: Option<EventPosition>,
    ) -> Result<Self, RepoError> {
        let lost = match after {
            Some(after) => inner.log.horizon().await?.is_some_and(|h| after < h),
            None => true,
        };
        let mut sub =
            Self { inner, user, topics, read_to: after, backlog: VecDeque::new(), phase: Phase::Backlog, reset: false };
        if lost {
            sub.reset = after.is_some();
            sub.join();
        }
        Ok(sub)
    }

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
