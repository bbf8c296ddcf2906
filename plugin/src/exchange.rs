//! One HTTP exchange, from request headers to the finished span: the state machine the glue drives.
//!
//! The glue passes plain values (headers it read, body chunks, host clock readings); the exchange never calls the
//! host, never pauses traffic and never alters forwarded bytes. Memory is bounded by the configured limits.

use crate::attributes as attr;
use crate::config::Config;
use crate::content::{input_content, CaptureMode, OutputContent};
use crate::content_encoding::{BodyDecoder, DecodeError};
use crate::event_stream::EventStreamDecoder;
use crate::json_array::JsonArraySplitter;
use crate::observation::Observation;
use crate::provider::{Api, ApiDecoder, Detected};
use crate::span::{build_span, AttrValue, SpanOptions, SpanRecord};
use crate::sse::SseDecoder;
use crate::stream_usage::{inject_include_usage, UsageChunkStripper};

/// Largest request the filter holds back to add `include_usage`: well under Envoy's default 1 MiB buffer limit,
/// so holding it can never turn into a 413.
pub const MAX_HELD_REQUEST_BYTES: usize = 512 << 10;
use crate::trace_context::{IdGenerator, TraceContext};

/// Request headers the exchange needs.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestHead<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub authority: Option<&'a str>,
    pub scheme: Option<&'a str>,
    pub traceparent: Option<&'a str>,
    pub tracestate: Option<&'a str>,
    /// Attribution values read from the configured request headers and properties: (attribute, value).
    pub attribution: &'a [(String, String)],
    /// Capture mode the route's metadata asks for (`filter_metadata["llm-trace"].capture`). It can only tighten
    /// the configured policy, never loosen it.
    pub route_capture: Option<CaptureMode>,
}

/// Response headers the exchange needs.
#[derive(Debug, Default, Clone, Copy)]
pub struct ResponseHead<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
}

/// Host clock readings: wall time for span timestamps, monotonic time for every duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub unix_ns: u64,
    pub mono_ns: u64,
}

enum Framing {
    /// `text/event-stream`: messages are decoded as they arrive.
    Sse(SseDecoder),
    /// `application/vnd.amazon.eventstream` (Bedrock streams).
    EventStream(EventStreamDecoder),
    /// A JSON array streamed element by element (Gemini `streamGenerateContent` without `alt=sse`).
    JsonArray(JsonArraySplitter),
    /// Anything else: the body is kept (up to the cap) and parsed once at the end.
    Whole(Vec<u8>),
}

impl Framing {
    /// Picks the framing from the response content type and what the path said about streaming.
    fn for_response(content_type: Option<&str>, path_streams: bool, max_event_bytes: usize) -> Framing {
        let ct = content_type.unwrap_or_default().trim_start().to_ascii_lowercase();
        if ct.starts_with("text/event-stream") {
            Framing::Sse(SseDecoder::new(max_event_bytes))
        } else if ct.starts_with("application/vnd.amazon.eventstream") {
            Framing::EventStream(EventStreamDecoder::new(max_event_bytes))
        } else if path_streams && ct.starts_with("application/json") {
            Framing::JsonArray(JsonArraySplitter::new(max_event_bytes))
        } else {
            Framing::Whole(Vec::new())
        }
    }

    /// Feeds decoded body bytes, handing each complete message to the decoder; returns bytes not kept.
    fn feed(
        &mut self,
        bytes: &[u8],
        decoder: &mut dyn ApiDecoder,
        obs: &mut Observation,
        now_ns: u64,
        max_whole: usize,
    ) -> u64 {
        match self {
            Framing::Sse(sse) => sse.feed(bytes, &mut |event, data| {
                decoder.on_stream_message(event, data, now_ns, obs)
            }),
            Framing::EventStream(es) => es.feed(bytes, &mut |frame| {
                if frame.message_type == "event" {
                    decoder.on_stream_message(frame.kind.as_bytes(), &frame.payload, now_ns, obs);
                } else {
                    let event = format!("{}:{}", frame.message_type, frame.kind);
                    decoder.on_stream_message(event.as_bytes(), &frame.payload, now_ns, obs);
                }
            }),
            Framing::JsonArray(split) => split.feed(bytes, &mut |element| {
                decoder.on_stream_message(b"", element, now_ns, obs)
            }),
            Framing::Whole(buf) => {
                let kept = max_whole.saturating_sub(buf.len()).min(bytes.len());
                buf.extend_from_slice(&bytes[..kept]);
                return (bytes.len() - kept) as u64;
            }
        }
        0
    }

    fn oversized_messages(&self) -> u64 {
        match self {
            Framing::Sse(sse) => sse.oversized_events,
            Framing::JsonArray(split) => split.oversized_elements,
            Framing::EventStream(_) | Framing::Whole(_) => 0,
        }
    }
}

struct ResponseReader {
    /// `None` when the body cannot be decoded; timings are still recorded.
    body: Option<BodyDecoder>,
    framing: Framing,
}

/// A finished call: its span (unless sampling dropped it) and what was observed, for the metrics.
pub struct Finished {
    pub span: Option<SpanRecord>,
    pub observation: Observation,
}

pub struct Exchange {
    api: Api,
    decoder: Box<dyn ApiDecoder>,
    /// Removes the usage-only chunk the filter asked for; set while the response needs rewriting.
    stripper: Option<UsageChunkStripper>,
    /// The path asked for a streamed response (Gemini, Bedrock); other APIs say so in the request body.
    path_streams: bool,
    obs: Observation,
    trace: TraceContext,
    span_id: [u8; 8],
    start_unix_ns: u64,
    request_body: Vec<u8>,
    /// Small top-level fields of a request body larger than the cap (see `json_fields`).
    request_fields: Option<crate::json_fields::SmallFields>,
    request_parsed: bool,
    response: Option<ResponseReader>,
    response_ended: bool,
    /// SSE events skipped for size, reported once at the end.
    pub oversized_events: u64,
    /// The held request body gets `include_usage` added.
    inject_pending: bool,
    /// The held request body gets redacted before it goes upstream.
    redact_pending: bool,
}

impl Exchange {
    /// Which API the request speaks: the configured override for its host and path, else the path.
    pub fn detect(
        config: &Config,
        method: &str,
        path: &str,
        authority: Option<&str>,
    ) -> Option<(Detected, Option<String>)> {
        let by_path = Api::detect(method, path);
        let Some(o) = config.provider_override(authority, path) else {
            return by_path.map(|d| (d, None));
        };
        let detected = match (o.api, by_path) {
            (Some(api), Some(d)) => Detected { api, ..d },
            (Some(api), None) if method.eq_ignore_ascii_case("POST") => Detected {
                api,
                path_model: None,
                path_streams: false,
            },
            (None, Some(d)) => d,
            _ => return None,
        };
        Some((detected, o.provider.clone()))
    }

    /// Starts tracing when the request is an LLM call the filter understands; `None` lets it pass untouched.
    pub fn start(config: &Config, head: &RequestHead<'_>, clock: Clock, ids: &mut IdGenerator) -> Option<Exchange> {
        let (detected, provider_override) = Exchange::detect(config, head.method, head.path, head.authority)?;
        let api = detected.api;
        let (server_address, server_port) = match head.authority {
            Some(authority) => split_authority(authority, head.scheme),
            None => (None, None),
        };
        let provider = provider_override.unwrap_or_else(|| {
            match api.provider_name(server_address.as_deref(), head.path) {
                // An OpenAI-compatible server the filter does not know: the operator's default.
                "openai" if server_address.as_deref() != Some("api.openai.com") => config.default_provider.clone(),
                known => known.to_string(),
            }
        });
        let mut obs = Observation {
            provider,
            operation: api.operation(),
            api_type: api.openai_api_type(),
            server_address,
            server_port,
            timing: crate::observation::Timing {
                start_ns: clock.mono_ns,
                ..Default::default()
            },
            ..Default::default()
        };
        obs.request.model = detected.path_model;
        obs.request.stream = detected.path_streams;
        obs.attribution = head.attribution.to_vec();
        let feature = head
            .attribution
            .iter()
            .find(|(k, _)| k == "app.feature")
            .map(|(_, v)| v.as_str());
        obs.capture = config
            .capture
            .mode_for(obs.server_address.as_deref(), head.path, feature);
        if let Some(route) = head.route_capture {
            obs.capture = obs.capture.min(route);
        }
        if obs.capture != CaptureMode::Off {
            // Keep a little more than will be exported, so redaction sees whole secrets at the cut.
            obs.output = Some(OutputContent::new(config.capture.max_content_bytes + 4096));
        }
        Some(Exchange {
            api,
            decoder: api.decoder(detected.path_streams),
            stripper: None,
            path_streams: detected.path_streams,
            obs,
            trace: TraceContext::from_headers(head.traceparent, head.tracestate, ids),
            span_id: ids.span_id(),
            start_unix_ns: clock.unix_ns,
            request_body: Vec::new(),
            request_fields: None,
            request_parsed: false,
            response: None,
            response_ended: false,
            oversized_events: 0,
            inject_pending: false,
            redact_pending: false,
        })
    }

    /// The filter narrowed the client's `accept-encoding` (it was `original`) to codings it can read.
    pub fn note_accept_encoding_narrowed(&mut self, original: String) {
        self.obs.accept_encoding_narrowed = Some(original);
    }

    /// Rate-limit figures from the response headers.
    pub fn note_rate_limits(&mut self, figures: Vec<(&'static str, crate::rate_limit::Figure)>) {
        self.obs.rate_limits = figures;
    }

    pub fn observation(&self) -> &Observation {
        &self.obs
    }

    pub fn trace(&self) -> &TraceContext {
        &self.trace
    }

    /// W3C `traceparent` naming the LLM span, for the upstream request.
    pub fn traceparent(&self) -> String {
        use crate::trace_context::to_hex;
        format!(
            "00-{}-{}-{:02x}",
            to_hex(&self.trace.trace_id),
            to_hex(&self.span_id),
            self.trace.flags
        )
    }

    /// Copies request body bytes up to the cap; the request is parsed once complete.
    pub fn on_request_body(&mut self, config: &Config, chunk: &[u8], end_of_stream: bool) {
        if !self.request_parsed {
            let room = config
                .limits
                .max_request_body_bytes
                .saturating_sub(self.request_body.len());
            let kept = room.min(chunk.len());
            if kept < chunk.len() && self.request_fields.is_none() {
                // Over the cap: from here on keep only the small top-level fields (model, stream, ...).
                let mut fields = crate::json_fields::SmallFields::default();
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
            self.on_request_end();
        }
    }

    /// Whether to hold the request body back until it is complete, so [`Exchange::on_buffered_request`] can
    /// rewrite it: add `include_usage` (OpenAI-shaped calls) or redact it (request redaction; never Bedrock, whose
    /// bodies are covered by the SigV4 signature). Only with a `content-length` within the caps, so what is held is
    /// bounded; a request that cannot be held for redaction goes as sent and the span says why.
    pub fn holds_request(&mut self, config: &Config, content_length: Option<usize>) -> bool {
        if self.request_parsed {
            return false;
        }
        let wants_injection =
            config.inject_stream_usage && matches!(self.api, Api::OpenAiChat | Api::OpenAiCompletions);
        let wants_redaction =
            config.redaction.redacts_requests() && !matches!(self.api, Api::BedrockConverse | Api::BedrockInvoke);
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

    /// The whole held-back request body. Returns the body to send instead, when it was redacted or `include_usage`
    /// was added.
    pub fn on_buffered_request(&mut self, config: &Config, body: &[u8]) -> Option<Vec<u8>> {
        self.on_request_body(config, body, true);
        let mut rewritten = None;
        if self.redact_pending {
            if let Some((redacted, counts)) = config.redaction.redact_request(body) {
                self.obs.request_redactions = counts;
                rewritten = Some(redacted);
            }
        }
        if self.inject_pending {
            if let Some(injected) = inject_include_usage(rewritten.as_deref().unwrap_or(body)) {
                self.obs.usage_injected = true;
                self.stripper = Some(UsageChunkStripper::new(config.limits.max_sse_event_bytes));
                rewritten = Some(injected);
            }
        }
        rewritten
    }

    /// The host refused the rewritten body: the request went as the client sent it.
    pub fn rewrite_failed(&mut self) {
        self.obs.usage_injected = false;
        self.stripper = None;
        if !self.obs.request_redactions.is_empty() {
            self.obs.request_redactions.clear();
            self.obs.request_redaction_skipped = Some("host_refused");
        }
    }

    /// Whether the response body is being rewritten (the glue drops `content-length` then).
    pub fn rewrites_response(&self) -> bool {
        self.stripper.is_some()
    }

    /// The bytes to forward for this response chunk, when they differ from the chunk received.
    pub fn forward_response_chunk(&mut self, chunk: &[u8], end_of_stream: bool) -> Option<Vec<u8>> {
        self.stripper.as_mut().map(|s| s.filter(chunk, end_of_stream))
    }

    /// The request is complete (end of body, trailers, or the response started first).
    pub fn on_request_end(&mut self) {
        if self.request_parsed {
            return;
        }
        self.request_parsed = true;
        if let Some(fields) = self.request_fields.take() {
            self.request_body = fields.to_object();
        }
        self.decoder.on_request(&self.request_body, &mut self.obs);
        if self.obs.capture != CaptureMode::Off {
            self.obs.input = Some(input_content(self.api, &self.request_body));
        }
        self.request_body = Vec::new();
    }

    pub fn on_response_headers(&mut self, config: &Config, head: &ResponseHead<'_>, end_of_stream: bool, now: Clock) {
        self.on_request_end();
        self.obs.http_status = Some(head.status);
        self.obs.timing.response_headers_ns = Some(now.mono_ns);
        let limits = &config.limits;
        let body = match BodyDecoder::new(head.content_encoding, limits.max_response_body_bytes.max(16 << 20)) {
            Ok(d) => Some(d),
            Err(e) => {
                self.note_unreadable(&e);
                None
            }
        };
        let framing = Framing::for_response(head.content_type, self.path_streams, limits.max_sse_event_bytes);
        // Only a plain SSE body can be rewritten; anything else (an error, a compressed stream) passes untouched.
        let plain_sse = matches!(framing, Framing::Sse(_)) && body.as_ref().is_some_and(BodyDecoder::is_identity);
        if !plain_sse {
            self.stripper = None;
        }
        self.response = Some(ResponseReader { body, framing });
        if end_of_stream {
            self.on_response_end(now);
        }
    }

    /// Inspects one response chunk; the chunk itself is forwarded by the host unchanged.
    pub fn on_response_body(&mut self, config: &Config, chunk: &[u8], end_of_stream: bool, now: Clock) {
        if !chunk.is_empty() && self.obs.timing.first_byte_ns.is_none() {
            self.obs.timing.first_byte_ns = Some(now.mono_ns);
        }
        let max_whole = config.limits.max_response_body_bytes;
        let Exchange {
            decoder,
            obs,
            response,
            oversized_events,
            ..
        } = self;
        if let Some(ResponseReader {
            body: Some(body),
            framing,
        }) = response
        {
            let mut truncated = 0u64;
            let result = body.decode(chunk, &mut |bytes| {
                truncated += framing.feed(bytes, decoder.as_mut(), obs, now.mono_ns, max_whole);
            });
            obs.truncated_bytes += truncated;
            *oversized_events = framing.oversized_messages();
            if let Err(e) = result {
                self.note_unreadable(&e);
                if let Some(reader) = &mut self.response {
                    reader.body = None;
                }
            }
        }
        if end_of_stream {
            self.on_response_end(now);
        }
    }

    /// End of the response (last body chunk, trailers, or headers-only response). Only the instant is recorded
    /// here: parsing what is left waits for [`Exchange::finish`], which the glue calls after the client has the
    /// last byte, so the final chunk is not delayed.
    pub fn on_response_end(&mut self, now: Clock) {
        if !self.response_ended {
            self.response_ended = true;
            self.obs.timing.end_ns = Some(now.mono_ns);
        }
    }

    /// Hands what the framing still holds to the provider decoder.
    fn drain_response(&mut self, now_ns: u64) {
        let Exchange {
            decoder, obs, response, ..
        } = self;
        if let Some(ResponseReader { body: Some(_), framing }) = response {
            match framing {
                Framing::Sse(sse) => sse.finish(&mut |event, data| decoder.on_stream_message(event, data, now_ns, obs)),
                Framing::Whole(buf) => decoder.on_response_body(buf, now_ns, obs),
                Framing::EventStream(_) | Framing::JsonArray(_) => {}
            }
        }
        self.response = None;
    }

    pub fn response_ended(&self) -> bool {
        self.response_ended
    }

    /// Finishes the span. When the response never ended, the exchange was cut: the span ends now, is marked
    /// partial, and carries `cut_reason` (Envoy's response code details, e.g. `downstream_remote_disconnect`).
    pub fn finish(
        mut self,
        config: &Config,
        now: Clock,
        cut_reason: Option<&str>,
        options: &SpanOptions<'_>,
    ) -> Finished {
        self.on_request_end();
        let end_ns = self.obs.timing.end_ns.unwrap_or(now.mono_ns);
        self.drain_response(end_ns);
        if !self.response_ended {
            self.obs.partial = true;
            self.obs.timing.end_ns = Some(now.mono_ns);
            if let Some(reason) = cut_reason.filter(|r| !r.is_empty()) {
                let message = Some(reason.to_string());
                match &mut self.obs.error {
                    Some(e) => e.message = e.message.take().or(message),
                    None => {
                        self.obs.error = Some(crate::observation::ErrorInfo {
                            error_type: cut_error_type(&self.obs),
                            message,
                        })
                    }
                }
            }
        }
        let parent_sampled = self.trace.parent_span_id.map(|_| self.trace.flags & 1 == 1);
        self.obs.cost = config.pricing.price(&self.obs);
        let decision = crate::sampling::decide(
            &config.sampling,
            &self.obs,
            &self.trace.trace_id,
            parent_sampled,
            self.obs.cost.total_units(),
        );
        let span = decision.keep.then(|| {
            let mut span = build_span(&self.obs, &self.trace, self.span_id, self.start_unix_ns, options);
            span.attributes.push((
                attr::LLM_SAMPLING_RULE.into(),
                AttrValue::Str(decision.rule.to_string()),
            ));
            span
        });
        Finished {
            span,
            observation: self.obs,
        }
    }

    fn note_unreadable(&mut self, e: &DecodeError) {
        let reason = match e {
            DecodeError::Unsupported(coding) => format!("unsupported content-encoding `{coding}`"),
            DecodeError::Corrupt => "corrupt compressed body".to_string(),
            DecodeError::OverCap => "decoded body over the cap".to_string(),
        };
        self.obs.unreadable = Some(reason);
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

/// `server.address` and `server.port` from `:authority` (`host`, `host:port`, `[v6]:port`).
fn split_authority(authority: &str, scheme: Option<&str>) -> (Option<String>, Option<i64>) {
    let default_port = match scheme {
        Some(s) if s.eq_ignore_ascii_case("http") => 80,
        _ => 443,
    };
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => (authority, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (authority, None),
        }
    };
    let port = port.and_then(|p| p.parse::<i64>().ok()).unwrap_or(default_port);
    if host.is_empty() {
        return (None, None);
    }
    (Some(host.to_ascii_lowercase()), Some(port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::StatusCode;

    fn config() -> Config {
        Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap()
    }

    fn at(ms: u64) -> Clock {
        Clock {
            unix_ns: 1_700_000_000_000_000_000 + ms * 1_000_000,
            mono_ns: 5_000_000_000 + ms * 1_000_000,
        }
    }

    fn head(path: &str) -> RequestHead<'_> {
        RequestHead {
            method: "POST",
            path,
            authority: Some("api.openai.com"),
            scheme: Some("https"),
            ..Default::default()
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
        let mut ids = IdGenerator::from_seed([3; 32]);
        let mut x = Exchange::start(&cfg, &head("/v1/chat/completions"), at(0), &mut ids).unwrap();
        x.on_request_body(&cfg, REQUEST, true);
        let sse = ResponseHead {
            status: 200,
            content_type: Some("text/event-stream; charset=utf-8"),
            content_encoding: None,
        };
        x.on_response_headers(&cfg, &sse, false, at(100));
        let chunks: Vec<&[u8]> = STREAM.chunks(chunk_size).collect();
        for (i, c) in chunks.iter().enumerate() {
            // The role chunk arrives at 150 ms; every later chunk 10 ms apart.
            x.on_response_body(&cfg, c, i + 1 == chunks.len(), at(150 + 10 * i as u64));
        }
        assert!(x.response_ended());
        x.finish(&cfg, at(999), None, &SpanOptions::default()).span.unwrap()
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
        let mut ids = IdGenerator::from_seed([3; 32]);
        let mut x = Exchange::start(&cfg, &head("/v1/chat/completions"), at(0), &mut ids).unwrap();
        x.on_request_body(&cfg, REQUEST, true);
        let sse = ResponseHead {
            status: 200,
            content_type: Some("text/event-stream"),
            content_encoding: None,
        };
        x.on_response_headers(&cfg, &sse, false, at(10));
        x.on_response_body(&cfg, &STREAM[..250], false, at(20));
        let s = x
            .finish(
                &cfg,
                at(30),
                Some("downstream_remote_disconnect"),
                &SpanOptions::default(),
            )
            .span
            .unwrap();
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
        let mut ids = IdGenerator::from_seed([3; 32]);
        assert!(Exchange::start(&cfg, &head("/v1/models"), at(0), &mut ids).is_none());
        let x = Exchange::start(&cfg, &head("/v1/chat/completions"), at(0), &mut ids).unwrap();
        let s = x
            .finish(
                &cfg,
                at(5),
                Some("upstream_reset_before_response_started"),
                &SpanOptions::default(),
            )
            .span
            .unwrap();
        assert_eq!(attr(&s, "error.type"), Some(&AttrValue::Str("no_response".into())));
        assert_eq!(s.status, StatusCode::Error);
    }

    #[test]
    fn request_body_over_the_cap_is_counted_and_its_small_fields_still_read() {
        let cfg = Config::from_json(br#"{"exporter":{"cluster":"o"},"limits":{"max_request_body_bytes":10}}"#).unwrap();
        let mut ids = IdGenerator::from_seed([3; 32]);
        let mut x = Exchange::start(&cfg, &head("/v1/chat/completions"), at(0), &mut ids).unwrap();
        x.on_request_body(&cfg, REQUEST, true);
        assert_eq!(x.observation().truncated_bytes, REQUEST.len() as u64 - 10);
        assert_eq!(
            x.observation().request.model.as_deref(),
            Some("gpt-4o-mini"),
            "small fields survive the cap"
        );
        assert!(x.observation().request.stream);
    }

    #[test]
    fn unsupported_encoding_keeps_timings_and_says_why() {
        let cfg = config();
        let mut ids = IdGenerator::from_seed([3; 32]);
        let mut x = Exchange::start(&cfg, &head("/v1/chat/completions"), at(0), &mut ids).unwrap();
        x.on_request_body(&cfg, br#"{"model":"m"}"#, true);
        let h = ResponseHead {
            status: 200,
            content_type: Some("application/json"),
            content_encoding: Some("zstd"),
        };
        x.on_response_headers(&cfg, &h, false, at(10));
        x.on_response_body(&cfg, b"\x28\xb5\x2f\xfd", true, at(20));
        let s = x.finish(&cfg, at(30), None, &SpanOptions::default()).span.unwrap();
        assert_eq!(
            attr(&s, "llm.response.unreadable"),
            Some(&AttrValue::Str("unsupported content-encoding `zstd`".into()))
        );
        assert_eq!(s.end_unix_ns - s.start_unix_ns, 20_000_000);
    }

    #[test]
    fn usage_is_injected_read_and_its_chunk_removed_from_what_the_client_gets() {
        let cfg = config();
        let mut ids = IdGenerator::from_seed([3; 32]);
        let mut x = Exchange::start(&cfg, &head("/v1/chat/completions"), at(0), &mut ids).unwrap();
        let body = br#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        assert!(
            !x.holds_request(&cfg, None),
            "no content-length: never hold the request"
        );
        assert!(!x.holds_request(&cfg, Some(MAX_HELD_REQUEST_BYTES + 1)));
        assert!(x.holds_request(&cfg, Some(body.len())));
        let sent = x.on_buffered_request(&cfg, body).unwrap();
        assert!(sent.starts_with(br#"{"stream_options":{"include_usage":true},"model""#));
        let sse = ResponseHead {
            status: 200,
            content_type: Some("text/event-stream"),
            content_encoding: None,
        };
        x.on_response_headers(&cfg, &sse, false, at(5));
        assert!(x.rewrites_response());
        let mut forwarded = Vec::new();
        for (i, c) in STREAM.chunks(13).enumerate() {
            let last = (i + 1) * 13 >= STREAM.len();
            x.on_response_body(&cfg, c, last, at(10));
            forwarded.extend(x.forward_response_chunk(c, last).unwrap());
        }
        let text = String::from_utf8(forwarded).unwrap();
        assert!(!text.contains("\"usage\":{"), "usage chunk removed: {text}");
        assert!(text.contains("Hello") && text.ends_with("data: [DONE]\n\n"));
        let s = x.finish(&cfg, at(20), None, &SpanOptions::default()).span.unwrap();
        assert_eq!(attr(&s, "gen_ai.usage.input_tokens"), Some(&AttrValue::Int(8)));
        assert_eq!(attr(&s, "llm.usage.injected"), Some(&AttrValue::Bool(true)));
    }

    #[test]
    fn stream_without_usage_gets_an_estimate_from_its_content_chunks() {
        let cfg = config();
        let mut ids = IdGenerator::from_seed([3; 32]);
        let mut x = Exchange::start(&cfg, &head("/v1/chat/completions"), at(0), &mut ids).unwrap();
        x.on_request_body(&cfg, br#"{"model":"m","stream":true}"#, true);
        let sse = ResponseHead {
            status: 200,
            content_type: Some("text/event-stream"),
            content_encoding: None,
        };
        x.on_response_headers(&cfg, &sse, false, at(5));
        let without_usage: Vec<u8> = String::from_utf8(STREAM.to_vec())
            .unwrap()
            .split("\n\n")
            .filter(|e| !e.contains("\"usage\":{"))
            .map(|e| format!("{e}\n\n"))
            .collect::<String>()
            .into_bytes();
        x.on_response_body(&cfg, &without_usage, true, at(10));
        let s = x.finish(&cfg, at(20), None, &SpanOptions::default()).span.unwrap();
        assert_eq!(attr(&s, "gen_ai.usage.output_tokens"), Some(&AttrValue::Int(1)));
        assert_eq!(attr(&s, "llm.usage.source"), Some(&AttrValue::Str("estimated".into())));
        assert_eq!(attr(&s, "gen_ai.usage.input_tokens"), None);
    }

    #[test]
    fn configured_override_routes_an_unknown_path_and_names_the_provider() {
        let cfg = Config::from_json(
            br#"{"exporter":{"cluster":"o"},"default_provider":"vllm",
                "provider_overrides":[{"host":"llm.internal","path_prefix":"/generate","api":"openai_chat","provider":"acme"}]}"#,
        )
        .unwrap();
        let mut ids = IdGenerator::from_seed([3; 32]);
        let mut h = head("/generate");
        h.authority = Some("llm.internal");
        let x = Exchange::start(&cfg, &h, at(0), &mut ids).unwrap();
        assert_eq!(x.observation().provider, "acme");
        let mut h = head("/v1/chat/completions");
        h.authority = Some("gpu-box:8000");
        assert_eq!(
            Exchange::start(&cfg, &h, at(0), &mut ids)
                .unwrap()
                .observation()
                .provider,
            "vllm"
        );
        h.authority = Some("api.groq.com");
        assert_eq!(
            Exchange::start(&cfg, &h, at(0), &mut ids)
                .unwrap()
                .observation()
                .provider,
            "groq"
        );
    }

    #[test]
    fn authority_forms() {
        assert_eq!(
            split_authority("api.openai.com", Some("https")),
            (Some("api.openai.com".into()), Some(443))
        );
        assert_eq!(
            split_authority("LOCALHOST:8080", Some("http")),
            (Some("localhost".into()), Some(8080))
        );
        assert_eq!(split_authority("[::1]:9000", None), (Some("::1".into()), Some(9000)));
        assert_eq!(split_authority("[::1]", Some("http")), (Some("::1".into()), Some(80)));
        assert_eq!(split_authority("", None), (None, None));
    }
}
