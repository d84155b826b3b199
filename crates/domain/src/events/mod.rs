//! The durable event log: every change to a todo (and its attachments) or a
//! product is recorded as an event in the same transaction as the change, so
//! an event exists exactly when its change committed. Streams read the log
//! in order from a position; nothing is delivered that is not in it.
//!
//! Positions are `(tx, seq)` pairs: `seq` is the row's sequence number and
//! `tx` the writing transaction's id on PostgreSQL (0 on SQLite, whose one
//! writer commits in `seq` order). A PostgreSQL reader only returns events
//! of transactions older than every transaction still running, so an event
//! whose transaction commits late still sorts after everything already read:
//! no reader ever skips a committed event.

mod hub;
mod subscription;

pub use hub::{CloseReason, Hub, HubOptions, Next, Waker};
pub use subscription::Subscription;

use crate::error::RepoError;
use crate::session::SessionId;
use crate::time::Timestamp;
use crate::user::UserId;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    TodoCreated,
    TodoUpdated,
    TodoDeleted,
    TodoAttachmentAdded,
    TodoAttachmentDeleted,
    ProductCreated,
    ProductUpdated,
    ProductDeleted,
    ProductStockChanged,
    /// Internal: some of a user's credentials were revoked (logout, password
    /// change, deactivation, key revocation); their streams check theirs.
    /// Never delivered to clients.
    AccessRevoked,
}

impl EventType {
    /// Every type the log holds.
    pub const ALL: [Self; 10] = [
        Self::TodoCreated,
        Self::TodoUpdated,
        Self::TodoDeleted,
        Self::TodoAttachmentAdded,
        Self::TodoAttachmentDeleted,
        Self::ProductCreated,
        Self::ProductUpdated,
        Self::ProductDeleted,
        Self::ProductStockChanged,
        Self::AccessRevoked,
    ];

    /// The types clients receive: all but the internal last one.
    pub const PUBLIC: &'static [Self] = Self::ALL.split_at(Self::ALL.len() - 1).0;

    /// The name clients see (`todo.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TodoCreated => "todo.created",
            Self::TodoUpdated => "todo.updated",
            Self::TodoDeleted => "todo.deleted",
            Self::TodoAttachmentAdded => "todo.attachment_added",
            Self::TodoAttachmentDeleted => "todo.attachment_deleted",
            Self::ProductCreated => "product.created",
            Self::ProductUpdated => "product.updated",
            Self::ProductDeleted => "product.deleted",
            Self::ProductStockChanged => "product.stock_changed",
            Self::AccessRevoked => "access.revoked",
        }
    }

    /// True for the log's own bookkeeping, which no client receives.
    pub fn is_internal(self) -> bool {
        self == Self::AccessRevoked
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The type named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Who may see an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The owner of the todo, alone.
    Owner(UserId),
    /// Every authenticated subscriber (the public catalogue).
    Everyone,
}

/// An event to record with a change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventType,
    pub audience: Audience,
    /// The changed resource's new version (its last one for a deletion).
    pub version: Option<i64>,
    /// What a subscriber needs to act: the resource's id and version, and
    /// the figures that changed (`stock`); the resource itself is a GET away.
    pub data: serde_json::Value,
    pub occurred_at: Timestamp,
}

impl NewEvent {
    /// A todo event for its owner.
    pub fn todo(kind: EventType, owner: UserId, todo: uuid::Uuid, version: i64, at: Timestamp) -> Self {
        let data = serde_json::json!({ "id": todo, "version": version });
        Self { kind, audience: Audience::Owner(owner), version: Some(version), data, occurred_at: at }
    }

    /// An attachment event for the todo's owner.
    pub fn attachment(kind: EventType, owner: UserId, todo: uuid::Uuid, attachment: uuid::Uuid, at: Timestamp) -> Self {
        let data = serde_json::json!({ "todo_id": todo, "id": attachment });
        Self { kind, audience: Audience::Owner(owner), version: None, data, occurred_at: at }
    }

    /// A product event for everyone; `stock` for stock changes.
    pub fn product(kind: EventType, product: uuid::Uuid, version: i64, stock: Option<i64>, at: Timestamp) -> Self {
        let mut data = serde_json::json!({ "id": product, "version": version });
        if let Some(stock) = stock {
            data["stock"] = stock.into();
        }
        Self { kind, audience: Audience::Everyone, version: Some(version), data, occurred_at: at }
    }
}

impl NewEvent {
    /// Tells every instance's streams of `user` to check their credentials.
    pub fn access_revoked(user: UserId, session: Option<SessionId>, at: Timestamp) -> Self {
        let data = serde_json::json!({ "session": session.map(|s| s.0) });
        Self { kind: EventType::AccessRevoked, audience: Audience::Owner(user), version: None, data, occurred_at: at }
    }
}

/// The event types a subscriber asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topics(u16);

impl Topics {
    /// Every public type.
    pub fn all() -> Self {
        Self(EventType::PUBLIC.iter().fold(0, |m, t| m | t.bit()))
    }

    /// Parses topic names: an event type (`todo.created`) or a family
    /// (`todo`, `todo.*`, `product`, `product.*`). Returns the first name
    /// that is neither. An empty list means every type.
    ///
    /// # Errors
    /// The unknown topic.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut mask = 0;
        for name in names {
            let family = name.strip_suffix(".*").unwrap_or(name);
            let matched: Vec<EventType> = EventType::PUBLIC
                .iter()
                .copied()
                .filter(|t| t.as_str() == name || t.as_str().split('.').next() == Some(family))
                .collect();
            if matched.is_empty() {
                return Err(name.to_owned());
            }
            mask |= matched.iter().fold(0, |m, t| m | t.bit());
        }
        Ok(if mask == 0 { Self::all() } else { Self(mask) })
    }

    /// These topics less the types `keep` refuses.
    #[must_use]
    pub fn retain(self, keep: impl Fn(EventType) -> bool) -> Self {
        Self(EventType::PUBLIC.iter().filter(|t| self.contains(**t) && keep(**t)).fold(0, |m, t| m | t.bit()))
    }

    /// True when events of `kind` are wanted.
    pub fn contains(self, kind: EventType) -> bool {
        self.0 & kind.bit() != 0
    }
}

impl Audience {
    /// True when `user` may see an event for this audience.
    pub fn includes(self, user: UserId) -> bool {
        match self {
            Self::Owner(owner) => owner == user,
            Self::Everyone => true,
        }
    }
}

/// A place in the log: events are read in `(tx, seq)` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventPosition {
    pub tx: i64,
    pub seq: i64,
}

impl EventPosition {
    /// What an encoded position looks like.
    pub const PATTERN: &'static str = "^[0-9a-f]{32}$";

    /// The position as clients see it: 32 hex digits, so that later events
    /// have larger ids as strings too.
    pub fn encode(self) -> String {
        format!("{:016x}{:016x}", self.tx, self.seq)
    }

    /// A position a client sent back.
    pub fn decode(s: &str) -> Option<Self> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let tx = i64::from_str_radix(&s[..16], 16).ok()?;
        let seq = i64::from_str_radix(&s[16..], 16).ok()?;
        (tx >= 0 && seq >= 0).then_some(Self { tx, seq })
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub position: EventPosition,
    pub kind: EventType,
    pub audience: Audience,
    pub version: Option<i64>,
    pub data: serde_json::Value,
    pub occurred_at: Timestamp,
}

/// One read of the log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Events of committed transactions exist after the page that cannot
    /// be read yet (an older transaction is still running): read again soon.
    pub held_back: bool,
}

/// Reading the log.
#[async_trait::async_trait]
pub trait EventLog: Send + Sync {
    /// Up to `limit` events after `after` (from the start when `None`), in
    /// order, never skipping one that commits later; with `for_user`, only
    /// the events that user may see.
    async fn after(
        &self,
        after: Option<EventPosition>,
        for_user: Option<UserId>,
        limit: u32,
    ) -> Result<EventPage, RepoError>;

    /// The position of the last event that can be read now (`None` for an
    /// empty log): reading after it later never skips an event.
    async fn head(&self) -> Result<Option<EventPosition>, RepoError>;

    /// The last position the purge removed: a reader resuming before it may
    /// have missed events and must start over.
    async fn horizon(&self) -> Result<Option<EventPosition>, RepoError>;

    /// Removes events older than `cutoff` (moving the horizon past them)
    /// and stream tickets that have expired; returns how many events.
    async fn purge_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
}

/// Something to tell when this instance has committed events: the hub of a
/// single instance, or the channel (Redis) that tells every instance.
pub trait EventSignal: Send + Sync {
    /// Called after a commit that recorded events; must not block.
    fn signal(&self);
}

/// A single-use ticket that lets a client open an event stream without
/// putting its token in the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// The ticket's hash; the ticket itself is never stored.
    pub hash: String,
    pub user_id: UserId,
    /// The session the ticket was issued from; the stream lives as long as it.
    pub session_id: SessionId,
    pub expires_at: Timestamp,
}

/// Storage of stream tickets.
#[async_trait::async_trait]
pub trait TicketRepository: Send + Sync {
    async fn issue(&self, ticket: NewTicket) -> Result<(), RepoError>;

    /// Uses a ticket, atomically: of two concurrent calls one gets its
    /// holder; an expired or used ticket gets `None`.
    async fn redeem(&self, hash: &str, now: Timestamp) -> Result<Option<(UserId, SessionId)>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_sort_as_strings_like_as_pairs() {
        let a = EventPosition { tx: 7, seq: 900 };
        let b = EventPosition { tx: 8, seq: 3 };
        assert!(a < b && a.encode() < b.encode());
        assert_eq!(EventPosition::decode(&a.encode()), Some(a));
        assert_eq!(EventPosition::decode("xyz"), None);
        assert_eq!(EventPosition::decode(&"f".repeat(32)), None, "negative halves are refused");
    }

    #[test]
    fn topics_are_types_or_families() {
        let todo = Topics::parse(["todo"]).unwrap();
        assert!(todo.contains(EventType::TodoDeleted) && todo.contains(EventType::TodoAttachmentAdded));
        assert!(!todo.contains(EventType::ProductCreated));
        let one = Topics::parse(["product.stock_changed", "todo.*"]).unwrap();
        assert!(one.contains(EventType::ProductStockChanged) && !one.contains(EventType::ProductUpdated));
        assert!(one.contains(EventType::TodoCreated));
        assert_eq!(Topics::parse([]).unwrap(), Topics::all());
        assert!(!Topics::all().contains(EventType::AccessRevoked), "internal events are never a topic");
        assert_eq!(Topics::parse(["todo", "access.revoked"]), Err("access.revoked".into()));
        assert_eq!(Topics::parse(["tod"]), Err("tod".into()));
    }

    #[test]
    fn every_type_has_a_name_that_parses_back() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
    }
}
