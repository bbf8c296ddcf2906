//! Ollama's native API (any host, paths under `/api/`): `/api/chat`, `/api/generate` (both stream NDJSON unless the
//! request says `"stream": false`), `/api/embed` and the legacy `/api/embeddings` (no usage, no model).
//!
//! Usage is in the last (`"done": true`) object: `prompt_eval_count` in, `eval_count` out. A missing count is
//! unknown, not zero: Ollama before mid-2024 left out `prompt_eval_count` when the prompt came from its cache.

use super::content_parts::{generic_messages, prompt_message, text_part, tool_definitions};
use super::{non_empty, read_request, read_response, ApiDecoder};
use crate::model::content::InputContent;
use crate::model::observation::{ErrorInfo, Observation, Usage, UsageSource};
use crate::wire::lenient;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

#[derive(Debug)]
pub(crate) struct OllamaDecoder {
    /// `/api/chat` and `/api/generate` stream by default; `/api/embed` never streams.
    streams_by_default: bool,
}

impl OllamaDecoder {
    pub(crate) fn new(streams_by_default: bool) -> Self {
        OllamaDecoder { streams_by_default }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OllamaRequest<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::flag")]
    stream: Option<bool>,
    #[serde(deserialize_with = "lenient::object")]
    options: Option<Options>,
    #[serde(deserialize_with = "lenient::length")]
    messages: Option<usize>,
    #[serde(deserialize_with = "lenient::present")]
    prompt: Option<()>,
    #[serde(deserialize_with = "lenient::length")]
    input: Option<usize>,
    #[serde(deserialize_with = "lenient::text")]
    format: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Options {
    #[serde(deserialize_with = "lenient::float")]
    temperature: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    top_p: Option<f64>,
    #[serde(deserialize_with = "lenient::int")]
    num_predict: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    seed: Option<i64>,
    #[serde(deserialize_with = "lenient::float")]
    frequency_penalty: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    presence_penalty: Option<f64>,
    #[serde(deserialize_with = "lenient::texts")]
    stop: Option<Vec<String>>,
}

/// A whole answer, or one line of a stream.
#[derive(Deserialize, Default)]
#[serde(default)]
struct OllamaMessage<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    /// `/api/chat`.
    #[serde(borrow, deserialize_with = "lenient::object")]
    message: Option<ChatMessage<'a>>,
    /// `/api/generate`.
    #[serde(borrow, deserialize_with = "lenient::text")]
    response: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    thinking: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::flag")]
    done: Option<bool>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    done_reason: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::count")]
    prompt_eval_count: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    eval_count: Option<u64>,
    /// `{"error": "..."}`, as a body or a stream's last line.
    #[serde(deserialize_with = "lenient::string")]
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatMessage<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ToolCall<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    function: Option<Function<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Function<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    name: Option<Cow<'a, str>>,
    /// An object in Ollama's API.
    #[serde(borrow, deserialize_with = "lenient::json_text")]
    arguments: Option<Cow<'a, str>>,
}

fn chars(s: &Option<Cow<'_, str>>) -> u64 {
    s.as_deref().map_or(0, |t| t.chars().count() as u64)
}

impl OllamaMessage<'_> {
    fn apply(self, now_ns: u64, source: UsageSource, obs: &mut Observation) {
        if let Some(model) = non_empty(&self.model) {
            obs.response.model = Some(model);
        }
        let message = self.message.unwrap_or_default();
        let thinking = message.thinking.or(self.thinking);
        if chars(&thinking) > 0 {
            obs.response.output_chars += chars(&thinking);
            obs.mark_reasoning(now_ns);
            obs.capture_reasoning(0, thinking.as_deref().unwrap_or_default());
        }
        let text = message.content.or(self.response);
        let mut generated = chars(&text);
        for (i, call) in message.tool_calls.iter().flatten().enumerate() {
            let f = call.function.as_ref();
            let name = f.and_then(|f| f.name.as_deref());
            let arguments = f.and_then(|f| f.arguments.as_deref()).unwrap_or_default();
            generated += name.map_or(0, |n| n.chars().count() as u64) + arguments.chars().count() as u64;
            obs.capture_tool_call(0, i, None, name, arguments);
        }
        if generated > 0 {
            obs.response.output_chars += generated;
            obs.mark_first_token(now_ns);
            obs.capture_text(0, text.as_deref().unwrap_or_default());
        }
        if self.prompt_eval_count.is_some() || self.eval_count.is_some() {
            let output = self.eval_count.filter(|_| obs.operation != "embeddings");
            let usage = Usage {
                input_tokens: self.prompt_eval_count,
                output_tokens: output,
                provider_input_tokens: self.prompt_eval_count,
                provider_output_tokens: output,
                ..Default::default()
            };
            obs.report_usage(usage, source);
        }
        if let Some(message) = self.error {
            let error_type = match obs.http_status {
                Some(s) if s >= 400 => s.to_string(),
                _ => "_OTHER".to_string(),
            };
            obs.error = Some(ErrorInfo {
                error_type,
                message: Some(message),
            });
        }
        if self.done == Some(true) {
            if let Some(reason) = non_empty(&self.done_reason) {
                obs.response.set_finish_reason(0, &reason);
            }
            obs.response_complete = true;
        }
    }
}

impl ApiDecoder for OllamaDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        obs.request.stream = self.streams_by_default;
        let Some(req) = read_request::<OllamaRequest<'_>>(body) else {
            return;
        };
        let r = &mut obs.request;
        r.model = non_empty(&req.model).or(r.model.take());
        r.stream = self.streams_by_default && req.stream.unwrap_or(true);
        if let Some(o) = req.options {
            r.temperature = o.temperature;
            r.top_p = o.top_p;
            r.max_tokens = o.num_predict;
            r.seed = o.seed;
            r.frequency_penalty = o.frequency_penalty;
            r.presence_penalty = o.presence_penalty;
            r.stop_sequences = o.stop.unwrap_or_default();
        }
        r.output_type = req.format.filter(|f| f == "json").map(|_| "json".to_string());
        r.message_count = req.messages.or(req.input).unwrap_or(usize::from(req.prompt.is_some()));
    }

    fn on_stream_message(&mut self, _event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        if let Ok(m) = read_response::<OllamaMessage<'_>>(data, obs) {
            m.apply(now_ns, UsageSource::StreamChunk, obs);
        }
    }

    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation) {
        if let Ok(m) = read_response::<OllamaMessage<'_>>(body, obs) {
            m.apply(now_ns, UsageSource::Body, obs);
        }
    }
}

/// Request content: `/api/chat` messages and tools, `/api/generate`'s `system` and `prompt`, `/api/embed`'s
/// `input` (legacy `/api/embeddings`: `prompt`).
pub(crate) fn request_content(req: &Map<String, Value>) -> InputContent {
    if let Some(messages) = req.get("messages").and_then(Value::as_array) {
        return InputContent {
            messages: Some(generic_messages(messages, "content")),
            tool_definitions: tool_definitions(req.get("tools")),
            system_instructions: None,
        };
    }
    let prompt = req.get("prompt").or(req.get("input")).unwrap_or(&Value::Null);
    InputContent {
        system_instructions: req
            .get("system")
            .and_then(Value::as_str)
            .map(|s| Value::Array(vec![text_part(s)])),
        messages: Some(prompt_message(prompt)),
        tool_definitions: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_the_default_and_usage_comes_with_done() {
        let mut d = OllamaDecoder::new(true);
        let mut obs = Observation::default();
        d.on_request(
            br#"{"model":"llama3.1","messages":[{"role":"user","content":"hi"}]}"#,
            &mut obs,
        );
        assert!(obs.request.stream);
        d.on_stream_message(
            b"",
            br#"{"model":"llama3.1","message":{"role":"assistant","content":"Hi","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":false}"#,
            5,
            &mut obs,
        );
        assert!(!obs.response_complete);
        d.on_stream_message(
            b"",
            br#"{"model":"llama3.1","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":2}"#,
            9,
            &mut obs,
        );
        assert_eq!(
            (obs.usage.input_tokens, obs.usage.output_tokens),
            (None, Some(2)),
            "a missing prompt count is unknown, not zero"
        );
        assert_eq!(obs.response.finish_reasons, vec!["stop"]);
        assert_eq!(obs.response.output_chars, 2 + 1 + 7);
        assert!(obs.response_complete);
        let mut obs = Observation::default();
        OllamaDecoder::new(true).on_request(br#"{"model":"m","prompt":"p","stream":false}"#, &mut obs);
        assert!(!obs.request.stream);
    }

    #[test]
    fn generate_body_without_streaming() {
        let mut d = OllamaDecoder::new(true);
        let mut obs = Observation::default();
        d.on_request(
            br#"{"model":"mistral","prompt":"Why?","stream":false,"options":{"num_predict":8}}"#,
            &mut obs,
        );
        d.on_response_body(
            br#"{"model":"mistral","response":"Because.","done":true,"done_reason":"length","context":[1,2],"prompt_eval_count":5,"eval_count":8}"#,
            1,
            &mut obs,
        );
        assert!(!obs.request.stream);
        assert_eq!(obs.request.max_tokens, Some(8));
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(5), Some(8)));
        assert_eq!(obs.usage_source(), "body");
        assert_eq!(obs.response.model.as_deref(), Some("mistral"));
        assert_eq!(obs.response.finish_reasons, vec!["length"]);
    }

    #[test]
    fn error_line_is_read() {
        let mut obs = Observation {
            http_status: Some(404),
            ..Default::default()
        };
        OllamaDecoder::new(true).on_response_body(br#"{"error":"model \"x\" not found"}"#, 1, &mut obs);
        assert_eq!(obs.error.map(|e| e.error_type), Some("404".to_string()));
    }
}
