//! One worker's tracer: starts a call (detection, attribution, capture, the request edits), finishes it (price,
//! sample, build, encode, queue, count), and exports batches off the request path. Hosts own one per worker (per
//! instance for a wasi:http component) and apply what it returns.

use crate::config::Config;
use crate::exchange::{Exchange, RequestStart, StreamEnd};
use crate::host_api::{Clock, Effects, LogLevel, LogLine, RequestEdits, RequestView};
use crate::model::content::CaptureMode;
use crate::policy::capture::ROUTE_CAPTURE_PROPERTY;
use crate::policy::redaction::Redact;
use crate::policy::sampling;
use crate::provider::detect::by_path;
use crate::telemetry::attributes as attr;
use crate::telemetry::export::queue::{ExportOutcome, ExportQueue, ExportStats};
use crate::telemetry::export::{request_for, CollectorAnswer, ExportRequest};
use crate::telemetry::metrics::{self, MetricUpdate, Stat};
use crate::telemetry::otlp::{encode_span, ExportEnvelope};
use crate::telemetry::span::{AttrValue, SpanOptions};
use crate::telemetry::span_builder::{build_span, BuiltSpan};
use crate::telemetry::trace_context::{b3_to_traceparent, IdGenerator};
use crate::wire::content_encoding::readable_accept_encoding;
use std::collections::HashSet;
use std::sync::Arc;

/// Distinct per-call label sets (provider, model, operation) a worker records; past this, new models count under
/// `model="other"` (a client sending random model names must not grow the host's stats without bound).
pub(crate) const MAX_LABEL_SETS: usize = 500;

/// Node properties that identify the proxy, as resource attributes (Istio puts the workload's name and namespace
/// in the node metadata).
const NODE_RESOURCE: [(&str, &[&str]); 6] = [
    ("service.instance.id", &["xds", "node", "id"]),
    ("host.name", &["xds", "node", "id"]),
    ("k8s.pod.name", &["xds", "node", "metadata", "NAME"]),
    ("k8s.namespace.name", &["xds", "node", "metadata", "NAMESPACE"]),
    ("k8s.workload.name", &["xds", "node", "metadata", "WORKLOAD_NAME"]),
    ("k8s.cluster.name", &["xds", "node", "metadata", "CLUSTER_ID"]),
];

/// One worker's tracer.
pub struct Tracer {
    config: Arc<Config>,
    ids: IdGenerator,
    queue: ExportQueue,
    envelope: ExportEnvelope,
    /// Export statistics already reported as metric updates.
    synced: ExportStats,
    export_failing: bool,
    queue_full_logged: bool,
    /// A wake-up of the exporter is pending (asked for, not yet delivered).
    wake_pending: bool,
    /// Per-call label sets seen, bounded by [`MAX_LABEL_SETS`].
    label_sets: HashSet<String>,
    stats_overflow_logged: bool,
    effects: Effects,
}

impl Tracer {
    /// A tracer for one worker. `seed` seeds trace ids and jitter (the host's entropy); `node_property` reads the
    /// host's node properties (identity for the exported resource), once.
    pub fn new(config: Config, seed: [u8; 32], node_property: &dyn Fn(&[&str]) -> Option<String>) -> Tracer {
        let mut ids = IdGenerator::from_seed(seed);
        let envelope = ExportEnvelope::new(
            &resource_attributes(&config, node_property),
            crate::SCOPE_NAME,
            crate::VERSION,
            attr::SCHEMA_URL_V1_41,
        );
        let queue = ExportQueue::new(config.exporter.policy(), ids.next_u64());
        let mut effects = Effects::default();
        effects.logs.push(LogLine {
            level: LogLevel::Info,
            message: format!(
                "llm-trace {}: exporting spans to {} every {} ms.",
                crate::VERSION,
                config.exporter.destination(),
                config.exporter.flush_interval_ms
            ),
        });
        Tracer {
            config: Arc::new(config),
            ids,
            queue,
            envelope,
            synced: ExportStats::default(),
            export_failing: false,
            queue_full_logged: false,
            wake_pending: false,
            label_sets: HashSet::new(),
            stats_overflow_logged: false,
            effects,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How often the host should run the export loop with `tick` set.
    pub fn tick_period_ms(&self) -> u64 {
        self.config.exporter.flush_interval_ms
    }

    /// A random 64-bit value from the tracer's generator (hosts name private resources with it).
    pub fn random_u64(&mut self) -> u64 {
        self.ids.next_u64()
    }

    /// What the host must apply now: metrics, log lines, an exporter wake-up. Drained.
    pub fn take_effects(&mut self) -> Effects {
        std::mem::take(&mut self.effects)
    }

    /// Starts tracing a request, from its headers. `None` lets non-LLM traffic pass untouched (after two header
    /// reads, three when overrides match on the host). `end_of_stream` means the request has no body.
    pub fn start(
        &mut self,
        request: &dyn RequestView,
        now: Clock,
        end_of_stream: bool,
    ) -> Option<(Exchange, RequestEdits)> {
        let config = Arc::clone(&self.config);
        let method = request.header(":method")?;
        let path = request.header(":path")?;
        let detection = &config.detection;
        let detected = by_path(&method, &path);
        if detected.is_none() && !detection.has_overrides() {
            return None;
        }
        let authority = request.header(":authority");
        let scheme = request.header(":scheme");
        let identity = detection.identify(detected, &method, &path, authority.as_deref(), scheme.as_deref())?;
        let traceparent = request.header("traceparent").or_else(|| {
            if !config.accept_b3 {
                return None;
            }
            b3_to_traceparent(
                request.header("b3").as_deref(),
                request.header("x-b3-traceid").as_deref(),
                request.header("x-b3-spanid").as_deref(),
                request.header("x-b3-sampled").as_deref(),
            )
        });
        let tracestate = request.header("tracestate");
        let attribution = config
            .attribution
            .resolve(&mut |name| request.header(name), &mut |path| request.property(path));
        let route_capture = request
            .property(&ROUTE_CAPTURE_PROPERTY)
            .and_then(|v| CaptureMode::parse(&v));
        let mut edits = RequestEdits::default();
        let mut accept_encoding_narrowed = None;
        let start = |narrowed| RequestStart {
            path: &path,
            traceparent: traceparent.as_deref(),
            tracestate: tracestate.as_deref(),
            attribution,
            route_capture,
            accept_encoding_narrowed: narrowed,
        };
        if config.narrow_accept_encoding {
            if let Some(accept) = request.header("accept-encoding") {
                if let Some(narrowed) = readable_accept_encoding(&accept) {
                    edits.set_headers.push(("accept-encoding", narrowed));
                    accept_encoding_narrowed = Some(accept);
                }
            }
        }
        let mut exchange = Exchange::new(
            Arc::clone(&config),
            identity,
            start(accept_encoding_narrowed),
            now,
            &mut self.ids,
        );
        self.count(Stat::Requests, 1);
        if config.inject_traceparent {
            edits.set_headers.push(("traceparent", exchange.traceparent()));
        }
        if end_of_stream {
            exchange.request_end();
            return Some((exchange, edits));
        }
        let content_length = request.header("content-length").and_then(|v| v.trim().parse().ok());
        if exchange.holds_request(content_length) {
            // The body may change size (injected option, redacted values), and headers leave before the body: drop
            // the length now (the upstream gets the body chunked). Pausing the headers instead would stall the body
            // callbacks on Envoys without `allow_on_headers_stop_iteration`.
            edits.remove_headers.push("content-length");
            edits.hold_body = true;
        }
        Some((exchange, edits))
    }

    /// Finishes a call: prices it, counts it (sampled or not), decides whether its span is kept, and queues the
    /// encoded span. The effects to apply wait in [`Tracer::take_effects`].
    pub fn finish(&mut self, exchange: Exchange, now: Clock, end: StreamEnd) {
        let Some(built) = self.close(exchange, now, end) else {
            return;
        };
        if !self.queue.push(encode_span(&built.span)) && !self.queue_full_logged {
            self.queue_full_logged = true;
            self.log(
                LogLevel::Warn,
                "llm-trace: export queue full; spans are dropped and counted in `llm_trace.spans_dropped_queue_full`."
                    .to_string(),
            );
        }
        self.sync_stats();
        if self.queue.batch_ready() && !self.wake_pending {
            self.wake_pending = true;
            self.effects.wake_exporter = true;
        }
    }

    /// Closes a call and counts it; its span when sampling keeps it.
    pub(crate) fn close(&mut self, mut exchange: Exchange, now: Clock, end: StreamEnd) -> Option<BuiltSpan> {
        let cut = !exchange.response_ended();
        let cut_reason = match end {
            StreamEnd::Logged { .. } | StreamEnd::Destroyed if !cut => None,
            StreamEnd::Logged { cut_reason } => Some(cut_reason.unwrap_or_else(|| "stream_cut".to_string())),
            StreamEnd::Destroyed => Some("stream_destroyed".to_string()),
        };
        self.count(Stat::PartialExchanges, u64::from(cut));
        exchange.conclude(now, cut_reason.as_deref());
        let config = Arc::clone(&self.config);
        let obs = &mut exchange.obs;
        self.count(Stat::UnreadableBodies, u64::from(obs.unreadable.is_some()));
        self.count(Stat::OversizedEvents, obs.oversized_events);
        self.count(Stat::StreamFrameErrors, u64::from(obs.stream_error.is_some()));
        obs.cost = config.pricing.price(obs);
        let trace = &exchange.trace;
        let parent_sampled = trace.parent_span_id.map(|_| trace.flags & 1 == 1);
        let decision = sampling::decide(
            &config.sampling,
            obs,
            &trace.trace_id,
            parent_sampled,
            obs.cost.total_units(),
        );
        let options = SpanOptions {
            semconv: config.semconv,
            gen_ai: config.gen_ai,
            openinference: config.openinference,
            max_content_bytes: config.capture.max_content_bytes,
            redactor: config
                .redaction
                .is_enabled()
                .then_some(&config.redaction as &dyn Redact),
        };
        let built = decision.keep.then(|| {
            let mut built = build_span(obs, trace, exchange.span_id, exchange.start_unix_ns, &options);
            built.span.attributes.push((
                attr::LLM_SAMPLING_RULE.into(),
                AttrValue::Str(decision.rule.to_string()),
            ));
            built
        });
        let labels = self.labels_for(obs);
        for recording in metrics::recordings_with_labels(obs, &labels) {
            self.effects.metrics.push(MetricUpdate::Named(recording));
        }
        let exported_redactions = built.as_ref().map_or(&[][..], |b| b.redactions.as_slice());
        for recording in metrics::redaction_recordings(exported_redactions, obs) {
            self.effects.metrics.push(MetricUpdate::Named(recording));
        }
        self.count(Stat::SpansCreated, 1);
        if built.is_none() {
            self.count(Stat::SpansSampledOut, 1);
        }
        built
    }

    /// The host delivered the wake-up asked for in [`Effects::wake_exporter`].
    pub fn exporter_woken(&mut self) {
        self.wake_pending = false;
    }

    /// The next export call to make now, off the request path: with `tick` (the flush timer) also a partial batch,
    /// otherwise only full batches and due retries. Call until `None`; hand each back with
    /// [`Tracer::dispatched`] or [`Tracer::dispatch_refused`].
    pub fn next_export(&mut self, now: Clock, tick: bool) -> Option<ExportRequest> {
        let batch = if tick {
            self.queue.take_batch(now.mono_ns)
        } else {
            self.queue.take_full_batch(now.mono_ns)
        };
        let Some(batch) = batch else {
            self.sync_stats();
            return None;
        };
        let body = self.envelope.encode_request(batch.spans.iter().map(Vec::as_slice));
        Some(request_for(&self.config.exporter, body, batch))
    }

    /// The host sent an export call; its answer comes back with `token` (see [`Tracer::settled`]).
    pub fn dispatched(&mut self, request: ExportRequest, token: u32) {
        self.queue.dispatched(token, request.batch);
    }

    /// The host refused to send an export call (`detail` says why): counted like a connection failure.
    pub fn dispatch_refused(&mut self, request: ExportRequest, now: Clock, detail: &str) {
        self.queue.dispatch_refused(request.batch, now.mono_ns);
        self.note_export_result(false, &format!("the host refused the call ({detail})"));
    }

    /// The collector answered the export call `token` (or it failed without an answer). Then run the export loop
    /// ([`Tracer::next_export`] without `tick`): the answer may have freed room for more.
    pub fn settled(&mut self, token: u32, answer: CollectorAnswer<'_>, now: Clock) {
        let (code, kind, detail) = answer.describe();
        if let Some(error) = metrics::export_error(code, kind) {
            self.effects.metrics.push(MetricUpdate::Named(error));
        }
        let outcome = answer.outcome();
        if self.queue.completed(token, outcome, now.mono_ns) {
            self.note_export_result(matches!(outcome, ExportOutcome::Delivered { .. }), &detail);
        }
    }

    /// The label set of a call's stats: its own, or `model="other"` once [`MAX_LABEL_SETS`] are in use.
    fn labels_for(&mut self, obs: &crate::model::observation::Observation) -> String {
        let labels = metrics::call_labels(obs);
        if self.label_sets.contains(&labels) {
            return labels;
        }
        if self.label_sets.len() < MAX_LABEL_SETS {
            self.label_sets.insert(labels.clone());
            return labels;
        }
        self.count(Stat::StatsOverflow, 1);
        if !self.stats_overflow_logged {
            self.stats_overflow_logged = true;
            self.log(
                LogLevel::Warn,
                format!(
                    "llm-trace: more than {MAX_LABEL_SETS} distinct provider/model/operation label sets on this \
                     worker; new ones are counted under `model=\"other\"` (see `llm_trace.stats_overflow`)."
                ),
            );
        }
        format!(
            ".provider.{}.model.other.op.{}",
            metrics::sanitize(&obs.provider),
            metrics::sanitize(obs.operation)
        )
    }

    fn count(&mut self, stat: Stat, value: u64) {
        if value > 0 {
            self.effects.metrics.push(MetricUpdate::Stat { stat, value });
        }
    }

    fn log(&mut self, level: LogLevel, message: String) {
        self.effects.logs.push(LogLine { level, message });
    }

    /// Reports the queue's running totals as metric deltas, and its size.
    fn sync_stats(&mut self) {
        let now = self.queue.stats;
        let was = std::mem::replace(&mut self.synced, now);
        self.count(Stat::SpansExported, now.spans_exported - was.spans_exported);
        self.count(Stat::SpansRejected, now.spans_rejected - was.spans_rejected);
        self.count(Stat::ExportRetries, now.export_retries - was.export_retries);
        self.count(
            Stat::SpansDroppedQueueFull,
            now.spans_dropped_queue_full - was.spans_dropped_queue_full,
        );
        self.count(
            Stat::SpansDroppedExportFailed,
            now.spans_dropped_export_failed - was.spans_dropped_export_failed,
        );
        self.count(Stat::ExportRequests, now.export_requests - was.export_requests);
        self.count(Stat::ExportFailures, now.export_failures - was.export_failures);
        self.effects.metrics.push(MetricUpdate::Stat {
            stat: Stat::QueueBytes,
            value: self.queue.queued_bytes() as u64,
        });
    }

    /// Logs when exporting starts failing and when it recovers, not on every failure.
    fn note_export_result(&mut self, ok: bool, detail: &str) {
        let was_failing = std::mem::replace(&mut self.export_failing, !ok);
        if was_failing == ok {
            if ok {
                self.log(
                    LogLevel::Info,
                    "llm-trace: export to the collector recovered.".to_string(),
                );
            } else {
                let destination = self.config.exporter.destination();
                let message = format!("llm-trace: export to {destination} failed: {detail}; spans dropped.");
                self.log(LogLevel::Warn, message);
            }
        }
    }
}

/// The exported resource: service identity, the proxy's node identity where the host exposes it, then the
/// configured extras.
fn resource_attributes(config: &Config, node_property: &dyn Fn(&[&str]) -> Option<String>) -> Vec<(String, AttrValue)> {
    let mut attributes = vec![
        (
            attr::SERVICE_NAME.to_string(),
            AttrValue::Str(config.service_name.clone()),
        ),
        (
            attr::SERVICE_VERSION.to_string(),
            AttrValue::Str(crate::VERSION.to_string()),
        ),
    ];
    for (key, path) in NODE_RESOURCE {
        if let Some(value) = node_property(path) {
            attributes.push((key.to_string(), AttrValue::Str(value)));
        }
    }
    for (key, value) in &config.resource_attributes {
        attributes.retain(|(k, _)| k != key);
        attributes.push((key.clone(), AttrValue::Str(value.clone())));
    }
    attributes
}

/// Recordings a test can read by name.
#[cfg(test)]
pub(crate) fn named(effects: &Effects) -> Vec<&metrics::Recording> {
    effects
        .metrics
        .iter()
        .filter_map(|m| match m {
            MetricUpdate::Named(r) => Some(r),
            MetricUpdate::Stat { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{head, Response};

    fn at(ms: u64) -> Clock {
        Clock {
            unix_ns: 1_700_000_000_000_000_000 + ms * 1_000_000,
            mono_ns: 5_000_000_000 + ms * 1_000_000,
        }
    }

    /// One complete non-streaming chat call answered by `model`.
    fn call(tracer: &mut Tracer, model: &str) {
        let (mut x, _) = tracer.start(&head("/v1/chat/completions"), at(0), false).unwrap();
        x.request_body(br#"{"model":"m","messages":[]}"#, true);
        x.response_headers(&Response::new(200, Some("application/json"), None), false, at(10));
        let body = format!(
            r#"{{"model":"{model}","choices":[{{"index":0,"message":{{"content":"hi"}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":3,"completion_tokens":1}}}}"#
        );
        x.response_body(body.as_bytes(), true, at(20));
        tracer.finish(x, at(30), StreamEnd::Logged { cut_reason: None });
    }

    #[test]
    fn past_the_label_set_cap_new_models_count_under_other_and_the_overflow_is_counted_once_logged() {
        let config = Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap();
        let mut tracer = Tracer::new(config, [1; 32], &|_| None);
        for i in 0..MAX_LABEL_SETS {
            call(&mut tracer, &format!("model-{i}"));
        }
        let before = tracer.take_effects();
        assert!(!before.metrics.iter().any(|m| matches!(
            m,
            MetricUpdate::Stat {
                stat: Stat::StatsOverflow,
                ..
            }
        )));
        call(&mut tracer, "brand-new-model");
        call(&mut tracer, "another-new-model");
        call(&mut tracer, "model-7");
        let effects = tracer.take_effects();
        let names: Vec<&str> = named(&effects).iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names
                .iter()
                .filter(|n| n.starts_with("llm.requests.provider.openai.model.other.op.chat.status.ok"))
                .count(),
            2
        );
        assert!(
            names.contains(&"llm.requests.provider.openai.model.model-7.op.chat.status.ok"),
            "known sets stay"
        );
        assert!(!names.iter().any(|n| n.contains("brand-new-model")));
        let overflow: u64 = effects
            .metrics
            .iter()
            .map(|m| match m {
                MetricUpdate::Stat {
                    stat: Stat::StatsOverflow,
                    value,
                } => *value,
                _ => 0,
            })
            .sum();
        assert_eq!(overflow, 2);
        let warnings = effects
            .logs
            .iter()
            .filter(|l| l.message.contains("model=\"other\""))
            .count();
        assert_eq!(warnings, 1, "logged once per worker: {:?}", effects.logs);
    }

    #[test]
    fn every_span_is_accounted_for_through_the_export_loop() {
        let config = Config::from_json(br#"{"exporter":{"cluster":"otel","max_batch_spans":2}}"#).unwrap();
        let mut tracer = Tracer::new(config, [1; 32], &|_| None);
        for _ in 0..3 {
            call(&mut tracer, "gpt-4o-mini");
        }
        assert!(tracer.take_effects().wake_exporter, "a full batch wakes the exporter");
        let full = tracer.next_export(at(40), false).unwrap();
        assert!(
            tracer.next_export(at(40), false).is_none(),
            "between ticks, only full batches leave"
        );
        tracer.dispatched(full, 7);
        let partial = tracer.next_export(at(50), true).unwrap();
        tracer.dispatch_refused(partial, at(50), "no healthy upstream");
        let delivered = CollectorAnswer::Http {
            status: Some(200),
            retry_after: None,
            body: &[],
        };
        tracer.settled(7, delivered, at(60));
        assert!(tracer.next_export(at(60), false).is_none());
        let effects = tracer.take_effects();
        let total = |stat: Stat| -> u64 {
            effects
                .metrics
                .iter()
                .map(|m| match m {
                    MetricUpdate::Stat { stat: s, value } if *s == stat => *value,
                    _ => 0,
                })
                .sum()
        };
        assert_eq!(total(Stat::SpansExported), 2);
        assert_eq!(total(Stat::ExportRequests), 2);
        assert_eq!(total(Stat::ExportFailures), 1, "the refused call");
        assert!(effects.logs.iter().any(|l| l.message.contains("no healthy upstream")));
        assert!(effects.logs.iter().any(|l| l.message.contains("recovered")));
    }
}
