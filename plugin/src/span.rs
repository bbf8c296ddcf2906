//! The span model: what one LLM call becomes, independent of the wire encoding.

use crate::attributes as attr;
use crate::config::Semconv;
use crate::content::{metadata_only, CaptureMode};
use crate::observation::Observation;
use crate::pricing::{pico_to_units, CostOutcome};
use crate::trace_context::TraceContext;
use serde_json::Value;
use std::borrow::Cow;

/// Removes secrets and personal data from exported text; counts what it removed, never the values.
pub trait Redact {
    /// The redacted text, or `None` when the whole field must be dropped.
    fn redact(&self, text: &str, counts: &mut Vec<(String, u32)>) -> Option<String>;

    /// Whether `user.id` values are redacted too.
    fn covers_user_id(&self) -> bool {
        false
    }
}

/// How spans are shaped; fixed per worker by the configuration.
pub struct SpanOptions<'a> {
    pub semconv: Semconv,
    pub gen_ai: bool,
    pub openinference: bool,
    pub max_content_bytes: usize,
    pub redactor: Option<&'a dyn Redact>,
}

impl Default for SpanOptions<'_> {
    fn default() -> Self {
        SpanOptions {
            semconv: Semconv::V1_41,
            gen_ai: true,
            openinference: false,
            max_content_bytes: 16 << 10,
            redactor: None,
        }
    }
}

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
    fn owned(&mut self, key: String, value: AttrValue) {
        self.0.push((Cow::Owned(key), value));
    }
}

fn seconds_between(from_ns: u64, to_ns: Option<u64>) -> Option<f64> {
    to_ns.map(|t| t.saturating_sub(from_ns) as f64 / 1e9)
}

/// Builds the span of one LLM call.
///
/// `start_unix_ns` is the wall-clock start; all other instants in `obs.timing` are monotonic and only their
/// differences are used, so a wall-clock step during the call cannot produce a negative duration.
pub fn build_span(
    obs: &Observation,
    trace: &TraceContext,
    span_id: [u8; 8],
    start_unix_ns: u64,
    options: &SpanOptions<'_>,
) -> SpanRecord {
    let t = &obs.timing;
    let end_mono = t.end_ns.unwrap_or(t.start_ns);
    let end_unix_ns = start_unix_ns.saturating_add(end_mono.saturating_sub(t.start_ns));
    let name = match &obs.request.model {
        Some(model) => format!("{} {}", obs.operation, model),
        None => obs.operation.to_string(),
    };

    let mut a = AttributeList::default();
    let mut redactions = Vec::new();
    if options.gen_ai {
        gen_ai_attributes(&mut a, obs, options);
    }
    if options.openinference {
        openinference_attributes(&mut a, obs, options, &mut redactions);
    }
    content_attributes(&mut a, obs, options, &mut redactions);
    a.int(attr::HTTP_RESPONSE_STATUS_CODE, obs.http_status.map(i64::from));
    if obs.partial {
        a.bool(attr::LLM_PARTIAL, true);
    }
    a.str(attr::LLM_RESPONSE_UNREADABLE, obs.unreadable.as_deref());
    if obs.truncated_bytes > 0 {
        a.uint(attr::LLM_BODY_TRUNCATED, Some(obs.truncated_bytes));
    }
    for (attribute, value) in &obs.attribution {
        let value = match options.redactor {
            Some(r) if attribute == attr::USER_ID && r.covers_user_id() => r.redact(value, &mut redactions),
            _ => Some(value.clone()),
        };
        if let Some(v) = value {
            if attribute == attr::SESSION_ID && options.gen_ai {
                a.str(attr::GEN_AI_CONVERSATION_ID, Some(&v));
            }
            a.owned(attribute.clone(), AttrValue::Str(v));
        }
    }
    // One attribute per detector, summed over every field it touched.
    let mut totals = std::collections::BTreeMap::<String, u32>::new();
    for (detector, count) in redactions {
        *totals.entry(detector).or_default() += count;
    }
    for (detector, count) in totals {
        a.owned(
            format!("{}.{detector}", attr::LLM_REDACTIONS),
            AttrValue::Int(i64::from(count)),
        );
    }
    for (detector, count) in &obs.request_redactions {
        a.owned(
            format!("{}.{detector}", attr::LLM_REQUEST_REDACTIONS),
            AttrValue::Int(i64::from(*count)),
        );
    }
    a.str(attr::LLM_REQUEST_REDACTION_SKIPPED, obs.request_redaction_skipped);
    for (attribute, figure) in &obs.rate_limits {
        match figure {
            crate::rate_limit::Figure::Count(n) => a.int(attribute, Some(*n)),
            crate::rate_limit::Figure::Text(t) => a.str(attribute, Some(t)),
        }
    }
    a.str(
        attr::LLM_REQUEST_ACCEPT_ENCODING_NARROWED,
        obs.accept_encoding_narrowed.as_deref(),
    );

    let error_type = error_type(obs);
    let mut status_message = String::new();
    if let Some(error_type) = &error_type {
        a.str(attr::ERROR_TYPE, Some(error_type));
        if let Some(message) = obs.error.as_ref().and_then(|e| e.message.as_deref()) {
            let message = match options.redactor {
                Some(r) => r.redact(message, &mut Vec::new()).unwrap_or_default(),
                None => message.to_string(),
            };
            status_message = truncate_utf8(&message, 1024).to_string();
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

/// The GenAI conventions' attributes and this project's own (`llm.*`).
fn gen_ai_attributes(a: &mut AttributeList, obs: &Observation, options: &SpanOptions<'_>) {
    let t = &obs.timing;
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
    // `latest`: a finish reason that was expected but never came (failure, cut) is reported as "error".
    let missing_finish =
        options.semconv == Semconv::Latest && resp.finish_reasons.is_empty() && obs.http_status.is_some();
    if missing_finish && (obs.partial || obs.error.is_some() || !obs.response_complete) {
        a.strs(attr::GEN_AI_RESPONSE_FINISH_REASONS, &["error".to_string()]);
    } else {
        a.strs(attr::GEN_AI_RESPONSE_FINISH_REASONS, &resp.finish_reasons);
    }
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
    let cache_write = match options.semconv {
        Semconv::V1_41 => attr::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        Semconv::Latest => attr::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    };
    a.uint(cache_write, u.cache_creation_tokens);
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
    cost_attributes(a, obs, options.semconv);
    if let (true, Some(first), Some(last), Some(n)) = (r.stream, t.first_token_ns, t.last_token_ns, output_tokens) {
        if n > 1 && last > first {
            a.double(
                attr::LLM_RESPONSE_TIME_PER_OUTPUT_TOKEN,
                Some((last - first) as f64 / 1e9 / (n - 1) as f64),
            );
        }
    }
}

/// The total in the profile's shape, the breakdown and provenance in `llm.usage.cost.*`.
fn cost_attributes(a: &mut AttributeList, obs: &Observation, semconv: Semconv) {
    let p = match &obs.cost {
        CostOutcome::Priced(p) => p,
        CostOutcome::Unpriced { model } => {
            a.str(attr::LLM_USAGE_COST_UNPRICED_MODEL, Some(model));
            return;
        }
        CostOutcome::NoTokens => return,
    };
    let total = Some(pico_to_units(p.cost.total()));
    match semconv {
        Semconv::V1_41 => a.double(attr::GEN_AI_USAGE_COST, total),
        Semconv::Latest => {
            a.double(attr::GEN_AI_USAGE_COST_AMOUNT, total);
            a.str(attr::GEN_AI_USAGE_COST_CURRENCY, Some(&p.currency));
        }
    }
    a.double(attr::LLM_USAGE_COST_INPUT, Some(pico_to_units(p.cost.input)));
    a.double(attr::LLM_USAGE_COST_OUTPUT, Some(pico_to_units(p.cost.output)));
    a.double(attr::LLM_USAGE_COST_CACHE_READ, Some(pico_to_units(p.cost.cache_read)));
    a.double(
        attr::LLM_USAGE_COST_CACHE_WRITE,
        Some(pico_to_units(p.cost.cache_write)),
    );
    a.str(attr::LLM_USAGE_COST_CURRENCY, Some(&p.currency));
    a.str(attr::LLM_USAGE_COST_SOURCE, Some(&p.source.label()));
    a.bool(attr::LLM_USAGE_COST_ESTIMATED, p.estimated);
    a.str(attr::LLM_USAGE_COST_PRICED_MODEL, Some(&p.priced_model));
    a.str(attr::LLM_USAGE_COST_TIER, p.tier.as_deref());
}

/// Content attributes (`gen_ai.input.messages`, ...), as JSON strings: redacted first, then truncated.
fn content_attributes(
    a: &mut AttributeList,
    obs: &Observation,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(String, u32)>,
) {
    if obs.capture == CaptureMode::Off || !options.gen_ai {
        return;
    }
    let with_finish_reason = options.semconv == Semconv::V1_41;
    let output = obs
        .output
        .as_ref()
        .map(|o| o.to_messages(&obs.response.finish_reasons, with_finish_reason));
    let input = obs.input.as_ref();
    let fields = [
        (
            attr::GEN_AI_SYSTEM_INSTRUCTIONS,
            input.and_then(|i| i.system_instructions.as_ref()),
        ),
        (attr::GEN_AI_INPUT_MESSAGES, input.and_then(|i| i.messages.as_ref())),
        (
            attr::GEN_AI_TOOL_DEFINITIONS,
            input.and_then(|i| i.tool_definitions.as_ref()),
        ),
        (attr::GEN_AI_OUTPUT_MESSAGES, output.as_ref()),
    ];
    for (key, value) in fields {
        if let Some(text) = value.and_then(|v| export_content(v, obs.capture, options, redactions)) {
            a.str(key, Some(&text));
        }
    }
}

/// Serializes one content value for export: metadata-only or redacted, then cut to the size limit.
fn export_content(
    value: &Value,
    mode: CaptureMode,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(String, u32)>,
) -> Option<String> {
    let value = match (mode, options.redactor) {
        (CaptureMode::Off, _) => return None,
        (CaptureMode::Metadata, _) => metadata_only(value),
        (CaptureMode::Full, Some(r)) => redact_leaves(value, r, options.max_content_bytes, redactions)?,
        (CaptureMode::Full, None) => value.clone(),
    };
    let text = value.to_string();
    Some(truncate_with_marker(&text, options.max_content_bytes))
}

/// Plain text for export: its length only (metadata mode), or redacted then cut to the size limit.
fn export_text(
    text: &str,
    mode: CaptureMode,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(String, u32)>,
) -> Option<String> {
    let text = match (mode, options.redactor) {
        (CaptureMode::Off, _) => return None,
        (CaptureMode::Metadata, _) => return Some(format!("[{} chars]", text.chars().count())),
        (CaptureMode::Full, Some(r)) => redact_exportable(text, r, options.max_content_bytes, redactions)?,
        (CaptureMode::Full, None) => text.to_string(),
    };
    Some(truncate_with_marker(&text, options.max_content_bytes))
}

/// Redacts the part of `text` that can reach the export: past `max` bytes nothing survives the cut, so it is not
/// scanned (a 32 KiB prompt with a 4 KiB limit costs 4 KiB of redaction). The cut falls on whitespace before `max`
/// so no value is split into a fragment too short for its detector.
fn redact_exportable(text: &str, r: &dyn Redact, max: usize, redactions: &mut Vec<(String, u32)>) -> Option<String> {
    if text.len() <= max {
        return r.redact(text, redactions);
    }
    let head = truncate_utf8(text, max);
    let head = head
        .rfind(|c: char| c.is_ascii_whitespace())
        .map_or(head, |i| &head[..i]);
    let mut redacted = r.redact(head, redactions)?;
    redacted.push_str(attr::TRUNCATION_MARKER);
    Some(redacted)
}

/// Redacts every string in a JSON value; `None` when a detector asks to drop the whole field.
fn redact_leaves(value: &Value, r: &dyn Redact, max: usize, redactions: &mut Vec<(String, u32)>) -> Option<Value> {
    Some(match value {
        Value::String(s) => Value::String(redact_exportable(s, r, max, redactions)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| redact_leaves(i, r, max, redactions))
                .collect::<Option<Vec<_>>>()?,
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(k.clone(), redact_leaves(v, r, max, redactions)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Cuts `text` to `max` bytes on a character boundary, ending with a visible marker when anything was cut.
pub fn truncate_with_marker(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(attr::TRUNCATION_MARKER.len());
    format!("{}{}", truncate_utf8(text, keep), attr::TRUNCATION_MARKER)
}

/// The OpenInference dialect (Arize Phoenix): span kind, model, token counts, invocation parameters, and the
/// flattened messages when content capture is on.
fn openinference_attributes(
    a: &mut AttributeList,
    obs: &Observation,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(String, u32)>,
) {
    let embedding = obs.operation == "embeddings";
    a.str(
        attr::OPENINFERENCE_SPAN_KIND,
        Some(if embedding { "EMBEDDING" } else { "LLM" }),
    );
    let (system, provider) = openinference_system(&obs.provider);
    if !embedding {
        a.str(attr::OI_LLM_SYSTEM, Some(system));
        a.str(attr::OI_LLM_PROVIDER, Some(provider));
    }
    a.str(
        attr::OI_LLM_MODEL_NAME,
        obs.response.model.as_deref().or(obs.request.model.as_deref()),
    );
    let r = &obs.request;
    let mut params = serde_json::Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            params.insert(k.to_string(), v);
        }
    };
    put("model", r.model.clone().map(Value::from));
    put("temperature", r.temperature.map(Value::from));
    put("top_p", r.top_p.map(Value::from));
    put("max_tokens", r.max_tokens.map(Value::from));
    put("stream", Some(Value::from(r.stream)));
    a.str(
        attr::OI_LLM_INVOCATION_PARAMETERS,
        Some(&Value::Object(params).to_string()),
    );
    let u = &obs.usage;
    let output = if u.is_reported() {
        u.output_tokens
    } else {
        Some(obs.estimated_output_tokens())
    };
    a.uint(attr::OI_TOKEN_COUNT_PROMPT, u.input_tokens);
    a.uint(attr::OI_TOKEN_COUNT_COMPLETION, output);
    if let (Some(i), Some(o)) = (u.input_tokens, output) {
        a.uint(attr::OI_TOKEN_COUNT_TOTAL, Some(i + o));
    }
    a.uint(attr::OI_TOKEN_COUNT_CACHE_READ, u.cache_read_tokens);
    a.uint(attr::OI_TOKEN_COUNT_CACHE_WRITE, u.cache_creation_tokens);
    a.uint(attr::OI_TOKEN_COUNT_REASONING, u.reasoning_tokens);
    if let CostOutcome::Priced(p) = &obs.cost {
        let c = p.cost;
        a.double(attr::OI_COST_TOTAL, Some(pico_to_units(c.total())));
        a.double(
            attr::OI_COST_PROMPT,
            Some(pico_to_units(
                c.input.saturating_add(c.cache_read).saturating_add(c.cache_write),
            )),
        );
        a.double(attr::OI_COST_COMPLETION, Some(pico_to_units(c.output)));
        a.double(attr::OI_COST_PROMPT_INPUT, Some(pico_to_units(c.input)));
        a.double(attr::OI_COST_PROMPT_CACHE_READ, Some(pico_to_units(c.cache_read)));
        a.double(attr::OI_COST_PROMPT_CACHE_WRITE, Some(pico_to_units(c.cache_write)));
    }
    if obs.capture == CaptureMode::Off {
        return;
    }
    let flatten = |a: &mut AttributeList, prefix: &str, messages: &Value, redactions: &mut Vec<(String, u32)>| {
        for (i, m) in messages.as_array().into_iter().flatten().enumerate().take(64) {
            let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
            a.owned(format!("{prefix}.{i}.message.role"), AttrValue::Str(role.to_string()));
            let text: String = m
                .get("parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("content").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(t) = export_text(&text, obs.capture, options, redactions) {
                a.owned(format!("{prefix}.{i}.message.content"), AttrValue::Str(t));
            }
        }
    };
    if let Some(messages) = obs.input.as_ref().and_then(|i| i.messages.as_ref()) {
        flatten(a, attr::OI_INPUT_MESSAGES, messages, redactions);
        if let Some(v) = export_content(messages, obs.capture, options, redactions) {
            a.str(attr::OI_INPUT_VALUE, Some(&v));
            a.str(attr::OI_INPUT_MIME_TYPE, Some("application/json"));
        }
    }
    if let Some(out) = &obs.output {
        let messages = out.to_messages(&obs.response.finish_reasons, false);
        flatten(a, attr::OI_OUTPUT_MESSAGES, &messages, redactions);
        let text: String = out.choices.first().map(|c| c.text.clone()).unwrap_or_default();
        if let Some(v) = export_text(&text, obs.capture, options, redactions) {
            a.str(attr::OI_OUTPUT_VALUE, Some(&v));
            a.str(attr::OI_OUTPUT_MIME_TYPE, Some("text/plain"));
        }
    }
}

/// OpenInference splits the model family (`llm.system`) from who hosts it (`llm.provider`).
fn openinference_system(provider: &str) -> (&'static str, &'static str) {
    match provider {
        "openai" => ("openai", "openai"),
        "azure.ai.openai" => ("openai", "azure"),
        "anthropic" => ("anthropic", "anthropic"),
        "aws.bedrock" => ("amazon", "aws"),
        "gcp.gemini" | "gcp.vertex_ai" | "gcp.gen_ai" => ("vertexai", "google"),
        "mistral_ai" => ("mistralai", "mistralai"),
        "groq" => ("openai", "groq"),
        "deepseek" => ("deepseek", "deepseek"),
        "x_ai" => ("xai", "xai"),
        "together_ai" => ("openai", "together"),
        _ => ("openai", "openai"),
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

    #[test]
    fn text_past_the_export_limit_is_not_redacted_and_never_leaks_a_fragment() {
        let r = crate::redaction::build("{}").unwrap();
        let key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789";
        // The key straddles the 200-byte limit: it must be left out whole, not cut into an undetectable piece.
        let text = format!("{} {key} and more words after it {key}", "word ".repeat(38));
        assert!(text.find(key).unwrap() < 200 && text.find(key).unwrap() + key.len() > 200);
        let mut counts = Vec::new();
        let out = redact_exportable(&text, &r, 200, &mut counts).unwrap();
        assert!(!out.contains("sk-proj"), "{out}");
        assert!(out.ends_with(attr::TRUNCATION_MARKER) && out.len() <= 200 + attr::TRUNCATION_MARKER.len());
        assert!(
            counts.is_empty(),
            "nothing past the cut is scanned or counted: {counts:?}"
        );
        // Within the limit, everything is redacted and counted.
        let short = format!("mail jane@example.com key {key}");
        let out = redact_exportable(&short, &r, 200, &mut counts).unwrap();
        assert_eq!(out, "mail [EMAIL] key [OPENAI_KEY]");
        assert_eq!(counts.len(), 2);
    }
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
        let s = build_span(&o, &trace(), [3; 8], 1_700_000_000_000_000_000, &SpanOptions::default());
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
        let s = build_span(&o, &trace(), [3; 8], 0, &SpanOptions::default());
        assert_eq!((s.status, s.status_message.as_str()), (StatusCode::Error, "slow down"));
        assert_eq!(
            get(&s, "error.type"),
            Some(&AttrValue::Str("rate_limit_exceeded".into()))
        );

        let mut o = base();
        o.http_status = Some(503);
        assert_eq!(
            get(
                &build_span(&o, &trace(), [3; 8], 0, &SpanOptions::default()),
                "error.type"
            ),
            Some(&AttrValue::Str("503".into()))
        );

        let mut o = base();
        o.request.stream = true;
        let s = build_span(&o, &trace(), [3; 8], 0, &SpanOptions::default());
        assert_eq!(get(&s, "error.type"), Some(&AttrValue::Str("stream_incomplete".into())));

        o.partial = true;
        let s = build_span(&o, &trace(), [3; 8], 0, &SpanOptions::default());
        assert_eq!(get(&s, "error.type"), Some(&AttrValue::Str("stream_cut".into())));
        assert_eq!(get(&s, "llm.partial"), Some(&AttrValue::Bool(true)));
    }

    #[test]
    fn no_model_gives_operation_only_name_and_n_of_one_is_omitted() {
        let mut o = base();
        o.request.model = None;
        o.request.choice_count = Some(1);
        let s = build_span(&o, &trace(), [3; 8], 0, &SpanOptions::default());
        assert_eq!(s.name, "chat");
        assert_eq!(get(&s, "gen_ai.request.choice.count"), None);
    }

    /// Masks the word "secret" and counts it; drops any field containing "DROP".
    struct FakeRedactor;
    impl Redact for FakeRedactor {
        fn redact(&self, text: &str, counts: &mut Vec<(String, u32)>) -> Option<String> {
            if text.contains("DROP") {
                return None;
            }
            let n = text.matches("secret").count() as u32;
            if n > 0 {
                counts.push(("word".into(), n));
            }
            Some(text.replace("secret", "[WORD]"))
        }

        fn covers_user_id(&self) -> bool {
            true
        }
    }

    fn with_content(mode: CaptureMode) -> Observation {
        use crate::content::{input_content, OutputContent};
        use crate::provider::Api;
        let mut o = base();
        o.capture = mode;
        o.input = Some(input_content(
            Api::OpenAiChat,
            br#"{"messages":[{"role":"system","content":"be nice"},{"role":"user","content":"my secret is 42"}]}"#,
        ));
        let mut out = OutputContent::new(1 << 10);
        out.push_text(0, &"answer ".repeat(100));
        o.output = Some(out);
        o.response.finish_reasons = vec!["stop".into()];
        o.attribution = vec![
            ("user.id".into(), "alice-secret".into()),
            ("session.id".into(), "s-1".into()),
        ];
        o
    }

    #[test]
    fn full_capture_is_redacted_then_truncated_with_a_marker() {
        let options = SpanOptions {
            max_content_bytes: 200,
            redactor: Some(&FakeRedactor),
            ..Default::default()
        };
        let s = build_span(&with_content(CaptureMode::Full), &trace(), [3; 8], 0, &options);
        let input = match get(&s, "gen_ai.input.messages") {
            Some(AttrValue::Str(v)) => v.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            input,
            r#"[{"parts":[{"content":"be nice","type":"text"}],"role":"system"},{"parts":[{"content":"my [WORD] is 42","type":"text"}],"role":"user"}]"#
        );
        let output = match get(&s, "gen_ai.output.messages") {
            Some(AttrValue::Str(v)) => v.clone(),
            other => panic!("{other:?}"),
        };
        assert!(output.len() <= 200 && output.ends_with("…[truncated]"), "{output}");
        assert_eq!(
            get(&s, "llm.redactions.word"),
            Some(&AttrValue::Int(2)),
            "prompt and user id"
        );
        assert_eq!(get(&s, "user.id"), Some(&AttrValue::Str("alice-[WORD]".into())));
        assert_eq!(get(&s, "gen_ai.conversation.id"), Some(&AttrValue::Str("s-1".into())));
        assert_eq!(get(&s, "session.id"), Some(&AttrValue::Str("s-1".into())));
    }

    #[test]
    fn metadata_capture_keeps_shape_only_and_off_emits_nothing() {
        let s = build_span(
            &with_content(CaptureMode::Metadata),
            &trace(),
            [3; 8],
            0,
            &SpanOptions::default(),
        );
        assert_eq!(
            get(&s, "gen_ai.input.messages"),
            Some(&AttrValue::Str(
                r#"[{"parts":[{"content":"[7 chars]","type":"text"}],"role":"system"},{"parts":[{"content":"[15 chars]","type":"text"}],"role":"user"}]"#.into()
            ))
        );
        let s = build_span(
            &with_content(CaptureMode::Off),
            &trace(),
            [3; 8],
            0,
            &SpanOptions::default(),
        );
        assert!(s
            .attributes
            .iter()
            .all(|(k, _)| !k.starts_with("gen_ai.input") && !k.starts_with("gen_ai.output")));
    }

    #[test]
    fn a_dropped_field_is_not_exported() {
        let mut o = with_content(CaptureMode::Full);
        o.input = Some(crate::content::input_content(
            crate::provider::Api::OpenAiChat,
            br#"{"messages":[{"role":"user","content":"DROP me"}]}"#,
        ));
        let options = SpanOptions {
            redactor: Some(&FakeRedactor),
            ..Default::default()
        };
        let s = build_span(&o, &trace(), [3; 8], 0, &options);
        assert_eq!(get(&s, "gen_ai.input.messages"), None);
        assert!(get(&s, "gen_ai.output.messages").is_some());
    }

    #[test]
    fn openinference_dialect_alone_and_latest_profile_names() {
        let mut o = with_content(CaptureMode::Full);
        o.provider = "azure.ai.openai".into();
        o.usage = Usage {
            input_tokens: Some(10),
            output_tokens: Some(5),
            cache_creation_tokens: Some(2),
            ..Default::default()
        };
        let options = SpanOptions {
            gen_ai: false,
            openinference: true,
            ..Default::default()
        };
        let s = build_span(&o, &trace(), [3; 8], 0, &options);
        assert_eq!(get(&s, "openinference.span.kind"), Some(&AttrValue::Str("LLM".into())));
        assert_eq!(get(&s, "llm.system"), Some(&AttrValue::Str("openai".into())));
        assert_eq!(get(&s, "llm.provider"), Some(&AttrValue::Str("azure".into())));
        assert_eq!(get(&s, "llm.token_count.total"), Some(&AttrValue::Int(15)));
        assert_eq!(
            get(&s, "llm.input_messages.1.message.content"),
            Some(&AttrValue::Str("my secret is 42".into()))
        );
        assert_eq!(
            get(&s, "llm.output_messages.0.message.role"),
            Some(&AttrValue::Str("assistant".into()))
        );
        assert!(
            s.attributes.iter().all(|(k, _)| !k.starts_with("gen_ai.")),
            "gen_ai dialect off"
        );

        let latest = SpanOptions {
            semconv: Semconv::Latest,
            ..Default::default()
        };
        let s = build_span(&o, &trace(), [3; 8], 0, &latest);
        assert_eq!(
            get(&s, "gen_ai.usage.cache_write.input_tokens"),
            Some(&AttrValue::Int(2))
        );
        assert_eq!(get(&s, "gen_ai.usage.cache_creation.input_tokens"), None);
        let mut cut = base();
        cut.request.stream = true;
        cut.partial = true;
        let s = build_span(&cut, &trace(), [3; 8], 0, &latest);
        assert_eq!(
            get(&s, "gen_ai.response.finish_reasons"),
            Some(&AttrValue::StrArray(vec!["error".into()]))
        );
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }
}
