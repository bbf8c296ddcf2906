//! OpenAI Responses API (`POST /v1/responses`): a whole `response` object, or a stream of typed SSE events whose
//! terminal one (`response.completed`, `response.incomplete`, `response.failed`) carries the final object with
//! usage. The finish reason is the response `status`, as the provider reports it.

use super::content_parts::{message, parts_of, text_part, tool_definitions};
use super::{non_empty, read_request, read_response, set_non_empty, ApiDecoder, ApiError};
use crate::model::content::InputContent;
use crate::model::observation::{ErrorInfo, Observation, Usage, UsageSource};
use crate::wire::lenient;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

#[derive(Debug, Default)]
pub(crate) struct ResponsesDecoder;

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResponsesRequest<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::flag")]
    stream: Option<bool>,
    #[serde(deserialize_with = "lenient::float")]
    temperature: Option<f64>,
    #[serde(deserialize_with = "lenient::float")]
    top_p: Option<f64>,
    #[serde(deserialize_with = "lenient::int")]
    max_output_tokens: Option<i64>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    service_tier: Option<Cow<'a, str>>,
    /// A string (one message), or a list of input items.
    #[serde(deserialize_with = "lenient::length")]
    input: Option<usize>,
}

/// A response object (whole, in a stream's lifecycle events, or `responses/compact`'s `response.compaction`,
/// which has no `model` and no `status`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Response<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::name")]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    service_tier: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::object")]
    usage: Option<ResponseUsage>,
    #[serde(deserialize_with = "lenient::object")]
    error: Option<ResponseError>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    output: Option<Vec<OutputItem<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OutputItem<'a> {
    #[serde(borrow, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    content: Option<Vec<TextPart<'a>>>,
    /// A JSON string in OpenAI's API; an object from servers that copy Ollama.
    #[serde(borrow, deserialize_with = "lenient::json_text")]
    arguments: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    call_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    summary: Option<Vec<TextPart<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TextPart<'a> {
    #[serde(borrow, deserialize_with = "lenient::text")]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResponseError {
    #[serde(deserialize_with = "lenient::name_string")]
    code: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    message: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct ResponseUsage {
    #[serde(deserialize_with = "lenient::count")]
    input_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    output_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    total_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::object")]
    input_tokens_details: Option<InputDetails>,
    #[serde(deserialize_with = "lenient::object")]
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct InputDetails {
    #[serde(deserialize_with = "lenient::count")]
    cached_tokens: Option<u64>,
    #[serde(deserialize_with = "lenient::count")]
    cache_write_tokens: Option<u64>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct OutputDetails {
    #[serde(deserialize_with = "lenient::count")]
    reasoning_tokens: Option<u64>,
}

/// One streamed event: `type` plus whichever payload that type has.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StreamEvent<'a> {
    #[serde(borrow, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    response: Option<Response<'a>>,
    #[serde(borrow, deserialize_with = "lenient::json_text")]
    delta: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::name_string")]
    code: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    message: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    error: Option<ApiError>,
    #[serde(deserialize_with = "lenient::index")]
    output_index: Option<usize>,
    #[serde(borrow, deserialize_with = "lenient::object")]
    item: Option<OutputItem<'a>>,
}

fn apply(r: Response<'_>, source: UsageSource, obs: &mut Observation) {
    set_non_empty(&mut obs.response.id, &r.id);
    set_non_empty(&mut obs.response.model, &r.model);
    set_non_empty(&mut obs.response.service_tier, &r.service_tier);
    if let Some(u) = r.usage {
        let input = u.input_tokens_details;
        let usage = Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cache_read_tokens: input.and_then(|d| d.cached_tokens),
            cache_creation_tokens: input.and_then(|d| d.cache_write_tokens),
            reasoning_tokens: u.output_tokens_details.and_then(|d| d.reasoning_tokens),
            total_tokens: u.total_tokens,
            provider_input_tokens: u.input_tokens,
            provider_output_tokens: u.output_tokens,
        };
        obs.report_usage(usage, source);
    }
    if let Some(e) = r.error {
        obs.error = Some(ErrorInfo {
            error_type: e.code.unwrap_or_else(|| "_OTHER".into()),
            message: e.message,
        });
    }
    // Terminal statuses; `in_progress` and `queued` say nothing about the end.
    if let Some(status) = r
        .status
        .as_deref()
        .filter(|s| matches!(*s, "completed" | "incomplete" | "failed" | "cancelled"))
    {
        obs.response.set_finish_reason(0, status);
        obs.response_complete = true;
    }
    // The terminal event repeats the whole output; capture it only if the stream's deltas were not captured.
    let captured_already = obs.output.as_ref().is_some_and(|o| !o.choices.is_empty());
    for (i, item) in r.output.iter().flatten().enumerate() {
        obs.response.output_chars += item.arguments.as_ref().map_or(0, |a| a.chars().count() as u64);
        if captured_already {
            continue;
        }
        match item.kind.as_deref() {
            Some("message") => {
                for t in item.content.iter().flatten().filter_map(|p| p.text.as_deref()) {
                    obs.response.output_chars += t.chars().count() as u64;
                    obs.capture_text(0, t);
                }
            }
            Some("reasoning") => {
                for t in item.summary.iter().flatten().filter_map(|p| p.text.as_deref()) {
                    obs.capture_reasoning(0, t);
                }
            }
            Some("function_call") => obs.capture_tool_call(
                0,
                i,
                item.call_id.as_deref(),
                item.name.as_deref(),
                item.arguments.as_deref().unwrap_or_default(),
            ),
            _ => {}
        }
    }
}

impl ApiDecoder for ResponsesDecoder {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        let Some(req) = read_request::<ResponsesRequest<'_>>(body) else {
            return;
        };
        let r = &mut obs.request;
        r.model = non_empty(&req.model).or(r.model.take());
        r.stream = req.stream.unwrap_or(false);
        r.temperature = req.temperature;
        r.top_p = req.top_p;
        r.max_tokens = req.max_output_tokens;
        r.service_tier = non_empty(&req.service_tier);
        r.message_count = req.input.unwrap_or(0);
    }

    fn on_stream_message(&mut self, _event: &[u8], data: &[u8], now_ns: u64, obs: &mut Observation) {
        let Ok(e) = read_response::<StreamEvent<'_>>(data, obs) else {
            return;
        };
        let kind = e.kind.as_deref().unwrap_or_default();
        let has_delta = e.delta.as_deref().is_some_and(|d| !d.is_empty());
        match kind {
            "response.created"
            | "response.in_progress"
            | "response.queued"
            | "response.completed"
            | "response.incomplete"
            | "response.failed" => {
                if let Some(r) = e.response {
                    apply(r, UsageSource::StreamChunk, obs);
                }
            }
            "error" => {
                obs.error = Some(match e.error {
                    Some(err) => err.into_info(),
                    None => ErrorInfo {
                        error_type: e.code.unwrap_or_else(|| "_OTHER".into()),
                        message: e.message,
                    },
                });
            }
            k if has_delta && k.starts_with("response.reasoning") => {
                let delta = e.delta.as_deref().unwrap_or_default();
                obs.response.output_chars += delta.chars().count() as u64;
                obs.mark_reasoning(now_ns);
                obs.capture_reasoning(0, delta);
            }
            k if has_delta && k.ends_with(".delta") => {
                let delta = e.delta.as_deref().unwrap_or_default();
                obs.response.output_chars += delta.chars().count() as u64;
                obs.mark_first_token(now_ns);
                match k {
                    "response.output_text.delta" | "response.refusal.delta" => obs.capture_text(0, delta),
                    "response.function_call_arguments.delta" => {
                        obs.capture_tool_call(0, e.output_index.unwrap_or(0), None, None, delta)
                    }
                    _ => {}
                }
            }
            "response.output_item.added" => {
                if let Some(item) = e.item.filter(|i| i.kind.as_deref() == Some("function_call")) {
                    let call = e.output_index.unwrap_or(0);
                    obs.capture_tool_call(0, call, item.call_id.as_deref(), item.name.as_deref(), "");
                }
            }
            // The API has dozens of `response.*` events (tool progress, annotations, ...): only others are unknown.
            k if k.is_empty() || k.starts_with("response.") => {}
            _ => obs.note_unknown_event(),
        }
    }

    fn on_response_body(&mut self, body: &[u8], _now_ns: u64, obs: &mut Observation) {
        if obs.http_status.is_some_and(|s| s >= 400) {
            if let Ok(super::ErrorEnvelope { error: Some(e) }) = read_response(body, obs) {
                obs.error = Some(e.into_info());
            }
            return;
        }
        if let Ok(r) = read_response::<Response<'_>>(body, obs) {
            apply(r, UsageSource::Body, obs);
        }
    }
}

/// Responses API request content: `instructions`, the input items (messages, function calls and their outputs),
/// and the tools.
pub(crate) fn request_content(req: &Map<String, Value>) -> InputContent {
    let get = |k: &str| req.get(k);
    let messages = match get("input") {
        Some(Value::String(s)) => json!([message("user", vec![text_part(s)])]),
        Some(Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|item| match item.get("type").and_then(Value::as_str) {
                    Some("function_call_output") => message(
                        "tool",
                        vec![json!({"type": "tool_call_response", "id": item.get("call_id"), "response": item.get("output")})],
                    ),
                    Some("function_call") => message(
                        "assistant",
                        vec![json!({"type": "tool_call", "id": item.get("call_id"), "name": item.get("name"), "arguments": item.get("arguments")})],
                    ),
                    _ => message(
                        item.get("role").and_then(Value::as_str).unwrap_or("user"),
                        parts_of(item.get("content").unwrap_or(&Value::Null)),
                    ),
                })
                .collect(),
        ),
        _ => Value::Array(Vec::new()),
    };
    InputContent {
        system_instructions: get("instructions")
            .and_then(Value::as_str)
            .map(|s| json!([text_part(s)])),
        messages: Some(messages),
        tool_definitions: tool_definitions(get("tools")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_takes_usage_from_the_terminal_event() {
        let mut d = ResponsesDecoder;
        let mut obs = Observation::default();
        d.on_request(
            br#"{"model":"gpt-4.1","input":"Tell me","stream":true,"max_output_tokens":50}"#,
            &mut obs,
        );
        let events = [
            r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress","model":"gpt-4.1-2025-04-14","output":[],"usage":null}}"#,
            r#"{"type":"response.reasoning_summary_text.delta","sequence_number":2,"delta":"Thinking"}"#,
            r#"{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}"#,
            r#"{"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","status":"completed","model":"gpt-4.1-2025-04-14","usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":5},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":48}}}"#,
        ];
        for (i, e) in events.iter().enumerate() {
            d.on_stream_message(b"", e.as_bytes(), i as u64 * 10, &mut obs);
        }
        assert_eq!(obs.request.max_tokens, Some(50));
        assert!(obs.request.stream);
        assert_eq!((obs.usage.input_tokens, obs.usage.output_tokens), (Some(37), Some(11)));
        assert_eq!(
            (obs.usage.cache_read_tokens, obs.usage.reasoning_tokens),
            (Some(5), Some(3))
        );
        assert_eq!(obs.response.finish_reasons, vec!["completed"]);
        assert_eq!(
            (obs.timing.first_reasoning_ns, obs.timing.first_token_ns),
            (Some(10), Some(10))
        );
        assert!(obs.response_complete);
    }

    #[test]
    fn in_progress_is_not_a_finish_and_errors_are_read() {
        let mut obs = Observation::default();
        ResponsesDecoder.on_stream_message(
            b"",
            br#"{"type":"response.in_progress","response":{"status":"in_progress"}}"#,
            1,
            &mut obs,
        );
        assert!(obs.response.finish_reasons.is_empty() && !obs.response_complete);
        ResponsesDecoder.on_stream_message(
            b"",
            br#"{"type":"error","code":"server_error","message":"boom","sequence_number":3}"#,
            2,
            &mut obs,
        );
        assert_eq!(obs.error.map(|e| e.error_type), Some("server_error".into()));
    }
}
