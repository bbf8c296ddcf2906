//! Provider API shapes: one module per shape holding all of that shape's knowledge (its request fields and content,
//! its response and stream decoding, its errors), the [`Api`] enum that dispatches to them, and detection
//! ([`detect`]): which API a request speaks and who serves it, decided once per request.
//!
//! Adding an API means one decoder module here implementing [`ApiDecoder`], one arm in [`detect::by_path`] and in
//! [`Api`]'s dispatch, and a fixture. Vector stores ([`vector`]) are one [`Api::Retrieval`] shape with a module per
//! store.

use crate::model::observation::{ErrorInfo, Observation};
use crate::wire::lenient;
use serde::Deserialize;
use std::borrow::Cow;

pub(crate) mod anthropic;
mod api;
pub(crate) mod bedrock;
pub(crate) mod bedrock_invoke;
mod bedrock_metrics;
pub(crate) mod cohere;
mod content_parts;
pub(crate) mod detect;
#[cfg(test)]
mod fast_equivalence;
pub(crate) mod gemini;
pub(crate) mod google_embeddings;
pub(crate) mod ollama;
pub(crate) mod openai_chat;
pub(crate) mod openai_responses;
pub(crate) mod openai_stream_usage;
pub(crate) mod rate_limit;
#[cfg(test)]
mod tolerance;
pub(crate) mod vector;

pub(crate) use api::Api;

/// How the exchange hands a response body to its decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Framed by its content type (SSE events, event-stream frames, JSON-array elements), else kept whole.
    Framed,
    /// Each decoded piece as it arrives, as one [`ApiDecoder::on_stream_message`] (vector-store answers, read
    /// incrementally in bounded memory).
    Pieces,
    /// Not at all: the request turned out to be nothing the tracer reads.
    Ignored,
}

/// Reads one API's request and response into an [`Observation`].
pub(crate) trait ApiDecoder {
    /// The request body (cut at the configured cap when larger).
    fn on_request(&mut self, body: &[u8], obs: &mut Observation);
    /// One message of a streamed response: the SSE `event` name or event-stream event type (may be empty), and
    /// the message's data.
    fn on_stream_message(&mut self, event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation);
    /// A complete (non-streamed) response body, success or error.
    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation);
    /// How the response body should reach this decoder; asked once the request was read.
    fn reading(&self) -> Reading {
        Reading::Framed
    }
    /// The response headers (names in lowercase), for the APIs that report figures there (Bedrock's token
    /// counts). Called before any body.
    fn on_response_headers(&mut self, _headers: &[(String, String)], _obs: &mut Observation) {}
    /// Whether [`ApiDecoder::on_response_headers`] reads anything (else the headers are not copied for it).
    fn wants_response_headers(&self) -> bool {
        false
    }
    /// The response is over: called once, after the last message or the body, also when the body could not be
    /// read.
    fn on_response_end(&mut self, _obs: &mut Observation) {}
}

/// Parses one response message or body leniently (see [`lenient`]), counting on the observation what could not
/// be read. An error when the bytes are not JSON of the expected kind, which counts too.
#[inline(always)]
pub(crate) fn read_response<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    obs: &mut Observation,
) -> Result<T, serde_json::Error> {
    lenient::parse(bytes, &mut |t| obs.note_decode_errors(t.count, t.first))
}

/// Parses a request body leniently; what it cannot read is not counted (the span's decode errors are the
/// response's).
pub(crate) fn read_request<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    lenient::parse(bytes, &mut |_| {}).ok()
}

/// A string field as an owned value, when it is not empty.
pub(crate) fn non_empty(value: &Option<Cow<'_, str>>) -> Option<String> {
    value.as_deref().filter(|s| !s.is_empty()).map(str::to_string)
}

/// Sets `slot` to a non-empty string field; a stream repeats the same id and model in every message, so an
/// unchanged value is not copied again (an allocation and a free per message).
pub(crate) fn set_non_empty(slot: &mut Option<String>, value: &Option<Cow<'_, str>>) {
    if let Some(v) = value.as_deref().filter(|s| !s.is_empty()) {
        match slot {
            Some(kept) if kept == v => {}
            Some(kept) => {
                kept.clear();
                kept.push_str(v);
            }
            None => *slot = Some(v.to_string()),
        }
    }
}

/// The `{"error": {...}}` envelope OpenAI-shaped APIs (and Anthropic, inside its `type: error` body) return.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ErrorEnvelope {
    #[serde(deserialize_with = "lenient::object")]
    pub(crate) error: Option<ApiError>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ApiError {
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) message: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    pub(crate) kind: Option<String>,
    /// A string, or a number (kept in decimal).
    #[serde(deserialize_with = "lenient::name_string")]
    pub(crate) code: Option<String>,
}

impl ApiError {
    /// `error.type` wants a low-cardinality identifier: the provider's code when it has one, else its type.
    pub(crate) fn into_info(self) -> ErrorInfo {
        let code = self.code.filter(|c| !c.is_empty());
        ErrorInfo {
            error_type: code.or(self.kind).unwrap_or_else(|| "_OTHER".to_string()),
            message: self.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_prefers_code_then_type() {
        let e: ErrorEnvelope =
            serde_json::from_str(r#"{"error":{"message":"m","type":"invalid_request_error","code":"empty_array"}}"#)
                .unwrap();
        assert_eq!(e.error.unwrap().into_info().error_type, "empty_array");
        let e: ErrorEnvelope =
            serde_json::from_str(r#"{"error":{"message":"m","type":"server_error","code":null}}"#).unwrap();
        assert_eq!(e.error.unwrap().into_info().error_type, "server_error");
    }
}
