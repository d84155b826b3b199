//! What the event streams send and accept. Events travel as JSON objects
//! `{id, type, occurred_at, data}`, the same on the WebSocket and in SSE
//! `data:` lines; the control messages carry a `type` no event has.

use chrono::{DateTime, Utc};
use rivet_domain::events::Event;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An event as a client receives it.
#[derive(Debug, Serialize)]
pub struct EventMessage<'a> {
    /// The event's place in the log: resume after it.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
    pub occurred_at: DateTime<Utc>,
    pub data: &'a serde_json::Value,
}

impl<'a> From<&'a Event> for EventMessage<'a> {
    fn from(e: &'a Event) -> Self {
        Self { id: e.position.encode(), kind: e.kind.as_str(), occurred_at: e.occurred_at, data: &e.data }
    }
}

/// `data` of `todo.created`, `todo.updated` and `todo.deleted`: fetch the
/// todo (unless deleted) for the rest.
#[derive(Debug, Serialize, ToSchema)]
pub struct TodoEventData {
    pub id: Uuid,
    /// The todo's version after the change (its last for a deletion).
    #[schema(example = 3)]
    pub version: i64,
}

/// `data` of `todo.attachment_added` and `todo.attachment_deleted`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentEventData {
    pub todo_id: Uuid,
    /// The attachment's id.
    pub id: Uuid,
}

/// `data` of `product.created`, `product.updated` and `product.deleted`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductEventData {
    pub id: Uuid,
    #[schema(example = 7)]
    pub version: i64,
}

/// `data` of `product.stock_changed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockEventData {
    pub id: Uuid,
    #[schema(example = 8)]
    pub version: i64,
    /// The stock after the change.
    #[schema(example = 41)]
    pub stock: i64,
}

/// Declares one schema per event type: the envelope with `type` fixed and
/// `data` of the type's shape.
macro_rules! event_schemas {
    ($($name:ident = $kind:literal with $data:ty, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            /// The event's place in the log (32 hex digits; later events sort after).
            #[schema(example = "0000000000000e2a0000000000000041", pattern = "^[0-9a-f]{32}$")]
            pub id: String,
            #[serde(rename = "type")]
            #[schema(pattern = $kind)]
            pub kind: String,
            #[serde(serialize_with = "crate::dto::timestamp::serialize")]
            pub occurred_at: DateTime<Utc>,
            pub data: $data,
        }
    )*};
}

event_schemas! {
    TodoCreatedEvent = "^todo\\.created$" with TodoEventData, "`todo.created`, to the owner only.";
    TodoUpdatedEvent = "^todo\\.updated$" with TodoEventData, "`todo.updated`, to the owner only.";
    TodoDeletedEvent = "^todo\\.deleted$" with TodoEventData, "`todo.deleted`, to the owner only.";
    TodoAttachmentAddedEvent = "^todo\\.attachment_added$" with AttachmentEventData,
        "`todo.attachment_added`, to the todo's owner only.";
    TodoAttachmentDeletedEvent = "^todo\\.attachment_deleted$" with AttachmentEventData,
        "`todo.attachment_deleted`, to the todo's owner only.";
    ProductCreatedEvent = "^product\\.created$" with ProductEventData, "`product.created`, to every subscriber.";
    ProductUpdatedEvent = "^product\\.updated$" with ProductEventData,
        "`product.updated` (also when its image changes), to every subscriber.";
    ProductDeletedEvent = "^product\\.deleted$" with ProductEventData, "`product.deleted`, to every subscriber.";
    ProductStockChangedEvent = "^product\\.stock_changed$" with StockEventData,
        "`product.stock_changed`, to every subscriber.";
}

/// Any event a stream delivers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum StreamEvent {
    TodoCreated(TodoCreatedEvent),
    TodoUpdated(TodoUpdatedEvent),
    TodoDeleted(TodoDeletedEvent),
    TodoAttachmentAdded(TodoAttachmentAddedEvent),
    TodoAttachmentDeleted(TodoAttachmentDeletedEvent),
    ProductCreated(ProductCreatedEvent),
    ProductUpdated(ProductUpdatedEvent),
    ProductDeleted(ProductDeletedEvent),
    ProductStockChanged(ProductStockChangedEvent),
}

/// One event of the SSE stream (`text/event-stream`), as its lines give it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerSentEvent {
    /// The `id:` line: the event's id (absent on `reset` and `close`).
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub id: Option<String>,
    /// The `event:` line: the event's type, or `reset` or `close`.
    #[schema(example = "todo.created")]
    pub event: String,
    /// The `data:` line: the JSON of a `StreamEvent`; for `reset`
    /// `{"type":"reset"}`; for `close` `{"type":"close","code","detail"}`.
    pub data: String,
}

/// `POST /events/tickets`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = EventTicket)]
pub struct TicketBody {
    /// Open `GET /api/v1/events?ticket=…` with it, once, within `expires_in` seconds.
    pub ticket: String,
    #[schema(example = 30)]
    pub expires_in: u64,
}

/// What a WebSocket client sends: `{"type":"auth","token":…}` first (unless
/// it sent an `Authorization` or `X-API-Key` header), then any number of
/// `{"type":"subscribe",…}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ClientMessage {
    /// An access token (or API key), within 10 s of connecting; may carry
    /// the first subscription's `topics` and `after`.
    Auth {
        token: String,
        #[serde(default)]
        topics: Option<Vec<String>>,
        #[serde(default)]
        after: Option<String>,
    },
    /// Replaces the subscription: only `topics` (types such as
    /// `todo.created`, or families `todo`, `product`; all when omitted),
    /// replaying what came after event `after` first. Pass the last id you
    /// received: nothing is sent twice and nothing is skipped.
    Subscribe {
        #[serde(default)]
        topics: Option<Vec<String>>,
        #[serde(default)]
        after: Option<String>,
    },
}

/// What the server sends besides events.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ControlMessage {
    /// Authenticated and subscribed; events follow.
    Ready { user_id: Uuid, topics: Vec<&'static str> },
    /// A `subscribe` took effect.
    Subscribed { topics: Vec<&'static str> },
    /// The resume point is older than the log keeps (`[events]
    /// retention_hours`): refetch what you show, then carry on.
    Reset,
    /// A message was not understood; the stream stays open.
    Error { code: &'static str, detail: String },
}
