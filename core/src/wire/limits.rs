//! How much of each body the tracer keeps and decodes: the `limits` section of the configuration.

/// Request body and response body limits, from `limits`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Limits {
    /// Request body bytes kept for parsing; beyond this the request is still forwarded untouched.
    pub(crate) max_request_body_bytes: usize,
    /// Non-streaming response body bytes kept for parsing.
    pub(crate) max_response_body_bytes: usize,
    /// Largest single SSE event; a longer one is skipped and counted.
    pub(crate) max_sse_event_bytes: usize,
}
