//! Clients of the event streams: a WebSocket and an SSE reader, speaking to
//! the server over real sockets.

use crate::TestApp;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// How long a test waits for a message it expects.
pub const WAIT: Duration = Duration::from_secs(5);

/// What the socket received.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Json(Value),
    /// The server closed: its code and reason.
    Close(u16, String),
}

/// A WebSocket client of `/api/v1/events/ws`.
#[derive(Debug)]
pub struct EventSocket {
    ws: WebSocketStream<TcpStream>,
}

impl TestApp {
    /// Opens the event socket with `headers` and `query` (`""` or `?…`).
    pub async fn socket(&self, headers: &[(&str, &str)], query: &str) -> EventSocket {
        self.socket_with_receive_buffer(headers, query, None).await
    }

    /// [`TestApp::socket`] over a TCP connection whose receive buffer is
    /// `bytes` (a client that reads slowly fills it at once).
    pub async fn socket_with_receive_buffer(
        &self,
        headers: &[(&str, &str)],
        query: &str,
        bytes: Option<u32>,
    ) -> EventSocket {
        let addr = self.base.trim_start_matches("http://").to_owned();
        let mut request =
            format!("ws://{addr}/api/v1/events/ws{query}").into_client_request().expect("a WebSocket request");
        for (name, value) in headers {
            request.headers_mut().insert(http_name(name), value.parse().expect("a header value"));
        }
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        if let Some(bytes) = bytes {
            socket.set_recv_buffer_size(bytes).expect("a receive buffer size");
        }
        let stream = socket.connect(addr.parse().expect("an address")).await.expect("the server accepts");
        let (ws, _) = tokio_tungstenite::client_async(request, stream).await.expect("the upgrade succeeds");
        EventSocket { ws }
    }

    /// Opens the socket authenticated by a first `auth` message, and waits for `ready`.
    pub async fn socket_authenticated(&self, token: &str) -> EventSocket {
        let mut socket = self.socket(&[], "").await;
        socket.send(serde_json::json!({"type": "auth", "token": token})).await;
        let ready = socket.json().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        socket
    }

    /// Opens the socket with a bearer header, and waits for `ready`.
    pub async fn socket_with_bearer(&self, token: &str) -> EventSocket {
        let mut socket = self.socket(&[("authorization", &format!("Bearer {token}"))], "").await;
        let ready = socket.json().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        socket
    }
}

fn http_name(name: &str) -> tokio_tungstenite::tungstenite::http::HeaderName {
    tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name")
}

impl EventSocket {
    pub async fn send(&mut self, message: Value) {
        self.ws.send(Message::text(message.to_string())).await.expect("the message is sent");
    }

    /// The next message within `within` (pings are answered by the client
    /// library and not shown); `None` when nothing came.
    pub async fn next_within(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let message = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()?;
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Some(Frame::Json(serde_json::from_str(&text).expect("the server sends JSON")));
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) =
                        frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.to_string()));
                    return Some(Frame::Close(code, reason));
                }
                Some(Ok(_)) => {}
                // 1006: no close frame; the reason carries what the client saw.
                Some(Err(e)) => return Some(Frame::Close(1006, e.to_string())),
                None => return Some(Frame::Close(1006, "the stream ended".into())),
            }
        }
    }

    /// The next JSON message, which must come within [`WAIT`].
    pub async fn json(&mut self) -> Value {
        match self.next_within(WAIT).await {
            Some(Frame::Json(v)) => v,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Gives the connection a receive buffer of `bytes`: a client opened with
    /// a tiny one, once done playing slow, reads the rest at normal speed (a
    /// window smaller than one segment otherwise reopens only on the
    /// sender's backed-off zero-window probes, seconds apart).
    pub fn widen_receive_buffer(&self, bytes: usize) {
        socket2::SockRef::from(self.ws.get_ref()).set_recv_buffer_size(bytes).expect("a receive buffer size");
    }

    /// The close code and reason, which must come within `within`, after
    /// any messages still in flight (returned too).
    pub async fn closed_within(&mut self, within: Duration) -> (Vec<Value>, u16, String) {
        let mut before = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(Frame::Json(v)) => before.push(v),
                Some(Frame::Close(code, reason)) => return (before, code, reason),
                None => panic!("not closed within {within:?} ({} messages)", before.len()),
            }
        }
    }

    /// Asserts nothing arrives for `d`.
    pub async fn silent_for(&mut self, d: Duration) {
        if let Some(frame) = self.next_within(d).await {
            panic!("expected silence, got {frame:?}");
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// The normal close code, for comparisons.
pub fn normal() -> u16 {
    u16::from(CloseCode::Normal)
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: Value,
}

/// A reader of `GET /api/v1/events`.
#[derive(Debug)]
pub struct SseStream {
    pub status: u16,
    pub content_type: String,
    res: reqwest::Response,
    buf: String,
}

impl TestApp {
    /// Opens the SSE stream at `path_and_query` with `headers`.
    pub async fn sse(&self, path_and_query: &str, headers: &[(&str, &str)]) -> SseStream {
        let mut request = self.client.get(format!("{}{path_and_query}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let res = request.send().await.expect("the request reaches the server");
        let status = res.status().as_u16();
        let content_type =
            res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        SseStream { status, content_type, res, buf: String::new() }
    }
}

impl SseStream {
    /// The next event (comments and `retry:` skipped) within `within`.
    pub async fn next_within(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, String::from("message"), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Some(SseEvent { id, event, data: serde_json::from_str(&data).expect("JSON data") });
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk()).await.ok()?.ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event, which must come within [`WAIT`].
    pub async fn event(&mut self) -> SseEvent {
        self.next_within(WAIT).await.expect("an event within the wait")
    }

    /// The whole body as text (the stream must have ended).
    pub async fn text(self) -> String {
        self.buf + &self.res.text().await.unwrap_or_default()
    }
}
