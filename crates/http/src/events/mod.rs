//! The event streams: a WebSocket (`GET /api/v1/events/ws`) and
//! Server-Sent Events (`GET /api/v1/events`), both fed by the instance's
//! [`Hub`] and carrying the same JSON events.
//!
//! A stream belongs to one principal. When the hub says some of that user's
//! credentials were revoked (an `access.revoked` entry in the log, written
//! by the logout, password change, deactivation or key revocation on any
//! instance), the stream checks its own credential against the database
//! and closes if it no longer holds. A subscriber that falls `[events]
//! buffer` events behind is closed too, with a reason saying it may resume
//! from its last event id.
//!
//! [`socket`] runs a WebSocket session and [`sse`] an SSE body; both take
//! what they send from [`Feed::next_out`].

pub(crate) mod socket;
pub(crate) mod sse;

use crate::dto::events::{ControlMessage, EventMessage};
use crate::state::AppState;
use actix_ws::{CloseCode, CloseReason};
use bytes::Bytes;
use rivet_auth::{AuthError, Principal};
use rivet_domain::api_key::Scope;
use rivet_domain::error::display_chain;
use rivet_domain::events::{CloseReason as Ended, Event, EventPosition, EventType, Hub, Next, Subscription, Topics};
use rivet_domain::{RepoError, SessionId, UserId};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tracing::warn;

/// The event machinery handlers need, in [`AppState`].
#[derive(Debug, Clone)]
pub struct EventStreams {
    pub hub: Hub,
    /// A peer that sent nothing for this long is dropped.
    pub idle_timeout: Duration,
    /// Each event's JSON, encoded once for all the streams that send it.
    pub encoded: Arc<EncodedEvents>,
}

impl EventStreams {
    pub fn new(hub: Hub, idle_timeout: Duration) -> Self {
        Self { hub, idle_timeout, encoded: Arc::default() }
    }
}

/// The JSON of the latest events, by position: an event going to a
/// thousand subscribers is encoded once, not a thousand times.
#[derive(Debug, Default)]
pub struct EncodedEvents {
    recent: Mutex<(HashMap<EventPosition, Bytes>, VecDeque<EventPosition>)>,
}

/// Events whose encoding is kept.
const ENCODED_KEPT: usize = 1024;

impl EncodedEvents {
    /// The JSON text of `event`.
    pub(crate) fn of(&self, event: &rivet_domain::events::Event) -> Bytes {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(json) = recent.0.get(&event.position) {
            return json.clone();
        }
        let json = Bytes::from(serde_json::to_vec(&EventMessage::from(event)).unwrap_or_default());
        if recent.1.len() >= ENCODED_KEPT
            && let Some(oldest) = recent.1.pop_front()
        {
            recent.0.remove(&oldest);
        }
        recent.0.insert(event.position, json.clone());
        recent.1.push_back(event.position);
        json
    }
}

/// How long a WebSocket client may take to send `{"type":"auth"}`.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// Close codes of the WebSocket (the 4000s are the application's).
pub mod close {
    /// Nothing, not even a pong, came from the peer for `idle_timeout_secs`.
    pub const IDLE: u16 = 4000;
    /// No valid `auth` message in time, or its token was refused.
    pub const UNAUTHENTICATED: u16 = 4001;
    /// The credential the stream was opened with was revoked.
    pub const REVOKED: u16 = 4002;
    /// The subscriber fell `[events] buffer` events behind: resume from the
    /// last event id received.
    pub const LAGGING: u16 = 4003;
}

/// What a stream re-checks when told of a revocation.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    Session { user: UserId, session: SessionId },
    ApiKey(String),
}

impl Credential {
    /// The credential behind `principal` (`api_key` when it came from one).
    pub(crate) fn of(principal: &Principal, api_key: Option<String>) -> Self {
        match (principal.session_id, api_key) {
            (Some(session), _) => Self::Session { user: principal.user_id, session },
            (None, key) => Self::ApiKey(key.unwrap_or_default()),
        }
    }

    /// True while the credential still holds, read from the database.
    pub(crate) async fn still_valid(&self, state: &AppState) -> Result<bool, RepoError> {
        let checked = match self {
            Self::Session { user, session } => state.auth.session_principal(*user, *session, true).await,
            Self::ApiKey(secret) => state.api_keys.authenticate(secret).await,
        };
        match checked {
            Ok(_) => Ok(true),
            Err(AuthError::Repo(e)) => Err(e),
            Err(_) => Ok(false),
        }
    }
}

/// Authenticates a token sent in a message: an API key (by its prefix) or
/// an access token.
pub(crate) async fn authenticate_token(state: &AppState, token: &str) -> Result<(Principal, Credential), AuthError> {
    if token.starts_with(rivet_auth::api_keys::KEY_PREFIX) {
        let principal = state.api_keys.authenticate(token).await?;
        Ok((principal, Credential::ApiKey(token.to_owned())))
    } else {
        let principal = state.auth.authenticate(token).await?;
        Ok((principal, Credential::of(&principal, None)))
    }
}

/// The topics asked for, less what `principal`'s API key may not read
/// (without a principal yet, the names are only checked).
///
/// # Errors
/// A message naming the first topic that is not an event type or family.
pub(crate) fn topics_for(principal: Option<&Principal>, names: Option<&[String]>) -> Result<Topics, String> {
    let topics = Topics::parse(names.unwrap_or_default().iter().map(String::as_str))
        .map_err(|t| format!("{t:?} is not an event type or family (todo, product)"))?;
    let may_read_todos = principal.is_none_or(|p| p.scopes.is_none_or(|s| s.contains(Scope::TodosRead)));
    Ok(if may_read_todos { topics } else { topics.retain(|t| !t.as_str().starts_with("todo.")) })
}

/// The names of the types in `topics`.
pub(crate) fn topic_names(topics: Topics) -> Vec<&'static str> {
    EventType::PUBLIC.iter().copied().filter(|t| topics.contains(*t)).map(EventType::as_str).collect()
}

/// A resume position a client sent.
///
/// # Errors
/// A message for a string that is not an event id.
pub(crate) fn parse_after(after: Option<&str>) -> Result<Option<EventPosition>, String> {
    match after.map(str::trim) {
        None => Ok(None),
        Some(a) => EventPosition::decode(a)
            .map(Some)
            .ok_or_else(|| format!("{a:?} is not an event id (32 hex digits, as sent in `id`)")),
    }
}

/// A subscription, and the events a previous one on the same stream
/// already sent, which a resume must not send again.
pub(crate) struct Feed {
    sub: Subscription,
    /// Positions `[first, last]` of the previous subscription's topics
    /// that were sent: every such event in that range was.
    sent_before: Option<(EventPosition, EventPosition, Topics)>,
    /// The range this one has sent so far, with its topics.
    sent: Option<(EventPosition, EventPosition)>,
    topics: Topics,
    /// Told of a revocation, the credential is still to be checked.
    recheck: bool,
}

impl Feed {
    pub(crate) async fn open(
        hub: &Hub,
        user: UserId,
        topics: Topics,
        after: Option<EventPosition>,
        previous: Option<&Feed>,
    ) -> Result<Self, RepoError> {
        let sub = hub.subscribe(user, topics, after).await?;
        let sent_before = previous.and_then(|p| p.sent.map(|(first, last)| (first, last, p.topics)));
        Ok(Self { sub, sent_before, sent: None, topics, recheck: false })
    }

    pub(crate) fn topics(&self) -> Topics {
        self.topics
    }

    /// The next thing to send, or why the stream ends. A revocation is
    /// handled here: `credential` is re-checked, and the stream goes on or
    /// closes as `revoked`. Cancel-safe (the socket selects on it beside the
    /// client's messages): a re-check cut short is made again on the next call.
    pub(crate) async fn next_out(&mut self, state: &AppState, credential: &Credential) -> Result<Out, Closing> {
        loop {
            if self.recheck {
                match credential.still_valid(state).await {
                    Ok(true) => {}
                    Ok(false) => return Err(Closing::Revoked),
                    // Kept open: the next revocation checks again.
                    Err(e) => warn!(error = %display_chain(&e), "cannot re-check a stream's credential"),
                }
                self.recheck = false;
            }
            match self.next().await {
                Ok(Next::Event(event)) => return Ok(Out::Event(event)),
                Ok(Next::Reset) => return Ok(Out::Reset),
                Ok(Next::Recheck) => self.recheck = true,
                Ok(Next::Closed(ended)) => return Err(Closing::of(ended)),
                Err(e) => {
                    warn!(error = %display_chain(&e), "an event stream cannot read the log");
                    return Err(Closing::Unavailable);
                }
            }
        }
    }

    /// The subscription's next item; events the stream already sent are skipped.
    async fn next(&mut self) -> Result<Next, RepoError> {
        loop {
            let next = self.sub.next().await?;
            if let Next::Event(event) = &next {
                let p = event.position;
                if let Some((first, last, topics)) = self.sent_before {
                    if p > last {
                        self.sent_before = None;
                    } else if p >= first && topics.contains(event.kind) {
                        continue;
                    }
                }
                self.sent = Some(self.sent.map_or((p, p), |(first, _)| (first, p)));
            }
            return Ok(next);
        }
    }
}

/// What a stream sends next.
pub(crate) enum Out {
    Event(Arc<Event>),
    /// The resume point is older than the log keeps.
    Reset,
}

/// The JSON text of a control message.
pub(crate) fn control_json(message: &ControlMessage) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

/// Why a stream ends, for its close frame or final SSE message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closing {
    Idle,
    Revoked,
    Lagging,
    ShuttingDown,
    Unavailable,
}

impl Closing {
    pub(crate) fn of(ended: Ended) -> Self {
        match ended {
            Ended::Lagging => Self::Lagging,
            Ended::Stopped => Self::ShuttingDown,
        }
    }

    /// The stable name clients match on.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Idle => "idle_timeout",
            Self::Revoked => "revoked",
            Self::Lagging => "lagging",
            Self::ShuttingDown => "shutting_down",
            Self::Unavailable => "service_unavailable",
        }
    }

    pub(crate) fn detail(self) -> &'static str {
        match self {
            Self::Idle => "nothing was heard from the client within the idle timeout",
            Self::Revoked => "the credential this stream was opened with was revoked",
            Self::Lagging => "the client fell too far behind; reconnect and resume after the last event id received",
            Self::ShuttingDown => "the server is shutting down; reconnect and resume after the last event id received",
            Self::Unavailable => "the event log cannot be read; reconnect and resume after the last event id received",
        }
    }

    /// The WebSocket close frame.
    pub(crate) fn frame(self) -> CloseReason {
        let code = match self {
            Self::Idle => CloseCode::Other(close::IDLE),
            Self::Revoked => CloseCode::Other(close::REVOKED),
            Self::Lagging => CloseCode::Other(close::LAGGING),
            Self::ShuttingDown => CloseCode::Away,
            Self::Unavailable => CloseCode::Error,
        };
        CloseReason { code, description: Some(self.code().to_owned()) }
    }

    /// The final message of an SSE stream.
    pub(crate) fn json(self) -> String {
        serde_json::json!({ "type": "close", "code": self.code(), "detail": self.detail() }).to_string()
    }
}
