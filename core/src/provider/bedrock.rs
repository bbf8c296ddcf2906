//! AWS Bedrock runtime: `Converse` / `ConverseStream` (Bedrock's own shape) and `InvokeModel` /
//! `InvokeModelWithResponseStream` (the model vendor's shape; Anthropic and Meta bodies are read, and any model's
//! `amazon-bedrock-invocationMetrics`). Streams arrive as AWS event-stream frames, which the exchange decodes;
//! `InvokeModelWithResponseStream` wraps each vendor event as base64 in a `chunk` frame.
//!
//! For Anthropic models Bedrock's `inputTokens` excludes cache reads and writes, like Anthropic's own API, so the
//! conventions' input total adds them.

use super::anthropic::AnthropicDecoder;
use super::bedrock_metrics::InvocationMetrics;
use super::content_parts::{generic_messages, parts_of, tool_definitions};
use super::ApiDecoder;
use crate::model::content::InputContent;
use crate::model::observation::{ErrorInfo, Observation, Usage};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

#[derive(Debug, Default)]
pub(crate) struct ConverseDecoder {
    pub(crate) streaming: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseRequest {
    #[serde(default)]
    messages: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    inference_config: Option<InferenceConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InferenceConfig {
    #[serde(default)]
    max_tokens: Option<i64>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    stop_sequences: Option<Vec<String>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct TokenUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_write_input_tokens: Option<u64>,
}

impl TokenUsage {
    fn to_usage(self) -> Usage {
        let cached = self.cache_read_input_tokens.unwrap_or(0) + self.cache_write_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: self.input_tokens.map(|i| i + cached),
            output_tokens: self.output_tokens,
            cache_read_tokens: self.cache_read_input_tokens,
            cache_creation_tokens: self.cache_write_input_tokens,
            reasoning_tokens: None,
            total_tokens: self.total_tokens,
            provider_input_tokens: self.input_tokens,
            provider_output_tokens: self.output_tokens,
        }
    }
}

/// A Converse response, or one ConverseStream event payload: the fields never collide, so one struct reads all.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseMessage<'a> {
    #[serde(borrow, default)]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<TokenUsage>,
    #[serde(borrow, default)]
    output: Option<ConverseOutput<'a>>,
    #[serde(borrow, default)]
    delta: Option<BlockDelta<'a>>,
    #[serde(borrow, default)]
    start: Option<BlockStart<'a>>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    content_block_index: Option<usize>,
}

#[derive(Deserialize)]
struct ConverseOutput<'a> {
    #[serde(borrow, default)]
    message: Option<OutputMessage<'a>>,
}

#[derive(Deserialize)]
struct OutputMessage<'a> {
    #[serde(borrow, default)]
    content: Option<Vec<BlockDelta<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(default)]
    tool_use: Option<serde_json::Value>,
    #[serde(default)]
    reasoning_content: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart<'a> {
    #[serde(borrow, default)]
    tool_use: Option<ToolUseStart<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseStart<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_use_id: Option<Cow<'a, str>>,
}

impl BlockDelta<'_> {
    /// Keeps a streamed delta (or a whole block of a non-streamed answer) when content capture is on.
    fn capture(&self, block_index: usize, obs: &mut Observation) {
        if let Some(t) = self.text.as_deref() {
            obs.capture_text(0, t);
        }
        if let Some(r) = self.reasoning_content.as_ref() {
            let text = r
                .get("text")
                .or(r.pointer("/reasoningText/text"))
                .and_then(serde_json::Value::as_str);
            obs.capture_reasoning(0, text.unwrap_or_default());
        }
        if let Some(t) = &self.tool_use {
            let name = t.get("name").and_then(serde_json::Value::as_str);
            let id = t.get("toolUseId").and_then(serde_json::Value::as_str);
            let args = match t.get("input") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            obs.capture_tool_call(0, block_index, id, name, &args);
        }
    }
}

fn text_len(s: &Option<Cow<'_, str>>) -> u64 {
    s.as_deref().map_or(0, |t| t.chars().count() as u64)
}

/// An `exception` frame or a JSON error body: `{"message": "..."}` with the type in a header or `__type`.
fn exception(kind: &str, message: Option<String>) -> ErrorInfo {
    ErrorInfo {
        error_type: kind.to_string(),
        message,
    }
}

impl ApiDecoder for ConverseDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        obs.request.stream = self.streaming;
        let Ok(req) = serde_json::from_slice::<ConverseRequest>(body) else {
            return;
        };
        let r = &mut obs.request;
        r.message_count = req.messages.map_or(0, |m| m.len());
        if let Some(c) = req.inference_config {
            r.max_tokens = c.max_tokens;
            r.temperature = c.temperature;
            r.top_p = c.top_p;
            r.stop_sequences = c.stop_sequences.unwrap_or_default();
        }
    }

    fn on_stream_message(&mut self, event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        let Ok(m) = serde_json::from_slice::<ConverseMessage<'_>>(data) else {
            return;
        };
        if let Some(kind) = event.strip_prefix(b"exception:").or(event.strip_prefix(b"error:")) {
            obs.error = Some(exception(&String::from_utf8_lossy(kind), m.message));
            return;
        }
        match event {
            b"contentBlockDelta" => {
                if let Some(d) = &m.delta {
                    obs.response.output_chars += text_len(&d.text);
                    d.capture(m.content_block_index.unwrap_or(0), obs);
                    if d.reasoning_content.is_some() {
                        obs.mark_reasoning(now_ns);
                    } else if d.text.as_deref().is_some_and(|t| !t.is_empty()) || d.tool_use.is_some() {
                        obs.mark_first_token(now_ns);
                    }
                }
            }
            b"contentBlockStart" => {
                if let Some(tool) = m.start.as_ref().and_then(|s| s.tool_use.as_ref()) {
                    obs.response.output_chars += text_len(&tool.name);
                    obs.mark_first_token(now_ns);
                    let call = m.content_block_index.unwrap_or(0);
                    obs.capture_tool_call(0, call, tool.tool_use_id.as_deref(), tool.name.as_deref(), "");
                }
            }
            b"messageStop" => {
                if let Some(reason) = m.stop_reason.as_deref() {
                    obs.response.set_finish_reason(0, reason);
                }
            }
            b"metadata" => {
                if let Some(u) = m.usage {
                    obs.usage = u.to_usage();
                }
                // `metadata` is the last event of a ConverseStream.
                obs.response_complete = true;
            }
            _ => {}
        }
    }

    fn on_response_body(&mut self, body: &[u8], _now_ns: u64, obs: &mut Observation) {
        let Ok(m) = serde_json::from_slice::<ConverseMessage<'_>>(body) else {
            return;
        };
        if let Some(reason) = m.stop_reason.as_deref() {
            obs.response.set_finish_reason(0, reason);
            obs.response_complete = true;
        }
        if let Some(u) = m.usage {
            obs.usage = u.to_usage();
        }
        let blocks = m.output.and_then(|o| o.message).and_then(|msg| msg.content);
        obs.response.output_chars += blocks.iter().flatten().map(|b| text_len(&b.text)).sum::<u64>();
        for (i, block) in blocks.iter().flatten().enumerate() {
            block.capture(i, obs);
        }
        if obs.http_status.is_some_and(|s| s >= 400) {
            if let Ok(e) = serde_json::from_slice::<BedrockError>(body) {
                obs.error = Some(exception(e.kind.as_deref().unwrap_or("_OTHER"), e.message));
            }
        }
    }
}

#[derive(Deserialize)]
struct BedrockError {
    #[serde(default, alias = "Message")]
    message: Option<String>,
    #[serde(default, rename = "__type")]
    kind: Option<String>,
}

/// Meta Llama (and similar) InvokeModel bodies and stream chunks.
#[derive(Deserialize)]
struct LlamaChunk<'a> {
    #[serde(borrow, default)]
    generation: Option<Cow<'a, str>>,
    #[serde(default)]
    prompt_token_count: Option<u64>,
    #[serde(default)]
    generation_token_count: Option<u64>,
    #[serde(borrow, default)]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(default, rename = "amazon-bedrock-invocationMetrics")]
    metrics: Option<InvocationMetrics>,
}

#[derive(Deserialize)]
struct LlamaRequest {
    #[serde(default)]
    max_gen_len: Option<i64>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
}

/// `{"bytes": "<base64 of the vendor event>"}`, the payload of a `chunk` frame.
#[derive(Deserialize)]
struct ChunkPayload<'a> {
    #[serde(borrow)]
    bytes: Cow<'a, str>,
}

#[derive(Debug)]
pub(crate) struct InvokeDecoder {
    streaming: bool,
    anthropic: AnthropicDecoder,
}

impl InvokeDecoder {
    pub(crate) fn new(streaming: bool) -> Self {
        InvokeDecoder {
            streaming,
            anthropic: AnthropicDecoder::default(),
        }
    }

    fn on_vendor_json(&mut self, json: &[u8], now_ns: u64, obs: &mut Observation, whole: bool) {
        // Anthropic events and messages carry a `type`; Llama-style bodies carry `generation`.
        if is_anthropic_shape(json) {
            if whole {
                self.anthropic.on_response_body(json, now_ns, obs);
            } else {
                self.anthropic.on_event_json(json, now_ns, obs);
            }
            return;
        }
        if let Ok(c) = serde_json::from_slice::<LlamaChunk<'_>>(json) {
            let chars = text_len(&c.generation);
            if chars > 0 {
                obs.response.output_chars += chars;
                obs.mark_first_token(now_ns);
            }
            if let Some(reason) = c.stop_reason.as_deref() {
                obs.response.set_finish_reason(0, reason);
                obs.response_complete = true;
            }
            if c.prompt_token_count.is_some() || c.generation_token_count.is_some() {
                let u = &mut obs.usage;
                u.input_tokens = c.prompt_token_count.or(u.input_tokens);
                u.provider_input_tokens = u.input_tokens;
                // Streamed chunks repeat a running count: keep the largest seen.
                u.output_tokens = match (u.output_tokens, c.generation_token_count) {
                    (Some(a), Some(b)) if !whole => Some(a.max(b)),
                    (a, b) => b.or(a),
                };
                u.provider_output_tokens = u.output_tokens;
            }
            if let Some(m) = c.metrics {
                // Bedrock's own totals are authoritative for the whole invocation.
                obs.usage = Usage::default();
                m.apply_if_missing(obs);
            }
        }
    }
}

fn is_anthropic_shape(json: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default, rename = "type")]
        kind: Option<Cow<'a, str>>,
    }
    serde_json::from_slice::<Probe<'_>>(json)
        .ok()
        .and_then(|p| p.kind)
        .is_some()
}

impl ApiDecoder for InvokeDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        obs.request.stream = self.streaming;
        if body.windows(b"\"messages\"".len()).any(|w| w == b"\"messages\"") {
            self.anthropic.on_request(body, obs);
            obs.request.stream = self.streaming;
        } else if let Ok(req) = serde_json::from_slice::<LlamaRequest>(body) {
            obs.request.max_tokens = req.max_gen_len;
            obs.request.temperature = req.temperature;
            obs.request.top_p = req.top_p;
        }
    }

    fn on_stream_message(&mut self, event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        if let Some(kind) = event.strip_prefix(b"exception:").or(event.strip_prefix(b"error:")) {
            let message = serde_json::from_slice::<BedrockError>(data)
                .ok()
                .and_then(|e| e.message);
            obs.error = Some(exception(&String::from_utf8_lossy(kind), message));
            return;
        }
        let Ok(chunk) = serde_json::from_slice::<ChunkPayload<'_>>(data) else {
            return;
        };
        if let Some(json) = base64_decode(chunk.bytes.as_bytes()) {
            self.on_vendor_json(&json, now_ns, obs, false);
        }
    }

    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation) {
        if obs.http_status.is_some_and(|s| s >= 400) {
            if let Ok(e) = serde_json::from_slice::<BedrockError>(body) {
                obs.error = Some(exception(e.kind.as_deref().unwrap_or("_OTHER"), e.message));
            }
            return;
        }
        self.on_vendor_json(body, now_ns, obs, true);
    }
}

/// Standard base64 (with or without padding); `None` on any invalid byte.
pub(crate) fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let trimmed = input.strip_suffix(b"==").or(input.strip_suffix(b"=")).unwrap_or(input);
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    for group in trimmed.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in group.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        match group.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

/// Converse request content: `system`, the messages with their keyed blocks, and `toolConfig.tools`.
pub(crate) fn converse_request_content(req: &Map<String, Value>) -> InputContent {
    InputContent {
        system_instructions: req.get("system").map(|s| Value::Array(parts_of(s))),
        messages: req
            .get("messages")
            .and_then(Value::as_array)
            .map(|m| generic_messages(m, "content")),
        tool_definitions: tool_definitions(req.get("toolConfig").and_then(|c| c.get("tools"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_decode(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode(b"aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(base64_decode(b"aGk").unwrap(), b"hi");
        assert!(base64_decode(b"a$==").is_none());
    }

    #[test]
    fn converse_stream_events() {
        let mut d = ConverseDecoder { streaming: true };
        let mut obs = Observation::default();
        d.on_stream_message(b"messageStart", br#"{"p":"abc","role":"assistant"}"#, 1, &mut obs);
        d.on_stream_message(
            b"contentBlockDelta",
            br#"{"contentBlockIndex":0,"delta":{"text":"Why"},"p":"ab"}"#,
            2,
            &mut obs,
        );
        d.on_stream_message(b"messageStop", br#"{"stopReason":"end_turn"}"#, 3, &mut obs);
        d.on_stream_message(
            b"metadata",
            br#"{"usage":{"inputTokens":52,"outputTokens":36,"totalTokens":88,"cacheReadInputTokens":10},"metrics":{"latencyMs":812}}"#,
            4,
            &mut obs,
        );
        assert_eq!(obs.timing.first_token_ns, Some(2));
        assert_eq!(obs.response.finish_reasons, vec!["end_turn"]);
        assert_eq!(
            (obs.usage.input_tokens, obs.usage.provider_input_tokens),
            (Some(62), Some(52))
        );
        assert_eq!(obs.usage.output_tokens, Some(36));
        assert!(obs.response_complete);
        d.on_stream_message(
            b"exception:throttlingException",
            br#"{"message":"Too many requests"}"#,
            5,
            &mut obs,
        );
        assert_eq!(obs.error.map(|e| e.error_type), Some("throttlingException".to_string()));
    }

    #[test]
    fn invoke_stream_of_wrapped_anthropic_events_and_llama_bodies() {
        let mut d = InvokeDecoder::new(true);
        let mut obs = Observation::default();
        let wrap = |json: &str| {
            const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut out = String::new();
            for chunk in json.as_bytes().chunks(3) {
                let mut n = [0u8; 3];
                n[..chunk.len()].copy_from_slice(chunk);
                let v = u32::from_be_bytes([0, n[0], n[1], n[2]]);
                for i in 0..chunk.len() + 1 {
                    out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
                }
                out.push_str(&"=".repeat(3 - chunk.len()));
            }
            format!(r#"{{"bytes":"{out}"}}"#)
        };
        let events = [
            r#"{"type":"message_start","message":{"id":"msg_b","model":"claude-3-7-sonnet-20250219","usage":{"input_tokens":12,"output_tokens":1}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#,
            r#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":9,"invocationLatency":500,"firstByteLatency":200}}"#,
        ];
        for (i, e) in events.iter().enumerate() {
            d.on_stream_message(b"chunk", wrap(e).as_bytes(), i as u64, &mut obs);
        }
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(12), Some(9)));
        assert_eq!(obs.response.finish_reasons, vec!["end_turn"]);
        assert_eq!(obs.timing.first_token_ns, Some(1));

        let mut obs = Observation::default();
        InvokeDecoder::new(false).on_response_body(
            br#"{"generation":"Hello there","prompt_token_count":7,"generation_token_count":3,"stop_reason":"stop"}"#,
            1,
            &mut obs,
        );
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(7), Some(3)));
        assert_eq!(obs.response.finish_reasons, vec!["stop"]);
    }
}
