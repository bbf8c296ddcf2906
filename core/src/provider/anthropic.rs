//! Anthropic Messages (`POST /v1/messages`) and the legacy Text Completions (`POST /v1/complete`, no usage on
//! the wire), streamed (named SSE events) or not; also the body format of Anthropic models on Bedrock
//! `InvokeModel*`.
//!
//! Usage: `message_start` carries input figures and an interim output count; `message_delta` carries the
//! **cumulative** output count (and, on newer APIs, cumulative input figures), so later values replace earlier
//! ones and are never added. The conventions' input total adds cache reads and writes to Anthropic's `input_tokens`.

use super::bedrock_metrics::InvocationMetrics;
use super::content_parts::{generic_messages, parts_of, prompt_message, tool_definitions};
use super::{non_empty, read_request, read_response, set_non_empty, ApiDecoder, ApiError};
use crate::model::content::InputContent;
use crate::model::observation::{Observation, Usage, UsageSource};
use crate::wire::lenient;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

mod fast;

#[derive(Debug, Default)]
pub(crate) struct AnthropicDecoder {
    raw: RawUsage,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MessagesRequest<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::flag")]
    stream: Option<bool>,
    #[serde(deserialize_with = "lenient::int")]
    max_tokens: Option<i64>,
    /// Text Completions' name for `max_tokens`.
    #[serde(deserialize_with = "lenient::int")]
    max_tokens_to_sample: Option<i64>,
    #[serde(deserialize_with = "lenient::float")]
    temperature: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    top_p: Option<f64>,
    #[serde(deserialize_with = "lenient::texts")]
    stop_sequences: Option<Vec<String>>,
    #[serde(deserialize_with = "lenient::length")]
    messages: Option<usize>,
    /// Text Completions' prompt (`"\n\nHuman: ...\n\nAssistant:"`).
    #[serde(deserialize_with = "lenient::present")]
    prompt: Option<()>,
}

/// Usage figures as Anthropic reports them; every field optional because `message_delta` repeats only some.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
struct RawUsage {
    #[serde(deserialize_with = "lenient::count")]
    input_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    output_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    cache_creation_input_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    cache_read_input_tokens: Option<u64>,
}

impl RawUsage {
    /// Later figures replace earlier ones (they are cumulative); absent ones keep what was known.
    fn merge(&mut self, newer: RawUsage) {
        self.input_tokens = newer.input_tokens.or(self.input_tokens);
        self.output_tokens = newer.output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens = newer.cache_creation_input_tokens.or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = newer.cache_read_input_tokens.or(self.cache_read_input_tokens);
    }

    fn to_usage(self) -> Usage {
        let cached = self.cache_read_input_tokens.unwrap_or(0) + self.cache_creation_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: self.input_tokens.map(|i| i + cached),
            output_tokens: self.output_tokens,
            cache_read_tokens: self.cache_read_input_tokens,
            cache_creation_tokens: self.cache_creation_input_tokens,
            reasoning_tokens: None,
            total_tokens: None,
            provider_input_tokens: self.input_tokens,
            provider_output_tokens: self.output_tokens,
        }
    }
}

/// A whole message (non-streamed body, or `message_start.message`), or a whole Text Completions answer
/// (`type: completion`, the text in `completion`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Message<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<RawUsage>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    content: Option<Vec<ContentBlock<'a>>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    completion: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::object")]
    error: Option<ApiError>,
    #[serde(borrow, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContentBlock<'a> {
    #[serde(borrow, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    id: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::any")]
    input: Option<serde_json::Value>,
}

impl ContentBlock<'_> {
    /// Keeps a whole block's content (non-streamed messages, and tool_use blocks opening in a stream).
    fn capture(&self, block_index: usize, obs: &mut Observation) {
        match self.kind.as_deref() {
            Some("text") => obs.capture_text(0, self.text.as_deref().unwrap_or_default()),
            Some("thinking") => obs.capture_reasoning(0, self.thinking.as_deref().unwrap_or_default()),
            Some("tool_use") => {
                let input = self
                    .input
                    .as_ref()
                    .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()));
                let arguments = input.map(|i| i.to_string()).unwrap_or_default();
                obs.capture_tool_call(0, block_index, self.id.as_deref(), self.name.as_deref(), &arguments);
            }
            _ => {}
        }
    }

    fn chars(&self) -> u64 {
        [&self.text, &self.thinking, &self.name, &self.partial_json]
            .iter()
            .map(|f| f.as_deref().map_or(0, |s| s.chars().count() as u64))
            .sum()
    }
}

/// One streamed event; the `type` field names it (the SSE `event:` line repeats it). Text Completions events
/// (`type: completion`) carry their fields at the top level; Bedrock's wrapped ones may omit `type`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StreamEvent<'a> {
    #[serde(borrow, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    message: Option<Message<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    delta: Option<EventDelta<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    content_block: Option<ContentBlock<'a>>,
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<RawUsage>,
    #[serde(deserialize_with = "lenient::object")]
    error: Option<ApiError>,
    #[serde(deserialize_with = "lenient::index")]
    index: Option<usize>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    completion: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    /// Bedrock `InvokeModelWithResponseStream` appends its own figures to the last event.
    #[serde(rename = "amazon-bedrock-invocationMetrics", deserialize_with = "lenient::object")]
    bedrock_metrics: Option<InvocationMetrics>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventDelta<'a> {
    #[serde(borrow, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    partial_json: Option<Cow<'a, str>>,
}

fn chars(s: &Option<Cow<'_, str>>) -> u64 {
    s.as_deref().map_or(0, |s| s.chars().count() as u64)
}

impl AnthropicDecoder {
    fn apply_message(&mut self, m: Message<'_>, source: UsageSource, obs: &mut Observation) {
        if let Some(id) = non_empty(&m.id) {
            obs.response.id = Some(id);
        }
        if let Some(model) = non_empty(&m.model) {
            obs.response.model = Some(model);
        }
        if let Some(reason) = non_empty(&m.stop_reason) {
            obs.response.set_finish_reason(0, &reason);
            obs.response_complete = true;
        }
        if let Some(usage) = m.usage {
            self.raw.merge(usage);
            obs.report_usage(self.raw.to_usage(), source);
        }
        obs.response.output_chars += m.content.iter().flatten().map(ContentBlock::chars).sum::<u64>();
        for (i, block) in m.content.iter().flatten().enumerate() {
            block.capture(i, obs);
        }
        if let Some(text) = m.completion.as_deref() {
            obs.response.output_chars += text.chars().count() as u64;
            obs.capture_text(0, text);
        }
        if m.kind.as_deref() == Some("error") {
            if let Some(e) = m.error {
                obs.error = Some(e.into_info());
            }
        }
    }

    /// Handles one streaming event (also used for Bedrock's wrapped Anthropic events).
    pub(crate) fn on_event_json(&mut self, data: &[u8], now_ns: u64, obs: &mut Observation) {
        // The common event in one borrowing pass; anything else through the lenient serde reading.
        if let Ok(event) = fast::event(data) {
            self.apply_event(event, now_ns, obs);
        } else if let Ok(event) = read_response::<StreamEvent<'_>>(data, obs) {
            self.apply_event(event, now_ns, obs);
        }
    }

    fn apply_event(&mut self, event: StreamEvent<'_>, now_ns: u64, obs: &mut Observation) {
        let kind = match event.kind.as_deref() {
            None if event.completion.is_some() => "completion",
            kind => kind.unwrap_or_default(),
        };
        match kind {
            "message_start" => {
                if let Some(m) = event.message {
                    self.apply_message(m, UsageSource::StreamChunk, obs);
                }
            }
            "content_block_start" => {
                // A tool_use block names its tool up front: that is the first generated output.
                if let Some(block) = event.content_block.filter(|b| b.kind.as_deref() == Some("tool_use")) {
                    obs.response.output_chars += block.chars();
                    obs.mark_first_token(now_ns);
                    block.capture(event.index.unwrap_or(0), obs);
                }
            }
            "content_block_delta" => {
                if let Some(d) = event.delta {
                    let generated = chars(&d.text) + chars(&d.thinking) + chars(&d.partial_json);
                    if let Some(t) = d.text.as_deref() {
                        obs.capture_text(0, t);
                    }
                    if let Some(t) = d.thinking.as_deref() {
                        obs.capture_reasoning(0, t);
                    }
                    if let Some(json) = d.partial_json.as_deref() {
                        obs.capture_tool_call(0, event.index.unwrap_or(0), None, None, json);
                    }
                    if generated > 0 {
                        obs.response.output_chars += generated;
                        if d.kind.as_deref() == Some("thinking_delta") {
                            obs.mark_reasoning(now_ns);
                        } else {
                            obs.mark_first_token(now_ns);
                        }
                    }
                }
            }
            "message_delta" => {
                if let Some(reason) = event.delta.as_ref().and_then(|d| non_empty(&d.stop_reason)) {
                    obs.response.set_finish_reason(0, &reason);
                }
                if let Some(usage) = event.usage {
                    self.raw.merge(usage);
                    obs.report_usage(self.raw.to_usage(), UsageSource::StreamChunk);
                }
            }
            "message_stop" => obs.response_complete = true,
            // Text Completions: each event carries a fragment; the last one its stop reason.
            "completion" => {
                set_non_empty(&mut obs.response.model, &event.model);
                if let Some(text) = event.completion.as_deref().filter(|t| !t.is_empty()) {
                    obs.response.output_chars += text.chars().count() as u64;
                    obs.mark_first_token(now_ns);
                    obs.capture_text(0, text);
                }
                if let Some(reason) = non_empty(&event.stop_reason) {
                    obs.response.set_finish_reason(0, &reason);
                    obs.response_complete = true;
                }
            }
            "error" => {
                if let Some(e) = event.error {
                    obs.error = Some(e.into_info());
                }
            }
            "ping" | "content_block_stop" | "" => {}
            _ => obs.note_unknown_event(),
        }
        if let Some(metrics) = event.bedrock_metrics {
            metrics.fill_missing(obs);
        }
    }

    /// Handles a whole Bedrock InvokeModel body in Anthropic's shape.
    pub(crate) fn on_body_json(&mut self, body: &[u8], obs: &mut Observation) {
        if let Ok(m) = read_response::<Message<'_>>(body, obs) {
            self.apply_message(m, UsageSource::Body, obs);
        }
    }
}

impl ApiDecoder for AnthropicDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        let Some(req) = read_request::<MessagesRequest<'_>>(body) else {
            return;
        };
        let r = &mut obs.request;
        r.model = non_empty(&req.model).or(r.model.take());
        r.stream = req.stream.unwrap_or(r.stream);
        r.max_tokens = req.max_tokens.or(req.max_tokens_to_sample);
        r.temperature = req.temperature;
        r.top_p = req.top_p;
        r.stop_sequences = req.stop_sequences.unwrap_or_default();
        r.message_count = req.messages.unwrap_or(usize::from(req.prompt.is_some()));
    }

    fn on_stream_message(&mut self, _event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        self.on_event_json(data, now_ns, obs);
    }

    fn on_response_body(&mut self, body: &[u8], _now_ns: u64, obs: &mut Observation) {
        self.on_body_json(body, obs);
    }
}

/// Messages API request content (also Anthropic models' bodies on Bedrock InvokeModel): `system`, the messages
/// with their typed blocks, and the tools; a Text Completions request's `prompt` as one user message.
pub(crate) fn request_content(req: &Map<String, Value>) -> InputContent {
    if let (None, Some(prompt)) = (req.get("messages"), req.get("prompt")) {
        return InputContent {
            messages: Some(prompt_message(prompt)),
            ..Default::default()
        };
    }
    InputContent {
        system_instructions: req.get("system").map(|s| Value::Array(parts_of(s))),
        messages: req
            .get("messages")
            .and_then(Value::as_array)
            .map(|m| generic_messages(m, "content")),
        tool_definitions: tool_definitions(req.get("tools")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: [&str; 8] = [
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":1}}}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
        r#"{"type": "ping"}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}}"#,
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}"#,
        r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":15}}"#,
        r#"{"type":"message_stop"}"#,
    ];

    #[test]
    fn stream_usage_is_cumulative_and_input_total_includes_cache() {
        let mut d = AnthropicDecoder::default();
        let mut obs = Observation::default();
        for (i, e) in STREAM.iter().enumerate() {
            d.on_stream_message(b"", e.as_bytes(), 10 * i as u64, &mut obs);
        }
        assert_eq!(obs.usage.provider_input_tokens, Some(25));
        assert_eq!(obs.usage.input_tokens, Some(2125));
        assert_eq!(obs.usage.cache_read_tokens, Some(2000));
        assert_eq!(obs.usage.cache_creation_tokens, Some(100));
        assert_eq!(
            obs.usage.output_tokens,
            Some(15),
            "message_delta's count replaces message_start's, never adds"
        );
        assert_eq!(obs.response.finish_reasons, vec!["tool_use"]);
        assert_eq!(obs.response.model.as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(obs.response.id.as_deref(), Some("msg_1"));
        assert_eq!(obs.timing.first_reasoning_ns, Some(30));
        assert_eq!(obs.timing.first_token_ns, Some(30));
        assert_eq!(obs.timing.last_token_ns, Some(50));
        assert!(obs.response_complete);
    }

    #[test]
    fn an_unknown_event_type_is_counted_and_skipped_and_the_stream_still_completes() {
        let mut d = AnthropicDecoder::default();
        let mut obs = Observation::default();
        for (i, e) in STREAM.iter().enumerate() {
            if i == 3 {
                let odd = br#"{"type":"message_annotation","usage":{"output_tokens":999}}"#;
                d.on_stream_message(b"message_annotation", odd, 25, &mut obs);
            }
            d.on_stream_message(b"", e.as_bytes(), 10 * i as u64, &mut obs);
        }
        // `ping` (in STREAM) is known; only the new type counts, and its figures are not taken.
        assert_eq!(obs.unknown_events, 1);
        assert_eq!(obs.decode_errors, 0);
        assert_eq!(obs.usage.output_tokens, Some(15));
        assert!(obs.response_complete);
    }

    #[test]
    fn error_event_and_error_body() {
        let mut d = AnthropicDecoder::default();
        let mut obs = Observation::default();
        d.on_stream_message(
            b"error",
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            1,
            &mut obs,
        );
        assert_eq!(
            obs.error.as_ref().map(|e| e.error_type.as_str()),
            Some("overloaded_error")
        );
        let mut obs = Observation::default();
        AnthropicDecoder::default().on_response_body(
            br#"{"type":"error","error":{"type":"rate_limit_error","message":"Too many"},"request_id":"r"}"#,
            1,
            &mut obs,
        );
        let e = obs.error.unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_deref()),
            ("rate_limit_error", Some("Too many"))
        );
    }

    #[test]
    fn request_fields() {
        let mut obs = Observation::default();
        AnthropicDecoder::default().on_request(
            br#"{"model":"claude-3-5-haiku-latest","max_tokens":1024,"system":"Be brief","stream":true,"temperature":0.1,
                "stop_sequences":["END"],"messages":[{"role":"user","content":"hi"}]}"#,
            &mut obs,
        );
        let r = &obs.request;
        assert_eq!(r.model.as_deref(), Some("claude-3-5-haiku-latest"));
        assert_eq!((r.max_tokens, r.temperature, r.stream), (Some(1024), Some(0.1), true));
        assert_eq!(r.stop_sequences, vec!["END"]);
    }
}
