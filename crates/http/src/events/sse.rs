//! The body of an SSE stream: each event as `id:`/`event:`/`data:` lines,
//! comment lines to keep an idle connection open, and a final `event: close`
//! saying why the stream ended.

use super::{Credential, EncodedEvents, Feed, Out, control_json};
use crate::dto::events::ControlMessage;
use crate::state::AppState;
use actix_web::web;
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use std::sync::Arc;
use std::time::Duration;

/// The stream of `feed` for the holder of `credential`, a comment every
/// `keep_alive`.
pub(crate) fn body(
    feed: Feed,
    encoded: Arc<EncodedEvents>,
    state: web::Data<AppState>,
    credential: Credential,
    keep_alive: Duration,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> {
    let sse = Sse { feed, encoded, state, credential, ticks: tokio::time::interval(keep_alive), done: false };
    let first = futures_util::stream::once(async { Ok(Bytes::from_static(b"retry: 2000\n\n")) });
    let rest = futures_util::stream::unfold(sse, |mut sse| async move {
        let chunk = sse.next_chunk().await?;
        Some((Ok(chunk), sse))
    });
    futures_util::StreamExt::chain(first, rest)
}

struct Sse {
    feed: Feed,
    encoded: Arc<EncodedEvents>,
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
        let next = tokio::select! {
            next = self.feed.next_out(&self.state, &self.credential) => next,
            _ = self.ticks.tick() => return Some(Bytes::from_static(b": keep-alive\n\n")),
        };
        match next {
            Ok(Out::Event(event)) => {
                let json = self.encoded.of(&event);
                let head = format!("id: {}\nevent: {}\ndata: ", event.position.encode(), event.kind.as_str());
                let mut text = BytesMut::with_capacity(head.len() + json.len() + 2);
                text.extend_from_slice(head.as_bytes());
                text.extend_from_slice(&json);
                text.extend_from_slice(b"\n\n");
                Some(text.freeze())
            }
            Ok(Out::Reset) => {
                Some(Bytes::from(format!("event: reset\ndata: {}\n\n", control_json(&ControlMessage::Reset))))
            }
            Err(closing) => {
                self.done = true;
                Some(Bytes::from(format!("event: close\ndata: {}\n\n", closing.json())))
            }
        }
    }
}
