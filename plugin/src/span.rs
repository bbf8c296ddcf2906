//! The span model: what one LLM call becomes, independent of the wire encoding.

use crate::attributes as attr;
use crate::observation::Observation;
use crate::trace_context::TraceContext;
use std::borrow::Cow;

/// An attribute value; the OTLP `AnyValue` subset the filter emits.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Int(i64),
    Double(f64),
    Bool(bool),
    StrArray(Vec<String>),
}

pub type Attributes = Vec<(Cow<'static, str>, AttrValue)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    Unset,
    Error,
}

/// A finished span, ready to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent_span_id: Option<[u8; 8]>,
    pub trace_state: String,
    pub flags: u8,
    pub name: String,
    pub start_unix_ns: u64,
    pub end_unix_ns: u64,
    pub attributes: Attributes,
    pub status: StatusCode,
    pub status_message: String,
}

/// Collects attributes, skipping absent values so callers can pass `Option`s straight through.
#[derive(Default)]
struct AttributeList(Attributes);

impl AttributeList {
    fn str(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.0.push((Cow::Borrowed(key), AttrValue::Str(v.to_string())));
        }
    }
    fn int(&mut self, key: &'static str, value: Option<i64>) {
        if let Some(v) = value {
            self.0.push((Cow::Borrowed(key), AttrValue::Int(v)));
        }
    }
    fn uint(&mut self, key: &'static str, value: Option<u64>) {
        self.int(key, value.map(|v| i64::try_from(v).unwrap_or(i64::MAX)));
    }
    fn double(&mut self, key: &'static str, value: Option<f64>) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.0.push((Cow::Borrowed(key), AttrValue::Double(v)));
        }
    }
    fn bool(&mut self, key: &'static str, value: bool) {
        self.0.push((Cow::Borrowed(key), AttrValue::Bool(value)));
    }
    fn strs(&mut self, key: &'static str, values: &[String]) {
        if !values.is_empty() {
            self.0.push((Cow::Borrowed(key), AttrValue::StrArray(values.to_vec())));
        }
    }
}

fn seconds_between(from_ns: u64, to_ns: Option<u64>) -> Option<f64> {
    to_ns.map(|t| t.saturating_sub(from_ns) as f64 / 1e9)
}

/// Builds the span of one LLM call.
///
/// `start_unix_ns` is the wall-clock start; all other instants in `obs.timing` are monotonic and only their
/// differences are used, so a wall-clock step during the call cannot produce a negative duration.
pub fn build_span(obs: &Observation, trace: &TraceContext, span_id: [u8; 8], start_unix_ns: u64) -> SpanRecord {
    let t = &obs.timing;
    let end_mono = t.end_ns.unwrap_or(t.start_ns);
    let end_unix_ns = start_unix_ns.saturating_add(end_mono.saturating_sub(t.start_ns));
    let name = match &obs.request.model {
        Some(model) => format!("{} {}", obs.operation, model),
        None => obs.operation.to_string(),
    };

    let mut a = AttributeList::default();
    let r = &obs.request;
    a.str(attr::GEN_AI_OPERATION_NAME, Some(obs.operation));
    a.str(attr::GEN_AI_PROVIDER_NAME, Some(&obs.provider));
    a.str(attr::GEN_AI_REQUEST_MODEL, r.model.as_deref());
    a.str(attr::SERVER_ADDRESS, obs.server_address.as_deref());
    a.int(attr::SERVER_PORT, obs.server_port);
    if r.stream {
        a.bool(attr::GEN_AI_REQUEST_STREAM, true);
    }
    a.double(attr::GEN_AI_REQUEST_TEMPERATURE, r.temperature);
    a.double(attr::GEN_AI_REQUEST_TOP_P, r.top_p);
    a.int(attr::GEN_AI_REQUEST_MAX_TOKENS, r.max_tokens);
    a.int(attr::GEN_AI_REQUEST_SEED, r.seed);
    a.double(attr::GEN_AI_REQUEST_FREQUENCY_PENALTY, r.frequency_penalty);
    a.double(attr::GEN_AI_REQUEST_PRESENCE_PENALTY, r.presence_penalty);
    a.strs(attr::GEN_AI_REQUEST_STOP_SEQUENCES, &r.stop_sequences);
    a.int(attr::GEN_AI_REQUEST_CHOICE_COUNT, r.choice_count.filter(|&n| n != 1));
    a.str(attr::GEN_AI_OUTPUT_TYPE, r.output_type.as_deref());
    if let Some(api_type) = obs.api_type {
        a.str(attr::OPENAI_API_TYPE, Some(api_type));
        a.str(
            attr::OPENAI_REQUEST_SERVICE_TIER,
            r.service_tier.as_deref().filter(|t| *t != "auto"),
        );
        a.str(attr::OPENAI_RESPONSE_SERVICE_TIER, obs.response.service_tier.as_deref());
        a.str(
            attr::OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
            obs.response.system_fingerprint.as_deref(),
        );
    }

    let resp = &obs.response;
    a.str(attr::GEN_AI_RESPONSE_ID, resp.id.as_deref());
    a.str(attr::GEN_AI_RESPONSE_MODEL, resp.model.as_deref());
    a.strs(attr::GEN_AI_RESPONSE_FINISH_REASONS, &resp.finish_reasons);
    if r.stream {
        a.double(
            attr::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
            seconds_between(t.start_ns, t.first_token_ns),
        );
        a.double(
            attr::LLM_RESPONSE_TIME_TO_FIRST_REASONING_CHUNK,
            seconds_between(t.start_ns, t.first_reasoning_ns),
        );
    }
    a.double(
        attr::LLM_RESPONSE_TIME_TO_FIRST_BYTE,
        seconds_between(t.start_ns, t.first_byte_ns),
    );

    let u = &obs.usage;
    let output_tokens = if u.is_reported() {
        u.output_tokens
    } else {
        Some(obs.estimated_output_tokens())
    };
    a.uint(attr::GEN_AI_USAGE_INPUT_TOKENS, u.input_tokens);
    a.uint(attr::GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens);
    a.uint(attr::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, u.cache_read_tokens);
    a.uint(attr::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, u.cache_creation_tokens);
    a.uint(attr::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, u.reasoning_tokens);
    a.uint(attr::LLM_USAGE_PROVIDER_INPUT_TOKENS, u.provider_input_tokens);
    a.uint(attr::LLM_USAGE_PROVIDER_OUTPUT_TOKENS, u.provider_output_tokens);
    a.uint(attr::LLM_USAGE_TOTAL_TOKENS, u.total_tokens);
    a.str(
        attr::LLM_USAGE_SOURCE,
        Some(if u.is_reported() { "reported" } else { "estimated" }),
    );
    if obs.usage_injected {
        a.bool(attr::LLM_USAGE_INJECTED, true);
    }
    if let (true, Some(first), Some(last), Some(n)) = (r.stream, t.first_token_ns, t.last_token_ns, output_tokens) {
        if n > 1 && last > first {
            a.double(
                attr::LLM_RESPONSE_TIME_PER_OUTPUT_TOKEN,
                Some((last - first) as f64 / 1e9 / (n - 1) as f64),
            );
        }
    }

    a.int(attr::HTTP_RESPONSE_STATUS_CODE, obs.http_status.map(i64::from));
    if obs.partial {
        a.bool(attr::LLM_PARTIAL, true);
    }
    a.str(attr::LLM_RESPONSE_UNREADABLE, obs.unreadable.as_deref());
    if obs.truncated_bytes > 0 {
        a.uint(attr::LLM_BODY_TRUNCATED, Some(obs.truncated_bytes));
    }

    let error_type = error_type(obs);
    let mut status_message = String::new();
    if let Some(error_type) = &error_type {
        a.str(attr::ERROR_TYPE, Some(error_type));
        if let Some(message) = obs.error.as_ref().and_then(|e| e.message.as_deref()) {
            status_message = truncate_utf8(message, 1024).to_string();
            a.str(attr::LLM_ERROR_MESSAGE, Some(&status_message));
        }
    }

    SpanRecord {
        trace_id: trace.trace_id,
        span_id,
        parent_span_id: trace.parent_span_id,
        trace_state: trace.trace_state.clone(),
        flags: trace.flags,
        name,
        start_unix_ns,
        end_unix_ns,
        attributes: a.0,
        status: if error_type.is_some() {
            StatusCode::Error
        } else {
            StatusCode::Unset
        },
        status_message,
    }
}

/// The call failed when the provider said so, the HTTP status says so, or a stream ended without finishing.
fn error_type(obs: &Observation) -> Option<String> {
    if let Some(e) = &obs.error {
        return Some(e.error_type.clone());
    }
    match obs.http_status {
        Some(status) if status >= 400 => return Some(status.to_string()),
        None if obs.partial => return Some("no_response".to_string()),
        _ => {}
    }
    if obs.request.stream && !obs.response_complete {
        return Some(if obs.partial { "stream_cut" } else { "stream_incomplete" }.to_string());
    }
    None
}

/// Longest prefix of `s` within `max` bytes that ends on a character boundary.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{ErrorInfo, Usage};

    fn trace() -> TraceContext {
        TraceContext {
            trace_id: [1; 16],
            parent_span_id: Some([2; 8]),
            flags: 1,
            trace_state: "a=b".into(),
        }
    }

    fn get<'a>(s: &'a SpanRecord, key: &str) -> Option<&'a AttrValue> {
        s.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn base() -> Observation {
        let mut o = Observation {
            provider: "openai".into(),
            operation: "chat",
            ..Default::default()
        };
        o.request.model = Some("gpt-4o".into());
        o.timing.start_ns = 1_000;
        o.timing.end_ns = Some(1_500_001_000);
        o.http_status = Some(200);
        o
    }

    #[test]
    fn successful_stream_span() {
        let mut o = base();
        o.request.stream = true;
        o.response_complete = true;
        o.timing.first_byte_ns = Some(200_001_000);
        o.timing.first_token_ns = Some(250_001_000);
        o.response.finish_reasons = vec!["stop".into()];
        o.usage = Usage {
            input_tokens: Some(10),
            output_tokens: Some(20),
            ..Default::default()
        };
        let s = build_span(&o, &trace(), [3; 8], 1_700_000_000_000_000_000);
        assert_eq!(s.name, "chat gpt-4o");
        assert_eq!(s.end_unix_ns - s.start_unix_ns, 1_500_000_000);
        assert_eq!(s.status, StatusCode::Unset);
        assert_eq!(
            get(&s, "gen_ai.response.time_to_first_chunk"),
            Some(&AttrValue::Double(0.25))
        );
        assert_eq!(
            get(&s, "llm.response.time_to_first_byte"),
            Some(&AttrValue::Double(0.2))
        );
        assert_eq!(get(&s, "gen_ai.usage.input_tokens"), Some(&AttrValue::Int(10)));
        assert_eq!(get(&s, "gen_ai.request.stream"), Some(&AttrValue::Bool(true)));
        assert_eq!(get(&s, "llm.usage.source"), Some(&AttrValue::Str("reported".into())));
        assert_eq!(get(&s, "error.type"), None);
        assert_eq!(s.parent_span_id, Some([2; 8]));
    }

    #[test]
    fn errors_from_provider_status_and_unfinished_streams() {
        let mut o = base();
        o.http_status = Some(429);
        o.error = Some(ErrorInfo {
            error_type: "rate_limit_exceeded".into(),
            message: Some("slow down".into()),
        });
        let s = build_span(&o, &trace(), [3; 8], 0);
        assert_eq!((s.status, s.status_message.as_str()), (StatusCode::Error, "slow down"));
        assert_eq!(
            get(&s, "error.type"),
            Some(&AttrValue::Str("rate_limit_exceeded".into()))
        );

        let mut o = base();
        o.http_status = Some(503);
        assert_eq!(
            get(&build_span(&o, &trace(), [3; 8], 0), "error.type"),
            Some(&AttrValue::Str("503".into()))
        );

        let mut o = base();
        o.request.stream = true;
        let s = build_span(&o, &trace(), [3; 8], 0);
        assert_eq!(get(&s, "error.type"), Some(&AttrValue::Str("stream_incomplete".into())));

        o.partial = true;
        let s = build_span(&o, &trace(), [3; 8], 0);
        assert_eq!(get(&s, "error.type"), Some(&AttrValue::Str("stream_cut".into())));
        assert_eq!(get(&s, "llm.partial"), Some(&AttrValue::Bool(true)));
    }

    #[test]
    fn no_model_gives_operation_only_name_and_n_of_one_is_omitted() {
        let mut o = base();
        o.request.model = None;
        o.request.choice_count = Some(1);
        let s = build_span(&o, &trace(), [3; 8], 0);
        assert_eq!(s.name, "chat");
        assert_eq!(get(&s, "gen_ai.request.choice.count"), None);
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }
}
