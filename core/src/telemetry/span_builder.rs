//! Builds the span of one LLM call from its [`Observation`]: the dialects' attributes ([`super::gen_ai`],
//! [`super::openinference`]), content (redacted, then truncated: [`super::content`]), and the tracer's own `llm.*`
//! facts (partial, truncation, attribution, redaction counts, rate limits, the error).

use super::attributes as attr;
use super::gen_ai::{content_attributes, gen_ai_attributes};
use super::openinference::{openinference_attributes, openinference_events};
use super::retrieval::{retrieval_attributes, span_name};
use super::span::{AttrValue, AttributeList, SpanOptions, SpanRecord, StatusCode};
use super::trace_context::TraceContext;
use crate::model::content::truncate_utf8;
use crate::model::observation::{Observation, RateLimitFigure};
use std::sync::Arc;

/// Builds the span of one LLM call.
///
/// `start_unix_ns` is the wall-clock start; all other instants in `obs.timing` are monotonic and only their
/// differences are used, so a wall-clock step during the call cannot produce a negative duration.
pub(crate) fn build_span(
    obs: &Observation,
    trace: &TraceContext,
    span_id: [u8; 8],
    start_unix_ns: u64,
    options: &SpanOptions<'_>,
) -> BuiltSpan {
    let t = &obs.timing;
    let end_mono = t.end_ns.unwrap_or(t.start_ns);
    let end_unix_ns = start_unix_ns.saturating_add(end_mono.saturating_sub(t.start_ns));
    let name = match (&obs.retrieval, &obs.request.model) {
        (Some(r), _) => span_name(r),
        (None, Some(model)) => {
            let mut name = String::with_capacity(obs.operation.len() + 1 + model.len());
            name.push_str(obs.operation);
            name.push(' ');
            name.push_str(model);
            name
        }
        (None, None) => obs.operation.to_string(),
    };

    // Room for a chat call's attributes with capture off (about 40), so the list is not regrown on the way.
    let mut a = AttributeList(Vec::with_capacity(48));
    let mut redactions = Vec::new();
    if let Some(r) = options.redactor {
        r.begin_call();
    }
    if let Some(r) = &obs.retrieval {
        retrieval_attributes(&mut a, obs, r, options, &mut redactions);
    } else {
        if options.gen_ai {
            gen_ai_attributes(&mut a, obs, options);
        }
        if options.openinference {
            openinference_attributes(&mut a, obs, options, &mut redactions);
        }
        content_attributes(&mut a, obs, options, &mut redactions);
    }
    a.int(attr::HTTP_RESPONSE_STATUS_CODE, obs.http_status.map(i64::from));
    if obs.partial {
        a.bool(attr::LLM_PARTIAL, true);
    }
    if obs.downstream_closed_early {
        a.bool(attr::LLM_DOWNSTREAM_CLOSED_EARLY, true);
    }
    a.str(attr::LLM_RESPONSE_UNREADABLE, obs.unreadable.as_deref());
    if obs.decode_errors > 0 {
        a.uint(attr::LLM_DECODE_ERRORS, Some(u64::from(obs.decode_errors)));
        a.str(attr::LLM_DECODE_ERROR, obs.decode_error);
    }
    if obs.unknown_events > 0 {
        a.uint(attr::LLM_STREAM_UNKNOWN_EVENTS, Some(u64::from(obs.unknown_events)));
    }
    if obs.truncated_bytes > 0 {
        a.uint(attr::LLM_BODY_TRUNCATED, Some(obs.truncated_bytes));
    }
    for (attribute, value) in &obs.attribution {
        let value = match options.redactor {
            Some(r) if r.covers_identity() => r.redact(value, &mut redactions),
            _ => Some(value.clone()),
        };
        if let Some(v) = value {
            if attribute == attr::SESSION_ID && options.gen_ai {
                a.str(attr::GEN_AI_CONVERSATION_ID, Some(&v));
            }
            a.owned(attribute.clone(), AttrValue::Str(v));
        }
    }
    for (detector, count) in &obs.request_redactions {
        a.owned(
            attr::dotted(attr::LLM_REQUEST_REDACTIONS, detector),
            AttrValue::Int(i64::from(*count)),
        );
    }
    a.str(attr::LLM_REQUEST_REDACTION_SKIPPED, obs.request_redaction_skipped);
    for (field, figure) in &obs.rate_limits {
        let attribute = attr::rate_limit(*field);
        match figure {
            RateLimitFigure::Count(n) => a.int(attribute, Some(*n)),
            RateLimitFigure::Text(t) => a.str(attribute, Some(t)),
        }
    }
    a.str(
        attr::LLM_REQUEST_ACCEPT_ENCODING_NARROWED,
        obs.accept_encoding_narrowed.as_deref(),
    );

    let error_type = obs.outcome.error_type.as_deref();
    let mut status_message = String::new();
    if let Some(error_type) = error_type {
        a.str(attr::ERROR_TYPE, Some(error_type));
        if let Some(message) = obs.error.as_ref().and_then(|e| e.message.as_deref()) {
            let message = match options.redactor {
                Some(r) => r.redact(message, &mut redactions).unwrap_or_default(),
                None => message.to_string(),
            };
            status_message = truncate_utf8(&message, 1024).to_string();
            a.str(attr::LLM_ERROR_MESSAGE, Some(&status_message));
        }
    }

    // One attribute per detector, summed over every field it touched, by name.
    let totals = by_detector(redactions);
    for (detector, count) in &totals {
        a.owned(
            attr::dotted(attr::LLM_REDACTIONS, detector),
            AttrValue::Int(i64::from(*count)),
        );
    }
    let span = SpanRecord {
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
        events: if options.openinference {
            openinference_events(obs, start_unix_ns)
        } else {
            Vec::new()
        },
        links: Vec::new(),
    };
    BuiltSpan {
        span,
        redactions: totals,
    }
}

/// Counts per detector name, summed and sorted by name (every redacted field adds to one list, so there are few).
fn by_detector(mut counts: Vec<(Arc<str>, u32)>) -> Vec<(Arc<str>, u32)> {
    counts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    counts.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 = kept.1.saturating_add(later.1);
        }
        same
    });
    counts
}

/// A built span and what redaction removed from it, by detector (counts only, for the metrics).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BuiltSpan {
    /// The span, ready to encode.
    pub(crate) span: SpanRecord,
    /// Values redacted from the span's attributes, per detector, in name order.
    pub(crate) redactions: Vec<(Arc<str>, u32)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::content::CaptureMode;
    use crate::model::observation::{ErrorInfo, Usage};
    use crate::policy::redaction::Redact;
    use crate::telemetry::span::Semconv;

    /// The span of a call as the tracer builds it when the call finishes (its outcome concluded).
    fn span_of(
        o: &Observation,
        trace: &TraceContext,
        id: [u8; 8],
        start: u64,
        options: &SpanOptions<'_>,
    ) -> SpanRecord {
        let mut o = o.clone();
        o.conclude();
        build_span(&o, trace, id, start, options).span
    }

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
        let s = span_of(&o, &trace(), [3; 8], 1_700_000_000_000_000_000, &SpanOptions::default());
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
        assert_eq!(
            get(&s, "llm.usage.source"),
            Some(&AttrValue::Str("stream_chunk".into()))
        );
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
        let s = span_of(&o, &trace(), [3; 8], 0, &SpanOptions::default());
        assert_eq!((s.status, s.status_message.as_str()), (StatusCode::Error, "slow down"));
        assert_eq!(
            get(&s, "error.type"),
            Some(&AttrValue::Str("rate_limit_exceeded".into()))
        );

        let mut o = base();
        o.http_status = Some(503);
        assert_eq!(
            get(&span_of(&o, &trace(), [3; 8], 0, &SpanOptions::default()), "error.type"),
            Some(&AttrValue::Str("503".into()))
        );

        let mut o = base();
        o.request.stream = true;
        let s = span_of(&o, &trace(), [3; 8], 0, &SpanOptions::default());
        assert_eq!(get(&s, "error.type"), Some(&AttrValue::Str("stream_incomplete".into())));

        o.partial = true;
        let s = span_of(&o, &trace(), [3; 8], 0, &SpanOptions::default());
        assert_eq!(get(&s, "error.type"), Some(&AttrValue::Str("stream_cut".into())));
        assert_eq!(get(&s, "llm.partial"), Some(&AttrValue::Bool(true)));
    }

    #[test]
    fn no_model_gives_operation_only_name_and_n_of_one_is_omitted() {
        let mut o = base();
        o.request.model = None;
        o.request.choice_count = Some(1);
        let s = span_of(&o, &trace(), [3; 8], 0, &SpanOptions::default());
        assert_eq!(s.name, "chat");
        assert_eq!(get(&s, "gen_ai.request.choice.count"), None);
    }

    /// Masks the word "secret" and counts it; drops any field containing "DROP".
    struct FakeRedactor;
    impl Redact for FakeRedactor {
        fn redact(&self, text: &str, counts: &mut Vec<(Arc<str>, u32)>) -> Option<String> {
            if text.contains("DROP") {
                return None;
            }
            let n = text.matches("secret").count() as u32;
            if n > 0 {
                counts.push(("word".into(), n));
            }
            Some(text.replace("secret", "[WORD]"))
        }

        fn covers_identity(&self) -> bool {
            true
        }
    }

    fn with_content(mode: CaptureMode) -> Observation {
        use crate::model::content::OutputContent;
        use crate::provider::Api;
        let mut o = base();
        o.capture = mode;
        o.input = Some(Api::OpenAiChat.request_content(
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
        let s = span_of(&with_content(CaptureMode::Full), &trace(), [3; 8], 0, &options);
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
        // Cut inside the text, so the value stays JSON within the limit.
        assert!(output.len() <= 200, "{output}");
        let parsed: serde_json::Value = serde_json::from_str(&output).unwrap();
        let answer = parsed[0]["parts"][0]["content"].as_str().unwrap();
        assert!(
            answer.starts_with("answer answer") && answer.ends_with("…[truncated]"),
            "{answer}"
        );
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
        let s = span_of(
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
        let s = span_of(
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
        o.input = Some(
            crate::provider::Api::OpenAiChat.request_content(br#"{"messages":[{"role":"user","content":"DROP me"}]}"#),
        );
        let options = SpanOptions {
            redactor: Some(&FakeRedactor),
            ..Default::default()
        };
        let s = span_of(&o, &trace(), [3; 8], 0, &options);
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
        let s = span_of(&o, &trace(), [3; 8], 0, &options);
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
        let s = span_of(&o, &trace(), [3; 8], 0, &latest);
        assert_eq!(
            get(&s, "gen_ai.usage.cache_write.input_tokens"),
            Some(&AttrValue::Int(2))
        );
        assert_eq!(get(&s, "gen_ai.usage.cache_creation.input_tokens"), None);
        let mut cut = base();
        cut.request.stream = true;
        cut.partial = true;
        let s = span_of(&cut, &trace(), [3; 8], 0, &latest);
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
