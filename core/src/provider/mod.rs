//! Provider API shapes: one module per shape holding all of that shape's knowledge (its request fields and content,
//! its response and stream decoding, its errors), the [`Api`] enum that dispatches to them, and detection
//! ([`detect`]): which API a request speaks and who serves it, decided once per request.
//!
//! Adding an API means one decoder module here implementing [`ApiDecoder`], one arm in [`detect::by_path`] and in
//! [`Api`]'s dispatch, and a fixture. Vector stores ([`vector`]) are one [`Api::Retrieval`] shape with a module per
//! store.

use crate::model::observation::{ErrorInfo, Observation};
use serde::Deserialize;

pub(crate) mod anthropic;
mod api;
pub(crate) mod bedrock;
mod bedrock_metrics;
mod content_parts;
pub(crate) mod detect;
pub(crate) mod gemini;
pub(crate) mod openai_chat;
pub(crate) mod openai_responses;
pub(crate) mod openai_stream_usage;
pub(crate) mod rate_limit;
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
}

/// The `{"error": {...}}` envelope OpenAI-shaped APIs (and Anthropic, inside its `type: error` body) return.
#[derive(Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub(crate) error: Option<ApiError>,
}

#[derive(Deserialize)]
pub(crate) struct ApiError {
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) code: Option<serde_json::Value>,
}

impl ApiError {
    /// `error.type` wants a low-cardinality identifier: the provider's code when it has one, else its type.
    pub(crate) fn into_info(self) -> ErrorInfo {
        let code = match self.code {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
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
