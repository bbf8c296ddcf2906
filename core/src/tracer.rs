//! One worker's tracer: starts a call (detection, attribution, capture, the request edits), finishes it (price,
//! sample, build, encode, queue, count), and exports batches off the request path. Hosts own one per worker (per
//! instance for a wasi:http component) and apply what it returns.

use crate::config::Config;
use crate::exchange::{Exchange, RequestStart, StreamEnd};
use crate::host_api::{Clock, Effects, LogLevel, LogLine, RequestEdits, RequestView};
use crate::model::content::CaptureMode;
use crate::model::observation::Observation;
use crate::model::retrieval::{CollectionInfo, EmbeddingOrigin, LearnedMap, SpanRef, Store};
use crate::policy::capture::ROUTE_CAPTURE_PROPERTY;
use crate::policy::pricing::PriceMemo;
use crate::policy::redaction::Redact;
use crate::policy::rewrite_backoff::{RewriteBackoff, REWRITE_BACKOFF_NS};
use crate::policy::sampling;
use crate::provider::detect::{by_path, retrieval_by_path};
use crate::provider::Api;
use crate::quality::state::QualityState;
use crate::telemetry::attributes as attr;
use crate::telemetry::export::queue::{ExportOutcome, ExportQueue, ExportStats};
use crate::telemetry::export::{request_for, CollectorAnswer, ExportRequest, Signal};
use crate::telemetry::metrics::{self, CallStatNames, MetricUpdate, Stat};
use crate::telemetry::otlp::{encode_span, ExportEnvelope};
use crate::telemetry::span::{AttrValue, SpanOptions};
use crate::telemetry::span_builder::{build_span, BuiltSpan};
use crate::telemetry::trace_context::{b3_to_traceparent, IdGenerator};
use crate::wire::content_encoding::readable_accept_encoding;
use std::collections::HashMap;
use std::sync::Arc;

mod quality;

/// Distinct per-call label sets (provider, model, operation) a worker records; past this, new models count under
/// `model="other"` (a client sending random model names must not grow the host's stats without bound).
pub(crate) const MAX_LABEL_SETS: usize = 500;

/// How long a host holding a request's headers (see [`RequestEdits::hold_headers`]) waits for its body to start
/// before it lets the headers go as sent.
pub const HEADERS_HOLD_TIMEOUT_MS: u64 = 1000;
/// Distinct retrieval label sets (store, collection) a worker records; past this, new collections count under
/// `collection="other"` (Elasticsearch index patterns and per-tenant collections can be many).
pub(crate) const MAX_RETRIEVAL_LABEL_SETS: usize = 200;

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
    /// This worker's part of the `queue_bytes` and `log_queue_bytes` gauges, as reported.
    synced_queue_bytes: u64,
    synced_log_queue_bytes: u64,
    export_failing: bool,
    queue_full_logged: bool,
    /// A wake-up of the exporter is pending (asked for, not yet delivered).
    wake_pending: bool,
    /// Per-call label sets seen, bounded by [`MAX_LABEL_SETS`], with their stat names.
    label_sets: HashMap<String, CallStatNames>,
    /// Redaction stat names, made once per detector.
    redaction_names: metrics::RedactionStatNames,
    /// The next stat slot to hand out (see [`crate::Recording::slot`]): label sets take
    /// [`CallStatNames::SLOTS`] each, redaction stat names one.
    next_slot: u32,
    /// The last call's labels and what they were made of (provider, answering model, operation): consecutive calls
    /// mostly share them, and then they are not made again.
    last_labels: Option<(String, Option<String>, &'static str, String)>,
    /// The last price look-up (see [`PriceMemo`]).
    price_memo: PriceMemo,
    /// Retrieval label sets seen, bounded by [`MAX_RETRIEVAL_LABEL_SETS`].
    retrieval_label_sets: HashMap<String, ()>,
    stats_overflow_logged: bool,
    /// Upstreams that refused a rewritten request lately: their requests go as sent.
    rewrite_backoff: RewriteBackoff,
    /// A body callback came while request headers were held: the host can hold them.
    headers_hold_proven: bool,
    /// Held headers timed out before holding was proven: this worker's host cannot hold them.
    headers_hold_failed: bool,
    /// Chroma collections by id, learnt from collection calls (bounded; lost when the worker restarts).
    collections: LearnedMap<String, CollectionInfo>,
    /// Recent embeddings answers by the digest of a vector they returned (bounded).
    embeddings: LearnedMap<u64, EmbeddingOrigin>,
    effects: Effects,
    /// Evaluation events waiting for export (OTLP log records): a second queue through the same machinery.
    log_queue: ExportQueue,
    synced_logs: ExportStats,
    /// Feedback requests, judge and Phoenix calls, recent calls (see `tracer/quality.rs`).
    quality: QualityState,
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
        let jitter_seed = ids.next_u64();
        let queue = ExportQueue::new(config.exporter.policy(), jitter_seed);
        let log_queue = ExportQueue::new(config.exporter.policy(), jitter_seed.rotate_left(32));
        let quality = QualityState::new(&config.quality);
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
        let collections = LearnedMap::new(config.retrieval.max_learned_collections);
        let embeddings = LearnedMap::new(config.retrieval.max_recent_embeddings);
        Tracer {
            config: Arc::new(config),
            ids,
            queue,
            envelope,
            synced: ExportStats::default(),
            synced_queue_bytes: 0,
            synced_log_queue_bytes: 0,
            export_failing: false,
            queue_full_logged: false,
            wake_pending: false,
            label_sets: HashMap::new(),
            redaction_names: metrics::RedactionStatNames::default(),
            next_slot: 0,
            last_labels: None,
            price_memo: PriceMemo::default(),
            retrieval_label_sets: HashMap::new(),
            stats_overflow_logged: false,
            rewrite_backoff: RewriteBackoff::default(),
            headers_hold_proven: false,
            headers_hold_failed: false,
            collections,
            embeddings,
            effects,
            log_queue,
            synced_logs: ExportStats::default(),
            quality,
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

    /// What [`Tracer::take_effects`] returns, in exchange for `spare` (emptied first, its buffers kept): a host
    /// that applies effects after every callback passes the same buffers back and forth instead of growing new
    /// ones each time.
    pub fn swap_effects(&mut self, spare: &mut Effects) {
        spare.clear();
        std::mem::swap(&mut self.effects, spare);
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
        let retrieval = config.retrieval.enabled;
        let detected =
            by_path(&method, &path).or_else(|| retrieval.then(|| retrieval_by_path(&method, &path)).flatten());
        if detected.is_none() && !detection.has_overrides() {
            return None;
        }
        let authority = request.header(":authority");
        let scheme = request.header(":scheme");
        let identity = detection.identify(detected, &method, &path, authority.as_deref(), scheme.as_deref())?;
        // A vector-store call whose path alone does not make it a retrieval is read without touching the request.
        let edits_allowed = match identity.detected.api {
            Api::Retrieval(_) if !retrieval => return None,
            Api::Retrieval(endpoint) => endpoint.certain(),
            _ => true,
        };
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
        let mut accept_encoding = request.header("accept-encoding");
        let mut accept_encoding_narrowed = None;
        if config.narrow_accept_encoding && edits_allowed {
            if let Some(narrowed) = accept_encoding.as_deref().and_then(readable_accept_encoding) {
                edits.set_headers.push(("accept-encoding", narrowed.clone()));
                accept_encoding_narrowed = accept_encoding.replace(narrowed);
            }
        }
        let start = RequestStart {
            method: &method,
            path: &path,
            traceparent: traceparent.as_deref(),
            tracestate: tracestate.as_deref(),
            attribution,
            route_capture,
            accept_encoding_narrowed,
            accept_encoding,
        };
        let mut exchange = Exchange::new(Arc::clone(&config), identity, start, now, &mut self.ids);
        // A vector-store call counts once it is known to be a retrieval (when it finishes).
        if !exchange.is_retrieval() {
            self.count(Stat::Requests, 1);
        }
        if config.inject_traceparent && edits_allowed {
            edits.set_headers.push(("traceparent", exchange.traceparent()));
        }
        if end_of_stream {
            exchange.request_end();
            return Some((exchange, edits));
        }
        let content_length = request.header("content-length").and_then(|v| v.trim().parse().ok());
        let backed_off =
            !self.rewrite_backoff.is_empty() && self.rewrite_backoff.active(&upstream_key(&exchange.obs), now.mono_ns);
        let headers_can_wait = config.hold_request_headers && !self.headers_hold_failed;
        exchange.plan_request_hold(content_length, backed_off, headers_can_wait, &mut edits);
        Some((exchange, edits))
    }

    /// What became of request headers held with their body (see [`RequestEdits::hold_headers`]): `worked` when a
    /// body callback came while they were held, `false` when the host let them go after
    /// [`HEADERS_HOLD_TIMEOUT_MS`] without one. A timeout before holding ever worked on this worker means the host
    /// cannot hold headers (Envoy without the Wasm filter's `allow_on_headers_stop_iteration` stops body callbacks
    /// too): this worker stops asking, with a warning.
    pub fn note_headers_hold(&mut self, worked: bool) {
        if worked {
            self.headers_hold_proven = true;
            return;
        }
        self.count(Stat::HeadersHoldTimeouts, 1);
        if !self.headers_hold_proven && !self.headers_hold_failed {
            self.headers_hold_failed = true;
            self.log(
                LogLevel::Warn,
                format!(
                    "llm-trace: held request headers got no body callback in {HEADERS_HOLD_TIMEOUT_MS} ms; Envoy \
                     keeps body callbacks from a filter that pauses headers unless the Wasm filter sets \
                     `allow_on_headers_stop_iteration: true`. This worker stops holding headers (requests it \
                     rewrites go without `content-length`); set that option, or `hold_request_headers: false`."
                ),
            );
        }
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
        exchange.conclude(now, cut_reason.as_deref());
        self.note_rewrite_rejection(&exchange, now);
        if exchange.is_retrieval() {
            self.learn(&exchange.obs);
            if !exchange.makes_span() {
                return None;
            }
            self.count(Stat::Requests, 1);
            self.enrich_retrieval(&mut exchange.obs, now);
        }
        // A close after the terminal event is a complete call, not a partial exchange.
        self.count(Stat::PartialExchanges, u64::from(exchange.obs.partial));
        let config = Arc::clone(&self.config);
        let obs = &mut exchange.obs;
        self.count(Stat::UnreadableBodies, u64::from(obs.unreadable.is_some()));
        self.count(Stat::OversizedEvents, obs.oversized_events);
        self.count(Stat::StreamFrameErrors, u64::from(obs.stream_error.is_some()));
        if obs.retrieval.is_none() {
            obs.cost = config.pricing.price_with(obs, &mut self.price_memo);
        }
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
        let (labels, recordings) = if obs.retrieval.is_some() {
            let labels = self.retrieval_labels_for(obs);
            let recordings = metrics::retrieval_recordings(obs, &labels);
            (labels, recordings)
        } else {
            let labels = self.labels_for(obs);
            let recordings = match self.label_sets.get(&labels) {
                Some(names) => metrics::recordings_named(obs, names),
                None => metrics::recordings_with_labels(obs, &labels),
            };
            (labels, recordings)
        };
        for recording in recordings {
            self.effects.metrics.push(MetricUpdate::Named(recording));
        }
        if built.is_some() && !obs.embedding_digests.is_empty() {
            let origin = EmbeddingOrigin {
                span: SpanRef {
                    trace_id: trace.trace_id,
                    span_id: exchange.span_id,
                },
                at_ns: now.mono_ns,
            };
            let mut evicted = 0;
            for digest in &obs.embedding_digests {
                evicted += self.embeddings.insert(*digest, origin);
            }
            self.count(Stat::RetrievalStateEvicted, evicted);
        }
        let exported_redactions = built.as_ref().map_or(&[][..], |b| b.redactions.as_slice());
        let recordings =
            metrics::redaction_recordings(exported_redactions, obs, &mut self.redaction_names, &mut self.next_slot);
        for recording in recordings {
            self.effects.metrics.push(MetricUpdate::Named(recording));
        }
        self.count(Stat::SpansCreated, 1);
        if built.is_none() {
            self.count(Stat::SpansSampledOut, 1);
        }
        self.after_call(&exchange, built.is_some(), &labels, now);
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
        for (signal, queue) in [(Signal::Traces, &mut self.queue), (Signal::Logs, &mut self.log_queue)] {
            let batch = if tick {
                queue.take_batch(now.mono_ns)
            } else {
                queue.take_full_batch(now.mono_ns)
            };
            if let Some(batch) = batch {
                let body = self.envelope.encode_request(batch.spans.iter().map(Vec::as_slice));
                return Some(request_for(&self.config.exporter, signal, body, batch));
            }
        }
        self.sync_stats();
        None
    }

    fn queue_of(&mut self, signal: Signal) -> &mut ExportQueue {
        match signal {
            Signal::Traces => &mut self.queue,
            Signal::Logs => &mut self.log_queue,
        }
    }

    /// The host sent an export call; its answer comes back with `token` (see [`Tracer::settled`]).
    pub fn dispatched(&mut self, request: ExportRequest, token: u32) {
        self.queue_of(request.signal).dispatched(token, request.batch);
    }

    /// The host refused to send an export call (`detail` says why): counted like a connection failure.
    pub fn dispatch_refused(&mut self, request: ExportRequest, now: Clock, detail: &str) {
        self.queue_of(request.signal)
            .dispatch_refused(request.batch, now.mono_ns);
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
        if self.queue.completed(token, outcome, now.mono_ns) || self.log_queue.completed(token, outcome, now.mono_ns) {
            self.note_export_result(matches!(outcome, ExportOutcome::Delivered { .. }), &detail);
        }
    }

    /// An upstream that refused a request the tracer changed: counted, and its requests go as sent on this worker
    /// for [`REWRITE_BACKOFF_NS`], so a strict server costs at most one failed call per worker per period. Any 400
    /// to an injected request counts (a client's own bad request too: the cost is usage estimated, not read, for a
    /// while).
    fn note_rewrite_rejection(&mut self, exchange: &Exchange, now: Clock) {
        let obs = &exchange.obs;
        let what = match obs.http_status {
            Some(400) if obs.usage_injected => {
                "400 to a request with `stream_options.include_usage` added; this worker stops adding it there"
            }
            Some(411) if exchange.content_length_dropped => {
                "411 to a request sent without `content-length`; this worker stops holding requests there to add \
                 `include_usage` (request redaction still holds them; `hold_request_headers` keeps the length)"
            }
            _ => return,
        };
        self.count(Stat::RewritesRejected, 1);
        let upstream = upstream_key(obs);
        if self.rewrite_backoff.start(&upstream, now.mono_ns) {
            let minutes = REWRITE_BACKOFF_NS / 60_000_000_000;
            self.log(
                LogLevel::Warn,
                format!(
                    "llm-trace: upstream `{upstream}` answered {what} for {minutes} minutes (set \
                     `provider_overrides[].inject_stream_usage: false` for it to stop for good)."
                ),
            );
        }
    }

    /// The label set of a call's stats: its own, or `model="other"` once [`MAX_LABEL_SETS`] are in use.
    fn labels_for(&mut self, obs: &crate::model::observation::Observation) -> String {
        let labels = match &self.last_labels {
            Some((provider, model, operation, labels))
                if *provider == obs.provider
                    && model.as_deref() == obs.answering_model()
                    && *operation == obs.operation =>
            {
                labels.clone()
            }
            _ => {
                let labels = metrics::call_labels(obs);
                let model = obs.answering_model().map(str::to_string);
                self.last_labels = Some((obs.provider.clone(), model, obs.operation, labels.clone()));
                labels
            }
        };
        // Slots are handed out in order, so a worker's slots stay below MAX_LABEL_SETS × SLOTS plus the redaction
        // stat names.
        let next_slot = &mut self.next_slot;
        let names = |_| {
            let first_slot = *next_slot;
            *next_slot += CallStatNames::SLOTS;
            CallStatNames::new(&labels, Some(first_slot))
        };
        if admit_label_set(&mut self.label_sets, MAX_LABEL_SETS, &labels, names) {
            return labels;
        }
        self.note_stats_overflow(|| {
            format!(
                "llm-trace: more than {MAX_LABEL_SETS} distinct provider/model/operation label sets on this \
                 worker; new ones are counted under `model=\"other\"` (see `llm_trace.stats_overflow`)."
            )
        });
        format!(
            ".provider.{}.model.other.op.{}",
            metrics::sanitize(&obs.provider),
            metrics::sanitize(obs.operation)
        )
    }

    /// The label set of a retrieval's stats: its own, or `collection="other"` once [`MAX_RETRIEVAL_LABEL_SETS`] are
    /// in use.
    fn retrieval_labels_for(&mut self, obs: &Observation) -> String {
        let labels = metrics::retrieval_labels(obs, None);
        if admit_label_set(
            &mut self.retrieval_label_sets,
            MAX_RETRIEVAL_LABEL_SETS,
            &labels,
            |_| (),
        ) {
            return labels;
        }
        self.note_stats_overflow(|| {
            format!(
                "llm-trace: more than {MAX_RETRIEVAL_LABEL_SETS} distinct store/collection label sets on this \
                 worker; new ones are counted under `collection=\"other\"` (see `llm_trace.stats_overflow`)."
            )
        });
        metrics::retrieval_labels(obs, Some("other"))
    }

    /// A call's stats went under an `other` label: counted every time, logged once per worker.
    fn note_stats_overflow(&mut self, message: impl FnOnce() -> String) {
        self.count(Stat::StatsOverflow, 1);
        if !self.stats_overflow_logged {
            self.stats_overflow_logged = true;
            self.log(LogLevel::Warn, message());
        }
    }

    /// Remembers what a vector-store answer taught (Chroma collection names behind their ids), bounded.
    fn learn(&mut self, obs: &Observation) {
        let mut evicted = 0;
        for fact in &obs.learned_collections {
            let info = CollectionInfo {
                name: fact.name.clone(),
                metric: fact.metric.clone(),
            };
            evicted += self.collections.insert(fact.id.clone(), info);
        }
        self.count(Stat::RetrievalStateEvicted, evicted);
    }

    /// What this worker learnt that the retrieval's own exchange does not say: a Chroma collection's name and
    /// metric, and which recent embeddings call returned its query vector.
    fn enrich_retrieval(&self, obs: &mut Observation, now: Clock) {
        let Some(r) = obs.retrieval.as_deref_mut() else {
            return;
        };
        if r.store == Store::Chroma {
            if let Some(info) = r.data_source_id.as_ref().and_then(|id| self.collections.get(id)) {
                r.collection_name = Some(info.name.clone());
                r.distance_metric = info.metric.clone();
            }
        }
        let window_ns = self.config.retrieval.embedding_join_window_ms.saturating_mul(1_000_000);
        if let Some(origin) = r.query_digest.and_then(|d| self.embeddings.get(&d)) {
            if now.mono_ns.saturating_sub(origin.at_ns) <= window_ns {
                r.query_embedding = Some(origin.span);
            }
        }
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
        let bytes = self.queue.queued_bytes() as u64;
        self.move_gauge(Stat::QueueBytes, bytes);
        self.sync_log_stats();
    }

    /// Moves this worker's part of a queue gauge (`queue_bytes`, `log_queue_bytes`) to `bytes`, as a delta.
    fn move_gauge(&mut self, stat: Stat, bytes: u64) {
        let synced = match stat {
            Stat::LogQueueBytes => &mut self.synced_log_queue_bytes,
            _ => &mut self.synced_queue_bytes,
        };
        let was = std::mem::replace(synced, bytes);
        if bytes != was {
            let delta = i64::try_from(bytes).unwrap_or(i64::MAX) - i64::try_from(was).unwrap_or(i64::MAX);
            self.effects.metrics.push(MetricUpdate::GaugeDelta { stat, delta });
        }
    }

    /// The host is done with this tracer (its root context goes away with what it queued): withdraws its part of
    /// the gauges, so the sum over the remaining workers stays right. Apply [`Tracer::take_effects`] after.
    pub fn withdraw_gauges(&mut self) {
        self.move_gauge(Stat::QueueBytes, 0);
        self.move_gauge(Stat::LogQueueBytes, 0);
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

/// The upstream a call went to, as `host:port`: the key of the rewrite back-off.
fn upstream_key(obs: &crate::model::observation::Observation) -> String {
    format!(
        "{}:{}",
        obs.server_address.as_deref().unwrap_or_default(),
        obs.server_port.unwrap_or_default()
    )
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

/// Whether `labels` may have stats of its own: already known, or new while `set` holds fewer than `cap` (then
/// kept with `made(n)`, `n` the sets admitted before it).
fn admit_label_set<V>(set: &mut HashMap<String, V>, cap: usize, labels: &str, made: impl FnOnce(usize) -> V) -> bool {
    if set.contains_key(labels) {
        return true;
    }
    let sets = set.len();
    if sets < cap {
        set.insert(labels.to_string(), made(sets));
        return true;
    }
    false
}

/// Recordings a test can read by name.
#[cfg(test)]
pub(crate) fn named(effects: &Effects) -> Vec<&metrics::Recording> {
    effects
        .metrics
        .iter()
        .filter_map(|m| match m {
            MetricUpdate::Named(r) => Some(r),
            MetricUpdate::Stat { .. } | MetricUpdate::GaugeDelta { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_api::HeldRequestEdits;
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
        answered_by(tracer, x, model);
    }

    /// A chat completion from `model` answers the started call, which then finishes.
    fn answered_by(tracer: &mut Tracer, mut x: Exchange, model: &str) {
        x.response_headers(&Response::new(200, Some("application/json"), None), false, at(10));
        let body = format!(
            r#"{{"model":"{model}","choices":[{{"index":0,"message":{{"content":"hi"}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":3,"completion_tokens":1}}}}"#
        );
        x.response_body(body.as_bytes(), true, at(20));
        tracer.finish(x, at(30), StreamEnd::Logged { cut_reason: None });
    }

    #[test]
    fn swapped_effects_are_the_taken_ones_and_stale_ones_never_come_back() {
        let config = || Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap();
        let (mut taking, mut swapping) = (
            Tracer::new(config(), [1; 32], &|_| None),
            Tracer::new(config(), [1; 32], &|_| None),
        );
        let mut spare = Effects {
            metrics: vec![MetricUpdate::Stat {
                stat: Stat::SpansCreated,
                value: 99,
            }],
            logs: Vec::new(),
            wake_exporter: true,
        };
        for model in ["gpt-4o", "gpt-4o-mini"] {
            call(&mut taking, model);
            call(&mut swapping, model);
            let taken = taking.take_effects();
            swapping.swap_effects(&mut spare);
            assert!(!taken.metrics.is_empty());
            // The second round hands back the first round's effects: they are emptied, not applied again.
            assert_eq!(spare, taken, "{model}");
        }
    }

    /// A call whose prompt holds an email and a card, answered by `model`.
    fn call_with_findings(tracer: &mut Tracer, model: &str) {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"mail jane@example.com, card 4111 1111 1111 1111"}]}"#;
        let mut request = head("/v1/chat/completions");
        request.headers.push(("content-length", body.len().to_string()));
        let (mut x, edits) = tracer.start(&request, at(0), false).unwrap();
        assert!(edits.hold_body, "request redaction holds the body");
        x.complete_held_request(body);
        answered_by(tracer, x, model);
    }

    #[test]
    fn redaction_stats_keep_one_name_and_slot_per_detector_apart_from_the_call_stats() {
        let config = Config::from_json(
            br#"{"exporter":{"cluster":"otel"},"capture":{"content":"full"},"redaction":{"request":{"enabled":true}}}"#,
        )
        .unwrap();
        let mut tracer = Tracer::new(config, [1; 32], &|_| None);
        let mut runs = Vec::new();
        for model in ["gpt-4o", "gpt-4o", "gpt-4o-mini"] {
            call_with_findings(&mut tracer, model);
            let effects = tracer.take_effects();
            let all: Vec<(String, Option<u32>, u64)> = named(&effects)
                .iter()
                .map(|r| (r.name.to_string(), r.slot, r.value))
                .collect();
            runs.push(all);
        }
        let redactions = |run: &[(String, Option<u32>, u64)]| -> Vec<(String, Option<u32>, u64)> {
            run.iter()
                .filter(|(n, _, _)| n.starts_with("llm_trace."))
                .cloned()
                .collect()
        };
        let first = redactions(&runs[0]);
        let names: Vec<&str> = first.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "llm_trace.redactions.card",
                "llm_trace.redactions.email",
                "llm_trace.request_redactions.email",
                "llm_trace.request_redactions.card",
            ]
        );
        assert!(first.iter().all(|(_, slot, n)| slot.is_some() && *n == 1), "{first:?}");
        // The same names and slots on every call, whatever its label set.
        assert_eq!(redactions(&runs[1]), first);
        assert_eq!(redactions(&runs[2]), first);
        // No slot serves two names on the worker.
        let mut by_slot = std::collections::HashMap::new();
        for (name, slot, _) in runs.iter().flatten() {
            let slot = slot.expect("every call and redaction stat is numbered");
            assert_eq!(by_slot.entry(slot).or_insert(name), &name, "slot {slot}");
        }
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
        let names: Vec<&str> = named(&effects).iter().map(|r| &*r.name).collect();
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

    const STREAM_BODY: &[u8] = br#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;

    /// A chat request with a length and `accept-encoding: gzip`, to `host`.
    fn chat_head(host: &'static str, body: &[u8]) -> crate::test_support::Head {
        let mut h = head("/v1/chat/completions");
        h.authority = Some(host);
        h.headers.push(("content-length", body.len().to_string()));
        h.headers.push(("accept-encoding", "gzip, deflate".to_string()));
        h
    }

    fn tracer(extra: &str) -> Tracer {
        let config = format!(r#"{{"exporter":{{"cluster":"otel"}}{extra}}}"#);
        Tracer::new(Config::from_json(config.as_bytes()).unwrap(), [1; 32], &|_| None)
    }

    /// Answers a started call with `status` and finishes it.
    fn answer(tracer: &mut Tracer, mut x: Exchange, status: u16) {
        x.response_headers(&Response::new(status, Some("application/json"), None), false, at(10));
        x.response_body(
            br#"{"error":{"message":"no","type":"invalid_request_error"}}"#,
            true,
            at(20),
        );
        tracer.finish(x, at(30), StreamEnd::Logged { cut_reason: None });
    }

    fn stat_total(effects: &Effects, stat: Stat) -> u64 {
        effects
            .metrics
            .iter()
            .map(|m| match m {
                MetricUpdate::Stat { stat: s, value } if *s == stat => *value,
                _ => 0,
            })
            .sum()
    }

    #[test]
    fn held_headers_keep_a_correct_content_length_and_only_a_rewritten_stream_changes_them() {
        let mut t = tracer(r#","hold_request_headers":true"#);
        let (mut x, edits) = t
            .start(&chat_head("api.openai.com", STREAM_BODY), at(0), false)
            .unwrap();
        assert!(edits.hold_body && edits.hold_headers);
        assert!(
            !edits.remove_headers.contains(&"content-length"),
            "the length stays: {edits:?}"
        );
        let held = x.complete_held_request(STREAM_BODY);
        let sent = held.body.unwrap();
        assert!(sent.starts_with(br#"{"stream_options":{"include_usage":true},"#));
        assert_eq!(
            held.set_headers,
            vec![
                ("content-length", sent.len().to_string()),
                ("accept-encoding", "identity".to_string())
            ],
            "the new length, and an answer the usage chunk can be removed from"
        );
        assert_eq!(x.obs.accept_encoding_narrowed.as_deref(), Some("gzip, deflate"));
        // Not streamed, or explicit stream_options: nothing changes, headers included.
        for body in [
            &br#"{"model":"gpt-4o-mini","messages":[]}"#[..],
            br#"{"model":"gpt-4o-mini","stream":true,"stream_options":null,"messages":[]}"#,
        ] {
            let (mut x, edits) = t.start(&chat_head("api.openai.com", body), at(0), false).unwrap();
            assert!(edits.hold_headers);
            assert_eq!(x.complete_held_request(body), HeldRequestEdits::default());
            assert_eq!(x.obs.accept_encoding_narrowed, None);
        }
        // Released before the body came: the request goes as sent.
        let (mut x, _) = t
            .start(&chat_head("api.openai.com", STREAM_BODY), at(0), false)
            .unwrap();
        x.headers_released();
        assert_eq!(x.complete_held_request(STREAM_BODY), HeldRequestEdits::default());
    }

    #[test]
    fn without_held_headers_the_length_goes_and_an_uncompressed_answer_is_asked_for() {
        let mut t = tracer("");
        let (_, edits) = t
            .start(&chat_head("api.openai.com", STREAM_BODY), at(0), false)
            .unwrap();
        assert!(edits.hold_body && !edits.hold_headers);
        assert_eq!(edits.remove_headers, vec!["content-length"]);
        assert!(edits.set_headers.contains(&("accept-encoding", "identity".to_string())));
        // Off for this route: nothing is held, nothing changes.
        let mut t = tracer(r#","provider_overrides":[{"host":"strict.internal","inject_stream_usage":false}]"#);
        let (_, edits) = t
            .start(&chat_head("strict.internal", STREAM_BODY), at(0), false)
            .unwrap();
        assert_eq!(edits, RequestEdits::default());
        let (_, edits) = t
            .start(&chat_head("api.openai.com", STREAM_BODY), at(0), false)
            .unwrap();
        assert!(edits.hold_body, "other hosts keep the global setting");
    }

    #[test]
    fn an_upstream_refusing_a_rewritten_request_costs_one_call_per_worker_and_is_counted_and_logged_once() {
        let mut t = tracer(r#","hold_request_headers":true"#);
        let (mut x, _) = t
            .start(&chat_head("strict.internal", STREAM_BODY), at(0), false)
            .unwrap();
        assert!(x.complete_held_request(STREAM_BODY).body.is_some());
        answer(&mut t, x, 400);
        let effects = t.take_effects();
        assert_eq!(stat_total(&effects, Stat::RewritesRejected), 1);
        let warnings: Vec<&str> = effects
            .logs
            .iter()
            .map(|l| l.message.as_str())
            .filter(|m| m.contains("strict.internal:443"))
            .collect();
        assert_eq!(warnings.len(), 1, "{:?}", effects.logs);
        assert!(
            warnings[0].contains("answered 400") && warnings[0].contains("10 minutes"),
            "{}",
            warnings[0]
        );
        for _ in 0..3 {
            let (x, edits) = t
                .start(&chat_head("strict.internal", STREAM_BODY), at(100), false)
                .unwrap();
            assert_eq!(edits, RequestEdits::default(), "backed off: the request goes as sent");
            answer(&mut t, x, 400);
        }
        let effects = t.take_effects();
        assert_eq!(
            stat_total(&effects, Stat::RewritesRejected),
            0,
            "not injected, not counted"
        );
        let (_, edits) = t
            .start(&chat_head("api.openai.com", STREAM_BODY), at(100), false)
            .unwrap();
        assert!(edits.hold_body, "another upstream is not backed off");
        let later = Clock {
            mono_ns: at(30).mono_ns + REWRITE_BACKOFF_NS,
            ..at(0)
        };
        let (_, edits) = t
            .start(&chat_head("strict.internal", STREAM_BODY), later, false)
            .unwrap();
        assert!(edits.hold_body, "the back-off ends");
    }

    #[test]
    fn an_upstream_requiring_content_length_backs_off_when_headers_cannot_be_held() {
        let mut t = tracer("");
        let (mut x, edits) = t
            .start(&chat_head("needs-length.internal", STREAM_BODY), at(0), false)
            .unwrap();
        assert_eq!(edits.remove_headers, vec!["content-length"]);
        x.complete_held_request(STREAM_BODY);
        answer(&mut t, x, 411);
        assert_eq!(stat_total(&t.take_effects(), Stat::RewritesRejected), 1);
        let (_, edits) = t
            .start(&chat_head("needs-length.internal", STREAM_BODY), at(50), false)
            .unwrap();
        assert_eq!(edits, RequestEdits::default(), "the length stays from now on");
    }

    #[test]
    fn a_header_hold_that_times_out_before_it_ever_worked_turns_holding_off_for_the_worker() {
        let mut t = tracer(r#","hold_request_headers":true"#);
        t.note_headers_hold(false);
        let effects = t.take_effects();
        assert_eq!(stat_total(&effects, Stat::HeadersHoldTimeouts), 1);
        assert!(effects
            .logs
            .iter()
            .any(|l| l.message.contains("allow_on_headers_stop_iteration")));
        let (_, edits) = t
            .start(&chat_head("api.openai.com", STREAM_BODY), at(0), false)
            .unwrap();
        assert!(!edits.hold_headers && edits.remove_headers == vec!["content-length"]);
        // Once holding worked, a timeout is one slow client: counted, holding stays.
        let mut t = tracer(r#","hold_request_headers":true"#);
        t.note_headers_hold(true);
        t.note_headers_hold(false);
        let effects = t.take_effects();
        assert_eq!(stat_total(&effects, Stat::HeadersHoldTimeouts), 1);
        assert!(effects
            .logs
            .iter()
            .all(|l| !l.message.contains("allow_on_headers_stop_iteration")));
        let (_, edits) = t
            .start(&chat_head("api.openai.com", STREAM_BODY), at(0), false)
            .unwrap();
        assert!(edits.hold_headers);
    }

    /// The gauge's deltas over a run: what the host's value (the sum of every worker's deltas) goes through.
    fn queue_gauge_levels(tracer: &mut Tracer, level: &mut i64) -> Vec<i64> {
        let mut levels = Vec::new();
        for m in tracer.take_effects().metrics {
            match m {
                MetricUpdate::GaugeDelta {
                    stat: Stat::QueueBytes,
                    delta,
                } => {
                    *level += delta;
                    levels.push(*level);
                }
                MetricUpdate::Stat {
                    stat: Stat::QueueBytes, ..
                } => panic!("the queue gauge is set, not moved"),
                _ => {}
            }
        }
        levels
    }

    #[test]
    fn queue_bytes_of_several_workers_add_up_and_an_idle_worker_writes_nothing() {
        let config = Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap();
        let mut workers = [
            Tracer::new(config.clone(), [1; 32], &|_| None),
            Tracer::new(config.clone(), [2; 32], &|_| None),
        ];
        // A worker that never traces (Envoy's main thread runs root contexts too) and ticks.
        let mut idle = Tracer::new(config, [3; 32], &|_| None);
        let mut host_value = 0i64;
        call(&mut workers[0], "gpt-4o-mini");
        call(&mut workers[1], "gpt-4o-mini");
        call(&mut workers[1], "gpt-4o-mini");
        for w in workers.iter_mut() {
            queue_gauge_levels(w, &mut host_value);
        }
        assert!(idle.next_export(at(40), false).is_none());
        assert!(
            queue_gauge_levels(&mut idle, &mut host_value).is_empty(),
            "an idle worker writes nothing"
        );
        let queued: u64 = workers.iter().map(|w| w.queue.queued_bytes() as u64).sum();
        assert!(queued > 0);
        assert_eq!(host_value, queued as i64, "the sum of both workers' queues");
        // Worker 1 sends its batch: its part leaves the gauge, worker 0's stays.
        let batch = workers[1].next_export(at(50), true).unwrap();
        workers[1].dispatched(batch, 1);
        assert!(
            workers[1].next_export(at(50), true).is_none(),
            "the export loop ends, and syncs"
        );
        queue_gauge_levels(&mut workers[1], &mut host_value);
        assert_eq!(host_value, workers[0].queue.queued_bytes() as i64);
        workers[0].withdraw_gauges();
        queue_gauge_levels(&mut workers[0], &mut host_value);
        assert_eq!(host_value, 0, "a retired worker withdraws its part");
    }

    /// One exchange on `tracer`: its span, if it made one.
    fn exchange(
        tracer: &mut Tracer,
        method: &'static str,
        path: &str,
        body: &str,
        answer: &str,
        at_ms: u64,
    ) -> Option<crate::telemetry::span::SpanRecord> {
        let mut h = head(path);
        h.method = method;
        h.authority = Some("127.0.0.1:8000");
        h.scheme = Some("http");
        let (mut x, _) = tracer.start(&h, at(at_ms), body.is_empty())?;
        if !body.is_empty() {
            x.request_body(body.as_bytes(), true);
        }
        x.response_headers(
            &Response::new(200, Some("application/json"), None),
            false,
            at(at_ms + 1),
        );
        for piece in answer.as_bytes().chunks(3) {
            x.response_body(piece, false, at(at_ms + 2));
        }
        x.response_body(b"", true, at(at_ms + 2));
        tracer
            .close(x, at(at_ms + 3), StreamEnd::Logged { cut_reason: None })
            .map(|b| b.span)
    }

    fn text<'a>(s: &'a crate::telemetry::span::SpanRecord, key: &str) -> Option<&'a str> {
        s.attributes.iter().find(|(k, _)| k == key).and_then(|(_, v)| match v {
            AttrValue::Str(s) => Some(s.as_str()),
            _ => None,
        })
    }

    const COLLECTIONS: &str = "/api/v2/tenants/t/databases/d/collections";

    #[test]
    fn a_chroma_query_gets_its_collections_name_and_the_embeddings_call_its_vector_came_from() {
        let config =
            Config::from_json(br#"{"exporter":{"cluster":"otel"},"retrieval":{"embedding_join_window_ms":1000}}"#)
                .unwrap();
        let mut tracer = Tracer::new(config, [1; 32], &|_| None);
        // 8 f32s, base64 little-endian, as the openai SDK asks for them.
        let embeddings = exchange(
            &mut tracer,
            "POST",
            "/v1/embeddings",
            r#"{"model":"text-embedding-3-small","input":["q"],"encoding_format":"base64"}"#,
            r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":"j4RBPfz9fT+PhEE9j4RBPY+EQT2PhEE9j4RBPY+EQT0="}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}"#,
            0,
        )
        .unwrap();
        let learnt = exchange(
            &mut tracer,
            "GET",
            &format!("{COLLECTIONS}/moons-rag"),
            "",
            r#"{"id":"edfd5273","name":"moons-rag","configuration_json":{"hnsw":{"space":"cosine"}},"schema":{"x":[1]},"dimension":8}"#,
            10,
        );
        assert!(learnt.is_none(), "a collection call makes no span");
        let query = r#"{"ids":null,"query_embeddings":[[0.047245558351278305,0.9921567440032959,0.047245558351278305,0.047245558351278305,0.047245558351278305,0.047245558351278305,0.047245558351278305,0.047245558351278305]],"n_results":3,"where":null,"where_document":null,"include":["distances"]}"#;
        let answer = r#"{"ids":[["a","b"]],"embeddings":null,"documents":null,"uris":null,"metadatas":null,"distances":[[-1.1920929e-07,0.5]],"include":["distances"]}"#;
        let path = format!("{COLLECTIONS}/edfd5273/query");
        let s = exchange(&mut tracer, "POST", &path, query, answer, 20).unwrap();
        assert_eq!(s.name, "retrieval moons-rag");
        assert_eq!(text(&s, "db.collection.name"), Some("moons-rag"));
        assert_eq!(text(&s, "gen_ai.data_source.id"), Some("edfd5273"));
        assert_eq!(text(&s, "db.namespace"), Some("t|d"));
        assert_eq!(text(&s, "llm.retrieval.distance.metric"), Some("cosine"));
        assert_eq!(
            text(&s, "gen_ai.retrieval.documents"),
            Some(r#"[{"id":"a","score":-1.1920929e-7},{"id":"b","score":0.5}]"#)
        );
        assert_eq!(
            text(&s, "llm.retrieval.query_embedding.span_id"),
            Some(crate::telemetry::trace_context::to_hex(&embeddings.span_id).as_str())
        );
        // Past the window the join is not made.
        let late = exchange(&mut tracer, "POST", &path, query, answer, 5000).unwrap();
        assert_eq!(text(&late, "llm.retrieval.query_embedding.span_id"), None);
        let effects = tracer.take_effects();
        let names: Vec<&str> = named(&effects).iter().map(|r| &*r.name).collect();
        assert!(names.contains(&"llm.retrieval_requests.store.chroma.collection.moons-rag.status.ok"));
        assert!(names.contains(&"llm.retrieval_documents.store.chroma.collection.moons-rag"));
        assert!(!names.iter().any(|n| n.contains("edfd5273")), "{names:?}");
    }

    #[test]
    fn a_search_that_is_no_vector_search_is_not_traced_nor_counted() {
        let config = Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap();
        let mut tracer = Tracer::new(config, [1; 32], &|_| None);
        tracer.take_effects();
        let plain = exchange(
            &mut tracer,
            "POST",
            "/logs/_search",
            r#"{"query":{"match":{"m":"x"}}}"#,
            r#"{"hits":{"hits":[{"_id":"1","_score":1.0}]}}"#,
            0,
        );
        assert!(plain.is_none());
        assert!(tracer.take_effects().metrics.is_empty());
        let knn = exchange(
            &mut tracer,
            "POST",
            "/logs/_search",
            r#"{"knn":{"field":"v","query_vector":[1,2],"k":1}}"#,
            r#"{"hits":{"hits":[{"_id":"1","_score":1.0}]}}"#,
            0,
        )
        .unwrap();
        assert_eq!(text(&knn, "db.system.name"), Some("elasticsearch"));
    }

    #[test]
    fn past_the_retrieval_label_cap_new_collections_count_under_other() {
        let config = Config::from_json(br#"{"exporter":{"cluster":"otel"}}"#).unwrap();
        let mut tracer = Tracer::new(config, [1; 32], &|_| None);
        let body = r#"{"query":[0.1],"limit":1}"#;
        let answer = r#"{"result":{"points":[]},"status":"ok"}"#;
        for i in 0..=MAX_RETRIEVAL_LABEL_SETS {
            exchange(
                &mut tracer,
                "POST",
                &format!("/collections/c{i}/points/query"),
                body,
                answer,
                0,
            )
            .unwrap();
        }
        let effects = tracer.take_effects();
        let names: Vec<&str> = named(&effects).iter().map(|r| &*r.name).collect();
        assert!(names.contains(&"llm.retrieval_requests.store.qdrant.collection.other.status.ok"));
        assert!(names.contains(&"llm.retrieval_requests.store.qdrant.collection.c199.status.ok"));
        assert!(!names.iter().any(|n| n.contains(".c200.")));
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
