//! How a response body is cut into messages: SSE events, AWS event-stream frames, elements of a streamed JSON
//! array, or one whole body, chosen from the content type.

use super::event_stream::{EventStreamDecoder, FrameError};
use super::json_array::JsonArraySplitter;
use super::ndjson::NdjsonSplitter;
use super::sse::SseDecoder;

/// The framing of one response body, and its state between chunks.
#[derive(Debug)]
pub(crate) enum Framing {
    /// `text/event-stream`: messages are decoded as they arrive.
    Sse(SseDecoder),
    /// `application/vnd.amazon.eventstream` (Bedrock streams).
    EventStream(EventStreamDecoder),
    /// A JSON array streamed element by element (Gemini `streamGenerateContent` without `alt=sse`).
    JsonArray(JsonArraySplitter),
    /// Newline-delimited JSON (`application/x-ndjson`, `application/stream+json`: Ollama, Cohere v1 chat).
    Ndjson(NdjsonSplitter),
    /// Anything else: the body is kept (up to the cap) and handed over once at the end.
    Whole(Vec<u8>),
    /// Each piece handed over as it arrives, nothing kept (a decoder that reads incrementally).
    Pieces,
}

/// A message the framing completed: its event name (SSE `event`, event-stream event type; may be empty) and data.
pub(crate) type OnMessage<'a> = dyn FnMut(&[u8], &[u8]) + 'a;

impl Framing {
    /// Picks the framing from the response content type and whether the path asked for a stream.
    pub(crate) fn for_response(content_type: Option<&str>, path_streams: bool, max_event_bytes: usize) -> Framing {
        let ct = content_type.unwrap_or_default().trim_start().to_ascii_lowercase();
        if ct.starts_with("text/event-stream") {
            Framing::Sse(SseDecoder::new(max_event_bytes))
        } else if ct.starts_with("application/vnd.amazon.eventstream") {
            Framing::EventStream(EventStreamDecoder::new(max_event_bytes))
        } else if is_ndjson(&ct) {
            Framing::Ndjson(NdjsonSplitter::new(max_event_bytes))
        } else if path_streams && ct.starts_with("application/json") {
            Framing::JsonArray(JsonArraySplitter::new(max_event_bytes))
        } else {
            Framing::Whole(Vec::new())
        }
    }

    /// Whether this is SSE framing.
    pub(crate) fn is_sse(&self) -> bool {
        matches!(self, Framing::Sse(_))
    }

    /// Feeds decoded body bytes, handing each complete message to `on_message`. A whole body keeps at most
    /// `max_whole` bytes; returns the bytes not kept.
    pub(crate) fn feed(&mut self, bytes: &[u8], max_whole: usize, on_message: &mut OnMessage<'_>) -> u64 {
        match self {
            Framing::Sse(sse) => sse.feed(bytes, on_message),
            Framing::EventStream(es) => es.feed(bytes, &mut |frame| {
                if frame.message_type == "event" {
                    on_message(frame.kind.as_bytes(), frame.payload);
                } else {
                    let event = format!("{}:{}", frame.message_type, frame.kind);
                    on_message(event.as_bytes(), frame.payload);
                }
            }),
            Framing::JsonArray(split) => split.feed(bytes, &mut |element| on_message(b"", element)),
            Framing::Ndjson(split) => split.feed(bytes, &mut |line| on_message(b"", line)),
            Framing::Pieces => on_message(b"", bytes),
            Framing::Whole(buf) => {
                let kept = max_whole.saturating_sub(buf.len()).min(bytes.len());
                buf.extend_from_slice(&bytes[..kept]);
                return (bytes.len() - kept) as u64;
            }
        }
        0
    }

    /// End of a framed body: hands over a last SSE event whose blank line never came, or a last NDJSON line
    /// without its newline.
    pub(crate) fn finish(&mut self, on_message: &mut OnMessage<'_>) {
        match self {
            Framing::Sse(sse) => sse.finish(on_message),
            Framing::Ndjson(split) => split.finish(&mut |line| on_message(b"", line)),
            _ => {}
        }
    }

    /// The kept bytes of a whole (unframed) body.
    pub(crate) fn whole_body(&self) -> Option<&[u8]> {
        match self {
            Framing::Whole(buf) => Some(buf),
            _ => None,
        }
    }

    /// Messages skipped because they were over the cap.
    pub(crate) fn oversized_messages(&self) -> u64 {
        match self {
            Framing::Sse(sse) => sse.oversized_events,
            Framing::JsonArray(split) => split.oversized_elements,
            Framing::Ndjson(split) => split.oversized_lines,
            Framing::EventStream(_) | Framing::Whole(_) | Framing::Pieces => 0,
        }
    }

    /// Why an event-stream body stopped being decoded (a corrupt or oversized frame), if it did.
    pub(crate) fn frame_error(&self) -> Option<FrameError> {
        match self {
            Framing::EventStream(es) => es.error(),
            _ => None,
        }
    }
}

/// Newline-delimited JSON content types.
fn is_ndjson(content_type: &str) -> bool {
    [
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/stream+json",
    ]
    .iter()
    .any(|t| content_type.starts_with(t))
}
