//! `/api/v1/events`: the real-time streams and their tickets.

use super::{Endpoint, Routes};
use crate::dto::events::{ClientMessage, ControlMessage, TicketBody};
use crate::dto::sets;
use crate::error::ApiError;
use crate::error::Location;
use crate::events::{
    AUTH_TIMEOUT, Closing, Credential, EventStreams, Feed, authenticate_token, close, control_json, parse_after,
    topic_names, topics_for,
};
use crate::extract::{API_KEY, Authenticated, data_error};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::header::{self, CACHE_CONTROL, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use bytes::Bytes;
use futures_util::StreamExt;
use rivet_auth::Principal;
use rivet_domain::events::{EventPosition, Next, Topics};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/events").get(server_sent_events));
    routes.add(Endpoint::new("/api/v1/events/ws").get(websocket));
    routes.add(Endpoint::new("/api/v1/events/tickets").post(ticket));
}

/// Largest message a client may send on the socket.
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// Longest a single send may wait for a client that does not read.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

fn streams(state: &AppState) -> Result<&EventStreams, ApiError> {
    state.events.as_ref().ok_or_else(|| ApiError::Internal("the event hub is not running".into()))
}

/// The principal of the request's `Authorization` or `X-API-Key` header, if
/// it sent one (a bad one is refused).
async fn header_principal(req: &HttpRequest) -> Result<Option<(Principal, Credential)>, ApiError> {
    if req.headers().get(header::AUTHORIZATION).is_none() && req.headers().get(API_KEY).is_none() {
        return Ok(None);
    }
    let api_key = req.headers().get(API_KEY).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let principal = Authenticated::extract(req).await?.0;
    Ok(Some((principal, Credential::of(&principal, api_key))))
}

/// Where a stream starts: its topics and resume point.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    /// The single-use ticket (SSE only).
    ticket: Option<String>,
    /// Comma-separated topics.
    topics: Option<String>,
    /// Resume after this event id (`Last-Event-ID` wins for SSE).
    after: Option<String>,
}

impl StreamQuery {
    fn parse(req: &HttpRequest) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(req.query_string()).map_err(|e| data_error(Location::Query, "", &e.to_string()))
    }

    fn topic_list(&self) -> Option<Vec<String>> {
        self.topics.as_ref().map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
    }
}

fn start(
    principal: &Principal,
    topics: Option<&[String]>,
    after: Option<&str>,
) -> Result<(Topics, Option<EventPosition>), ApiError> {
    let topics = topics_for(principal, topics).map_err(|t| {
        data_error(Location::Query, "topics", &format!("{t:?} is not an event type or family (todo, product)"))
    })?;
    let after = parse_after(after).map_err(|m| data_error(Location::Query, "after", &m))?;
    Ok((topics, after))
}

#[utoipa::path(
    post,
    path = "/api/v1/events/tickets",
    operation_id = "createEventTicket",
    tag = "events",
    summary = "A single-use ticket for opening the event stream from a browser",
    description = "`EventSource` cannot send an `Authorization` header, and tokens do not belong in URLs \
        (proxies and servers log them). Trade the access token for a ticket, then open \
        `GET /api/v1/events?ticket=…` within 30 seconds. A ticket opens one stream; a used or \
        expired one is refused with 401. Signed-in sessions only (not API keys).",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket", body = TicketBody),
        (status = 403, description = "Called with an API key (`forbidden`)", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn ticket(state: web::Data<AppState>, who: Authenticated) -> Result<HttpResponse, ApiError> {
    let (ticket, expires_in) = state.tickets.issue(&who.0).await?;
    Ok(HttpResponse::Created().insert_header((CACHE_CONTROL, "no-store")).json(TicketBody { ticket, expires_in }))
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "streamEvents",
    tag = "events",
    summary = "Server-Sent Events: the event stream over plain HTTP",
    description = "A `text/event-stream` of the events you may see: `todo.*` of your own todos, \
        `product.*` of the catalogue. Each event has an `id:` line (its place in the log), an \
        `event:` line (its type) and a `data:` line holding the JSON of one of the event schemas \
        (`TodoCreatedEvent` … `ProductStockChangedEvent`: `{id, type, occurred_at, data}`).\n\n\
        Authenticate with `Authorization: Bearer`, `X-API-Key`, or `?ticket=` from \
        `POST /api/v1/events/tickets` (browsers). Resume with `Last-Event-ID` (sent by `EventSource` \
        on its own reconnects) or `?after=`: everything after that event is replayed, in order, \
        with no gap and no duplicate. A resume older than the log keeps (`[events] retention_hours`) \
        first gets `event: reset` — refetch, then carry on. The stream ends with `event: close` \
        (`data` `{type, code, detail}`; `code` `lagging`, `revoked`, `shutting_down`) when the \
        client fell `[events] buffer` events behind, its credential was revoked, or the server \
        stops. Comment lines keep idle connections open.",
    params(
        ("ticket" = Option<String>, Query, description = "A ticket from `POST /api/v1/events/tickets`"),
        ("topics" = Option<String>, Query, description = "Comma-separated types or families: `todo`, `product`, `todo.created`…; all when omitted"),
        ("after" = Option<sets::EventId>, Query, description = "Resume after this event id (a `Last-Event-ID` header, \
            as `EventSource` sends on its own reconnects, takes precedence)"),
    ),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The stream: one `ServerSentEvent` per event; its `data` is the JSON of a \
            `StreamEvent`", content_type = "text/event-stream", body = crate::dto::events::ServerSentEvent),
        (status = 401, description = "No credential, or a bad, used or expired ticket", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn server_sent_events(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = StreamQuery::parse(&req)?;
    let (principal, credential) = match &query.ticket {
        Some(ticket) => {
            let principal = state.tickets.redeem(ticket).await?;
            (principal, Credential::of(&principal, None))
        }
        None => header_principal(&req).await?.ok_or(ApiError::Unauthenticated)?,
    };
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned);
    let after = last_event_id.or(query.after.clone());
    let (topics, after) = start(&principal, query.topic_list().as_deref(), after.as_deref())?;
    let streams = streams(&state)?.clone();
    let feed =
        Feed::open(&streams.hub, principal.user_id, topics, after, None).await.map_err(rivet_auth::AuthError::from)?;
    let keep_alive = (streams.idle_timeout / 3).max(Duration::from_secs(1));
    let sse = Sse {
        feed,
        encoded: streams.encoded.clone(),
        state: state.clone(),
        credential,
        ticks: tokio::time::interval(keep_alive),
        done: false,
    };
    let body = futures_util::stream::unfold(sse, |mut sse| async move {
        let chunk = sse.next_chunk().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), sse))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((CACHE_CONTROL, "no-store"))
        // Proxies (nginx) pass each event on at once instead of buffering.
        .insert_header(("x-accel-buffering", HeaderValue::from_static("no")))
        .streaming(futures_util::stream::once(async { Ok(Bytes::from_static(b"retry: 2000\n\n")) }).chain(body)))
}

struct Sse {
    feed: Feed,
    encoded: std::sync::Arc<crate::events::EncodedEvents>,
    state: web::Data<AppState>,
    credential: Credential,
    ticks: tokio::time::Interval,
    done: bool,
}

impl Sse {
    /// The next piece of the stream; `None` once it has ended.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let closing = loop {
            tokio::select! {
                next = self.feed.next() => match next {
                    Ok(Next::Event(event)) => {
                        let kind = event.kind.as_str();
                        let json = self.encoded.of(&event);
                        let mut text = bytes::BytesMut::with_capacity(json.len() + 80);
                        text.extend_from_slice(format!("id: {}\nevent: {kind}\ndata: ", event.position.encode()).as_bytes());
                        text.extend_from_slice(&json);
                        text.extend_from_slice(b"\n\n");
                        return Some(text.freeze());
                    }
                    Ok(Next::Reset) => {
                        return Some(Bytes::from(format!("event: reset\ndata: {}\n\n", control_json(&ControlMessage::Reset))));
                    }
                    Ok(Next::Recheck) => match self.credential.still_valid(&self.state).await {
                        Ok(true) => {}
                        Ok(false) => break Closing::Revoked,
                        Err(e) => {
                            warn!(error = %rivet_domain::error::display_chain(&e), "cannot re-check a stream's credential");
                        }
                    },
                    Ok(Next::Closed(ended)) => break Closing::of(ended),
                    Err(e) => {
                        warn!(error = %rivet_domain::error::display_chain(&e), "an event stream cannot read the log");
                        break Closing::Unavailable;
                    }
                },
                _ = self.ticks.tick() => return Some(Bytes::from_static(b": keep-alive\n\n")),
            }
        };
        self.done = true;
        Some(Bytes::from(format!("event: close\ndata: {}\n\n", closing.json())))
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/events/ws",
    operation_id = "eventsWebSocket",
    tag = "events",
    summary = "WebSocket: the event stream, with subscriptions",
    description = "Upgrade to a WebSocket. Authenticate with an `Authorization: Bearer` or `X-API-Key` \
        header, or — browsers cannot set headers on a WebSocket — by sending \
        `{\"type\":\"auth\",\"token\":\"<access token>\"}` as the first message within 10 seconds \
        (never a token in the URL). The server answers `{\"type\":\"ready\",\"user_id\":…,\"topics\":[…]}` \
        and then pushes events as text messages, each one of the event schemas \
        (`{id, type, occurred_at, data}`): `todo.*` of your own todos only, `product.*` to everyone.\n\n\
        Send `{\"type\":\"subscribe\",\"topics\":[\"todo\",\"product.stock_changed\"],\"after\":\"<id>\"}` \
        to narrow the topics and resume after an event id (also accepted in the `auth` message, \
        and as `?topics=`/`?after=` with header authentication): what was missed is replayed in \
        order, with no gap and no duplicate. Older than the log keeps, you get `{\"type\":\"reset\"}`: \
        refetch, then carry on. A message that is not understood gets \
        `{\"type\":\"error\",\"code\",\"detail\"}` and the socket stays open.\n\n\
        The server pings; a peer silent for `[events] idle_timeout_secs` is dropped (close 4000). \
        Close codes: 4001 not authenticated, 4002 credential revoked (logout-all, password \
        change, deactivation, key revocation: within seconds, on every instance), 4003 lagging \
        (fell `[events] buffer` events behind: reconnect and resume), 1001 server shutting down.",
    params(
        ("topics" = Option<String>, Query, description = "Comma-separated types or families"),
        ("after" = Option<sets::EventId>, Query, description = "Resume after this event id"),
    ),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; messages are events (`StreamEvent`) and control messages"),
        (status = 426, description = "Not a WebSocket upgrade request (`upgrade_required`)", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn websocket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = StreamQuery::parse(&req)?;
    if query.ticket.is_some() {
        return Err(data_error(
            Location::Query,
            "ticket",
            "tickets open the SSE stream; authenticate the socket with a header or an auth message",
        ));
    }
    // The query is checked before anything else, so a bad one is a 422
    // whether or not the socket authenticates by header.
    Topics::parse(query.topic_list().iter().flatten().map(String::as_str)).map_err(|t| {
        data_error(Location::Query, "topics", &format!("{t:?} is not an event type or family (todo, product)"))
    })?;
    parse_after(query.after.as_deref()).map_err(|m| data_error(Location::Query, "after", &m))?;
    let authenticated = header_principal(&req).await?;
    let first = match &authenticated {
        Some((principal, _)) => Some(start(principal, query.topic_list().as_deref(), query.after.as_deref())?),
        None => None,
    };
    let streams = streams(&state)?.clone();
    let (response, session, messages) =
        actix_ws::handle(&req, body).map_err(|e| ApiError::UpgradeRequired(e.to_string()))?;
    let messages =
        messages.max_frame_size(MAX_CLIENT_MESSAGE).aggregate_continuations().max_continuation_size(MAX_CLIENT_MESSAGE);
    let socket = Socket { state: state.clone(), streams, session, last_heard: Instant::now() };
    let opened = authenticated.zip(first).map(|((principal, credential), (topics, after))| Opened {
        principal,
        credential,
        topics,
        after,
    });
    actix_web::rt::spawn(socket.run(messages, opened));
    Ok(response)
}

struct Socket {
    state: web::Data<AppState>,
    streams: EventStreams,
    session: Session,
    last_heard: Instant,
}

type Messages = actix_ws::AggregatedMessageStream;

/// An authenticated socket's first subscription.
struct Opened {
    principal: Principal,
    credential: Credential,
    topics: Topics,
    after: Option<EventPosition>,
}

impl Socket {
    async fn send(&mut self, text: impl Into<bytestring::ByteString>) -> bool {
        matches!(tokio::time::timeout(SEND_TIMEOUT, self.session.text(text)).await, Ok(Ok(())))
    }

    async fn error(&mut self, code: &'static str, detail: String) -> bool {
        self.send(control_json(&ControlMessage::Error { code, detail })).await
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
        let topics = topics_for(&principal, topics.as_deref()).map_err(|_| "unknown topic")?;
        let after = parse_after(after.as_deref()).map_err(|_| "after is not an event id")?;
        Ok(Opened { principal, credential, topics, after })
    }

    async fn run(mut self, mut messages: Messages, opened: Option<Opened>) {
        let Opened { principal, credential, topics, after } = match opened {
            Some(opened) => opened,
            None => match self.authenticate(&mut messages).await {
                Ok(found) => found,
                Err(why) => {
                    debug!(why, "event socket not authenticated");
                    let reason = CloseReason {
                        code: CloseCode::Other(close::UNAUTHENTICATED),
                        description: Some(why.to_owned()),
                    };
                    return self.close(reason).await;
                }
            },
        };
        let user = principal.user_id;
        let mut feed = match Feed::open(&self.streams.hub, user, topics, after, None).await {
            Ok(feed) => feed,
            Err(_) => return self.close(Closing::Unavailable.frame()).await,
        };
        let ready = ControlMessage::Ready { user_id: user.0, topics: topic_names(topics) };
        if !self.send(control_json(&ready)).await {
            return;
        }
        let idle = self.streams.idle_timeout;
        let mut ticks = tokio::time::interval((idle / 3).max(Duration::from_millis(200)));
        self.last_heard = Instant::now();
        let closing = loop {
            tokio::select! {
                message = messages.next() => {
                    self.last_heard = Instant::now();
                    match message {
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            match serde_json::from_str::<ClientMessage>(&text) {
                                Ok(ClientMessage::Subscribe { topics, after }) => {
                                    let topics = match topics_for(&principal, topics.as_deref()) {
                                        Ok(t) => t,
                                        Err(t) => {
                                            if !self.error("invalid_topic", format!("{t:?} is not an event type or family (todo, product)")).await { return; }
                                            continue;
                                        }
                                    };
                                    let after = match parse_after(after.as_deref()) {
                                        Ok(a) => a,
                                        Err(m) => {
                                            if !self.error("invalid_after", m).await { return; }
                                            continue;
                                        }
                                    };
                                    feed = match Feed::open(&self.streams.hub, user, topics, after, Some(&feed)).await {
                                        Ok(f) => f,
                                        Err(_) => break Closing::Unavailable,
                                    };
                                    if !self.send(control_json(&ControlMessage::Subscribed { topics: topic_names(feed.topics()) })).await { return; }
                                }
                                Ok(ClientMessage::Auth { .. }) => {
                                    if !self.error("already_authenticated", "this socket is authenticated".into()).await { return; }
                                }
                                Err(e) => {
                                    if !self.error("invalid_message", format!("not a message this socket understands: {e}")).await { return; }
                                }
                            }
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            if self.session.pong(&bytes).await.is_err() { return; }
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            if !self.error("invalid_message", "messages are JSON text".into()).await { return; }
                        }
                        Some(Ok(AggregatedMessage::Close(_))) | None => return self.close(CloseReason { code: CloseCode::Normal, description: None }).await,
                        Some(Err(e)) => {
                            debug!(error = %e, "event socket protocol error");
                            return self.close(CloseReason { code: CloseCode::Protocol, description: Some("protocol error".into()) }).await;
                        }
                    }
                }
                next = feed.next() => match next {
                    Ok(Next::Event(event)) => {
                        let json = self.streams.encoded.of(&event);
                        let Ok(text) = bytestring::ByteString::try_from(json) else { return };
                        if !self.send(text).await { return; }
                    }
                    Ok(Next::Reset) => {
                        if !self.send(control_json(&ControlMessage::Reset)).await { return; }
                    }
                    Ok(Next::Recheck) => match credential.still_valid(&self.state).await {
                        Ok(true) => {}
                        Ok(false) => break Closing::Revoked,
                        Err(e) => warn!(error = %rivet_domain::error::display_chain(&e), "cannot re-check a stream's credential"),
                    },
                    Ok(Next::Closed(ended)) => break Closing::of(ended),
                    Err(e) => {
                        warn!(error = %rivet_domain::error::display_chain(&e), "an event stream cannot read the log");
                        break Closing::Unavailable;
                    }
                },
                _ = ticks.tick() => {
                    if self.last_heard.elapsed() > idle {
                        break Closing::Idle;
                    }
                    if self.session.ping(b"").await.is_err() { return; }
                }
            }
        };
        self.close(closing.frame()).await;
    }
}
