//! AWS Bedrock runtime `Converse` / `ConverseStream` (Bedrock's own shape; InvokeModel, the model vendors'
//! shapes, is [`super::bedrock_invoke`]). Streams arrive as AWS event-stream frames, which the exchange decodes.
//!
//! For Anthropic models Bedrock's `inputTokens` excludes cache reads and writes, like Anthropic's own API, so the
//! conventions' input total adds them.

use super::bedrock_metrics::HeaderCounts;
use super::content_parts::{generic_messages, parts_of, tool_definitions};
use super::{read_request, read_response, ApiDecoder};
use crate::model::content::InputContent;
use crate::model::observation::{ErrorInfo, Observation, Usage, UsageSource};
use crate::wire::lenient;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

mod fast;

#[derive(Debug, Default)]
pub(crate) struct ConverseDecoder {
    pub(crate) streaming: bool,
    headers: HeaderCounts,
}

impl ConverseDecoder {
    pub(crate) fn new(streaming: bool) -> Self {
        ConverseDecoder {
            streaming,
            headers: HeaderCounts::default(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConverseRequest {
    #[serde(deserialize_with = "lenient::length")]
    messages: Option<usize>,
    #[serde(deserialize_with = "lenient::object")]
    inference_config: Option<InferenceConfig>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct InferenceConfig {
    /// `max_new_tokens` is Nova InvokeModel's spelling.
    #[serde(alias = "max_new_tokens", deserialize_with = "lenient::int")]
    pub(crate) max_tokens: Option<i64>,
    #[serde(deserialize_with = "lenient::float")]
    pub(crate) temperature: Option<f64>,
    #[serde(alias = "top_p", deserialize_with = "lenient::float")]
    pub(crate) top_p: Option<f64>,
    #[serde(alias = "stop_sequences", deserialize_with = "lenient::texts")]
    pub(crate) stop_sequences: Option<Vec<String>>,
}

/// Bedrock's token usage (Converse, and Amazon Nova's InvokeModel bodies, which spell the cache counts
/// `cache…InputTokenCount`).
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct TokenUsage {
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) input_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) output_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) total_tokens: Option<u64>,
    #[serde(alias = "cacheReadInputTokenCount", deserialize_with = "lenient::count")]
    pub(crate) cache_read_input_tokens: Option<u64>,
    #[serde(alias = "cacheWriteInputTokenCount", deserialize_with = "lenient::count")]
    pub(crate) cache_write_input_tokens: Option<u64>,
}

impl TokenUsage {
    /// `None` when no count is present.
    pub(crate) fn to_usage(self) -> Option<Usage> {
        if self.input_tokens.is_none() && self.output_tokens.is_none() {
            return None;
        }
        let cached = self.cache_read_input_tokens.unwrap_or(0) + self.cache_write_input_tokens.unwrap_or(0);
        Some(Usage {
            input_tokens: self.input_tokens.map(|i| i + cached),
            output_tokens: self.output_tokens,
            cache_read_tokens: self.cache_read_input_tokens,
            cache_creation_tokens: self.cache_write_input_tokens,
            reasoning_tokens: None,
            total_tokens: self.total_tokens,
            provider_input_tokens: self.input_tokens,
            provider_output_tokens: self.output_tokens,
        })
    }
}

/// A Converse response, or one ConverseStream event payload: the fields never collide, so one struct reads all.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ConverseMessage<'a> {
    #[serde(borrow, deserialize_with = "lenient::name")]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<TokenUsage>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    output: Option<ConverseOutput<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    delta: Option<ContentBlock<'a>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    start: Option<BlockStart<'a>>,
    #[serde(deserialize_with = "lenient::string")]
    message: Option<String>,
    #[serde(deserialize_with = "lenient::index")]
    content_block_index: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ConverseOutput<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub(crate) message: Option<OutputMessage<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct OutputMessage<'a> {
    #[serde(borrow, deserialize_with = "lenient::objects")]
    pub(crate) content: Option<Vec<ContentBlock<'a>>>,
}

/// A content block of an answer, or a streamed delta of one: text, a tool use, reasoning.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ContentBlock<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::any")]
    pub(crate) tool_use: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient::any")]
    pub(crate) reasoning_content: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct BlockStart<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    pub(crate) tool_use: Option<ToolUseStart<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ToolUseStart<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) tool_use_id: Option<Cow<'a, str>>,
}

impl ContentBlock<'_> {
    /// Keeps a streamed delta (or a whole block of a non-streamed answer) when content capture is on.
    pub(crate) fn capture(&self, block_index: usize, obs: &mut Observation) {
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

    /// A streamed delta: counted, timed and captured.
    pub(crate) fn apply_delta(&self, block_index: usize, now_ns: u64, obs: &mut Observation) {
        obs.response.output_chars += text_len(&self.text);
        self.capture(block_index, obs);
        if self.reasoning_content.is_some() {
            obs.mark_reasoning(now_ns);
        } else if self.text.as_deref().is_some_and(|t| !t.is_empty()) || self.tool_use.is_some() {
            obs.mark_first_token(now_ns);
        }
    }
}

impl ToolUseStart<'_> {
    /// A tool use opening in a stream names its tool: that is generated output.
    pub(crate) fn apply(&self, block_index: usize, now_ns: u64, obs: &mut Observation) {
        obs.response.output_chars += text_len(&self.name);
        obs.mark_first_token(now_ns);
        obs.capture_tool_call(0, block_index, self.tool_use_id.as_deref(), self.name.as_deref(), "");
    }
}

/// The blocks of a whole answer: counted and captured.
pub(crate) fn apply_output_blocks(blocks: &[ContentBlock<'_>], obs: &mut Observation) {
    obs.response.output_chars += blocks.iter().map(|b| text_len(&b.text)).sum::<u64>();
    for (i, block) in blocks.iter().enumerate() {
        block.capture(i, obs);
    }
}

pub(crate) fn text_len(s: &Option<Cow<'_, str>>) -> u64 {
    s.as_deref().map_or(0, |t| t.chars().count() as u64)
}

/// An `exception` frame or a JSON error body: `{"message": "..."}` with the type in a header or `__type`.
pub(crate) fn exception(kind: &str, message: Option<String>) -> ErrorInfo {
    ErrorInfo {
        error_type: kind.to_string(),
        message,
    }
}

/// An event-stream frame that is not an event (`exception:<type>`, `error:<type>`): the error it reports.
pub(crate) fn frame_error(event: &[u8], data: &[u8], obs: &mut Observation) -> bool {
    let Some(kind) = event.strip_prefix(b"exception:").or(event.strip_prefix(b"error:")) else {
        return false;
    };
    let message = read_response::<BedrockError>(data, obs).ok().and_then(|e| e.message);
    obs.error = Some(exception(&String::from_utf8_lossy(kind), message));
    true
}

/// A JSON error body of a failed call (status 400 or more).
pub(crate) fn error_body(body: &[u8], obs: &mut Observation) {
    if let Ok(e) = read_response::<BedrockError>(body, obs) {
        obs.error = Some(exception(e.kind.as_deref().unwrap_or("_OTHER"), e.message));
    }
}

impl ApiDecoder for ConverseDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        obs.request.stream = self.streaming;
        let Some(req) = read_request::<ConverseRequest>(body) else {
            return;
        };
        let r = &mut obs.request;
        r.message_count = req.messages.unwrap_or(0);
        if let Some(c) = req.inference_config {
            r.max_tokens = c.max_tokens;
            r.temperature = c.temperature;
            r.top_p = c.top_p;
            r.stop_sequences = c.stop_sequences.unwrap_or_default();
        }
    }

    fn on_response_headers(&mut self, headers: &[(String, String)], _obs: &mut Observation) {
        self.headers = HeaderCounts::from_headers(headers);
    }

    fn wants_response_headers(&self) -> bool {
        true
    }

    fn on_stream_message(&mut self, event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        if frame_error(event, data, obs) {
            return;
        }
        // The common payload in one borrowing pass; anything else through the lenient serde reading.
        let m = match fast::message(data) {
            Ok(m) => m,
            Err(_) => match read_response::<ConverseMessage<'_>>(data, obs) {
                Ok(m) => m,
                Err(_) => return,
            },
        };
        match event {
            b"contentBlockDelta" => {
                if let Some(d) = &m.delta {
                    d.apply_delta(m.content_block_index.unwrap_or(0), now_ns, obs);
                }
            }
            b"contentBlockStart" => {
                if let Some(tool) = m.start.as_ref().and_then(|s| s.tool_use.as_ref()) {
                    tool.apply(m.content_block_index.unwrap_or(0), now_ns, obs);
                }
            }
            b"messageStop" => {
                if let Some(reason) = m.stop_reason.as_deref() {
                    obs.response.set_finish_reason(0, reason);
                }
            }
            b"metadata" => {
                if let Some(u) = m.usage.and_then(TokenUsage::to_usage) {
                    obs.report_usage(u, UsageSource::StreamChunk);
                }
                // `metadata` is the last event of a ConverseStream.
                obs.response_complete = true;
            }
            b"messageStart" | b"contentBlockStop" => {}
            _ => obs.note_unknown_event(),
        }
    }

    fn on_response_body(&mut self, body: &[u8], _now_ns: u64, obs: &mut Observation) {
        if obs.http_status.is_some_and(|s| s >= 400) {
            error_body(body, obs);
            return;
        }
        let Ok(m) = read_response::<ConverseMessage<'_>>(body, obs) else {
            return;
        };
        if let Some(reason) = m.stop_reason.as_deref() {
            obs.response.set_finish_reason(0, reason);
            obs.response_complete = true;
        }
        if let Some(u) = m.usage.and_then(TokenUsage::to_usage) {
            obs.report_usage(u, UsageSource::Body);
        }
        if let Some(blocks) = m.output.and_then(|o| o.message).and_then(|msg| msg.content) {
            apply_output_blocks(&blocks, obs);
        }
    }

    fn on_response_end(&mut self, obs: &mut Observation) {
        self.headers.fill_missing(obs);
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct BedrockError {
    #[serde(alias = "Message", deserialize_with = "lenient::string")]
    message: Option<String>,
    #[serde(rename = "__type", deserialize_with = "lenient::string")]
    kind: Option<String>,
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
        let mut d = ConverseDecoder::new(true);
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
}
