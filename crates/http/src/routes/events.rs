//! `/api/v1/events`: the real-time streams and their tickets.

use super::{Endpoint, Routes};
use crate::dto::events::TicketBody;
use crate::dto::sets;
use crate::error::ApiError;
use crate::error::Location;
use crate::events::socket::{MAX_CLIENT_MESSAGE, Opened, Socket};
use crate::events::{Credential, EventStreams, Feed, parse_after, sse, topics_for};
use crate::extract::{API_KEY, Authenticated, data_error};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::header::{self, CACHE_CONTROL, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use rivet_auth::Principal;
use rivet_domain::events::{EventPosition, Topics};
use serde::Deserialize;
use std::time::Duration;

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/events").get(server_sent_events));
    routes.add(Endpoint::new("/api/v1/events/ws").get(websocket));
    routes.add(Endpoint::new("/api/v1/events/tickets").post(ticket));
}

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

/// A stream's topics and resume point from the query, as `principal` may
/// have them (without one yet, only checked).
fn start(
    principal: Option<&Principal>,
    topics: Option<&[String]>,
    after: Option<&str>,
) -> Result<(Topics, Option<EventPosition>), ApiError> {
    let topics = topics_for(principal, topics).map_err(|m| data_error(Location::Query, "topics", &m))?;
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
    let (topics, after) = start(Some(&principal), query.topic_list().as_deref(), after.as_deref())?;
    let streams = streams(&state)?.clone();
    let feed =
        Feed::open(&streams.hub, principal.user_id, topics, after, None).await.map_err(rivet_auth::AuthError::from)?;
    let keep_alive = (streams.idle_timeout / 3).max(Duration::from_secs(1));
    let body = sse::body(feed, streams.encoded.clone(), state.clone(), credential, keep_alive);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((CACHE_CONTROL, "no-store"))
        // Proxies (nginx) pass each event on at once instead of buffering.
        .insert_header(("x-accel-buffering", HeaderValue::from_static("no")))
        .streaming(body))
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
    let authenticated = header_principal(&req).await?;
    let principal = authenticated.as_ref().map(|(p, _)| p);
    let (topics, after) = start(principal, query.topic_list().as_deref(), query.after.as_deref())?;
    let streams = streams(&state)?.clone();
    let (response, session, messages) =
        actix_ws::handle(&req, body).map_err(|e| ApiError::UpgradeRequired(e.to_string()))?;
    let messages =
        messages.max_frame_size(MAX_CLIENT_MESSAGE).aggregate_continuations().max_continuation_size(MAX_CLIENT_MESSAGE);
    let opened = authenticated.map(|(principal, credential)| Opened { principal, credential, topics, after });
    actix_web::rt::spawn(Socket::new(state.clone(), streams, session).run(messages, opened));
    Ok(response)
}
