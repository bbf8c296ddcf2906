//! Google Gemini and Vertex AI `generateContent` / `streamGenerateContent` (SSE with `alt=sse`, else a streamed
//! JSON array; the exchange frames both). The model is in the path.
//!
//! `usageMetadata` repeats cumulatively in streams: the last one wins. Conventions: output includes thinking
//! tokens (Gemini bills them as output), input includes tool-use prompt tokens; the raw figures are kept too.

use super::content_parts::{message, text_part, tool_definitions};
use super::ApiDecoder;
use crate::model::content::InputContent;
use crate::model::observation::{Observation, Usage};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

#[derive(Debug, Default)]
pub(crate) struct GeminiDecoder {
    /// The path asked for a stream (`:streamGenerateContent`).
    pub(crate) streaming: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateRequest {
    #[serde(default)]
    contents: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    generation_config: Option<GenerationConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    max_output_tokens: Option<i64>,
    #[serde(default)]
    stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    candidate_count: Option<i64>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(default)]
    presence_penalty: Option<f64>,
    #[serde(default)]
    frequency_penalty: Option<f64>,
    #[serde(default)]
    response_mime_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateResponse<'a> {
    #[serde(borrow, default)]
    candidates: Option<Vec<Candidate<'a>>>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(borrow, default)]
    model_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    response_id: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<GoogleError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate<'a> {
    #[serde(borrow, default)]
    content: Option<CandidateContent<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<usize>,
}

#[derive(Deserialize)]
struct CandidateContent<'a> {
    #[serde(borrow, default)]
    parts: Option<Vec<Part<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(default)]
    thought: Option<bool>,
    #[serde(default)]
    function_call: Option<serde_json::Value>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: Option<u64>,
    #[serde(default)]
    candidates_token_count: Option<u64>,
    #[serde(default)]
    thoughts_token_count: Option<u64>,
    #[serde(default)]
    cached_content_token_count: Option<u64>,
    #[serde(default)]
    tool_use_prompt_token_count: Option<u64>,
    #[serde(default)]
    total_token_count: Option<u64>,
}

/// Google's error envelope: `{"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED"}}`.
#[derive(Deserialize)]
struct GoogleError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    code: Option<i64>,
}

impl UsageMetadata {
    fn to_usage(self) -> Usage {
        let input = match (self.prompt_token_count, self.tool_use_prompt_token_count) {
            (None, None) => None,
            (p, t) => Some(p.unwrap_or(0) + t.unwrap_or(0)),
        };
        let output = match (self.candidates_token_count, self.thoughts_token_count) {
            (None, None) => None,
            (c, t) => Some(c.unwrap_or(0) + t.unwrap_or(0)),
        };
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: self.cached_content_token_count,
            cache_creation_tokens: None,
            reasoning_tokens: self.thoughts_token_count,
            total_tokens: self.total_token_count,
            provider_input_tokens: self.prompt_token_count,
            provider_output_tokens: self.candidates_token_count,
        }
    }
}

fn apply(r: GenerateResponse<'_>, now_ns: u64, obs: &mut Observation) {
    if let Some(model) = r.model_version.as_deref().filter(|m| !m.is_empty()) {
        obs.response.model = Some(model.to_string());
    }
    if let Some(id) = r.response_id.as_deref().filter(|m| !m.is_empty()) {
        obs.response.id = Some(id.to_string());
    }
    if let Some(u) = r.usage_metadata {
        obs.usage = u.to_usage();
    }
    if let Some(e) = r.error {
        obs.error = Some(crate::model::observation::ErrorInfo {
            error_type: e
                .status
                .or(e.code.map(|c| c.to_string()))
                .unwrap_or_else(|| "_OTHER".into()),
            message: e.message,
        });
    }
    for (position, c) in r.candidates.into_iter().flatten().enumerate() {
        for part in c.content.iter().flat_map(|c| c.parts.iter().flatten()) {
            let chars = part.text.as_deref().map_or(0, |t| t.chars().count() as u64);
            let index = c.index.unwrap_or(position);
            if part.thought == Some(true) && chars > 0 {
                obs.mark_reasoning(now_ns);
                obs.capture_reasoning(index, part.text.as_deref().unwrap_or_default());
            } else if chars > 0 || part.function_call.is_some() {
                obs.mark_first_token(now_ns);
                obs.capture_text(index, part.text.as_deref().unwrap_or_default());
            }
            if let Some(call) = &part.function_call {
                let name = call.get("name").and_then(serde_json::Value::as_str);
                let args = call.get("args").map(|a| a.to_string()).unwrap_or_default();
                obs.capture_tool_call(index, 0, None, name, &args);
            }
            obs.response.output_chars += chars;
        }
        if let Some(reason) = c.finish_reason.as_deref().filter(|r| !r.is_empty()) {
            obs.response.set_finish_reason(c.index.unwrap_or(position), reason);
            obs.response_complete = true;
        }
    }
}

impl ApiDecoder for GeminiDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        obs.request.stream = self.streaming;
        let Ok(req) = serde_json::from_slice::<GenerateRequest>(body) else {
            return;
        };
        let r = &mut obs.request;
        r.message_count = req.contents.map_or(0, |c| c.len());
        if let Some(g) = req.generation_config {
            r.temperature = g.temperature;
            r.top_p = g.top_p;
            r.max_tokens = g.max_output_tokens;
            r.stop_sequences = g.stop_sequences.unwrap_or_default();
            r.choice_count = g.candidate_count;
            r.seed = g.seed;
            r.presence_penalty = g.presence_penalty;
            r.frequency_penalty = g.frequency_penalty;
            r.output_type = g.response_mime_type.map(|m| {
                if m.contains("json") {
                    "json".into()
                } else {
                    "text".into()
                }
            });
        }
    }

    fn on_stream_message(&mut self, _event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        if let Ok(r) = serde_json::from_slice::<GenerateResponse<'_>>(data) {
            apply(r, now_ns, obs);
        }
    }

    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation) {
        // A non-SSE stream that was not framed (content-type said JSON) is a JSON array of responses.
        if body.trim_ascii_start().starts_with(b"[") {
            if let Ok(items) = serde_json::from_slice::<Vec<GenerateResponse<'_>>>(body) {
                for r in items {
                    apply(r, now_ns, obs);
                }
            }
        } else if let Ok(r) = serde_json::from_slice::<GenerateResponse<'_>>(body) {
            apply(r, now_ns, obs);
        }
    }
}

/// generateContent request content: `systemInstruction`, the contents (role `model` is the assistant), and the
/// function declarations of every tool.
pub(crate) fn request_content(req: &Map<String, Value>) -> InputContent {
    let get = |k: &str| req.get(k);
    InputContent {
        system_instructions: get("systemInstruction")
            .or(get("system_instruction"))
            .map(|s| Value::Array(gemini_parts(s.get("parts")))),
        messages: get("contents").and_then(Value::as_array).map(|contents| {
            Value::Array(
                contents
                    .iter()
                    .map(|c| {
                        let role = match c.get("role").and_then(Value::as_str) {
                            Some("model") => "assistant",
                            Some(r) => r,
                            None => "user",
                        };
                        message(role, gemini_parts(c.get("parts")))
                    })
                    .collect(),
            )
        }),
        tool_definitions: get("tools")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .flat_map(|g| {
                        g.get("functionDeclarations")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .and_then(|decls: Vec<Value>| tool_definitions(Some(&Value::Array(decls)))),
    }
}

fn gemini_parts(parts: Option<&Value>) -> Vec<Value> {
    parts
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            if let Some(t) = p.get("text").and_then(Value::as_str) {
                if p.get("thought") == Some(&Value::Bool(true)) {
                    return json!({"type": "reasoning", "content": t});
                }
                return text_part(t);
            }
            if let Some(f) = p.get("functionCall") {
                return json!({"type": "tool_call", "name": f.get("name"), "arguments": f.get("args")});
            }
            if let Some(f) = p.get("functionResponse") {
                return json!({"type": "tool_call_response", "id": f.get("name"), "response": f.get("response")});
            }
            json!({"type": "generic"})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_usage_takes_the_last_and_output_includes_thoughts() {
        let mut d = GeminiDecoder { streaming: true };
        let mut obs = Observation::default();
        d.on_request(br#"{"contents":[{"role":"user","parts":[{"text":"q"}]}],"generationConfig":{"temperature":0.5,"maxOutputTokens":100}}"#, &mut obs);
        d.on_stream_message(b"", br#"{"candidates":[{"content":{"role":"model","parts":[{"text":"thinking...","thought":true}]},"index":0}],"usageMetadata":{"promptTokenCount":10,"totalTokenCount":10},"modelVersion":"gemini-2.5-flash","responseId":"r1"}"#, 100, &mut obs);
        d.on_stream_message(b"", br#"{"candidates":[{"content":{"role":"model","parts":[{"text":"The answer"}]},"index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,"totalTokenCount":12},"modelVersion":"gemini-2.5-flash"}"#, 200, &mut obs);
        d.on_stream_message(b"", br#"{"candidates":[{"content":{"role":"model","parts":[{"text":" is 42."}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"thoughtsTokenCount":87,"totalTokenCount":102},"modelVersion":"gemini-2.5-flash"}"#, 300, &mut obs);
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(10), Some(92)));
        assert_eq!(
            (obs.usage.provider_output_tokens, obs.usage.reasoning_tokens),
            (Some(5), Some(87))
        );
        assert_eq!(obs.response.finish_reasons, vec!["STOP"]);
        assert_eq!(obs.response.id.as_deref(), Some("r1"));
        assert_eq!(
            (obs.timing.first_reasoning_ns, obs.timing.first_token_ns),
            (Some(100), Some(100))
        );
        assert!(obs.request.stream && obs.response_complete);
        assert_eq!(
            (obs.request.temperature, obs.request.max_tokens),
            (Some(0.5), Some(100))
        );
    }

    #[test]
    fn error_body() {
        let mut obs = Observation::default();
        GeminiDecoder::default().on_response_body(
            br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
            1,
            &mut obs,
        );
        assert_eq!(obs.error.map(|e| e.error_type), Some("RESOURCE_EXHAUSTED".to_string()));
    }
}
