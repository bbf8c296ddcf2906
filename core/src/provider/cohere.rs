//! Cohere: Chat v2 (`POST /v2/chat`, typed SSE events ending with `message-end` and a bare `data: [DONE]`), Chat
//! v1 (`POST /v1/chat`, streamed as NDJSON `application/stream+json` events ending with `stream-end`), and Embed
//! (`/v2/embed`, `/v1/embed`). The same v1 shapes, without `meta`, are the bodies of Cohere models on Bedrock
//! InvokeModel, and the legacy `generations` body of Cohere Command there.
//!
//! Cohere reports two token sets: `billed_units` (what is charged, without Cohere's own system preamble) and
//! `tokens` (what the model processed). The span reports the billed figures, the ones prices apply to. No
//! response names the model: pricing uses the request's.

use super::bedrock_metrics::InvocationMetrics;
use super::content_parts::{generic_messages, prompt_message, text_part, tool_definitions};
use super::{non_empty, read_request, read_response, ApiDecoder};
use crate::model::content::InputContent;
use crate::model::observation::{ErrorInfo, Observation, Usage, UsageSource};
use crate::wire::lenient;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

#[derive(Debug, Default)]
pub(crate) struct CohereDecoder;

#[derive(Deserialize, Default)]
#[serde(default)]
struct CohereRequest<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::flag")]
    stream: Option<bool>,
    #[serde(deserialize_with = "lenient::float")]
    temperature: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    p: Option<f64>,
    #[serde(deserialize_with = "lenient::int")]
    max_tokens: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    seed: Option<i64>,
    #[serde(deserialize_with = "lenient::float")]
    frequency_penalty: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    presence_penalty: Option<f64>,
    #[serde(deserialize_with = "lenient::texts")]
    stop_sequences: Option<Vec<String>>,
    /// v2 chat history.
    #[serde(deserialize_with = "lenient::length")]
    messages: Option<usize>,
    /// v1 chat: the user's message (its history is in `chat_history`).
    #[serde(deserialize_with = "lenient::present")]
    message: Option<()>,
    /// Embed inputs.
    #[serde(deserialize_with = "lenient::length")]
    texts: Option<usize>,
    #[serde(deserialize_with = "lenient::length")]
    inputs: Option<usize>,
}

/// A chat or embed response body, a v2 stream event or a v1 stream event: their fields do not collide.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CohereMessage<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    response_id: Option<Cow<'a, str>>,
    /// v2 stream event type.
    #[serde(borrow, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<Cow<'a, str>>,
    /// v1 stream event type.
    #[serde(borrow, deserialize_with = "lenient::text")]
    event_type: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::flag")]
    is_finished: Option<bool>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    finish_reason: Option<Cow<'a, str>>,
    /// v2 answer.
    #[serde(borrow, deserialize_with = "lenient::object")]
    message: Option<AssistantMessage<'a>>,
    /// v1 answer, or a v1 stream's text fragment.
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
    /// v2 usage.
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<CohereUsage>,
    /// v1 and embed usage.
    #[serde(deserialize_with = "lenient::object")]
    meta: Option<CohereUsage>,
    /// A v2 stream event's payload.
    #[serde(borrow, deserialize_with = "lenient::object")]
    delta: Option<EventDelta<'a>>,
    /// A v1 `stream-end` event's whole answer.
    #[serde(borrow, deserialize_with = "lenient::object")]
    response: Option<Box<CohereMessage<'a>>>,
    /// Legacy Command (`/v1/generate`, Bedrock `cohere.command-text-v14`).
    #[serde(borrow, deserialize_with = "lenient::objects")]
    generations: Option<Vec<Generation<'a>>>,
    /// Bedrock `InvokeModelWithResponseStream` appends its own figures to the last event.
    #[serde(rename = "amazon-bedrock-invocationMetrics", deserialize_with = "lenient::object")]
    bedrock_metrics: Option<InvocationMetrics>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssistantMessage<'a> {
    #[serde(borrow, deserialize_with = "lenient::objects")]
    content: Option<Vec<TextBlock<'a>>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    tool_plan: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TextBlock<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ToolCall<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    function: Option<Function<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Function<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::json_text")]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Generation<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventDelta<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    message: Option<DeltaMessage<'a>>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<CohereUsage>,
    #[serde(deserialize_with = "lenient::string")]
    error: Option<String>,
}

/// `delta.message` of a v2 stream event: one content fragment, tool plan fragment or tool call piece (in
/// `message-start`, empty arrays of them).
#[derive(Deserialize, Default)]
#[serde(default)]
struct DeltaMessage<'a> {
    #[serde(borrow, deserialize_with = "lenient::one_or_many")]
    content: Option<Vec<TextBlock<'a>>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    tool_plan: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::one_or_many")]
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct CohereUsage {
    #[serde(deserialize_with = "lenient::object")]
    billed_units: Option<Units>,
    #[serde(deserialize_with = "lenient::object")]
    tokens: Option<Units>,
    #[serde(deserialize_with = "lenient::count")]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct Units {
    #[serde(deserialize_with = "lenient::count")]
    input_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    output_tokens: Option<u64>,
}

impl CohereUsage {
    /// The billed figures, else the processed ones; `None` when neither has a count.
    fn to_usage(self, embeddings: bool) -> Option<Usage> {
        let billed = self.billed_units.unwrap_or_default();
        let processed = self.tokens.unwrap_or_default();
        let input = billed.input_tokens.or(processed.input_tokens);
        let output = billed.output_tokens.or(processed.output_tokens).filter(|_| !embeddings);
        (input.is_some() || output.is_some()).then_some(Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: self.cached_tokens,
            total_tokens: None,
            provider_input_tokens: input,
            provider_output_tokens: output,
            ..Default::default()
        })
    }
}

/// `{"message": "..."}`, Cohere's error body.
#[derive(Deserialize, Default)]
#[serde(default)]
struct CohereError {
    #[serde(deserialize_with = "lenient::string")]
    message: Option<String>,
}

fn chars(s: &str) -> u64 {
    s.chars().count() as u64
}

/// Generated text arriving in a stream (or a whole body): counted, timed, captured.
fn generated(text: &str, now_ns: u64, obs: &mut Observation) {
    if !text.is_empty() {
        obs.response.output_chars += chars(text);
        obs.mark_first_token(now_ns);
        obs.capture_text(0, text);
    }
}

impl CohereMessage<'_> {
    /// Applies a message (a stream event when `streamed`, else a whole body) to the observation.
    pub(crate) fn apply(self, now_ns: u64, streamed: bool, obs: &mut Observation) {
        let embeddings = obs.operation == "embeddings";
        let source = if streamed {
            UsageSource::StreamChunk
        } else {
            UsageSource::Body
        };
        if let Some(id) = non_empty(&self.id).or(non_empty(&self.response_id)) {
            obs.response.id = Some(id);
        }
        if let Some(u) = self.usage.or(self.meta).and_then(|u| u.to_usage(embeddings)) {
            obs.report_usage(u, source);
        }
        let event = self.kind.as_deref().or(self.event_type.as_deref()).unwrap_or_default();
        if let Some(delta) = self.delta {
            apply_v2_event(event, delta, now_ns, obs);
        }
        if event == "stream-end" {
            // The v1 stream's last event repeats the whole answer: only its usage and id are new.
            if let Some(whole) = self.response {
                if let Some(u) = whole.meta.and_then(|u| u.to_usage(embeddings)) {
                    obs.report_usage(u, source);
                }
                if let Some(id) = non_empty(&whole.response_id) {
                    obs.response.id = Some(id);
                }
                if self.finish_reason.is_none() {
                    if let Some(reason) = non_empty(&whole.finish_reason) {
                        obs.response.set_finish_reason(0, &reason);
                    }
                }
            }
            obs.response_complete = true;
        } else if let Some(text) = self.text.as_deref() {
            generated(text, now_ns, obs);
        }
        if let Some(m) = &self.message {
            for block in m.content.iter().flatten() {
                generated(block.text.as_deref().unwrap_or_default(), now_ns, obs);
            }
            if let Some(plan) = m.tool_plan.as_deref() {
                obs.response.output_chars += chars(plan);
            }
            for (i, call) in m.tool_calls.iter().flatten().enumerate() {
                let f = call.function.as_ref();
                let name = f.and_then(|f| f.name.as_deref());
                let arguments = f.and_then(|f| f.arguments.as_deref()).unwrap_or_default();
                obs.response.output_chars += chars(name.unwrap_or_default()) + chars(arguments);
                obs.capture_tool_call(0, i, call.id.as_deref(), name, arguments);
            }
        }
        for g in self.generations.iter().flatten() {
            generated(g.text.as_deref().unwrap_or_default(), now_ns, obs);
            if let Some(reason) = non_empty(&g.finish_reason) {
                obs.response.set_finish_reason(0, &reason);
                obs.response_complete = true;
            }
        }
        if let Some(reason) = non_empty(&self.finish_reason) {
            obs.response.set_finish_reason(0, &reason);
            obs.response_complete = true;
        }
        if self.is_finished == Some(true) {
            obs.response_complete = true;
        }
        if let Some(metrics) = self.bedrock_metrics {
            metrics.fill_missing(obs);
        }
    }
}

/// Stream event types of Chat v2 (`type`) and v1 (`event_type`); any other is counted and skipped.
const KNOWN_STREAM_EVENTS: [&str; 20] = [
    "message-start",
    "content-start",
    "content-delta",
    "content-end",
    "tool-plan-delta",
    "tool-call-start",
    "tool-call-delta",
    "tool-call-end",
    "citation-start",
    "citation-end",
    "message-end",
    "debug",
    "stream-start",
    "text-generation",
    "search-queries-generation",
    "search-results",
    "citation-generation",
    "tool-calls-generation",
    "tool-calls-chunk",
    "stream-end",
];

/// A v2 stream event's `delta`, by event type.
fn apply_v2_event(event: &str, delta: EventDelta<'_>, now_ns: u64, obs: &mut Observation) {
    let message = delta.message.unwrap_or_default();
    match event {
        "content-delta" => {
            for block in message.content.iter().flatten() {
                generated(block.text.as_deref().unwrap_or_default(), now_ns, obs);
            }
        }
        "tool-plan-delta" => {
            if let Some(plan) = message.tool_plan.as_deref().filter(|p| !p.is_empty()) {
                obs.response.output_chars += chars(plan);
                obs.mark_first_token(now_ns);
            }
        }
        "tool-call-start" | "tool-call-delta" => {
            for call in message.tool_calls.iter().flatten() {
                let f = call.function.as_ref();
                let name = f.and_then(|f| f.name.as_deref());
                let arguments = f.and_then(|f| f.arguments.as_deref()).unwrap_or_default();
                obs.response.output_chars += chars(name.unwrap_or_default()) + chars(arguments);
                obs.mark_first_token(now_ns);
                obs.capture_tool_call(0, 0, call.id.as_deref(), name, arguments);
            }
        }
        "message-end" => {
            if let Some(reason) = non_empty(&delta.finish_reason) {
                obs.response.set_finish_reason(0, &reason);
            }
            if let Some(u) = delta.usage.and_then(|u| u.to_usage(obs.operation == "embeddings")) {
                obs.report_usage(u, UsageSource::StreamChunk);
            }
            if let Some(message) = delta.error {
                obs.error = Some(ErrorInfo {
                    error_type: "_OTHER".to_string(),
                    message: Some(message),
                });
            }
            obs.response_complete = true;
        }
        _ => {} // message-start, content-start/end, tool-call-end, citations, debug, and later types
    }
}

/// The request parameters every Cohere body shares (also Cohere models' bodies on Bedrock).
pub(crate) fn read_request_params(body: &[u8], obs: &mut Observation) {
    let Some(req) = read_request::<CohereRequest<'_>>(body) else {
        return;
    };
    let r = &mut obs.request;
    r.model = non_empty(&req.model).or(r.model.take());
    r.stream = req.stream.unwrap_or(r.stream);
    r.temperature = req.temperature;
    r.top_p = req.p;
    r.max_tokens = req.max_tokens;
    r.seed = req.seed;
    r.frequency_penalty = req.frequency_penalty;
    r.presence_penalty = req.presence_penalty;
    r.stop_sequences = req.stop_sequences.unwrap_or_default();
    r.message_count = req
        .messages
        .or(req.texts)
        .or(req.inputs)
        .unwrap_or(usize::from(req.message.is_some()));
}

impl ApiDecoder for CohereDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        read_request_params(body, obs);
    }

    fn on_stream_message(&mut self, _event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        // Chat v2 streams end with a bare `data: [DONE]` after `message-end`.
        if data.trim_ascii() == b"[DONE]" {
            return;
        }
        if let Ok(m) = read_response::<CohereMessage<'_>>(data, obs) {
            let kind = m.kind.as_deref().or(m.event_type.as_deref()).unwrap_or_default();
            if kind.is_empty() || KNOWN_STREAM_EVENTS.contains(&kind) {
                m.apply(now_ns, true, obs);
            } else {
                obs.note_unknown_event();
            }
        }
    }

    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation) {
        if obs.http_status.is_some_and(|s| s >= 400) {
            if let Ok(e) = read_response::<CohereError>(body, obs) {
                obs.error = Some(ErrorInfo {
                    error_type: obs.http_status.map_or_else(|| "_OTHER".to_string(), |s| s.to_string()),
                    message: e.message,
                });
            }
            return;
        }
        if let Ok(m) = read_response::<CohereMessage<'_>>(body, obs) {
            m.apply(now_ns, false, obs);
        }
    }
}

/// Chat request content: v2 `messages` (roles and content as OpenAI's), or v1 `preamble`, `chat_history` and
/// `message`; embed `texts`.
pub(crate) fn request_content(req: &Map<String, Value>) -> InputContent {
    if let Some(messages) = req.get("messages").and_then(Value::as_array) {
        return InputContent {
            messages: Some(generic_messages(messages, "content")),
            tool_definitions: tool_definitions(req.get("tools")),
            system_instructions: None,
        };
    }
    if let Some(texts) = req.get("texts") {
        return InputContent {
            messages: Some(prompt_message(texts)),
            ..Default::default()
        };
    }
    let mut history: Vec<Value> = req
        .get("chat_history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            let role = match m.get("role").and_then(Value::as_str) {
                Some("CHATBOT") => "assistant",
                Some("SYSTEM") => "system",
                Some("TOOL") => "tool",
                _ => "user",
            };
            let text = m.get("message").and_then(Value::as_str).unwrap_or_default();
            serde_json::json!({"role": role, "parts": [text_part(text)]})
        })
        .collect();
    if let Some(text) = req.get("message").and_then(Value::as_str) {
        history.push(serde_json::json!({"role": "user", "parts": [text_part(text)]}));
    }
    InputContent {
        system_instructions: req
            .get("preamble")
            .and_then(Value::as_str)
            .map(|p| Value::Array(vec![text_part(p)])),
        messages: Some(Value::Array(history)),
        tool_definitions: tool_definitions(req.get("tools")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_stream_takes_usage_and_finish_from_message_end_and_done_is_no_error() {
        let mut d = CohereDecoder;
        let mut obs = Observation::default();
        obs.request.stream = true;
        let events = [
            r#"{"id":"m1","type":"message-start","delta":{"message":{"role":"assistant","content":[]}}}"#,
            r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hi"}}}}"#,
            r#"{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will"}}}"#,
            r#"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":10,"output_tokens":26.0},"tokens":{"input_tokens":507,"output_tokens":27},"cached_tokens":4}}}"#,
            "[DONE]",
        ];
        for (i, e) in events.iter().enumerate() {
            d.on_stream_message(b"", e.as_bytes(), i as u64, &mut obs);
        }
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(10), Some(26)));
        assert_eq!(obs.usage.cache_read_tokens, Some(4));
        assert_eq!(obs.usage_source(), "stream_chunk");
        assert_eq!(obs.response.finish_reasons, vec!["COMPLETE"]);
        assert_eq!(obs.response.id.as_deref(), Some("m1"));
        assert_eq!(obs.timing.first_token_ns, Some(1));
        assert!(obs.response_complete);
        assert_eq!(obs.decode_errors, 0);
    }

    #[test]
    fn v1_stream_end_repeats_the_answer_without_counting_it_twice() {
        let mut obs = Observation::default();
        let mut d = CohereDecoder;
        d.on_stream_message(
            b"",
            br#"{"is_finished":false,"event_type":"text-generation","text":"OTLP"}"#,
            1,
            &mut obs,
        );
        d.on_stream_message(
            b"",
            br#"{"is_finished":true,"event_type":"stream-end","response":{"response_id":"r1","text":"OTLP","finish_reason":"COMPLETE","meta":{"billed_units":{"input_tokens":11,"output_tokens":18}}},"finish_reason":"COMPLETE"}"#,
            2,
            &mut obs,
        );
        assert_eq!(obs.response.output_chars, 4);
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(11), Some(18)));
        assert_eq!(obs.response.finish_reasons, vec!["COMPLETE"]);
        assert_eq!(obs.response.id.as_deref(), Some("r1"));
        assert!(obs.response_complete);
    }

    #[test]
    fn v1_chat_and_embed_bodies() {
        let mut obs = Observation::default();
        CohereDecoder.on_response_body(
            br#"{"response_id":"r2","text":"Hello there","generation_id":"g","chat_history":[],"finish_reason":"MAX_TOKENS",
                "meta":{"api_version":{"version":"1"},"billed_units":{"input_tokens":7,"output_tokens":3},"tokens":{"input_tokens":70,"output_tokens":3}}}"#,
            1,
            &mut obs,
        );
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(7), Some(3)));
        assert_eq!(obs.usage_source(), "body");
        assert_eq!(obs.response.finish_reasons, vec!["MAX_TOKENS"]);
        assert_eq!(obs.response.output_chars, 11);

        let mut obs = Observation {
            operation: "embeddings",
            ..Default::default()
        };
        CohereDecoder.on_response_body(
            br#"{"id":"e1","texts":["a span"],"embeddings":[[0.1,0.2]],"response_type":"embeddings_floats",
                "meta":{"api_version":{"version":"1"},"billed_units":{"input_tokens":3}}}"#,
            1,
            &mut obs,
        );
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(3), None));
        assert_eq!(obs.decode_errors, 0);
    }

    #[test]
    fn error_body() {
        let mut obs = Observation {
            http_status: Some(401),
            ..Default::default()
        };
        CohereDecoder.on_response_body(br#"{"message":"invalid api token"}"#, 1, &mut obs);
        let e = obs.error.unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_deref()),
            ("401", Some("invalid api token"))
        );
    }
}
