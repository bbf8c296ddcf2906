//! What happened in one LLM call, as plain data: the single place pricing, sampling, metrics and span building read
//! from. Provider decoders fill it; nothing downstream re-parses bodies. The questions several readers ask (did the
//! call fail and why, how many tokens came out, which model answered) are answered once, here.

/// Request parameters as the client sent them.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RequestParams {
    pub(crate) model: Option<String>,
    pub(crate) stream: bool,
    pub(crate) temperature: Option<f64>,
    pub(crate) top_p: Option<f64>,
    pub(crate) max_tokens: Option<i64>,
    pub(crate) seed: Option<i64>,
    pub(crate) frequency_penalty: Option<f64>,
    pub(crate) presence_penalty: Option<f64>,
    pub(crate) stop_sequences: Vec<String>,
    pub(crate) choice_count: Option<i64>,
    pub(crate) output_type: Option<String>,
    pub(crate) service_tier: Option<String>,
    /// Stream usage was asked for (`stream_options.include_usage`).
    pub(crate) include_usage: bool,
    /// Number of messages in the prompt (content capture and redaction come later; the count is always safe).
    pub(crate) message_count: usize,
}

/// Token usage as the provider reported it, normalised to the conventions (input includes cached tokens).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) input_tokens: Option<u64>,
    pub(crate) output_tokens: Option<u64>,
    pub(crate) cache_read_tokens: Option<u64>,
    pub(crate) cache_creation_tokens: Option<u64>,
    pub(crate) reasoning_tokens: Option<u64>,
    pub(crate) total_tokens: Option<u64>,
    /// Input and output figures exactly as the provider reported them (Anthropic's input excludes cache reads and
    /// writes; Gemini's output excludes thinking tokens), next to the conventions' totals above.
    pub(crate) provider_input_tokens: Option<u64>,
    pub(crate) provider_output_tokens: Option<u64>,
}

impl Usage {
    pub(crate) fn is_reported(&self) -> bool {
        self.input_tokens.is_some() || self.output_tokens.is_some()
    }
}

/// Response fields the provider returned.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ResponseInfo {
    pub(crate) id: Option<String>,
    pub(crate) model: Option<String>,
    /// One entry per choice, ordered by choice index; empty string until a choice reports its reason.
    pub(crate) finish_reasons: Vec<String>,
    pub(crate) system_fingerprint: Option<String>,
    pub(crate) service_tier: Option<String>,
    /// Characters of generated text seen (content, tool-call arguments, reasoning); feeds token estimates.
    pub(crate) output_chars: u64,
    /// Stream messages that carried generated content. Providers stream about one token per message, so this is
    /// the estimate of output tokens when a stream reports no usage.
    pub(crate) output_chunks: u64,
}

impl ResponseInfo {
    /// Records the finish reason of choice `index`, keeping the array ordered by index.
    pub(crate) fn set_finish_reason(&mut self, index: usize, reason: &str) {
        // Cap the index: a hostile body must not make the filter allocate a huge array.
        let index = index.min(127);
        if self.finish_reasons.len() <= index {
            self.finish_reasons.resize(index + 1, String::new());
        }
        self.finish_reasons[index] = reason.to_string();
    }
}

/// A provider or transport error.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ErrorInfo {
    /// Low-cardinality type for `error.type`: provider error code, HTTP status, or a filter-defined reason.
    pub(crate) error_type: String,
    pub(crate) message: Option<String>,
}

/// Monotonic instants (nanoseconds, host clock) of the exchange's milestones.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    pub(crate) start_ns: u64,
    pub(crate) response_headers_ns: Option<u64>,
    pub(crate) first_byte_ns: Option<u64>,
    /// First chunk carrying generated content (text, tool call, reasoning), not the role-only chunk.
    pub(crate) first_token_ns: Option<u64>,
    /// First chunk carrying reasoning (thinking) content, where the API streams it.
    pub(crate) first_reasoning_ns: Option<u64>,
    /// Last chunk carrying generated content; with the first, gives the time per output token.
    pub(crate) last_token_ns: Option<u64>,
    pub(crate) end_ns: Option<u64>,
}

use super::content::{CaptureMode, InputContent, OutputContent};
use super::cost::CostOutcome;
use super::retrieval::{CollectionFact, Retrieval};
use std::sync::Arc;

/// Everything known about one LLM call.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Observation {
    pub(crate) provider: String,
    pub(crate) operation: &'static str,
    pub(crate) api_type: Option<&'static str>,
    pub(crate) server_address: Option<String>,
    pub(crate) server_port: Option<i64>,
    pub(crate) request: RequestParams,
    pub(crate) response: ResponseInfo,
    pub(crate) usage: Usage,
    pub(crate) timing: Timing,
    pub(crate) http_status: Option<u16>,
    pub(crate) error: Option<ErrorInfo>,
    /// The provider signalled the end of its answer (`[DONE]`, a finish reason, a terminal event).
    pub(crate) response_complete: bool,
    /// The exchange was cut before the response ended.
    pub(crate) partial: bool,
    /// The connection closed after the provider's terminal event but before the response's last bytes: a complete
    /// call (the openai SDK stops reading at `data: [DONE]`), not a cut.
    pub(crate) downstream_closed_early: bool,
    /// Body bytes not inspected because of the configured caps.
    pub(crate) truncated_bytes: u64,
    /// Why the response body could not be read, when it could not.
    pub(crate) unreadable: Option<String>,
    /// The filter asked the provider for stream usage on the client's behalf.
    pub(crate) usage_injected: bool,
    /// Attribution values read from request headers: (attribute name, value).
    pub(crate) attribution: Vec<(String, String)>,
    /// Content capture mode decided for this call.
    pub(crate) capture: CaptureMode,
    /// Captured prompt content (only when content capture is on).
    pub(crate) input: Option<InputContent>,
    /// Captured answer, accumulated as it streams (only when content capture is on).
    pub(crate) output: Option<OutputContent>,
    /// Values redacted from the request forwarded upstream, by detector.
    pub(crate) request_redactions: Vec<(Arc<str>, u32)>,
    /// Why request redaction was on but the request went as sent (`too_large`, `no_content_length`,
    /// `host_refused`).
    pub(crate) request_redaction_skipped: Option<&'static str>,
    /// Rate-limit figures from the response headers.
    pub(crate) rate_limits: Vec<(RateLimit, RateLimitFigure)>,
    /// The client's `accept-encoding`, when the filter narrowed it to codings it can read.
    pub(crate) accept_encoding_narrowed: Option<String>,
    /// What the call cost, set when it finishes.
    pub(crate) cost: CostOutcome,
    /// Whether the call failed and why; decided when it finishes ([`Observation::conclude`]).
    pub(crate) outcome: Outcome,
    /// Why an event-stream body stopped being decoded (`corrupt_frame`, `oversized_frame`), when it did.
    pub(crate) stream_error: Option<&'static str>,
    /// SSE events or stream elements skipped because they were over `limits.max_sse_event_bytes`.
    pub(crate) oversized_events: u64,
    /// A vector-store query (a retrieval span), when this exchange was one.
    pub(crate) retrieval: Option<Box<Retrieval>>,
    /// Collections a vector-store answer described, for later calls (Chroma names behind their ids).
    pub(crate) learned_collections: Vec<CollectionFact>,
    /// Digests of the vectors an embeddings call returned, to tell a later vector-store query which call produced
    /// its query vector.
    pub(crate) embedding_digests: Vec<u64>,
    /// Where the reported usage was read; `None` until a decoder reports usage.
    pub(crate) usage_source: Option<UsageSource>,
    /// Fields and messages of the response the decoder could not read (each lost alone, never the call).
    pub(crate) decode_errors: u32,
    /// The kind of the first of them (`invalid_json`, `unexpected_type`, `invalid_number`, `invalid_base64`).
    pub(crate) decode_error: Option<&'static str>,
    /// Stream messages of an event type the API's decoder does not know, skipped (providers add types).
    pub(crate) unknown_events: u32,
}

/// Where a provider's token figures were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UsageSource {
    /// The response body.
    Body,
    /// A stream message of the API's own shape.
    StreamChunk,
    /// A vendor's own key in an OpenAI-shaped answer (`x_groq.usage`, `choices[].usage`).
    VendorKey,
    /// Bedrock's `x-amzn-bedrock-*-token-count` response headers.
    BedrockHeader,
    /// `amazon-bedrock-invocationMetrics` in the last message of a Bedrock stream.
    BedrockMetrics,
}

impl UsageSource {
    /// The `llm.usage.source` value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            UsageSource::Body => "body",
            UsageSource::StreamChunk => "stream_chunk",
            UsageSource::VendorKey => "vendor_key",
            UsageSource::BedrockHeader => "bedrock_header",
            UsageSource::BedrockMetrics => "bedrock_metrics",
        }
    }
}

impl Observation {
    /// Marks generated content arriving; the first instant is kept, the last one updated.
    pub(crate) fn mark_first_token(&mut self, now_ns: u64) {
        if self.timing.first_token_ns.is_none() {
            self.timing.first_token_ns = Some(now_ns);
        }
        self.timing.last_token_ns = Some(now_ns);
        self.response.output_chunks += 1;
    }

    /// A streamed message carried more than one token (a tool name like `get_current_weather` arrives whole).
    pub(crate) fn add_estimated_tokens(&mut self, extra: u64) {
        self.response.output_chunks += extra;
    }

    /// Keeps generated text of choice `index` when content capture is on.
    pub(crate) fn capture_text(&mut self, index: usize, text: &str) {
        if let Some(o) = &mut self.output {
            o.push_text(index, text);
        }
    }

    pub(crate) fn capture_reasoning(&mut self, index: usize, text: &str) {
        if let Some(o) = &mut self.output {
            o.push_reasoning(index, text);
        }
    }

    pub(crate) fn capture_tool_call(
        &mut self,
        index: usize,
        call: usize,
        id: Option<&str>,
        name: Option<&str>,
        arguments: &str,
    ) {
        if let Some(o) = &mut self.output {
            o.push_tool_call(index, call, id, name, arguments);
        }
    }

    /// Output tokens when the provider reported none: one per content message for streams, else about four
    /// characters per token (the common rule of thumb for English text with BPE tokenizers). Embeddings generate
    /// nothing.
    pub(crate) fn estimated_output_tokens(&self) -> u64 {
        if self.operation == "embeddings" {
            0
        } else if self.request.stream {
            self.response.output_chunks
        } else {
            self.response.output_chars.div_ceil(4)
        }
    }

    /// Output tokens as the provider reported them, else estimated: the one figure span, metrics and pricing use.
    pub(crate) fn output_tokens(&self) -> Option<u64> {
        if self.usage.is_reported() {
            self.usage.output_tokens
        } else {
            Some(self.estimated_output_tokens())
        }
    }

    /// Where the token figures come from: the place the provider reported them (see [`UsageSource`]), or
    /// `estimate` when it reported none and the tracer estimated the output.
    pub(crate) fn usage_source(&self) -> &'static str {
        if !self.usage.is_reported() {
            return "estimate";
        }
        match self.usage_source {
            Some(source) => source.name(),
            None if self.request.stream => UsageSource::StreamChunk.name(),
            None => UsageSource::Body.name(),
        }
    }

    /// Records the provider's usage figures and where they were read.
    pub(crate) fn report_usage(&mut self, usage: Usage, source: UsageSource) {
        self.usage = usage;
        self.usage_source = Some(source);
    }

    /// Counts what a decoder could not read: `count` fields or messages, the first of kind `first`.
    pub(crate) fn note_decode_errors(&mut self, count: u32, first: Option<&'static str>) {
        if count > 0 {
            self.decode_errors = self.decode_errors.saturating_add(count);
            self.decode_error = self.decode_error.or(first);
        }
    }

    /// Counts a stream message of an event type the decoder does not know (it is skipped).
    pub(crate) fn note_unknown_event(&mut self) {
        self.unknown_events = self.unknown_events.saturating_add(1);
    }

    /// The model that answered: the response's model, else the one the request asked for.
    pub(crate) fn answering_model(&self) -> Option<&str> {
        self.response.model.as_deref().or(self.request.model.as_deref())
    }

    /// Decides, once, whether the call failed and why (see [`Outcome`]). Called when the call finishes.
    pub(crate) fn conclude(&mut self) {
        self.outcome = Outcome::of(self);
    }

    /// Marks reasoning content arriving (it is also generated content).
    pub(crate) fn mark_reasoning(&mut self, now_ns: u64) {
        if self.timing.first_reasoning_ns.is_none() {
            self.timing.first_reasoning_ns = Some(now_ns);
        }
        self.mark_first_token(now_ns);
    }
}

/// How a call ended, decided once when it finishes and read by the span, the metrics and sampling alike.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// `error.type` of a failed call: the provider's error code, the HTTP status, or the tracer's own reason
    /// (`no_response`, `stream_cut`, `stream_incomplete`, a cut the host named); `None` when the call succeeded.
    pub(crate) error_type: Option<String>,
    /// An error was recorded: an error body, an HTTP status of 400 or more, or a cut with its reason.
    pub(crate) error_recorded: bool,
    /// The answer did not arrive whole: the exchange was cut, or a stream ended without its terminal event.
    pub(crate) unfinished: bool,
}

impl Outcome {
    /// The call failed when an error was recorded, the exchange was cut before any response, or a stream ended
    /// without finishing.
    fn of(obs: &Observation) -> Outcome {
        let status_failed = obs.http_status.is_some_and(|s| s >= 400);
        let stream_unfinished = obs.request.stream && !obs.response_complete;
        let error_type = if let Some(e) = &obs.error {
            Some(e.error_type.clone())
        } else if status_failed {
            obs.http_status.map(|s| s.to_string())
        } else if obs.partial && obs.http_status.is_none() {
            Some("no_response".to_string())
        } else if stream_unfinished {
            Some(if obs.partial { "stream_cut" } else { "stream_incomplete" }.to_string())
        } else {
            None
        };
        Outcome {
            error_type,
            error_recorded: obs.error.is_some() || status_failed,
            unfinished: obs.partial || stream_unfinished,
        }
    }

    /// Whether the call failed.
    pub(crate) fn failed(&self) -> bool {
        self.error_type.is_some()
    }

    /// The `status` label of the per-call metrics: `cut` (the exchange was cut before the response ended),
    /// `error` (the call failed, including a stream that ended without its terminal event), or `ok`.
    pub(crate) fn status_class(&self, partial: bool) -> &'static str {
        if partial {
            "cut"
        } else if self.failed() {
            "error"
        } else {
            "ok"
        }
    }
}

/// Which rate-limit figure a response header reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateLimit {
    /// Requests allowed per window.
    RequestsLimit,
    /// Requests left in the window.
    RequestsRemaining,
    /// When the request window resets.
    RequestsReset,
    /// Tokens allowed per window.
    TokensLimit,
    /// Tokens left in the window.
    TokensRemaining,
    /// When the token window resets.
    TokensReset,
    /// Input tokens left (Anthropic).
    InputTokensRemaining,
    /// Output tokens left (Anthropic).
    OutputTokensRemaining,
    /// `retry-after`.
    RetryAfter,
}

impl RateLimit {
    /// Resets are durations or instants, never plain counts.
    pub(crate) fn is_reset(self) -> bool {
        matches!(self, RateLimit::RequestsReset | RateLimit::TokensReset)
    }
}

/// A rate-limit figure: counts are integers; resets and `retry-after` stay as the provider wrote them (`6m0s`,
/// an RFC 3339 instant, seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RateLimitFigure {
    /// A count of requests or tokens.
    Count(i64),
    /// A duration or an instant, verbatim.
    Text(String),
}
