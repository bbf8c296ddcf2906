//! OpenAI Chat Completions (`POST …/chat/completions`), streamed (SSE `chat.completion.chunk`s) or not, and its two
//! siblings that share the envelope: legacy Completions (`choices[].text`) and Embeddings (usage only).
//! The same shapes are served by Azure OpenAI and most OpenAI-compatible servers.

use super::content_parts::{message, parts_of, prompt_message, tool_definitions};
use super::{non_empty, read_request, read_response, set_non_empty, ApiDecoder, ApiError};
use crate::model::content::InputContent;
use crate::model::observation::{Observation, Usage, UsageSource};
use crate::wire::lenient::{self, TextOrList};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

mod fast;

#[derive(Debug, Default)]
pub(crate) struct OpenAiChatDecoder;

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatRequest<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::flag")]
    stream: Option<bool>,
    #[serde(deserialize_with = "lenient::object")]
    stream_options: Option<StreamOptions>,
    #[serde(deserialize_with = "lenient::float")]
    temperature: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    top_p: Option<f64>,
    #[serde(deserialize_with = "lenient::int")]
    max_tokens: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    max_completion_tokens: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    seed: Option<i64>,
    #[serde(deserialize_with = "lenient::float")]
    frequency_penalty: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    presence_penalty: Option<f64>,
    #[serde(deserialize_with = "lenient::int")]
    n: Option<i64>,
    #[serde(deserialize_with = "lenient::texts")]
    stop: Option<Vec<String>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    response_format: Option<ResponseFormat<'a>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    service_tier: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::length")]
    messages: Option<usize>,
    /// Legacy Completions prompt and Embeddings input: a string or a list; only their presence is read here.
    #[serde(deserialize_with = "lenient::present")]
    prompt: Option<()>,
    #[serde(deserialize_with = "lenient::present")]
    input: Option<()>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StreamOptions {
    #[serde(deserialize_with = "lenient::flag")]
    include_usage: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResponseFormat<'a> {
    #[serde(borrow, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<Cow<'a, str>>,
}

/// A `chat.completion` or a `chat.completion.chunk`: the two share everything the filter reads.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatResponse<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    system_fingerprint: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    service_tier: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<RawUsage>,
    /// Groq puts stream usage here (`x_groq.usage`) instead of in `usage`.
    #[serde(deserialize_with = "lenient::object")]
    x_groq: Option<VendorExtension>,
    #[serde(deserialize_with = "lenient::object")]
    error: Option<ApiError>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VendorExtension {
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<RawUsage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Choice<'a> {
    #[serde(deserialize_with = "lenient::index")]
    index: Option<usize>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    finish_reason: Option<Cow<'a, str>>,
    /// Streamed chunks carry `delta`, whole responses `message`; both have the same content fields.
    #[serde(borrow, alias = "message", deserialize_with = "lenient::object")]
    delta: Option<Delta<'a>>,
    /// Legacy Completions put the generated text here.
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
    /// Moonshot puts stream usage in the finishing choice instead of at the top level.
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<RawUsage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Delta<'a> {
    /// A string, or (audio and some compatible servers) an array of parts.
    #[serde(borrow, deserialize_with = "lenient::text_or_list")]
    content: Option<TextOrList<'a>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    refusal: Option<Cow<'a, str>>,
    /// Reasoning text as DeepSeek, vLLM and others stream it.
    #[serde(borrow, deserialize_with = "lenient::text")]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ToolCall<'a> {
    #[serde(deserialize_with = "lenient::index")]
    index: Option<usize>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    function: Option<FunctionCall<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FunctionCall<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    name: Option<Cow<'a, str>>,
    /// A JSON string in OpenAI's API; an object from servers that copy Ollama.
    #[serde(borrow, deserialize_with = "lenient::json_text")]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct RawUsage {
    #[serde(deserialize_with = "lenient::count")]
    prompt_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    completion_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    total_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::object")]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(deserialize_with = "lenient::object")]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct PromptDetails {
    #[serde(deserialize_with = "lenient::count")]
    cached_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    cache_write_tokens: Option<u64>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct CompletionDetails {
    #[serde(deserialize_with = "lenient::count")]
    reasoning_tokens: Option<u64>,
}

impl RawUsage {
    /// OpenAI's `prompt_tokens` already includes cached tokens, as the conventions want for input tokens.
    /// Voyage AI's embeddings report only `total_tokens`, which is then the input.
    fn into_usage(self, embeddings: bool) -> Usage {
        let prompt = self.prompt_tokens_details;
        let input = self.prompt_tokens.or(self.total_tokens.filter(|_| embeddings));
        // Embeddings generate no tokens; some servers say `completion_tokens: 0`, which is not a figure.
        let output = self.completion_tokens.filter(|_| !embeddings);
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: prompt.and_then(|p| p.cached_tokens),
            cache_creation_tokens: prompt.and_then(|p| p.cache_write_tokens),
            reasoning_tokens: self.completion_tokens_details.and_then(|c| c.reasoning_tokens),
            total_tokens: self.total_tokens,
            provider_input_tokens: input,
            provider_output_tokens: output,
        }
    }
}

impl OpenAiChatDecoder {
    fn apply_response(&mut self, r: ChatResponse<'_>, now_ns: u64, streamed: bool, obs: &mut Observation) {
        // Azure sends chunks with an empty `model` and `id` (content-filter results): keep the last real value.
        set_non_empty(&mut obs.response.id, &r.id);
        set_non_empty(&mut obs.response.model, &r.model);
        set_non_empty(&mut obs.response.system_fingerprint, &r.system_fingerprint);
        set_non_empty(&mut obs.response.service_tier, &r.service_tier);
        let embeddings = obs.operation == "embeddings";
        if let Some(usage) = r.usage {
            let source = if streamed {
                UsageSource::StreamChunk
            } else {
                UsageSource::Body
            };
            obs.report_usage(usage.into_usage(embeddings), source);
        }
        // A vendor's own usage key counts only until the standard one is seen.
        let vendor_usage = r
            .x_groq
            .and_then(|x| x.usage)
            .or_else(|| r.choices.iter().flatten().find_map(|c| c.usage));
        if let Some(usage) = vendor_usage {
            if matches!(obs.usage_source, None | Some(UsageSource::VendorKey)) {
                obs.report_usage(usage.into_usage(embeddings), UsageSource::VendorKey);
            }
        }
        if let Some(error) = r.error {
            obs.error = Some(error.into_info());
        }
        let mut generated = 0u64;
        let mut reasoning = false;
        // Tool names arrive whole; BPE splits them about at underscores (`get`, `_current`, `_weather`).
        let mut extra_name_tokens = 0u64;
        for (position, choice) in r.choices.into_iter().flatten().enumerate() {
            let index = choice.index.unwrap_or(position);
            if let Some(delta) = &choice.delta {
                generated += delta.generated_chars();
                for name in delta
                    .tool_calls
                    .iter()
                    .flatten()
                    .filter_map(|t| t.function.as_ref()?.name.as_deref())
                {
                    extra_name_tokens += name.split('_').filter(|s| !s.is_empty()).count().saturating_sub(1) as u64;
                }
                reasoning |= delta.has_reasoning();
                delta.capture(index, obs);
            }
            if let Some(text) = choice.text.as_deref() {
                generated += text.chars().count() as u64;
                obs.capture_text(index, text);
            }
            if let Some(reason) = choice.finish_reason.as_deref().filter(|r| !r.is_empty()) {
                obs.response.set_finish_reason(index, reason);
                obs.response_complete = true;
            }
        }
        if reasoning {
            obs.mark_reasoning(now_ns);
        }
        if generated > 0 {
            obs.response.output_chars += generated;
            obs.mark_first_token(now_ns);
            obs.add_estimated_tokens(extra_name_tokens);
        }
    }
}

impl Delta<'_> {
    fn capture(&self, index: usize, obs: &mut Observation) {
        if obs.output.is_none() {
            return;
        }
        if let Some(TextOrList::Text(t)) = &self.content {
            obs.capture_text(index, t);
        }
        for r in [&self.reasoning_content, &self.reasoning].into_iter().flatten() {
            obs.capture_reasoning(index, r);
        }
        if let Some(r) = &self.refusal {
            obs.capture_text(index, r);
        }
        for (position, call) in self.tool_calls.iter().flatten().enumerate() {
            let f = call.function.as_ref();
            obs.capture_tool_call(
                index,
                call.index.unwrap_or(position),
                call.id.as_deref(),
                f.and_then(|f| f.name.as_deref()),
                f.and_then(|f| f.arguments.as_deref()).unwrap_or_default(),
            );
        }
    }

    fn has_reasoning(&self) -> bool {
        let some = |s: &Option<Cow<'_, str>>| s.as_deref().is_some_and(|s| !s.is_empty());
        some(&self.reasoning_content) || some(&self.reasoning)
    }

    /// Characters of generated output in this delta; the role-only first chunk has none.
    fn generated_chars(&self) -> u64 {
        let text = |s: &Option<Cow<'_, str>>| s.as_deref().map_or(0, |s| s.chars().count() as u64);
        let content = match &self.content {
            Some(TextOrList::Text(t)) => t.chars().count() as u64,
            Some(TextOrList::List(parts)) => *parts as u64,
            None => 0,
        };
        let tools: u64 = self
            .tool_calls
            .iter()
            .flatten()
            .filter_map(|t| t.function.as_ref())
            .map(|f| text(&f.name) + text(&f.arguments))
            .sum();
        content + tools + text(&self.refusal) + text(&self.reasoning_content) + text(&self.reasoning)
    }
}

impl ApiDecoder for OpenAiChatDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        let Some(req) = read_request::<ChatRequest<'_>>(body) else {
            return;
        };
        let r = &mut obs.request;
        r.model = non_empty(&req.model).or(r.model.take());
        r.stream = req.stream.unwrap_or(false);
        r.include_usage = req.stream_options.and_then(|o| o.include_usage).unwrap_or(false);
        r.temperature = req.temperature;
        r.top_p = req.top_p;
        r.max_tokens = req.max_completion_tokens.or(req.max_tokens);
        r.seed = req.seed;
        r.frequency_penalty = req.frequency_penalty;
        r.presence_penalty = req.presence_penalty;
        r.choice_count = req.n;
        r.stop_sequences = req.stop.unwrap_or_default();
        r.output_type = req
            .response_format
            .and_then(|f| f.kind)
            .map(|kind| match kind.as_ref() {
                "json_object" | "json_schema" => "json".to_string(),
                other => other.to_string(),
            });
        r.service_tier = non_empty(&req.service_tier);
        r.message_count = req
            .messages
            .unwrap_or(usize::from(req.prompt.is_some() || req.input.is_some()));
    }

    fn on_stream_message(&mut self, _event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        if data.trim_ascii() == b"[DONE]" {
            obs.response_complete = true;
            return;
        }
        // The common chunk in one borrowing pass; anything else (a mid-stream error, which arrives as a bare
        // `{"error": ...}` object, an odd field) through the lenient serde reading.
        if let Ok(chunk) = fast::response(data) {
            self.apply_response(chunk, now_ns, true, obs);
        } else if let Ok(chunk) = read_response::<ChatResponse<'_>>(data, obs) {
            self.apply_response(chunk, now_ns, true, obs);
        }
    }

    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation) {
        // A whole `chat.completion` has a chunk's shape (`message` for `delta`): the same one-pass reading first.
        if let Ok(response) = fast::response(body) {
            self.apply_response(response, now_ns, false, obs);
        } else if let Ok(response) = read_response::<ChatResponse<'_>>(body, obs) {
            self.apply_response(response, now_ns, false, obs);
        }
    }
}

/// Chat Completions request content: the message history (tool calls and results as parts) and the tools.
pub(crate) fn chat_request_content(req: &Map<String, Value>) -> InputContent {
    InputContent {
        messages: req
            .get("messages")
            .and_then(Value::as_array)
            .map(|m| openai_messages(m)),
        tool_definitions: tool_definitions(req.get("tools")),
        system_instructions: None,
    }
}

/// Legacy Completions and Embeddings request content: the prompt or input as one user message.
pub(crate) fn prompt_request_content(req: &Map<String, Value>) -> InputContent {
    let input = req.get("prompt").or(req.get("input")).cloned().unwrap_or(Value::Null);
    InputContent {
        messages: Some(prompt_message(&input)),
        ..Default::default()
    }
}

/// OpenAI chat history: roles as sent, assistant tool calls and tool results as parts.
fn openai_messages(messages: &[Value]) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|m| {
                let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
                let mut parts = parts_of(m.get("content").unwrap_or(&Value::Null));
                if role == "tool" {
                    let response = m.get("content").cloned().unwrap_or(Value::Null);
                    parts = vec![json!({"type": "tool_call_response", "id": m.get("tool_call_id"), "response": response})];
                }
                for call in m.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
                    let f = &call["function"];
                    let arguments = match f.get("arguments") {
                        Some(Value::String(args)) => {
                            serde_json::from_str::<Value>(args).unwrap_or(Value::String(args.clone()))
                        }
                        Some(other) => other.clone(),
                        None => Value::String(String::new()),
                    };
                    parts.push(json!({"type": "tool_call", "id": call.get("id"), "name": f.get("name"), "arguments": arguments}));
                }
                message(role, parts)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> Observation {
        let mut obs = Observation::default();
        OpenAiChatDecoder.on_request(json.as_bytes(), &mut obs);
        obs
    }

    #[test]
    fn reads_request_parameters() {
        let obs = request(
            r#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}],
               "temperature":0.2,"top_p":0.9,"max_tokens":50,"max_completion_tokens":60,"seed":7,"n":2,
               "stop":["a","b"],"frequency_penalty":0.5,"presence_penalty":-0.5,"stream":true,
               "stream_options":{"include_usage":true},"response_format":{"type":"json_schema"},"service_tier":"flex"}"#,
        );
        let r = &obs.request;
        assert_eq!(r.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!((r.temperature, r.top_p), (Some(0.2), Some(0.9)));
        assert_eq!(
            r.max_tokens,
            Some(60),
            "max_completion_tokens wins over the deprecated max_tokens"
        );
        assert_eq!((r.seed, r.choice_count), (Some(7), Some(2)));
        assert_eq!(r.stop_sequences, vec!["a", "b"]);
        assert_eq!((r.frequency_penalty, r.presence_penalty), (Some(0.5), Some(-0.5)));
        assert!(r.stream && r.include_usage);
        assert_eq!(r.output_type.as_deref(), Some("json"));
        assert_eq!(r.service_tier.as_deref(), Some("flex"));
        assert_eq!(r.message_count, 2);
    }

    #[test]
    fn single_stop_string_and_escaped_model_and_malformed_body() {
        let obs = request(r#"{"model":"my\/model","stop":"END","messages":[]}"#);
        assert_eq!(obs.request.model.as_deref(), Some("my/model"));
        assert_eq!(obs.request.stop_sequences, vec!["END"]);
        assert_eq!(request("{not json").request, Default::default());
    }

    #[test]
    fn stream_marks_first_token_on_content_not_on_role_chunk() {
        let mut obs = Observation::default();
        let mut d = OpenAiChatDecoder;
        let role = br#"{"id":"c1","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#;
        d.on_stream_message(b"", role, 100, &mut obs);
        assert_eq!(obs.timing.first_token_ns, None);
        let text = br#"{"id":"c1","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"Hi \u00e9"},"finish_reason":null}]}"#;
        d.on_stream_message(b"", text, 200, &mut obs);
        d.on_stream_message(b"", text, 300, &mut obs);
        assert_eq!(obs.timing.first_token_ns, Some(200));
        assert_eq!(obs.response.output_chars, 8);
        let fin =
            br#"{"id":"c1","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#;
        d.on_stream_message(b"", fin, 400, &mut obs);
        let usage = br#"{"id":"c1","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":4}}}"#;
        d.on_stream_message(b"", usage, 500, &mut obs);
        d.on_stream_message(b"", b"[DONE]", 600, &mut obs);
        assert_eq!(obs.response.finish_reasons, vec!["length"]);
        assert_eq!(obs.response.model.as_deref(), Some("gpt-4o-2024-08-06"));
        assert_eq!(
            obs.usage,
            Usage {
                input_tokens: Some(9),
                output_tokens: Some(12),
                cache_read_tokens: Some(3),
                cache_creation_tokens: None,
                reasoning_tokens: Some(4),
                total_tokens: Some(21),
                provider_input_tokens: Some(9),
                provider_output_tokens: Some(12),
            }
        );
        assert!(obs.response_complete);
    }

    #[test]
    fn tool_call_chunk_counts_as_first_token_and_finish_reasons_follow_choice_index() {
        let mut obs = Observation::default();
        let mut d = OpenAiChatDecoder;
        let tool = br#"{"choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"get_weather","arguments":""}}]}}]}"#;
        d.on_stream_message(b"", tool, 50, &mut obs);
        assert_eq!(obs.timing.first_token_ns, Some(50));
        d.on_stream_message(
            b"",
            br#"{"choices":[{"index":1,"delta":{},"finish_reason":"tool_calls"}]}"#,
            60,
            &mut obs,
        );
        d.on_stream_message(
            b"",
            br#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            70,
            &mut obs,
        );
        assert_eq!(obs.response.finish_reasons, vec!["stop", "tool_calls"]);
    }

    #[test]
    fn legacy_completion_text_and_reasoning_deltas_count_as_tokens() {
        let mut obs = Observation::default();
        let mut d = OpenAiChatDecoder;
        d.on_stream_message(
            b"",
            br#"{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}"#,
            5,
            &mut obs,
        );
        d.on_stream_message(
            b"",
            br#"{"choices":[{"text":" or","index":0,"finish_reason":null}]}"#,
            9,
            &mut obs,
        );
        assert_eq!(
            (
                obs.timing.first_reasoning_ns,
                obs.timing.first_token_ns,
                obs.timing.last_token_ns
            ),
            (Some(5), Some(5), Some(9))
        );
        assert_eq!(obs.response.output_chars, 6);
    }

    #[test]
    fn whole_response_and_error_bodies() {
        let mut obs = Observation::default();
        let body = br#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1","service_tier":"default",
            "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#;
        OpenAiChatDecoder.on_response_body(body, 10, &mut obs);
        assert_eq!(obs.response.id.as_deref(), Some("chatcmpl-1"));
        assert_eq!(obs.response.system_fingerprint.as_deref(), Some("fp_1"));
        assert_eq!(obs.response.service_tier.as_deref(), Some("default"));
        assert_eq!(obs.response.finish_reasons, vec!["stop"]);
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(5), Some(1)));

        let mut obs = Observation::default();
        let err = br#"{"error":{"message":"Rate limit","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        OpenAiChatDecoder.on_response_body(err, 10, &mut obs);
        let e = obs.error.unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_deref()),
            ("rate_limit_exceeded", Some("Rate limit"))
        );
    }
}
