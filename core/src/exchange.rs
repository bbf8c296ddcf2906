//! One HTTP exchange, from request headers to the finished observation: the state machine a host drives with plain
//! values (body chunks, response headers, the time) and that answers with the edits to apply.
//!
//! The exchange never calls the host and never pauses traffic; it changes forwarded bytes only where the tracer
//! asked the provider for something on the client's behalf (stream usage) or the policy redacts the request.
//! Memory is bounded by the configured limits.

use crate::config::Config;
use crate::host_api::{Clock, HeldRequestEdits, RequestEdits, ResponseEdits, ResponseView};
use crate::model::content::{CaptureMode, OutputContent};
use crate::model::observation::{ErrorInfo, Observation, Timing};
use crate::provider::detect::Identity;
use crate::provider::openai_stream_usage::{inject_include_usage, UsageChunkStripper};
use crate::provider::{rate_limit, vector, Api, ApiDecoder, Reading};
use crate::quality::trace_response;
use crate::telemetry::trace_context::{traceparent_value, IdGenerator, TraceContext};
use crate::wire::content_encoding::{allows_compression, BodyDecoder, DecodeError};
use crate::wire::event_stream::FrameError;
use crate::wire::framing::Framing;
use crate::wire::json_fields::SmallFields;
use std::sync::Arc;

/// Largest request the tracer holds back to rewrite: well under Envoy's default 1 MiB buffer limit, so holding it
/// can never turn into a 413.
pub(crate) const MAX_HELD_REQUEST_BYTES: usize = 512 << 10;

/// Host property naming why an exchange was cut (Envoy's response code details, e.g.
/// `downstream_remote_disconnect`).
pub const CUT_REASON_PROPERTY: [&str; 2] = ["response", "code_details"];

struct ResponseReader {
    /// `None` when the body cannot be decoded; timings are still recorded.
    body: Option<BodyDecoder>,
    framing: Framing,
}

/// How an exchange ended, as the host saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The host's log phase: the exchange is over. When the response had not ended, `cut_reason` says why (the
    /// host's [`CUT_REASON_PROPERTY`]).
    Logged {
        /// Why the exchange was cut, when it was.
        cut_reason: Option<String>,
    },
    /// The stream was destroyed without a log phase.
    Destroyed,
}

/// One LLM call in flight.
pub struct Exchange {
    config: Arc<Config>,
    api: Api,
    decoder: Box<dyn ApiDecoder>,
    /// Removes the usage-only chunk the tracer asked for; set while the response needs rewriting.
    stripper: Option<UsageChunkStripper>,
    /// The path asked for a streamed response (Gemini, Bedrock); other APIs say so in the request body.
    path_streams: bool,
    pub(crate) obs: Observation,
    pub(crate) trace: TraceContext,
    pub(crate) span_id: [u8; 8],
    pub(crate) start_unix_ns: u64,
    request_body: Vec<u8>,
    /// Small top-level fields of a request body larger than the cap (see `json_fields`).
    request_fields: Option<SmallFields>,
    request_parsed: bool,
    response: Option<ResponseReader>,
    response_ended: bool,
    /// The held request body gets `include_usage` added.
    inject_pending: bool,
    /// The held request body gets redacted before it goes upstream.
    redact_pending: bool,
    /// `inject_stream_usage` for this route: the configuration's, or its provider override's.
    inject_stream_usage: bool,
    /// The host holds the request headers with the body, so header edits can wait for the body.
    headers_held: bool,
    /// The request went upstream without its `content-length` (its body was held, its headers were not).
    pub(crate) content_length_dropped: bool,
    /// `accept-encoding` as the request is forwarded.
    forwarded_accept_encoding: Option<String>,
    /// What `llm.request.accept_encoding_narrowed` was before an uncompressed answer was asked for in the held
    /// headers, to restore if the host refuses the rewritten body.
    narrowed_before_identity: Option<Option<String>>,
}

/// What [`Exchange::new`] needs to know about the request, besides its identity.
pub(crate) struct RequestStart<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) traceparent: Option<&'a str>,
    pub(crate) tracestate: Option<&'a str>,
    pub(crate) attribution: Vec<(String, String)>,
    pub(crate) route_capture: Option<CaptureMode>,
    pub(crate) accept_encoding_narrowed: Option<String>,
    /// `accept-encoding` as forwarded (narrowed or not).
    pub(crate) accept_encoding: Option<String>,
}

impl Exchange {
    /// Starts tracing a request the tracer recognised.
    pub(crate) fn new(
        config: Arc<Config>,
        identity: Identity,
        start: RequestStart<'_>,
        clock: Clock,
        ids: &mut IdGenerator,
    ) -> Exchange {
        let Identity {
            detected,
            provider,
            server_address,
            server_port,
            inject_stream_usage,
        } = identity;
        let api = detected.api;
        let mut obs = Observation {
            provider,
            operation: api.operation(),
            api_type: api.openai_api_type(),
            server_address,
            server_port,
            timing: Timing {
                start_ns: clock.mono_ns,
                ..Default::default()
            },
            ..Default::default()
        };
        obs.request.model = detected.path_model;
        obs.request.stream = detected.path_streams;
        let feature = start
            .attribution
            .iter()
            .find(|(k, _)| k == "app.feature")
            .map(|(_, v)| v.as_str());
        obs.capture = config
            .capture
            .decide(obs.server_address.as_deref(), start.path, feature, start.route_capture);
        obs.attribution = start.attribution;
        obs.accept_encoding_narrowed = start.accept_encoding_narrowed;
        if obs.capture != CaptureMode::Off {
            // Keep a little more than will be exported, so redaction sees whole secrets at the cut.
            obs.output = Some(OutputContent::new(config.capture.max_content_bytes + 4096));
        }
        let decoder = match api {
            Api::Retrieval(endpoint) => {
                let target = vector::Target {
                    method: start.method,
                    path: start.path,
                    host: obs.server_address.as_deref(),
                };
                let keep = vector::Keep {
                    max_documents: config.retrieval.max_documents,
                    content_budget: config.retrieval.max_content_bytes,
                    max_document_bytes: config.capture.max_content_bytes + 4096,
                };
                vector::decoder(endpoint, &target, keep)
            }
            _ => api.decoder(detected.path_streams, obs.server_address.as_deref()),
        };
        Exchange {
            api,
            decoder,
            stripper: None,
            path_streams: detected.path_streams,
            obs,
            trace: TraceContext::from_headers(start.traceparent, start.tracestate, ids),
            span_id: ids.span_id(),
            start_unix_ns: clock.unix_ns,
            request_body: Vec::new(),
            request_fields: None,
            request_parsed: false,
            response: None,
            response_ended: false,
            inject_pending: false,
            redact_pending: false,
            inject_stream_usage: inject_stream_usage.unwrap_or(config.inject_stream_usage),
            headers_held: false,
            content_length_dropped: false,
            forwarded_accept_encoding: start.accept_encoding,
            narrowed_before_identity: None,
            config,
        }
    }

    /// W3C `traceparent` naming the LLM span, for the upstream request.
    pub fn traceparent(&self) -> String {
        traceparent_value(&self.trace.trace_id, &self.span_id, self.trace.flags)
    }

    /// Copies request body bytes up to the cap; the request is parsed once complete.
    pub fn request_body(&mut self, chunk: &[u8], end_of_stream: bool) {
        if !self.request_parsed {
            // Past the cap nothing more is kept, whatever room the body left: every later byte counts as truncated.
            let room = match self.request_fields {
                Some(_) => 0,
                None => self
                    .config
                    .limits
                    .max_request_body_bytes
                    .saturating_sub(self.request_body.len()),
            };
            let kept = room.min(chunk.len());
            if kept < chunk.len() && self.request_fields.is_none() {
                // Over the cap: from here on keep only the small top-level fields (model, stream, ...).
                let mut fields = SmallFields::default();
                fields.feed(&self.request_body);
                self.request_fields = Some(fields);
            }
            match &mut self.request_fields {
                Some(fields) => fields.feed(chunk),
                None => self.request_body.extend_from_slice(chunk),
            }
            self.obs.truncated_bytes += (chunk.len() - kept) as u64;
        }
        if end_of_stream {
            self.request_end();
        }
    }

    /// Whether to hold the request body back until it is complete, so [`Exchange::complete_held_request`] can
    /// rewrite it: add `include_usage` (OpenAI-shaped calls, unless this route turns it off or its upstream refused
    /// it lately) or redact it (request redaction; never a signed body). Only with a `content-length` within the
    /// caps, so what is held is bounded; a request that cannot be held for redaction goes as sent and the span says
    /// why.
    pub(crate) fn holds_request(&mut self, content_length: Option<usize>, injection_backed_off: bool) -> bool {
        if self.request_parsed {
            return false;
        }
        let config = &self.config;
        let wants_injection =
            self.inject_stream_usage && !injection_backed_off && self.api.accepts_stream_usage_option();
        // A vector-store request is a query, not a prompt: redacting its filter would change what it finds.
        let wants_redaction =
            config.redaction.redacts_requests() && !self.api.body_is_signed() && !matches!(self.api, Api::Retrieval(_));
        let cap = MAX_HELD_REQUEST_BYTES.min(config.limits.max_request_body_bytes);
        let bounded = content_length.is_some_and(|n| n > 0 && n <= cap);
        if wants_redaction && !bounded {
            self.obs.request_redaction_skipped = Some(if content_length.is_none() {
                "no_content_length"
            } else {
                "too_large"
            });
        }
        self.inject_pending = wants_injection && bounded;
        self.redact_pending = wants_redaction && bounded;
        self.inject_pending || self.redact_pending
    }

    /// Plans the hold of a request that may be rewritten (see [`Exchange::holds_request`]) into `edits`. When
    /// `headers_can_wait`, the host holds the headers too and the rewritten body gets its own `content-length`;
    /// otherwise the headers leave first, so the length is dropped (the upstream gets the body chunked) and a
    /// request that may get `include_usage` asks for an uncompressed answer (it is not known yet whether the
    /// request streams, and the usage chunk can be removed from a plain event stream only).
    pub(crate) fn plan_request_hold(
        &mut self,
        content_length: Option<usize>,
        injection_backed_off: bool,
        headers_can_wait: bool,
        edits: &mut RequestEdits,
    ) {
        if !self.holds_request(content_length, injection_backed_off) {
            return;
        }
        edits.hold_body = true;
        if headers_can_wait {
            edits.hold_headers = true;
            self.headers_held = true;
            return;
        }
        edits.remove_headers.push("content-length");
        self.content_length_dropped = true;
        if self.inject_pending && self.ask_uncompressed().is_some() {
            edits.set_headers.retain(|(name, _)| *name != "accept-encoding");
            edits.set_headers.push(("accept-encoding", "identity".to_string()));
        }
    }

    /// Asks for an uncompressed answer, when the forwarded `accept-encoding` allows compression; returns what the
    /// span's `accept_encoding_narrowed` was before.
    fn ask_uncompressed(&mut self) -> Option<Option<String>> {
        let forwarded = self
            .forwarded_accept_encoding
            .as_deref()
            .filter(|a| allows_compression(a))?;
        let before = self.obs.accept_encoding_narrowed.clone();
        self.obs.accept_encoding_narrowed = Some(before.clone().unwrap_or_else(|| forwarded.to_string()));
        self.forwarded_accept_encoding = Some("identity".to_string());
        Some(before)
    }

    /// The whole held-back request body (see [`crate::RequestEdits::hold_body`]): the body to send instead, when
    /// it was redacted or `include_usage` was added, and, when the host holds the headers too
    /// ([`crate::RequestEdits::hold_headers`]), the header edits that go with it (its `content-length`). A body
    /// that stays as sent keeps its headers as sent.
    pub fn complete_held_request(&mut self, body: &[u8]) -> HeldRequestEdits {
        self.request_body(body, true);
        let mut rewritten = None;
        if self.redact_pending {
            if let Some((redacted, counts)) = self.config.redaction.redact_request(body) {
                self.obs.request_redactions = counts;
                rewritten = Some(redacted);
            }
        }
        if self.inject_pending {
            if let Some(injected) = inject_include_usage(rewritten.as_deref().unwrap_or(body)) {
                self.obs.usage_injected = true;
                // Never below 64 KiB, so no usage chunk (a few hundred bytes) is ever taken for an oversized event.
                let hold_back = self.config.limits.max_sse_event_bytes.max(64 << 10);
                self.stripper = Some(UsageChunkStripper::new(hold_back));
                rewritten = Some(injected);
            }
        }
        let mut set_headers = Vec::new();
        if std::mem::take(&mut self.headers_held) {
            if let Some(sent) = &rewritten {
                set_headers.push(("content-length", sent.len().to_string()));
                if self.obs.usage_injected {
                    if let Some(before) = self.ask_uncompressed() {
                        self.narrowed_before_identity = Some(before);
                        set_headers.push(("accept-encoding", "identity".to_string()));
                    }
                }
            }
        }
        HeldRequestEdits {
            body: rewritten,
            set_headers,
        }
    }

    /// [`Exchange::complete_held_request`] for hosts that did not hold the headers: only the body to send instead.
    pub fn held_request_body(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        self.complete_held_request(body).body
    }

    /// The host let the held headers go before the body was complete (it waited too long for the body, or
    /// trailers came): the request goes as sent, and the body is only read.
    pub fn headers_released(&mut self) {
        if !std::mem::take(&mut self.headers_held) {
            return;
        }
        self.inject_pending = false;
        if std::mem::take(&mut self.redact_pending) {
            self.obs.request_redaction_skipped = Some("headers_released");
        }
    }

    /// The host refused the rewritten body: the request went as the client sent it.
    pub fn rewrite_refused(&mut self) {
        self.obs.usage_injected = false;
        self.stripper = None;
        if let Some(before) = self.narrowed_before_identity.take() {
            self.obs.accept_encoding_narrowed = before;
        }
        if !self.obs.request_redactions.is_empty() {
            self.obs.request_redactions.clear();
            self.obs.request_redaction_skipped = Some("host_refused");
        }
    }

    /// The request is complete (end of body, trailers, or the response started first).
    pub fn request_end(&mut self) {
        if self.request_parsed {
            return;
        }
        self.request_parsed = true;
        if let Some(fields) = self.request_fields.take() {
            self.request_body = fields.to_object();
        }
        self.decoder.on_request(&self.request_body, &mut self.obs);
        if self.obs.capture != CaptureMode::Off && !matches!(self.api, Api::Retrieval(_)) {
            self.obs.input = Some(self.api.request_content(&self.request_body));
        }
        self.request_body = Vec::new();
    }

    /// The response headers: status, content type and encoding pick the framing; rate-limit headers are read.
    pub fn response_headers(&mut self, head: &dyn ResponseView, end_of_stream: bool, now: Clock) -> ResponseEdits {
        self.request_end();
        let status = head.header(":status").and_then(|s| s.parse().ok()).unwrap_or(0);
        let content_type = head.header("content-type");
        let content_encoding = head.header("content-encoding");
        self.obs.http_status = Some(status);
        self.obs.timing.response_headers_ns = Some(now.mono_ns);
        let reading = self.decoder.reading();
        if reading == Reading::Ignored {
            self.stripper = None;
            if end_of_stream {
                self.response_end(now);
            }
            return ResponseEdits::default();
        }
        let config = Arc::clone(&self.config);
        let limits = &config.limits;
        // The cap counts decompressed bytes as they are produced, streamed or not: a bomb costs the cap, no more.
        let body = match BodyDecoder::new(content_encoding.as_deref(), limits.max_response_body_bytes) {
            Ok(d) => Some(d),
            Err(e) => {
                self.note_unreadable(&e);
                None
            }
        };
        let framing = match reading {
            Reading::Pieces => Framing::Pieces,
            _ => Framing::for_response(content_type.as_deref(), self.path_streams, limits.max_sse_event_bytes),
        };
        // Only a plain SSE body can be rewritten; anything else (an error, a compressed stream) passes untouched.
        let plain_sse = framing.is_sse() && body.as_ref().is_some_and(BodyDecoder::is_identity);
        if !plain_sse {
            self.stripper = None;
        }
        self.response = Some(ResponseReader { body, framing });
        let mut figures = Vec::new();
        head.each_header(&mut |name, value| {
            if rate_limit::is_figure_header(name) {
                if let (Ok(name), Ok(value)) = (std::str::from_utf8(name), std::str::from_utf8(value)) {
                    figures.extend(rate_limit::figure(name, value));
                }
            }
        });
        if !figures.is_empty() {
            self.obs.rate_limits = figures;
        }
        if self.decoder.wants_response_headers() {
            self.decoder.on_response_headers(&head.headers(), &mut self.obs);
        }
        if end_of_stream {
            self.response_end(now);
        }
        ResponseEdits {
            remove_content_length: self.stripper.is_some(),
            add_headers: config
                .quality
                .trace_context_header
                .as_deref()
                .and_then(|name| trace_response::header(Some(name), self.traceparent()))
                .into_iter()
                .collect(),
        }
    }

    /// Inspects one response chunk. Returns the bytes to forward instead, when the response is being rewritten.
    pub fn response_body(&mut self, chunk: &[u8], end_of_stream: bool, now: Clock) -> Option<Vec<u8>> {
        if !chunk.is_empty() && self.obs.timing.first_byte_ns.is_none() {
            self.obs.timing.first_byte_ns = Some(now.mono_ns);
        }
        let max_whole = self.config.limits.max_response_body_bytes;
        let Exchange {
            decoder, obs, response, ..
        } = self;
        if let Some(ResponseReader {
            body: Some(body),
            framing,
        }) = response
        {
            let mut truncated = 0u64;
            let result = body.decode(chunk, &mut |bytes| {
                truncated += framing.feed(bytes, max_whole, &mut |event, data| {
                    decoder.on_stream_message(event, data, now.mono_ns, obs)
                });
            });
            obs.truncated_bytes += truncated;
            obs.oversized_events = framing.oversized_messages();
            if let Some(e) = framing.frame_error() {
                obs.stream_error = Some(match e {
                    FrameError::Checksum => "corrupt_frame",
                    FrameError::Length => "oversized_frame",
                });
            }
            if let Err(e) = result {
                self.note_unreadable(&e);
                if let Some(reader) = &mut self.response {
                    reader.body = None;
                }
            }
        }
        let forward = self.stripper.as_mut().map(|s| s.filter(chunk, end_of_stream));
        if end_of_stream {
            self.response_end(now);
        }
        forward
    }

    /// Response trailers: the response is over.
    pub fn response_trailers(&mut self, now: Clock) {
        self.response_end(now);
    }

    /// End of the response (last body chunk, trailers, or headers-only response). Only the instant is recorded
    /// here: parsing what is left waits for the finish, which the host calls after the client has the last byte,
    /// so the final chunk is not delayed.
    fn response_end(&mut self, now: Clock) {
        if !self.response_ended {
            self.response_ended = true;
            self.obs.timing.end_ns = Some(now.mono_ns);
        }
    }

    /// Whether the response ended (else a finish now is a cut, and the host should say why).
    pub fn response_ended(&self) -> bool {
        self.response_ended
    }

    /// Hands what the framing still holds to the provider decoder.
    fn drain_response(&mut self, now_ns: u64) {
        let Exchange {
            decoder, obs, response, ..
        } = self;
        if let Some(ResponseReader { body: Some(_), framing }) = response {
            match framing.whole_body() {
                Some(whole) if self.api == Api::OpenAiEmbeddings && self.config.retrieval.joins_embeddings() => {
                    obs.embedding_digests = vector::embeddings::digests(whole);
                    decoder.on_response_body(whole, now_ns, obs);
                }
                Some(whole) => decoder.on_response_body(whole, now_ns, obs),
                None => framing.finish(&mut |event, data| decoder.on_stream_message(event, data, now_ns, obs)),
            }
        }
        if response.take().is_some() {
            decoder.on_response_end(obs);
        }
    }

    /// Closes the observation: the request parsed, the response drained, a cut recorded as partial with its reason,
    /// and the outcome concluded. Pricing, sampling and the span are the tracer's.
    pub(crate) fn conclude(&mut self, now: Clock, cut_reason: Option<&str>) {
        self.request_end();
        let end_ns = self.obs.timing.end_ns.unwrap_or(now.mono_ns);
        self.drain_response(end_ns);
        if !self.response_ended && self.obs.response_complete && self.obs.http_status.is_some() {
            // The provider's terminal event arrived (`[DONE]`, `message_stop`, ...): whatever closed the exchange
            // afterwards, usually a client that stops reading there, the call is complete.
            self.obs.downstream_closed_early = true;
            self.obs.timing.end_ns = Some(now.mono_ns);
        } else if !self.response_ended {
            self.obs.partial = true;
            self.obs.timing.end_ns = Some(now.mono_ns);
            if let Some(reason) = cut_reason.filter(|r| !r.is_empty()) {
                let message = Some(reason.to_string());
                match &mut self.obs.error {
                    Some(e) => e.message = e.message.take().or(message),
                    None => {
                        self.obs.error = Some(ErrorInfo {
                            error_type: cut_error_type(&self.obs),
                            message,
                        })
                    }
                }
            }
        }
        self.obs.conclude();
    }

    fn note_unreadable(&mut self, e: &DecodeError) {
        let reason = match e {
            DecodeError::Unsupported(coding) => format!("unsupported content-encoding `{coding}`"),
            DecodeError::Corrupt => "corrupt compressed body".to_string(),
            DecodeError::OverCap => "decompressed body over limits.max_response_body_bytes".to_string(),
        };
        self.obs.unreadable = Some(reason);
    }

    /// Whether this exchange makes a span: every LLM call does; a vector-store call only when it turned out to be a
    /// query (a collection call only teaches, a plain `_search` is no retrieval).
    pub(crate) fn makes_span(&self) -> bool {
        !matches!(self.api, Api::Retrieval(_)) || self.obs.retrieval.is_some()
    }

    /// Whether this is a vector-store call.
    pub(crate) fn is_retrieval(&self) -> bool {
        matches!(self.api, Api::Retrieval(_))
    }

    /// What was observed so far.
    #[cfg(test)]
    pub(crate) fn observation(&self) -> &Observation {
        &self.obs
    }
}

fn cut_error_type(obs: &Observation) -> String {
    if obs.http_status.is_none() {
        "no_response".to_string()
    } else if obs.request.stream {
        "stream_cut".to_string()
    } else {
        "response_cut".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::span::{AttrValue, SpanRecord, StatusCode};
    use crate::test_support::{finish, head, start, Response};

    fn config() -> Config {
        Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap()
    }

    fn at(ms: u64) -> Clock {
        Clock {
            unix_ns: 1_700_000_000_000_000_000 + ms * 1_000_000,
            mono_ns: 5_000_000_000 + ms * 1_000_000,
        }
    }

    fn attr<'a>(s: &'a SpanRecord, key: &str) -> Option<&'a AttrValue> {
        s.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    const REQUEST: &[u8] = br#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
    const STREAM: &[u8] = b"data: {\"id\":\"c\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n\
data: {\"id\":\"c\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n\
data: {\"id\":\"c\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"id\":\"c\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"total_tokens\":10}}\n\n\
data: [DONE]\n\n";

    fn run_stream(chunk_size: usize) -> SpanRecord {
        let cfg = config();
        let (mut t, mut x) = start(&cfg, &head("/v1/chat/completions"), at(0)).unwrap();
        x.request_body(REQUEST, true);
        let sse = Response::new(200, Some("text/event-stream; charset=utf-8"), None);
        x.response_headers(&sse, false, at(100));
        let chunks: Vec<&[u8]> = STREAM.chunks(chunk_size).collect();
        for (i, c) in chunks.iter().enumerate() {
            // The role chunk arrives at 150 ms; every later chunk 10 ms apart.
            x.response_body(c, i + 1 == chunks.len(), at(150 + 10 * i as u64));
        }
        assert!(x.response_ended());
        finish(&mut t, x, at(999), None)
    }

    #[test]
    fn stream_span_is_the_same_for_any_chunking() {
        let whole = run_stream(STREAM.len());
        assert_eq!(attr(&whole, "gen_ai.usage.input_tokens"), Some(&AttrValue::Int(8)));
        assert_eq!(attr(&whole, "gen_ai.usage.output_tokens"), Some(&AttrValue::Int(2)));
        assert_eq!(
            attr(&whole, "gen_ai.response.model"),
            Some(&AttrValue::Str("gpt-4o-mini-2024-07-18".into()))
        );
        assert_eq!(
            attr(&whole, "gen_ai.response.finish_reasons"),
            Some(&AttrValue::StrArray(vec!["stop".into()]))
        );
        assert_eq!(
            attr(&whole, "server.address"),
            Some(&AttrValue::Str("api.openai.com".into()))
        );
        assert_eq!(attr(&whole, "server.port"), Some(&AttrValue::Int(443)));
        assert_eq!(whole.status, StatusCode::Unset);
        assert_eq!(whole.end_unix_ns - whole.start_unix_ns, 150_000_000);
        for size in [1, 7, 64] {
            let s = run_stream(size);
            for key in [
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.output_tokens",
                "gen_ai.response.finish_reasons",
            ] {
                assert_eq!(attr(&s, key), attr(&whole, key), "{key} at chunk size {size}");
            }
            assert_eq!(s.status, StatusCode::Unset);
            // The content event is complete once the chunk holding its blank line arrives.
            let content_end = STREAM.windows(9).position(|w| w == b"Hello\"}}]").unwrap();
            let blank_line = content_end + STREAM[content_end..].windows(2).position(|w| w == b"\n\n").unwrap() + 1;
            let expected_ms = 150 + 10 * (blank_line / size) as u64;
            assert_eq!(
                attr(&s, "gen_ai.response.time_to_first_chunk"),
                Some(&AttrValue::Double(expected_ms as f64 / 1000.0)),
                "chunk size {size}"
            );
        }
    }

    #[test]
    fn cut_stream_is_partial_with_what_arrived() {
        let cfg = config();
        let (mut t, mut x) = start(&cfg, &head("/v1/chat/completions"), at(0)).unwrap();
        x.request_body(REQUEST, true);
        let sse = Response::new(200, Some("text/event-stream"), None);
        x.response_headers(&sse, false, at(10));
        x.response_body(&STREAM[..250], false, at(20));
        let s = finish(&mut t, x, at(30), Some("downstream_remote_disconnect"));
        assert_eq!(attr(&s, "llm.partial"), Some(&AttrValue::Bool(true)));
        assert_eq!(attr(&s, "error.type"), Some(&AttrValue::Str("stream_cut".into())));
        assert_eq!(s.status_message, "downstream_remote_disconnect");
        assert_eq!(
            attr(&s, "gen_ai.response.model"),
            Some(&AttrValue::Str("gpt-4o-mini-2024-07-18".into()))
        );
        assert_eq!(s.end_unix_ns - s.start_unix_ns, 30_000_000);
    }

    #[test]
    fn no_response_at_all_and_non_llm_paths() {
        let cfg = config();
        assert!(start(&cfg, &head("/v1/models"), at(0)).is_none());
        let (mut t, x) = start(&cfg, &head("/v1/chat/completions"), at(0)).unwrap();
        let s = finish(&mut t, x, at(5), Some("upstream_reset_before_response_started"));
        assert_eq!(attr(&s, "error.type"), Some(&AttrValue::Str("no_response".into())));
        assert_eq!(s.status, StatusCode::Error);
    }

    #[test]
    fn request_body_over_the_cap_is_counted_and_its_small_fields_still_read() {
        let cfg = Config::from_json(br#"{"exporter":{"cluster":"o"},"limits":{"max_request_body_bytes":10}}"#).unwrap();
        let (_, mut x) = start(&cfg, &head("/v1/chat/completions"), at(0)).unwrap();
        x.request_body(REQUEST, true);
        assert_eq!(x.observation().truncated_bytes, REQUEST.len() as u64 - 10);
        assert_eq!(
            x.observation().request.model.as_deref(),
            Some("gpt-4o-mini"),
            "small fields survive the cap"
        );
        assert!(x.observation().request.stream);
        // Found by the `exchange` fuzz target: in chunks, bytes past the cap used to be undercounted.
        for size in [1, 7, 50] {
            let (_, mut x) = start(&cfg, &head("/v1/chat/completions"), at(0)).unwrap();
            let chunks: Vec<&[u8]> = REQUEST.chunks(size).collect();
            for (i, c) in chunks.iter().enumerate() {
                x.request_body(c, i + 1 == chunks.len());
            }
            assert_eq!(
                x.observation().truncated_bytes,
                REQUEST.len() as u64 - 10,
                "chunks of {size}"
            );
            assert_eq!(x.observation().request.model.as_deref(), Some("gpt-4o-mini"));
        }
    }

    #[test]
    fn unsupported_encoding_keeps_timings_and_says_why() {
        let cfg = config();
        let (mut t, mut x) = start(&cfg, &head("/v1/chat/completions"), at(0)).unwrap();
        x.request_body(br#"{"model":"m"}"#, true);
        let h = Response::new(200, Some("application/json"), Some("zstd"));
        x.response_headers(&h, false, at(10));
        x.response_body(b"\x28\xb5\x2f\xfd", true, at(20));
        let s = finish(&mut t, x, at(30), None);
        assert_eq!(
            attr(&s, "llm.response.unreadable"),
            Some(&AttrValue::Str("unsupported content-encoding `zstd`".into()))
        );
        assert_eq!(s.end_unix_ns - s.start_unix_ns, 20_000_000);
    }

    #[test]
    fn usage_is_injected_read_and_its_chunk_removed_from_what_the_client_gets() {
        let cfg = config();
        let (mut t, mut x) = start(&cfg, &head("/v1/chat/completions"), at(0)).unwrap();
        let body = br#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        assert!(
            !x.holds_request(None, false),
            "no content-length: never hold the request"
        );
        assert!(!x.holds_request(Some(MAX_HELD_REQUEST_BYTES + 1), false));
        assert!(!x.holds_request(Some(body.len()), true), "backed off");
        assert!(x.holds_request(Some(body.len()), false));
        let sent = x.held_request_body(body).unwrap();
        assert!(sent.starts_with(br#"{"stream_options":{"include_usage":true},"model""#));
        let sse = Response::new(200, Some("text/event-stream"), None);
        let edits = x.response_headers(&sse, false, at(5));
        assert!(edits.remove_content_length);
        assert_eq!(
            edits.add_headers,
            vec![("server-timing".to_string(), format!("trace;desc={}", x.traceparent()))],
            "the caller learns the LLM span"
        );
        let mut forwarded = Vec::new();
        for (i, c) in STREAM.chunks(13).enumerate() {
            let last = (i + 1) * 13 >= STREAM.len();
            forwarded.extend(x.response_body(c, last, at(10)).unwrap());
        }
        let text = String::from_utf8(forwarded).unwrap();
        assert!(!text.contains("\"usage\":{"), "usage chunk removed: {text}");
        assert!(text.contains("Hello") && text.ends_with("data: [DONE]\n\n"));
        let s = finish(&mut t, x, at(20), None);
        assert_eq!(attr(&s, "gen_ai.usage.input_tokens"), Some(&AttrValue::Int(8)));
        assert_eq!(attr(&s, "llm.usage.injected"), Some(&AttrValue::Bool(true)));
    }

    #[test]
    fn stream_without_usage_gets_an_estimate_from_its_content_chunks() {
        let cfg = config();
        let (mut t, mut x) = start(&cfg, &head("/v1/chat/completions"), at(0)).unwrap();
        x.request_body(br#"{"model":"m","stream":true}"#, true);
        let sse = Response::new(200, Some("text/event-stream"), None);
        x.response_headers(&sse, false, at(5));
        let without_usage: Vec<u8> = String::from_utf8(STREAM.to_vec())
            .unwrap()
            .split("\n\n")
            .filter(|e| !e.contains("\"usage\":{"))
            .map(|e| format!("{e}\n\n"))
            .collect::<String>()
            .into_bytes();
        x.response_body(&without_usage, true, at(10));
        let s = finish(&mut t, x, at(20), None);
        assert_eq!(attr(&s, "gen_ai.usage.output_tokens"), Some(&AttrValue::Int(1)));
        assert_eq!(attr(&s, "llm.usage.source"), Some(&AttrValue::Str("estimate".into())));
        assert_eq!(attr(&s, "gen_ai.usage.input_tokens"), None);
    }

    #[test]
    fn configured_override_routes_an_unknown_path_and_names_the_provider() {
        let cfg = Config::from_json(
            br#"{"exporter":{"cluster":"o"},"default_provider":"vllm",
                "provider_overrides":[{"host":"llm.internal","path_prefix":"/generate","api":"openai_chat","provider":"acme"}]}"#,
        )
        .unwrap();
        let mut h = head("/generate");
        h.authority = Some("llm.internal");
        let (_, x) = start(&cfg, &h, at(0)).unwrap();
        assert_eq!(x.observation().provider, "acme");
        let mut h = head("/v1/chat/completions");
        h.authority = Some("gpu-box:8000");
        assert_eq!(start(&cfg, &h, at(0)).unwrap().1.observation().provider, "vllm");
        h.authority = Some("api.groq.com");
        assert_eq!(start(&cfg, &h, at(0)).unwrap().1.observation().provider, "groq");
    }

    /// One streaming API shape: where its requests go, a complete response, and where its terminal event starts.
    struct Shape {
        name: &'static str,
        authority: &'static str,
        path: &'static str,
        request: &'static [u8],
        content_type: &'static str,
        body: Vec<u8>,
        terminal_at: usize,
    }

    fn sse(events: &[&str]) -> Vec<u8> {
        events
            .iter()
            .map(|e| format!("data: {e}\n\n"))
            .collect::<String>()
            .into_bytes()
    }

    fn at_event(body: &[u8], needle: &str) -> usize {
        body.windows(needle.len()).position(|w| w == needle.as_bytes()).unwrap()
    }

    fn shapes() -> Vec<Shape> {
        let completions = sse(&[
            r#"{"id":"c","model":"gpt-3.5-turbo-instruct","choices":[{"text":"Hi","index":0,"finish_reason":null}]}"#,
            r#"{"id":"c","model":"gpt-3.5-turbo-instruct","choices":[{"text":"","index":0,"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#,
            "[DONE]",
        ]);
        let responses: Vec<u8> = [
            ("response.created", r#"{"type":"response.created","response":{"id":"r","status":"in_progress","model":"gpt-4.1-2025-04-14","output":[]}}"#),
            ("response.output_text.delta", r#"{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"Hi"}"#),
            ("response.completed", r#"{"type":"response.completed","response":{"id":"r","status":"completed","model":"gpt-4.1-2025-04-14","usage":{"input_tokens":5,"output_tokens":1,"total_tokens":6}}}"#),
        ]
        .iter()
        .map(|(event, data)| format!("event: {event}\ndata: {data}\n\n"))
        .collect::<String>()
        .into_bytes();
        let anthropic = sse(&[
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#,
            r#"{"type":"message_stop"}"#,
        ]);
        let gemini_chunks = [
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},"index":0}],"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4},"modelVersion":"gemini-2.5-flash"}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":" there"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"totalTokenCount":6},"modelVersion":"gemini-2.5-flash"}"#,
        ];
        let gemini_sse = sse(&gemini_chunks);
        let gemini_array = format!("[{},\r\n{}]", gemini_chunks[0], gemini_chunks[1]).into_bytes();
        let frame = |event: &str, payload: &str| {
            let headers = [
                (":event-type", event),
                (":message-type", "event"),
                (":content-type", "application/json"),
            ];
            crate::wire::event_stream::encode_frame(&headers, payload.as_bytes())
        };
        let bedrock_frames = [
            frame("messageStart", r#"{"role":"assistant"}"#),
            frame("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#),
            frame("messageStop", r#"{"stopReason":"end_turn"}"#),
            frame(
                "metadata",
                r#"{"usage":{"inputTokens":4,"outputTokens":1,"totalTokens":5},"metrics":{"latencyMs":10}}"#,
            ),
        ];
        let bedrock_terminal = bedrock_frames[..3].iter().map(Vec::len).sum();
        let chat_request: &[u8] = REQUEST;
        vec![
            Shape {
                name: "openai chat",
                authority: "api.openai.com",
                path: "/v1/chat/completions",
                request: chat_request,
                content_type: "text/event-stream",
                body: STREAM.to_vec(),
                terminal_at: at_event(STREAM, r#"data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"finish_reason""#),
            },
            Shape {
                name: "openai completions",
                authority: "api.openai.com",
                path: "/v1/completions",
                request: br#"{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi","stream":true}"#,
                content_type: "text/event-stream",
                terminal_at: at_event(&completions, r#"data: {"id":"c","model":"gpt-3.5-turbo-instruct","choices":[{"text":"","#),
                body: completions,
            },
            Shape {
                name: "openai responses",
                authority: "api.openai.com",
                path: "/v1/responses",
                request: br#"{"model":"gpt-4.1","input":"Say hi","stream":true}"#,
                content_type: "text/event-stream",
                terminal_at: at_event(&responses, "event: response.completed"),
                body: responses,
            },
            Shape {
                name: "anthropic messages",
                authority: "api.anthropic.com",
                path: "/v1/messages",
                request: br#"{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
                content_type: "text/event-stream",
                terminal_at: at_event(&anthropic, r#"data: {"type":"message_stop"}"#),
                body: anthropic,
            },
            Shape {
                name: "gemini sse",
                authority: "generativelanguage.googleapis.com",
                path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                request: br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
                content_type: "text/event-stream",
                terminal_at: at_event(&gemini_sse, r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":" there"#),
                body: gemini_sse,
            },
            Shape {
                name: "gemini json array",
                authority: "generativelanguage.googleapis.com",
                path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
                request: br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
                content_type: "application/json",
                terminal_at: at_event(&gemini_array, r#"{"candidates":[{"content":{"role":"model","parts":[{"text":" there"#),
                body: gemini_array,
            },
            Shape {
                name: "bedrock converse stream",
                authority: "bedrock-runtime.us-east-1.amazonaws.com",
                path: "/model/amazon.nova-lite-v1%3A0/converse-stream",
                request: br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#,
                content_type: "application/vnd.amazon.eventstream",
                body: bedrock_frames.concat(),
                terminal_at: bedrock_terminal,
            },
        ]
    }

    /// Plays `body` without its end of stream, then the client goes away (Envoy's log phase with its reason).
    fn closed_by_client(shape: &Shape, body: &[u8]) -> SpanRecord {
        let cfg = config();
        let mut h = head(shape.path);
        h.authority = Some(shape.authority);
        let (mut t, mut x) = start(&cfg, &h, at(0)).unwrap();
        x.request_body(shape.request, true);
        x.response_headers(&Response::new(200, Some(shape.content_type), None), false, at(10));
        for (i, chunk) in body.chunks(50).enumerate() {
            x.response_body(chunk, false, at(20 + i as u64));
        }
        assert!(!x.response_ended());
        finish(&mut t, x, at(500), Some("downstream_remote_disconnect"))
    }

    #[test]
    fn a_close_after_the_terminal_event_is_a_complete_call_for_every_stream_shape() {
        for shape in shapes() {
            let s = closed_by_client(&shape, &shape.body);
            let name = shape.name;
            assert_eq!(s.status, StatusCode::Unset, "{name}");
            assert_eq!(attr(&s, "error.type"), None, "{name}");
            assert_eq!(attr(&s, "llm.partial"), None, "{name}");
            assert_eq!(
                attr(&s, "llm.downstream_closed_early"),
                Some(&AttrValue::Bool(true)),
                "{name}"
            );
            // The provider's own figures were read before the close (`stream_chunk`, `bedrock_metrics`, ...).
            let source = attr(&s, "llm.usage.source");
            assert!(
                matches!(source, Some(AttrValue::Str(v)) if v != "estimate"),
                "{name}: {source:?}"
            );
            assert!(attr(&s, "gen_ai.response.finish_reasons").is_some(), "{name}");
            assert_eq!(s.status_message, "", "{name}");
            assert_eq!(
                s.end_unix_ns - s.start_unix_ns,
                500_000_000,
                "{name}: ends at the close"
            );
        }
    }

    #[test]
    fn a_close_before_the_terminal_event_is_still_a_cut_for_every_stream_shape() {
        for shape in shapes() {
            let s = closed_by_client(&shape, &shape.body[..shape.terminal_at]);
            let name = shape.name;
            assert_eq!(s.status, StatusCode::Error, "{name}");
            assert_eq!(
                attr(&s, "error.type"),
                Some(&AttrValue::Str("stream_cut".into())),
                "{name}"
            );
            assert_eq!(attr(&s, "llm.partial"), Some(&AttrValue::Bool(true)), "{name}");
            assert_eq!(attr(&s, "llm.downstream_closed_early"), None, "{name}");
            assert_eq!(s.status_message, "downstream_remote_disconnect", "{name}");
        }
    }
}
