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

use crate::error::RepoError;
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
}

impl EventType {
    pub const ALL: [Self; 9] = [
        Self::TodoCreated,
        Self::TodoUpdated,
        Self::TodoDeleted,
        Self::TodoAttachmentAdded,
        Self::TodoAttachmentDeleted,
        Self::ProductCreated,
        Self::ProductUpdated,
        Self::ProductDeleted,
        Self::ProductStockChanged,
    ];

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
        }
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

/// A place in the log: events are read in `(tx, seq)` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventPosition {
    pub tx: i64,
    pub seq: i64,
}

impl EventPosition {
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

/// Reading the log.
#[async_trait::async_trait]
pub trait EventLog: Send + Sync {
    /// Up to `limit` events after `after` (from the start when `None`), in
    /// order, never skipping one that commits later.
    async fn after(&self, after: Option<EventPosition>, limit: u32) -> Result<Vec<Event>, RepoError>;

    /// Removes events older than `cutoff`; returns how many.
    async fn purge_before(&self, cutoff: Timestamp) -> Result<u64, RepoError>;
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
    fn every_type_has_a_name_that_parses_back() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
    }
}
