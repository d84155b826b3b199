//! One WebSocket session of `/api/v1/events/ws`: authentication by a first
//! message when no header did it, subscriptions, pings, and the close frame
//! that says why it ended.

use super::{
    AUTH_TIMEOUT, Closing, Credential, EventStreams, Feed, Out, authenticate_token, close, control_json, parse_after,
    topic_names, topics_for,
};
use crate::dto::events::{ClientMessage, ControlMessage};
use crate::state::AppState;
use actix_web::web;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use futures_util::StreamExt;
use rivet_auth::Principal;
use rivet_domain::events::{EventPosition, Topics};
use std::time::{Duration, Instant};
use tracing::debug;

/// Largest message a client may send on the socket.
pub(crate) const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// Longest a single send may wait for a client that does not read.
const SEND_TIMEOUT: Duration = crate::STREAM_SEND_TIMEOUT;

pub(crate) type Messages = actix_ws::AggregatedMessageStream;

/// An authenticated socket's first subscription.
pub(crate) struct Opened {
    pub principal: Principal,
    pub credential: Credential,
    pub topics: Topics,
    pub after: Option<EventPosition>,
}

/// What the session does after a client message.
enum Then {
    Continue,
    /// The sending side is gone: stop without a close frame.
    Gone,
    Close(Closing),
}

pub(crate) struct Socket {
    state: web::Data<AppState>,
    streams: EventStreams,
    session: Session,
    last_heard: Instant,
}

impl Socket {
    pub(crate) fn new(state: web::Data<AppState>, streams: EventStreams, session: Session) -> Self {
        Self { state, streams, session, last_heard: Instant::now() }
    }

    async fn send(&mut self, text: impl Into<bytestring::ByteString>) -> bool {
        matches!(tokio::time::timeout(SEND_TIMEOUT, self.session.text(text)).await, Ok(Ok(())))
    }

    /// Sends `text`; the session goes on if it could.
    async fn reply(&mut self, text: impl Into<bytestring::ByteString>) -> Then {
        if self.send(text).await { Then::Continue } else { Then::Gone }
    }

    async fn error(&mut self, code: &'static str, detail: String) -> Then {
        self.reply(control_json(&ControlMessage::Error { code, detail })).await
    }

    async fn close(self, reason: CloseReason) {
        let _ = tokio::time::timeout(SEND_TIMEOUT, self.session.close(Some(reason))).await;
    }

    /// Waits for `{"type":"auth"}`.
    async fn authenticate(&mut self, messages: &mut Messages) -> Result<Opened, &'static str> {
        let wait = async {
            while let Some(Ok(message)) = messages.next().await {
                match message {
                    AggregatedMessage::Text(text) => return Some(text),
                    AggregatedMessage::Ping(bytes) => {
                        let _ = self.session.pong(&bytes).await;
                    }
                    AggregatedMessage::Close(_) => return None,
                    AggregatedMessage::Pong(_) | AggregatedMessage::Binary(_) => {}
                }
            }
            None
        };
        let text =
            tokio::time::timeout(AUTH_TIMEOUT, wait).await.map_err(|_| "no auth message in time")?.ok_or("closed")?;
        let Ok(ClientMessage::Auth { token, topics, after }) = serde_json::from_str::<ClientMessage>(&text) else {
            return Err("the first message must be {\"type\":\"auth\",\"token\":…}");
        };
        let (principal, credential) =
            authenticate_token(&self.state, &token).await.map_err(|_| "the token was refused")?;
        let topics = topics_for(Some(&principal), topics.as_deref()).map_err(|_| "unknown topic")?;
        let after = parse_after(after.as_deref()).map_err(|_| "after is not an event id")?;
        Ok(Opened { principal, credential, topics, after })
    }

    /// A client's text message: a new subscription, or an error reply.
    async fn on_text(&mut self, text: &str, principal: &Principal, feed: &mut Feed) -> Then {
        let (topics, after) = match serde_json::from_str::<ClientMessage>(text) {
            Ok(ClientMessage::Subscribe { topics, after }) => (topics, after),
            Ok(ClientMessage::Auth { .. }) => {
                return self.error("already_authenticated", "this socket is authenticated".into()).await;
            }
            Err(e) => {
                return self.error("invalid_message", format!("not a message this socket understands: {e}")).await;
            }
        };
        let topics = match topics_for(Some(principal), topics.as_deref()) {
            Ok(t) => t,
            Err(m) => return self.error("invalid_topic", m).await,
        };
        let after = match parse_after(after.as_deref()) {
            Ok(a) => a,
            Err(m) => return self.error("invalid_after", m).await,
        };
        *feed = match Feed::open(&self.streams.hub, principal.user_id, topics, after, Some(feed)).await {
            Ok(f) => f,
            Err(_) => return Then::Close(Closing::Unavailable),
        };
        let subscribed = ControlMessage::Subscribed { topics: topic_names(feed.topics()) };
        self.reply(control_json(&subscribed)).await
    }

    /// Runs the session to its end.
    pub(crate) async fn run(mut self, mut messages: Messages, opened: Option<Opened>) {
        let Opened { principal, credential, topics, after } = match opened {
            Some(opened) => opened,
            None => match self.authenticate(&mut messages).await {
                Ok(found) => found,
                Err(why) => {
                    debug!(why, "event socket not authenticated");
                    let code = CloseCode::Other(close::UNAUTHENTICATED);
                    return self.close(CloseReason { code, description: Some(why.to_owned()) }).await;
                }
            },
        };
        let mut feed = match Feed::open(&self.streams.hub, principal.user_id, topics, after, None).await {
            Ok(feed) => feed,
            Err(_) => return self.close(Closing::Unavailable.frame()).await,
        };
        let ready = ControlMessage::Ready { user_id: principal.user_id.0, topics: topic_names(topics) };
        if !self.send(control_json(&ready)).await {
            return;
        }
        let idle = self.streams.idle_timeout;
        let mut ticks = tokio::time::interval((idle / 3).max(Duration::from_millis(200)));
        self.last_heard = Instant::now();
        let state = self.state.clone();
        let closing = loop {
            let then = tokio::select! {
                message = messages.next() => {
                    self.last_heard = Instant::now();
                    match message {
                        Some(Ok(AggregatedMessage::Text(text))) => self.on_text(&text, &principal, &mut feed).await,
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            if self.session.pong(&bytes).await.is_ok() { Then::Continue } else { Then::Gone }
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => Then::Continue,
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            self.error("invalid_message", "messages are JSON text".into()).await
                        }
                        Some(Ok(AggregatedMessage::Close(_))) | None => {
                            return self.close(CloseReason { code: CloseCode::Normal, description: None }).await;
                        }
                        Some(Err(e)) => {
                            debug!(error = %e, "event socket protocol error");
                            let reason = CloseReason { code: CloseCode::Protocol, description: Some("protocol error".into()) };
                            return self.close(reason).await;
                        }
                    }
                }
                next = feed.next_out(&state, &credential) => match next {
                    Ok(Out::Event(event)) => {
                        let sent = match bytestring::ByteString::try_from(self.streams.encoded.of(&event)) {
                            Ok(text) => self.send(text).await,
                            Err(_) => false,
                        };
                        if sent { Then::Continue } else { Then::Gone }
                    }
                    Ok(Out::Reset) => {
                        self.reply(control_json(&ControlMessage::Reset)).await
                    }
                    Err(closing) => Then::Close(closing),
                },
                _ = ticks.tick() => {
                    if self.last_heard.elapsed() > idle {
                        Then::Close(Closing::Idle)
                    } else if self.session.ping(b"").await.is_ok() {
                        Then::Continue
                    } else {
                        Then::Gone
                    }
                }
            };
            match then {
                Then::Continue => {}
                Then::Gone => return,
                Then::Close(closing) => break closing,
            }
        };
        self.close(closing.frame()).await;
    }
}
