//! What the tracer counts, whatever sampling decides: the fixed stats of the tracer itself ([`Stat`]) and the
//! per-call stats whose names carry their labels ([`recordings`]). Hosts turn [`MetricUpdate`]s into their own
//! metrics (Envoy stats for the proxy-wasm filter).

use crate::model::cost::CostOutcome;
use crate::model::observation::Observation;
use std::sync::Arc;

/// The tracer's own stats (Envoy prefixes them with `wasmcustom.` internally and shows them without that prefix in
/// `/stats` and `/stats/prometheus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// LLM calls and vector-store queries recognised by the tracer.
    Requests,
    /// Spans finished and offered to the export queue.
    SpansCreated,
    /// Spans the collector accepted.
    SpansExported,
    /// Spans the collector refused in a partial success.
    SpansRejected,
    /// Export calls that were retries of a failed batch.
    ExportRetries,
    /// Spans dropped because the export queue was full.
    SpansDroppedQueueFull,
    /// Spans lost because their export call failed.
    SpansDroppedExportFailed,
    /// Export calls made.
    ExportRequests,
    /// Export calls that failed (non-2xx, timeout, reset, refused by the host).
    ExportFailures,
    /// Bytes of encoded spans waiting in the export queues (a gauge every worker adds its own bytes to).
    QueueBytes,
    /// Exchanges cut before the response ended (client abort, upstream reset, timeout).
    PartialExchanges,
    /// Response bodies the tracer could not read (unsupported or corrupt encoding, over the decode cap).
    UnreadableBodies,
    /// SSE events skipped because they exceeded `limits.max_sse_event_bytes`.
    OversizedEvents,
    /// Spans not exported because sampling dropped them (their calls still count in every per-call stat).
    SpansSampledOut,
    /// Event-stream bodies whose decoding stopped at a corrupt or oversized frame.
    StreamFrameErrors,
    /// Calls counted under `model="other"` because the worker already records the most label sets it keeps.
    StatsOverflow,
    /// Calls an upstream refused after the tracer changed them (400 to an added `include_usage`, 411 to a body
    /// sent without `content-length`); each starts a back-off for that upstream on that worker.
    RewritesRejected,
    /// Requests whose held headers the host let go because their body did not come in time (the request went
    /// as sent).
    HeadersHoldTimeouts,
    /// Learnt vector-store facts (Chroma collection names, recent embeddings for the query join) forgotten to make
    /// room.
    RetrievalStateEvicted,
    /// Evaluation events (OTLP log records) offered to the log export queue.
    LogRecordsCreated,
    /// Log records the collector accepted.
    LogRecordsExported,
    /// Log records the collector refused in a partial success.
    LogRecordsRejected,
    /// Log records dropped because their queue was full.
    LogRecordsDroppedQueueFull,
    /// Log records lost because their export call failed.
    LogRecordsDroppedExportFailed,
    /// Bytes of encoded log records waiting in this worker's queue (a gauge).
    LogQueueBytes,
    /// Feedback accepted (202).
    FeedbackAccepted,
    /// Feedback refused (400, 403, 405, 408, 413, 503).
    FeedbackRejected,
    /// Judge calls made (handed to the host).
    JudgeCalls,
    /// Judge calls that produced a score.
    JudgeScored,
    /// Judge answers that were not the structured verdict.
    JudgeUnparsable,
    /// Judge calls without a usable answer (timeout, connection failure, error status, refused by the host).
    JudgeFailed,
    /// Calls the judge would have seen but its budget (or its waiting room) was spent.
    JudgeSkippedBudget,
    /// Input tokens the judge's own calls used.
    JudgeTokensInput,
    /// Output tokens the judge's own calls used.
    JudgeTokensOutput,
    /// What the judge's own calls cost, in micro-units of `pricing.currency`.
    JudgeCostMicroUsd,
    /// Annotations Phoenix accepted.
    PhoenixAnnotationsPosted,
    /// Annotations that did not reach Phoenix (an error answer, no answer, or too many waiting).
    PhoenixAnnotationsFailed,
}

impl Stat {
    /// Every stat, in a fixed order (hosts define them once, by index).
    pub const ALL: [Stat; 37] = [
        Stat::Requests,
        Stat::SpansCreated,
        Stat::SpansExported,
        Stat::SpansRejected,
        Stat::ExportRetries,
        Stat::SpansDroppedQueueFull,
        Stat::SpansDroppedExportFailed,
        Stat::ExportRequests,
        Stat::ExportFailures,
        Stat::QueueBytes,
        Stat::PartialExchanges,
        Stat::UnreadableBodies,
        Stat::OversizedEvents,
        Stat::SpansSampledOut,
        Stat::StreamFrameErrors,
        Stat::StatsOverflow,
        Stat::RewritesRejected,
        Stat::HeadersHoldTimeouts,
        Stat::RetrievalStateEvicted,
        Stat::LogRecordsCreated,
        Stat::LogRecordsExported,
        Stat::LogRecordsRejected,
        Stat::LogRecordsDroppedQueueFull,
        Stat::LogRecordsDroppedExportFailed,
        Stat::LogQueueBytes,
        Stat::FeedbackAccepted,
        Stat::FeedbackRejected,
        Stat::JudgeCalls,
        Stat::JudgeScored,
        Stat::JudgeUnparsable,
        Stat::JudgeFailed,
        Stat::JudgeSkippedBudget,
        Stat::JudgeTokensInput,
        Stat::JudgeTokensOutput,
        Stat::JudgeCostMicroUsd,
        Stat::PhoenixAnnotationsPosted,
        Stat::PhoenixAnnotationsFailed,
    ];

    /// The stat's name.
    pub fn name(self) -> &'static str {
        match self {
            Stat::Requests => "llm_trace.requests",
            Stat::SpansCreated => "llm_trace.spans_created",
            Stat::SpansExported => "llm_trace.spans_exported",
            Stat::SpansRejected => "llm_trace.spans_rejected",
            Stat::ExportRetries => "llm_trace.export_retries",
            Stat::SpansDroppedQueueFull => "llm_trace.spans_dropped_queue_full",
            Stat::SpansDroppedExportFailed => "llm_trace.spans_dropped_export_failed",
            Stat::ExportRequests => "llm_trace.export_requests",
            Stat::ExportFailures => "llm_trace.export_failures",
            Stat::QueueBytes => "llm_trace.queue_bytes",
            Stat::PartialExchanges => "llm_trace.partial_exchanges",
            Stat::UnreadableBodies => "llm_trace.unreadable_bodies",
            Stat::OversizedEvents => "llm_trace.oversized_sse_events",
            Stat::SpansSampledOut => "llm_trace.spans_sampled_out",
            Stat::StreamFrameErrors => "llm_trace.stream_frame_errors",
            Stat::StatsOverflow => "llm_trace.stats_overflow",
            Stat::RewritesRejected => "llm_trace.rewrites_rejected",
            Stat::HeadersHoldTimeouts => "llm_trace.headers_hold_timeouts",
            Stat::RetrievalStateEvicted => "llm_trace.retrieval_state_evicted",
            Stat::LogRecordsCreated => "llm_trace.log_records_created",
            Stat::LogRecordsExported => "llm_trace.log_records_exported",
            Stat::LogRecordsRejected => "llm_trace.log_records_rejected",
            Stat::LogRecordsDroppedQueueFull => "llm_trace.log_records_dropped_queue_full",
            Stat::LogRecordsDroppedExportFailed => "llm_trace.log_records_dropped_export_failed",
            Stat::LogQueueBytes => "llm_trace.log_queue_bytes",
            Stat::FeedbackAccepted => "llm_trace.feedback.accepted",
            Stat::FeedbackRejected => "llm_trace.feedback.rejected",
            Stat::JudgeCalls => "llm_trace.judge.calls",
            Stat::JudgeScored => "llm_trace.judge.scored",
            Stat::JudgeUnparsable => "llm_trace.judge.unparsable",
            Stat::JudgeFailed => "llm_trace.judge.failed",
            Stat::JudgeSkippedBudget => "llm_trace.judge.skipped_budget",
            Stat::JudgeTokensInput => "llm_trace.judge.tokens_input",
            Stat::JudgeTokensOutput => "llm_trace.judge.tokens_output",
            Stat::JudgeCostMicroUsd => "llm_trace.judge.cost_micro_usd",
            Stat::PhoenixAnnotationsPosted => "llm_trace.phoenix.annotations_posted",
            Stat::PhoenixAnnotationsFailed => "llm_trace.phoenix.annotations_failed",
        }
    }

    /// Its position in [`Stat::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Counter, or gauge for the queue size.
    pub fn kind(self) -> MetricKind {
        match self {
            Stat::QueueBytes | Stat::LogQueueBytes => MetricKind::Gauge,
            _ => MetricKind::Counter,
        }
    }
}

/// Kind of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up; updates are increments.
    Counter,
    /// A level shared by every worker: each adds and withdraws its own part, so the host's value is the sum.
    Gauge,
    /// A distribution; updates are samples.
    Histogram,
}

/// One value to record for a call, on a stat whose name carries its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The stat's name, labels included: shared, since the tracer keeps the names it uses on every call (a
    /// recording copies a pointer, not the name).
    pub name: Arc<str>,
    /// Counter or histogram.
    pub kind: MetricKind,
    /// The increment or the sample.
    pub value: u64,
    /// The tracer's number for this name, the same for every recording of that name on a worker: a host may keep
    /// what it defined for the name by slot (a vector index) instead of by name. `None` for names the tracer does
    /// not keep.
    pub slot: Option<u32>,
}

/// A metric update for the host to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricUpdate {
    /// Add to a counter of the tracer's own stats.
    Stat {
        /// Which stat.
        stat: Stat,
        /// The increment.
        value: u64,
    },
    /// Change a gauge of the tracer's own stats by a signed amount (Envoy: `increment_metric` with a negative
    /// offset). Gauges take deltas, not levels, so the figures of several workers (one VM each) add up instead of
    /// overwriting each other.
    GaugeDelta {
        /// Which stat.
        stat: Stat,
        /// The change.
        delta: i64,
    },
    /// A stat named with its labels (per-call figures, export errors, redactions).
    Named(Recording),
}

/// Stat names carry their dimensions as `.<label>.<value>` segments after the metric, which Envoy's
/// `stats_tags` (see `envoy/demo.yaml`) turn into Prometheus labels:
/// `llm.tokens_input.provider.openai.model.gpt-4o.op.chat` → `llm_tokens_input{provider="openai",model="gpt-4o",op="chat"}`.
/// These are the `.provider.<p>.model.<m>.op.<o>` segments of one call's stat names, computed once per call.
pub(crate) fn call_labels(obs: &Observation) -> String {
    format!(
        ".provider.{}.model.{}.op.{}",
        sanitize(&obs.provider),
        sanitize(obs.answering_model().unwrap_or("unknown")),
        sanitize(obs.operation)
    )
}

/// Dots separate name segments and Prometheus allows few characters: keep `[A-Za-z0-9_-]`, map the rest to `_`.
pub(crate) fn sanitize(value: &str) -> String {
    // By bytes: a character outside ASCII becomes one `_` at its first byte, its continuation bytes are skipped.
    let mut cleaned = String::with_capacity(value.len().min(64));
    let mut chars = 0;
    for b in value.bytes() {
        if b & 0xC0 == 0x80 {
            continue;
        }
        if chars == 64 {
            break;
        }
        chars += 1;
        cleaned.push(if b.is_ascii_alphanumeric() || b == b'-' {
            char::from(b)
        } else {
            '_'
        });
    }
    if cleaned.is_empty() {
        "unknown".to_string()
    } else {
        cleaned
    }
}

/// Outcome label: `ok`, `error` (the call failed), or `cut` (the exchange was cut).
pub(crate) fn status_class(obs: &Observation) -> &'static str {
    obs.outcome.status_class(obs.partial)
}

/// Everything to record for one finished call (its outcome concluded), sampled or not, under the labels of
/// [`call_labels`]. Cost is counted in integer micro-units of `pricing.currency` (micro-USD unless configured,
/// whatever the stat's name says), each call rounded to the nearest unit: the rounding is unbiased, so sums over
/// many calls stay within a fraction of a micro-unit per call of the exact figure.
#[cfg(test)]
pub(crate) fn recordings(obs: &Observation) -> Vec<Recording> {
    recordings_with_labels(obs, &call_labels(obs))
}

/// [`recordings`] under the given labels (the tracer substitutes `model="other"` past its cardinality cap).
pub(crate) fn recordings_with_labels(obs: &Observation, labels: &str) -> Vec<Recording> {
    recordings_named(obs, &CallStatNames::new(labels, None))
}

/// The per-call counters, in the order a call's recordings list them.
const CALL_COUNTERS: [&str; 6] = [
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_reasoning",
    "cost_micro_usd",
    "unpriced_calls",
];

/// The stat names of one label set, made once: the tracer keeps them per label set, so a call's recordings copy
/// names instead of formatting each, and carry slots a host can cache its stat ids by.
pub(crate) struct CallStatNames {
    /// `llm.requests<labels>.status.{ok,error,cut}`.
    requests: [Arc<str>; 3],
    /// `llm.<counter><labels>`, in [`CALL_COUNTERS`] order.
    counters: [Arc<str>; 6],
    duration_ms: Arc<str>,
    ttft_ms: Arc<str>,
    /// The slot of `requests[0]`; the others follow in field order (`None`: no slots).
    first_slot: Option<u32>,
}

impl CallStatNames {
    /// Slots one label set takes.
    pub(crate) const SLOTS: u32 = 11;

    /// The names under `labels`; with `first_slot`, they take [`CallStatNames::SLOTS`] slots from it.
    pub(crate) fn new(labels: &str, first_slot: Option<u32>) -> CallStatNames {
        CallStatNames {
            requests: ["ok", "error", "cut"].map(|class| format!("llm.requests{labels}.status.{class}").into()),
            counters: CALL_COUNTERS.map(|metric| format!("llm.{metric}{labels}").into()),
            duration_ms: format!("llm.duration_ms{labels}").into(),
            ttft_ms: format!("llm.ttft_ms{labels}").into(),
            first_slot,
        }
    }

    fn recording(&self, offset: u32, name: &Arc<str>, kind: MetricKind, value: u64) -> Recording {
        Recording {
            name: Arc::clone(name),
            kind,
            value,
            slot: self.first_slot.map(|s| s + offset),
        }
    }
}

/// Everything to record for one finished call (see [`recordings`]) under names made once per label set.
pub(crate) fn recordings_named(obs: &Observation, names: &CallStatNames) -> Vec<Recording> {
    let class = status_class(obs);
    let (offset, requests) = match class {
        "error" => (1, &names.requests[1]),
        "cut" => (2, &names.requests[2]),
        _ => (0, &names.requests[0]),
    };
    let mut out = Vec::with_capacity(8);
    out.push(names.recording(offset, requests, MetricKind::Counter, 1));
    let u = &obs.usage;
    let values = [
        u.input_tokens,
        obs.output_tokens(),
        u.cache_read_tokens,
        u.reasoning_tokens,
        obs.cost.total_micros(),
        matches!(obs.cost, CostOutcome::Unpriced { .. }).then_some(1),
    ];
    for (i, (name, value)) in names.counters.iter().zip(values).enumerate() {
        if let Some(v) = value.filter(|v| *v > 0) {
            out.push(names.recording(3 + i as u32, name, MetricKind::Counter, v));
        }
    }
    let t = &obs.timing;
    let ms = |end: Option<u64>| end.map(|e| e.saturating_sub(t.start_ns) / 1_000_000);
    if let Some(d) = ms(t.end_ns) {
        out.push(names.recording(9, &names.duration_ms, MetricKind::Histogram, d));
    }
    if obs.request.stream {
        if let Some(ttft) = ms(t.first_token_ns) {
            out.push(names.recording(10, &names.ttft_ms, MetricKind::Histogram, ttft));
        }
    }
    out
}

/// The `.store.<s>.collection.<c>` segments of a retrieval's stat names: the collection's name when known, else
/// the store's identifier (a Chroma collection id until its name is learnt), or `collection` when given (the
/// tracer's `other` past its cardinality cap).
pub(crate) fn retrieval_labels(obs: &Observation, collection: Option<&str>) -> String {
    let Some(r) = obs.retrieval.as_deref() else {
        return ".store.unknown.collection.unknown".to_string();
    };
    let collection = collection
        .or(r.collection_name.as_deref())
        .or(r.data_source_id.as_deref())
        .unwrap_or("unknown");
    format!(".store.{}.collection.{}", r.store.db_system(), sanitize(collection))
}

/// Everything to record for one finished retrieval (its outcome concluded), sampled or not: the call with its
/// outcome, its duration, and the documents it returned.
pub(crate) fn retrieval_recordings(obs: &Observation, labels: &str) -> Vec<Recording> {
    let mut out = vec![Recording {
        name: format!("llm.retrieval_requests{labels}.status.{}", status_class(obs)).into(),
        kind: MetricKind::Counter,
        value: 1,
        slot: None,
    }];
    let t = &obs.timing;
    if let Some(end) = t.end_ns {
        out.push(Recording {
            name: format!("llm.retrieval_duration_ms{labels}").into(),
            kind: MetricKind::Histogram,
            value: end.saturating_sub(t.start_ns) / 1_000_000,
            slot: None,
        });
    }
    if let Some(rows) = obs
        .retrieval
        .as_deref()
        .and_then(|r| r.returned_rows)
        .filter(|n| *n > 0)
    {
        out.push(Recording {
            name: format!("llm.retrieval_documents{labels}").into(),
            kind: MetricKind::Counter,
            value: rows,
            slot: None,
        });
    }
    out
}
/// One evaluation's `llm.quality_score` sample (the score × 100) under the evaluated call's labels and the
/// evaluation's name: `llm.quality_score.provider.openai.model.gpt-4o.op.chat.evaluation.user_feedback`.
pub(crate) fn quality_score(call_labels: &str, evaluation: &str, percent: u64) -> Recording {
    Recording {
        name: format!("llm.quality_score{call_labels}.evaluation.{}", sanitize(evaluation)).into(),
        kind: MetricKind::Histogram,
        value: percent,
        slot: None,
    }
}

/// Labels of an evaluation whose call the worker does not know (traced elsewhere, or long ago).
pub(crate) const UNKNOWN_CALL_LABELS: &str = ".provider.unknown.model.unknown.op.unknown";

/// A failed export call, by the collector's answer: `llm_trace.export_errors.status.503`,
/// `llm_trace.export_errors.status.none` (no answer: timeout, reset, no healthy collector),
/// `llm_trace.export_errors.grpc_status.14`. `None` for a success (HTTP 2xx, gRPC 0).
pub(crate) fn export_error(code: Option<u32>, kind: &str) -> Option<Recording> {
    let label = match (kind, code) {
        ("status", Some(200..=299)) | ("grpc_status", Some(0)) => return None,
        (_, Some(code)) => code.to_string(),
        (_, None) => "none".to_string(),
    };
    Some(Recording {
        name: format!("llm_trace.export_errors.{kind}.{label}").into(),
        kind: MetricKind::Counter,
        value: 1,
        slot: None,
    })
}

/// Values redacted, by detector (counts only): from the exported span (`llm_trace.redactions.email`, as the span
/// builder counted them) and from the request forwarded upstream (`llm_trace.request_redactions.card`), under
/// names made once per detector and slots a host can cache its stat ids by (`names`, which takes new slots from
/// `next_slot`).
pub(crate) fn redaction_recordings(
    exported: &[(Arc<str>, u32)],
    obs: &Observation,
    names: &mut RedactionStatNames,
    next_slot: &mut u32,
) -> Vec<Recording> {
    let mut out = Vec::with_capacity(exported.len() + obs.request_redactions.len());
    for (side, counts) in [
        (Side::Exported, exported),
        (Side::Forwarded, &obs.request_redactions[..]),
    ] {
        for (detector, n) in counts {
            let (name, slot) = names.get(side, detector, next_slot);
            out.push(Recording {
                name,
                kind: MetricKind::Counter,
                value: u64::from(*n),
                slot,
            });
        }
    }
    out
}

/// Which count of a detector a redaction stat is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// `llm_trace.redactions.<detector>`: removed from the exported telemetry.
    Exported,
    /// `llm_trace.request_redactions.<detector>`: removed from the request forwarded upstream.
    Forwarded,
}

impl Side {
    fn prefix(self) -> &'static str {
        match self {
            Side::Exported => "llm_trace.redactions",
            Side::Forwarded => "llm_trace.request_redactions",
        }
    }
}

/// The redaction stat names of one worker, made on first use and numbered with slots: a call dense with findings
/// records one per detector, and naming each afresh (then a host finding its stat by name) cost more than the
/// detector's scan. Bounded by [`RedactionStatNames::MAX`] (the configured detectors are fewer); past it, names
/// are made per recording without a slot.
#[derive(Default)]
pub(crate) struct RedactionStatNames {
    /// By side and detector name, in that order: found by binary search.
    known: Vec<(Side, String, Arc<str>, u32)>,
}

impl RedactionStatNames {
    /// The most names kept.
    pub(crate) const MAX: usize = 512;

    fn get(&mut self, side: Side, detector: &str, next_slot: &mut u32) -> (Arc<str>, Option<u32>) {
        let found = self
            .known
            .binary_search_by(|(s, d, _, _)| (*s as u8, d.as_str()).cmp(&(side as u8, detector)));
        match found {
            Ok(k) => {
                let (_, _, name, slot) = &self.known[k];
                (Arc::clone(name), Some(*slot))
            }
            Err(k) => {
                let name: Arc<str> = super::attributes::dotted(side.prefix(), detector).into();
                if self.known.len() >= Self::MAX {
                    return (name, None);
                }
                let slot = *next_slot;
                *next_slot = next_slot.saturating_add(1);
                self.known
                    .insert(k, (side, detector.to_string(), Arc::clone(&name), slot));
                (name, Some(slot))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cost::{Cost, PriceSource, Priced};
    use crate::model::observation::Usage;

    #[test]
    fn names_carry_sanitized_labels_and_every_call_counts() {
        let mut o = Observation {
            provider: "aws.bedrock".into(),
            operation: "chat",
            ..Default::default()
        };
        o.request.model = Some("us.anthropic.claude-3-7-sonnet-20250219-v1:0".into());
        o.request.stream = true;
        o.response_complete = true;
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
        o.cost = CostOutcome::Priced(Priced {
            cost: Cost {
                input: 1_233_600_000,
                ..Default::default()
            },
            currency: "USD".into(),
            source: PriceSource::Config,
            priced_model: "x".into(),
            estimated: false,
            tier: None,
        });
        o.conclude();
        let r = recordings(&o);
        let names: Vec<(&str, u64)> = r.iter().map(|x| (&*x.name, x.value)).collect();
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
            export_error(Some(503), "status").map(|r| r.name.to_string()).as_deref(),
            Some("llm_trace.export_errors.status.503")
        );
        assert_eq!(
            export_error(None, "status").map(|r| r.name.to_string()).as_deref(),
            Some("llm_trace.export_errors.status.none")
        );
        assert_eq!(export_error(Some(200), "status"), None);
        assert_eq!(export_error(Some(0), "grpc_status"), None);
        o.cost = CostOutcome::Unpriced { model: "x".into() };
        assert!(recordings(&o)
            .iter()
            .any(|r| r.name.starts_with("llm.unpriced_calls.provider.aws_bedrock.") && r.value == 1));
        o.partial = true;
        o.conclude();
        assert_eq!(status_class(&o), "cut");
        assert_eq!(sanitize(""), "unknown");
    }

    /// One answer to "did it fail": a stream that ended without its terminal event is an ERROR span, so its
    /// metrics count it as an error too (they used to say `ok`).
    #[test]
    fn a_stream_without_its_terminal_event_counts_as_an_error() {
        let mut o = Observation {
            provider: "openai".into(),
            operation: "chat",
            ..Default::default()
        };
        o.request.stream = true;
        o.http_status = Some(200);
        o.conclude();
        assert_eq!(o.outcome.error_type.as_deref(), Some("stream_incomplete"));
        assert_eq!(status_class(&o), "error");
        let requests = &recordings(&o)[0];
        assert_eq!(
            &*requests.name,
            "llm.requests.provider.openai.model.unknown.op.chat.status.error"
        );
    }
}
