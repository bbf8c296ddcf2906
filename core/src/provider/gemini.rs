//! Google Gemini and Vertex AI `generateContent` / `streamGenerateContent` (SSE with `alt=sse`, else a streamed
//! JSON array; the exchange frames both). The model is in the path.
//!
//! `usageMetadata` repeats cumulatively in streams: the last one wins. Conventions: output includes thinking
//! tokens (Gemini bills them as output), input includes tool-use prompt tokens; the raw figures are kept too.

use super::content_parts::{message, text_part, tool_definitions};
use super::{read_request, read_response, set_non_empty, ApiDecoder};
use crate::model::content::InputContent;
use crate::model::observation::{ErrorInfo, Observation, Usage, UsageSource};
use crate::wire::lenient::{self, EnumValue};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

mod fast;

#[derive(Debug, Default)]
pub(crate) struct GeminiDecoder {
    /// The path asked for a stream (`:streamGenerateContent`).
    pub(crate) streaming: bool,
    /// Which numbering integer enums use (they differ between the Gemini API and Vertex AI).
    pub(crate) enums: GoogleEnums,
}

/// Google's APIs send enums as numbers when asked (`$alt=json;enum-encoding=int`, which every GAPIC REST client
/// sets), and the Gemini API and Vertex AI number `FinishReason` differently: 6 is `LANGUAGE` on one and
/// `BLOCKLIST` on the other.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoogleEnums {
    /// `generativelanguage.googleapis.com` (and any host not known to be Vertex AI).
    #[default]
    GeminiApi,
    /// `*aiplatform.googleapis.com`.
    VertexAi,
}

/// `Candidate.FinishReason` of the Gemini API (google.ai.generativelanguage.v1beta), by number.
const GEMINI_API_FINISH_REASONS: [&str; 13] = [
    "FINISH_REASON_UNSPECIFIED",
    "STOP",
    "MAX_TOKENS",
    "SAFETY",
    "RECITATION",
    "OTHER",
    "LANGUAGE",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "MALFORMED_FUNCTION_CALL",
    "IMAGE_SAFETY",
    "UNEXPECTED_TOOL_CALL",
];

/// `Candidate.FinishReason` of Vertex AI (google.cloud.aiplatform.v1), by number. Numbers from 10 on differ
/// between API versions, so they are kept as numbers.
const VERTEX_AI_FINISH_REASONS: [&str; 10] = [
    "FINISH_REASON_UNSPECIFIED",
    "STOP",
    "MAX_TOKENS",
    "SAFETY",
    "RECITATION",
    "OTHER",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "MALFORMED_FUNCTION_CALL",
];

impl GoogleEnums {
    /// The numbering the host uses.
    pub(crate) fn for_host(host: Option<&str>) -> GoogleEnums {
        if host.is_some_and(|h| h.ends_with("aiplatform.googleapis.com")) {
            GoogleEnums::VertexAi
        } else {
            GoogleEnums::GeminiApi
        }
    }

    fn finish_reason(self, value: &EnumValue<'_>) -> String {
        match self {
            GoogleEnums::GeminiApi => value.name(&GEMINI_API_FINISH_REASONS),
            GoogleEnums::VertexAi => value.name(&VERTEX_AI_FINISH_REASONS),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GenerateRequest {
    #[serde(deserialize_with = "lenient::length")]
    contents: Option<usize>,
    #[serde(deserialize_with = "lenient::object")]
    generation_config: Option<GenerationConfig>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GenerationConfig {
    #[serde(deserialize_with = "lenient::float")]
    temperature: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    top_p: Option<f64>,
    #[serde(deserialize_with = "lenient::int")]
    max_output_tokens: Option<i64>,
    #[serde(deserialize_with = "lenient::texts")]
    stop_sequences: Option<Vec<String>>,
    #[serde(deserialize_with = "lenient::int")]
    candidate_count: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    seed: Option<i64>,
    #[serde(deserialize_with = "lenient::float")]
    presence_penalty: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    frequency_penalty: Option<f64>,
    #[serde(deserialize_with = "lenient::string")]
    response_mime_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GenerateResponse<'a> {
    #[serde(borrow, deserialize_with = "lenient::objects")]
    candidates: Option<Vec<Candidate<'a>>>,
    #[serde(deserialize_with = "lenient::object")]
    usage_metadata: Option<UsageMetadata>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    model_version: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    response_id: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::object")]
    error: Option<GoogleError>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Candidate<'a> {
    #[serde(borrow, deserialize_with = "lenient::object")]
    content: Option<CandidateContent<'a>>,
    #[serde(borrow, deserialize_with = "lenient::enum_value")]
    finish_reason: Option<EnumValue<'a>>,
    #[serde(deserialize_with = "lenient::index")]
    index: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CandidateContent<'a> {
    #[serde(borrow, deserialize_with = "lenient::objects")]
    parts: Option<Vec<Part<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Part<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::flag")]
    thought: Option<bool>,
    #[serde(deserialize_with = "lenient::any")]
    function_call: Option<serde_json::Value>,
}

/// `usageMetadata`, also of Vertex AI's `embedContent`.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct UsageMetadata {
    #[serde(deserialize_with = "lenient::count")]
    prompt_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    candidates_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    thoughts_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    cached_content_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    tool_use_prompt_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    total_token_count: Option<u64>,
}

/// Google's error envelope: `{"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED"}}`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct GoogleError {
    #[serde(deserialize_with = "lenient::string")]
    message: Option<String>,
    #[serde(deserialize_with = "lenient::name_string")]
    status: Option<String>,
    #[serde(deserialize_with = "lenient::int")]
    code: Option<i64>,
}

impl GoogleError {
    pub(crate) fn into_info(self) -> ErrorInfo {
        ErrorInfo {
            error_type: self
                .status
                .or(self.code.map(|c| c.to_string()))
                .unwrap_or_else(|| "_OTHER".into()),
            message: self.message,
        }
    }
}

impl UsageMetadata {
    /// Proto3 JSON leaves out fields that are zero: once `usageMetadata` reports anything, a missing prompt or
    /// candidates count is 0, not unknown. Embeddings generate nothing, so they report no output.
    pub(crate) fn to_usage(self, embeddings: bool) -> Option<Usage> {
        let any = [
            self.prompt_token_count,
            self.candidates_token_count,
            self.thoughts_token_count,
            self.cached_content_token_count,
            self.tool_use_prompt_token_count,
            self.total_token_count,
        ]
        .iter()
        .any(Option::is_some);
        if !any {
            return None;
        }
        let prompt = self.prompt_token_count.unwrap_or(0);
        let candidates = self.candidates_token_count.unwrap_or(0);
        let input = prompt + self.tool_use_prompt_token_count.unwrap_or(0);
        let output = candidates + self.thoughts_token_count.unwrap_or(0);
        let (output, provider_output) = if embeddings {
            (None, None)
        } else {
            (Some(output), Some(candidates))
        };
        Some(Usage {
            input_tokens: Some(input),
            output_tokens: output,
            cache_read_tokens: self.cached_content_token_count,
            cache_creation_tokens: None,
            reasoning_tokens: self.thoughts_token_count,
            total_tokens: self.total_token_count,
            provider_input_tokens: Some(prompt),
            provider_output_tokens: provider_output,
        })
    }
}

impl GeminiDecoder {
    fn apply(&self, r: GenerateResponse<'_>, now_ns: u64, source: UsageSource, obs: &mut Observation) {
        set_non_empty(&mut obs.response.model, &r.model_version);
        set_non_empty(&mut obs.response.id, &r.response_id);
        if let Some(u) = r.usage_metadata.and_then(|u| u.to_usage(false)) {
            obs.report_usage(u, source);
        }
        if let Some(e) = r.error {
            obs.error = Some(e.into_info());
        }
        for (position, c) in r.candidates.into_iter().flatten().enumerate() {
            let index = c.index.unwrap_or(position);
            for part in c.content.iter().flat_map(|c| c.parts.iter().flatten()) {
                let chars = part.text.as_deref().map_or(0, |t| t.chars().count() as u64);
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
            if let Some(reason) = c.finish_reason.as_ref().map(|r| self.enums.finish_reason(r)) {
                if !reason.is_empty() {
                    obs.response.set_finish_reason(index, &reason);
                    obs.response_complete = true;
                }
            }
        }
    }
}

impl ApiDecoder for GeminiDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        obs.request.stream = self.streaming;
        let Some(req) = read_request::<GenerateRequest>(body) else {
            return;
        };
        let r = &mut obs.request;
        r.message_count = req.contents.unwrap_or(0);
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
        // The common response in one borrowing pass; anything else through the lenient serde reading.
        if let Ok(r) = fast::response(data) {
            self.apply(r, now_ns, UsageSource::StreamChunk, obs);
        } else if let Ok(r) = read_response::<GenerateResponse<'_>>(data, obs) {
            self.apply(r, now_ns, UsageSource::StreamChunk, obs);
        }
    }

    fn on_response_body(&mut self, body: &[u8], now_ns: u64, obs: &mut Observation) {
        // A non-SSE stream that was not framed (content-type said JSON) is a JSON array of responses.
        if body.trim_ascii_start().starts_with(b"[") {
            if let Ok(items) = read_response::<Items<GenerateResponse<'_>>>(body, obs) {
                for r in items.0 {
                    self.apply(r, now_ns, UsageSource::StreamChunk, obs);
                }
            }
        } else if let Ok(r) = read_response::<GenerateResponse<'_>>(body, obs) {
            self.apply(r, now_ns, UsageSource::Body, obs);
        }
    }
}

/// A top-level JSON array of lenient objects.
struct Items<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Items(lenient::objects(d)?.unwrap_or_default()))
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
        let mut d = GeminiDecoder {
            streaming: true,
            ..Default::default()
        };
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
