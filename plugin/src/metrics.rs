//! Names of the Envoy stats the filter defines (Envoy prefixes them with `wasmcustom.` internally and shows them
//! without that prefix in `/stats` and `/stats/prometheus`).

/// LLM calls recognised by the filter.
pub const REQUESTS: &str = "llm_trace.requests";
/// Spans finished and offered to the export queue.
pub const SPANS_CREATED: &str = "llm_trace.spans_created";
/// Spans the collector accepted.
pub const SPANS_EXPORTED: &str = "llm_trace.spans_exported";
/// Spans the collector refused in a partial success.
pub const SPANS_REJECTED: &str = "llm_trace.spans_rejected";
/// Export calls that were retries of a failed batch.
pub const EXPORT_RETRIES: &str = "llm_trace.export_retries";
/// Spans dropped because the export queue was full.
pub const SPANS_DROPPED_QUEUE_FULL: &str = "llm_trace.spans_dropped_queue_full";
/// Spans lost because their export call failed.
pub const SPANS_DROPPED_EXPORT_FAILED: &str = "llm_trace.spans_dropped_export_failed";
/// Export calls made, and those that failed (non-2xx, timeout, reset, refused by the host).
pub const EXPORT_REQUESTS: &str = "llm_trace.export_requests";
pub const EXPORT_FAILURES: &str = "llm_trace.export_failures";
/// Bytes of encoded spans waiting in this worker's queue (gauge).
pub const QUEUE_BYTES: &str = "llm_trace.queue_bytes";
/// Exchanges cut before the response ended (client abort, upstream reset, timeout).
pub const PARTIAL_EXCHANGES: &str = "llm_trace.partial_exchanges";
/// Response bodies the filter could not read (unsupported or corrupt encoding, over the decode cap).
pub const UNREADABLE_BODIES: &str = "llm_trace.unreadable_bodies";
/// SSE events skipped because they exceeded `limits.max_sse_event_bytes`.
pub const OVERSIZED_EVENTS: &str = "llm_trace.oversized_sse_events";
/// Spans not exported because sampling dropped them (their calls still count in every metric below).
pub const SPANS_SAMPLED_OUT: &str = "llm_trace.spans_sampled_out";

use crate::observation::Observation;
use crate::pricing::CostOutcome;

/// Kind of an Envoy stat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Histogram,
}

/// One value to record for a call, on a stat whose name carries its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub name: String,
    pub kind: Kind,
    pub value: u64,
}

/// Stat names carry their dimensions as `.<label>.<value>` segments after the metric, which Envoy's
/// `stats_tags` (see `envoy/stats_tags.yaml`) turn into Prometheus labels:
/// `llm.tokens_input.provider.openai.model.gpt-4o.op.chat` → `llm_tokens_input{provider="openai",model="gpt-4o",op="chat"}`.
/// These are the `.provider.<p>.model.<m>.op.<o>` segments of one call's stat names, computed once per call.
fn call_labels(obs: &Observation) -> String {
    let model = obs
        .response
        .model
        .as_deref()
        .or(obs.request.model.as_deref())
        .unwrap_or("unknown");
    format!(
        ".provider.{}.model.{}.op.{}",
        sanitize(&obs.provider),
        sanitize(model),
        sanitize(obs.operation)
    )
}

/// Dots separate name segments and Prometheus allows few characters: keep `[A-Za-z0-9_-]`, map the rest to `_`.
pub fn sanitize(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    if cleaned.is_empty() {
        "unknown".to_string()
    } else {
        cleaned
    }
}

/// Outcome label: `ok`, `error` (provider or HTTP error), or `cut` (the exchange was cut).
pub fn status_class(obs: &Observation) -> &'static str {
    if obs.partial {
        "cut"
    } else if obs.error.is_some() || obs.http_status.is_some_and(|s| s >= 400) {
        "error"
    } else {
        "ok"
    }
}

/// Everything to record for one finished call, sampled or not. Cost is counted in integer micro-units of
/// `pricing.currency` (micro-USD unless configured), each call rounded to the nearest unit: the rounding is
/// unbiased, so sums over many calls stay within a fraction of a micro-unit per call of the exact figure.
pub fn recordings(obs: &Observation) -> Vec<Recording> {
    let labels = call_labels(obs);
    let mut out = vec![Recording {
        name: format!("llm.requests{labels}.status.{}", status_class(obs)),
        kind: Kind::Counter,
        value: 1,
    }];
    let u = &obs.usage;
    let output = if u.is_reported() {
        u.output_tokens
    } else {
        Some(obs.estimated_output_tokens())
    };
    for (metric, value) in [
        ("tokens_input", u.input_tokens),
        ("tokens_output", output),
        ("tokens_cache_read", u.cache_read_tokens),
        ("tokens_reasoning", u.reasoning_tokens),
        ("cost_micro_usd", obs.cost.total_micros()),
        (
            "unpriced_calls",
            matches!(obs.cost, CostOutcome::Unpriced { .. }).then_some(1),
        ),
    ] {
        if let Some(v) = value.filter(|v| *v > 0) {
            out.push(Recording {
                name: format!("llm.{metric}{labels}"),
                kind: Kind::Counter,
                value: v,
            });
        }
    }
    let t = &obs.timing;
    let ms = |end: Option<u64>| end.map(|e| e.saturating_sub(t.start_ns) / 1_000_000);
    if let Some(d) = ms(t.end_ns) {
        out.push(Recording {
            name: format!("llm.duration_ms{labels}"),
            kind: Kind::Histogram,
            value: d,
        });
    }
    if obs.request.stream {
        if let Some(ttft) = ms(t.first_token_ns) {
            out.push(Recording {
                name: format!("llm.ttft_ms{labels}"),
                kind: Kind::Histogram,
                value: ttft,
            });
        }
    }
    out
}

/// A failed export call, by the collector's answer: `llm_trace.export_errors.status.503`,
/// `llm_trace.export_errors.status.none` (no answer: timeout, reset, no healthy collector),
/// `llm_trace.export_errors.grpc_status.14`. `None` for a success (HTTP 2xx, gRPC 0).
pub fn export_error(code: Option<u32>, kind: &str) -> Option<Recording> {
    let label = match (kind, code) {
        ("status", Some(200..=299)) | ("grpc_status", Some(0)) => return None,
        (_, Some(code)) => code.to_string(),
        (_, None) => "none".to_string(),
    };
    Some(Recording {
        name: format!("llm_trace.export_errors.{kind}.{label}"),
        kind: Kind::Counter,
        value: 1,
    })
}

/// Values redacted, by detector (counts only): from the exported span (`llm_trace.redactions.email`) and from the
/// request forwarded upstream (`llm_trace.request_redactions.card`).
pub fn redaction_recordings(span: Option<&crate::span::SpanRecord>, obs: &Observation) -> Vec<Recording> {
    let prefix = format!("{}.", crate::attributes::LLM_REDACTIONS);
    let exported = span.into_iter().flat_map(|s| &s.attributes).filter_map(|(key, value)| {
        let detector = key.strip_prefix(prefix.as_str())?;
        match value {
            crate::span::AttrValue::Int(n) => Some((format!("llm_trace.redactions.{detector}"), *n as u64)),
            _ => None,
        }
    });
    let forwarded = obs
        .request_redactions
        .iter()
        .map(|(detector, n)| (format!("llm_trace.request_redactions.{detector}"), u64::from(*n)));
    exported
        .chain(forwarded)
        .map(|(name, value)| Recording {
            name,
            kind: Kind::Counter,
            value,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Usage;

    #[test]
    fn names_carry_sanitized_labels_and_every_call_counts() {
        let mut o = Observation {
            provider: "aws.bedrock".into(),
            operation: "chat",
            ..Default::default()
        };
        o.request.model = Some("us.anthropic.claude-3-7-sonnet-20250219-v1:0".into());
        o.request.stream = true;
        o.http_status = Some(200);
        o.usage = Usage {
            input_tokens: Some(12),
            output_tokens: Some(7),
            cache_read_tokens: Some(0),
            ..Default::default()
        };
        o.timing.start_ns = 1_000_000;
        o.timing.first_token_ns = Some(251_000_000);
        o.timing.end_ns = Some(1_001_000_000);
        o.cost = CostOutcome::Priced(crate::pricing::Priced {
            cost: crate::pricing::Cost {
                input: 1_233_600_000,
                ..Default::default()
            },
            currency: "USD".into(),
            source: crate::pricing::PriceSource::Config,
            priced_model: "x".into(),
            estimated: false,
            tier: None,
        });
        let r = recordings(&o);
        let names: Vec<(&str, u64)> = r.iter().map(|x| (x.name.as_str(), x.value)).collect();
        assert_eq!(
            names,
            vec![
                ("llm.requests.provider.aws_bedrock.model.us_anthropic_claude-3-7-sonnet-20250219-v1_0.op.chat.status.ok", 1),
                ("llm.tokens_input.provider.aws_bedrock.model.us_anthropic_claude-3-7-sonnet-20250219-v1_0.op.chat", 12),
                ("llm.tokens_output.provider.aws_bedrock.model.us_anthropic_claude-3-7-sonnet-20250219-v1_0.op.chat", 7),
                ("llm.cost_micro_usd.provider.aws_bedrock.model.us_anthropic_claude-3-7-sonnet-20250219-v1_0.op.chat", 1234),
                ("llm.duration_ms.provider.aws_bedrock.model.us_anthropic_claude-3-7-sonnet-20250219-v1_0.op.chat", 1000),
                ("llm.ttft_ms.provider.aws_bedrock.model.us_anthropic_claude-3-7-sonnet-20250219-v1_0.op.chat", 250),
            ]
        );
        assert_eq!(
            export_error(Some(503), "status").map(|r| r.name).as_deref(),
            Some("llm_trace.export_errors.status.503")
        );
        assert_eq!(
            export_error(None, "status").map(|r| r.name).as_deref(),
            Some("llm_trace.export_errors.status.none")
        );
        assert_eq!(export_error(Some(200), "status"), None);
        assert_eq!(export_error(Some(0), "grpc_status"), None);
        o.cost = CostOutcome::Unpriced { model: "x".into() };
        assert!(recordings(&o)
            .iter()
            .any(|r| r.name.starts_with("llm.unpriced_calls.provider.aws_bedrock.") && r.value == 1));
        o.partial = true;
        assert_eq!(status_class(&o), "cut");
        assert_eq!(sanitize(""), "unknown");
    }
}
