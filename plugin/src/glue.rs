//! The only code that talks to the proxy-wasm host. It reads what the domain needs (headers, body chunks, clock),
//! calls [`Exchange`], and turns the export queue's batches into `dispatch_http_call`s from the root context.
//! Every host call goes through `hostcalls` (which return `Result`), never through the SDK's unwrapping helpers.

use crate::attributes as attr;
use crate::config::{Config, ExportProtocol};
use crate::content::CaptureMode;
use crate::exchange::{Clock, Exchange, RequestHead, ResponseHead};
use crate::export::{classify_grpc, classify_http, ExportOutcome, ExportPolicy, ExportQueue, ExportStats};
use crate::metrics;
use crate::otlp::{encode_span, rejected_spans, ExportEnvelope};
use crate::provider::Api;
use crate::span::{AttrValue, SpanOptions};
use crate::trace_context::IdGenerator;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant, UNIX_EPOCH};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

fn log(level: LogLevel, message: &str) {
    let _ = hostcalls::log(level, message);
}

fn request_header(name: &str) -> Option<String> {
    hostcalls::get_map_value(MapType::HttpRequestHeaders, name)
        .ok()
        .flatten()
}

/// A property's value when it is non-empty text (strings come as-is; numbers and structures do not apply here).
fn string_property<'a>(path: impl IntoIterator<Item = &'a str>) -> Option<String> {
    hostcalls::get_property(path.into_iter().collect())
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.is_empty())
}

fn response_header(name: &str) -> Option<String> {
    hostcalls::get_map_value(MapType::HttpResponseHeaders, name)
        .ok()
        .flatten()
}

/// Envoy stat ids, defined once per worker; `None` when the host refused one (the filter works without it).
#[derive(Default)]
struct Stats {
    requests: Option<u32>,
    spans_created: Option<u32>,
    spans_exported: Option<u32>,
    spans_rejected: Option<u32>,
    export_retries: Option<u32>,
    dropped_queue_full: Option<u32>,
    dropped_export_failed: Option<u32>,
    export_requests: Option<u32>,
    export_failures: Option<u32>,
    queue_bytes: Option<u32>,
    partial_exchanges: Option<u32>,
    unreadable_bodies: Option<u32>,
    oversized_events: Option<u32>,
    sampled_out: Option<u32>,
    /// Per-call stats (names carry provider, model, operation), defined on first use.
    call_stats: RefCell<std::collections::HashMap<String, Option<u32>>>,
}

/// Distinct per-call stat names a worker defines; past this, new label combinations are not recorded (a
/// misbehaving client sending random model names must not grow Envoy's stats without bound).
const MAX_CALL_STATS: usize = 2000;

impl Stats {
    fn define() -> Stats {
        let counter = |name| hostcalls::define_metric(MetricType::Counter, name).ok();
        Stats {
            requests: counter(metrics::REQUESTS),
            spans_created: counter(metrics::SPANS_CREATED),
            spans_exported: counter(metrics::SPANS_EXPORTED),
            spans_rejected: counter(metrics::SPANS_REJECTED),
            export_retries: counter(metrics::EXPORT_RETRIES),
            dropped_queue_full: counter(metrics::SPANS_DROPPED_QUEUE_FULL),
            dropped_export_failed: counter(metrics::SPANS_DROPPED_EXPORT_FAILED),
            export_requests: counter(metrics::EXPORT_REQUESTS),
            export_failures: counter(metrics::EXPORT_FAILURES),
            queue_bytes: hostcalls::define_metric(MetricType::Gauge, metrics::QUEUE_BYTES).ok(),
            partial_exchanges: counter(metrics::PARTIAL_EXCHANGES),
            unreadable_bodies: counter(metrics::UNREADABLE_BODIES),
            oversized_events: counter(metrics::OVERSIZED_EVENTS),
            sampled_out: counter(metrics::SPANS_SAMPLED_OUT),
            call_stats: RefCell::new(std::collections::HashMap::new()),
        }
    }

    /// Records one per-call value, defining its stat the first time it is seen.
    fn record(&self, r: &metrics::Recording) {
        let mut cache = self.call_stats.borrow_mut();
        let id = match cache.get(&r.name) {
            Some(id) => *id,
            None if cache.len() >= MAX_CALL_STATS => return,
            None => {
                let kind = match r.kind {
                    metrics::Kind::Counter => MetricType::Counter,
                    metrics::Kind::Histogram => MetricType::Histogram,
                };
                let id = hostcalls::define_metric(kind, &r.name).ok();
                cache.insert(r.name.clone(), id);
                id
            }
        };
        if let Some(id) = id {
            let _ = match r.kind {
                metrics::Kind::Counter => hostcalls::increment_metric(id, i64::try_from(r.value).unwrap_or(i64::MAX)),
                metrics::Kind::Histogram => hostcalls::record_metric(id, r.value),
            };
        }
    }

    fn add(id: Option<u32>, delta: u64) {
        if let (Some(id), true) = (id, delta > 0) {
            let _ = hostcalls::increment_metric(id, i64::try_from(delta).unwrap_or(i64::MAX));
        }
    }
}

/// Per-worker state shared by the root context and every HTTP context of that worker (same thread).
struct Worker {
    config: Config,
    ids: RefCell<IdGenerator>,
    queue: RefCell<ExportQueue>,
    envelope: ExportEnvelope,
    stats: Stats,
    /// Export statistics already mirrored into Envoy stats.
    synced: Cell<ExportStats>,
    origin: Instant,
    /// Private shared queue whose `on_queue_ready` wakes the root context to flush a full batch off the request path.
    flush_queue: Option<u32>,
    flush_pending: Cell<bool>,
    export_failing: Cell<bool>,
}

impl Worker {
    fn clock(&self) -> Clock {
        let unix_ns = hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        Clock {
            unix_ns,
            mono_ns: self.origin.elapsed().as_nanos() as u64,
        }
    }

    /// Mirrors the queue's running totals into Envoy stats.
    fn sync_stats(&self) {
        let now = self.queue.borrow().stats;
        let was = self.synced.replace(now);
        let s = &self.stats;
        Stats::add(s.spans_exported, now.spans_exported - was.spans_exported);
        Stats::add(s.spans_rejected, now.spans_rejected - was.spans_rejected);
        Stats::add(s.export_retries, now.export_retries - was.export_retries);
        Stats::add(
            s.dropped_queue_full,
            now.spans_dropped_queue_full - was.spans_dropped_queue_full,
        );
        Stats::add(
            s.dropped_export_failed,
            now.spans_dropped_export_failed - was.spans_dropped_export_failed,
        );
        Stats::add(s.export_requests, now.export_requests - was.export_requests);
        Stats::add(s.export_failures, now.export_failures - was.export_failures);
        if let Some(id) = s.queue_bytes {
            let _ = hostcalls::record_metric(id, self.queue.borrow().queued_bytes() as u64);
        }
    }

    /// Builds, encodes and queues the span of a finished exchange.
    fn finish(&self, exchange: Exchange, cut_reason: Option<&str>) {
        let partial = !exchange.response_ended();
        Stats::add(self.stats.partial_exchanges, u64::from(partial));
        Stats::add(
            self.stats.unreadable_bodies,
            u64::from(exchange.observation().unreadable.is_some()),
        );
        Stats::add(self.stats.oversized_events, exchange.oversized_events);
        let options = SpanOptions {
            semconv: self.config.semconv,
            gen_ai: self.config.gen_ai,
            openinference: self.config.openinference,
            max_content_bytes: self.config.capture.max_content_bytes,
            redactor: self
                .config
                .redaction
                .is_enabled()
                .then_some(&self.config.redaction as &dyn crate::span::Redact),
        };
        let finished = exchange.finish(&self.config, self.clock(), cut_reason, &options);
        for recording in metrics::recordings(&finished.observation) {
            self.stats.record(&recording);
        }
        for recording in metrics::redaction_recordings(finished.span.as_ref(), &finished.observation) {
            self.stats.record(&recording);
        }
        Stats::add(self.stats.spans_created, 1);
        let Some(span) = finished.span else {
            Stats::add(self.stats.sampled_out, 1);
            return;
        };
        let queued = self.queue.borrow_mut().push(encode_span(&span));
        if !queued && self.stats.dropped_queue_full.is_none() {
            log(LogLevel::Warn, "llm-trace: export queue full; span dropped.");
        }
        self.sync_stats();
        if self.queue.borrow().batch_ready() && !self.flush_pending.get() {
            if let Some(queue_id) = self.flush_queue {
                if hostcalls::enqueue_shared_queue(queue_id, Some(b"")).is_ok() {
                    self.flush_pending.set(true);
                }
            }
        }
    }

    /// Sends every batch the queue will hand out now: on the tick also a partial batch, otherwise only full
    /// batches and due retries. Runs on the root context only.
    fn flush(&self, tick: bool) {
        let now = self.clock().mono_ns;
        loop {
            let next = if tick {
                self.queue.borrow_mut().take_batch(now)
            } else {
                self.queue.borrow_mut().take_full_batch(now)
            };
            let Some(batch) = next else {
                break;
            };
            let body = self.envelope.encode_request(batch.spans.iter().map(Vec::as_slice));
            match self.send(&body) {
                Ok(token) => self.queue.borrow_mut().dispatched(token, batch),
                Err(detail) => {
                    self.queue.borrow_mut().dispatch_refused(batch, now);
                    self.note_export_result(false, &detail);
                }
            }
        }
        self.sync_stats();
    }

    /// Dispatches one `ExportTraceServiceRequest` to the collector cluster; returns the call's token.
    fn send(&self, body: &[u8]) -> Result<u32, String> {
        let e = &self.config.exporter;
        let timeout = Duration::from_millis(e.timeout_ms);
        let refused = |status| format!("the host refused the call ({status:?})");
        match e.protocol {
            ExportProtocol::HttpProtobuf => {
                let gzipped = if e.gzip { crate::otlp::gzip(body) } else { None };
                let mut headers: Vec<(&str, &str)> = vec![
                    (":method", "POST"),
                    (":path", &e.path),
                    (":authority", &e.authority),
                    ("content-type", "application/x-protobuf"),
                ];
                if gzipped.is_some() {
                    headers.push(("content-encoding", "gzip"));
                }
                headers.extend(e.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let payload = gzipped.as_deref().unwrap_or(body);
                hostcalls::dispatch_http_call(&e.cluster, headers, Some(payload), vec![], timeout).map_err(refused)
            }
            ExportProtocol::Grpc => {
                let metadata: Vec<(&str, &[u8])> = e.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())).collect();
                hostcalls::dispatch_grpc_call(
                    &e.cluster,
                    "opentelemetry.proto.collector.trace.v1.TraceService",
                    "Export",
                    metadata,
                    Some(body),
                    timeout,
                )
                .map_err(refused)
            }
        }
    }

    /// Settles an export call and ships what it freed up.
    fn settle(&self, token: u32, outcome: ExportOutcome, detail: &str) {
        let now = self.clock().mono_ns;
        if self.queue.borrow_mut().completed(token, outcome, now) {
            let ok = matches!(outcome, ExportOutcome::Delivered { .. });
            self.note_export_result(ok, detail);
        }
        self.flush(false);
    }

    /// Logs when exporting starts failing and when it recovers, not on every failure.
    fn note_export_result(&self, ok: bool, detail: &str) {
        let now_failing = !ok;
        let was_failing = self.export_failing.replace(now_failing);
        if was_failing != now_failing {
            if ok {
                log(LogLevel::Info, "llm-trace: export to the collector recovered.");
            } else {
                let cluster = &self.config.exporter.cluster;
                log(
                    LogLevel::Warn,
                    &format!("llm-trace: export to cluster `{cluster}` failed: {detail}; spans dropped."),
                );
            }
        }
    }
}

/// The exported resource: service identity, the proxy's node identity where Envoy exposes it (Istio puts the
/// workload's name and namespace in the node metadata), then the configured extras.
fn resource_attributes(config: &Config) -> Vec<(&str, AttrValue)> {
    let property = |path: Vec<&str>| string_property(path);
    let mut attributes = vec![
        (attr::SERVICE_NAME, AttrValue::Str(config.service_name.clone())),
        (attr::SERVICE_VERSION, AttrValue::Str(crate::VERSION.to_string())),
    ];
    let node = [
        ("service.instance.id", vec!["xds", "node", "id"]),
        ("host.name", vec!["xds", "node", "id"]),
        ("k8s.pod.name", vec!["xds", "node", "metadata", "NAME"]),
        ("k8s.namespace.name", vec!["xds", "node", "metadata", "NAMESPACE"]),
        ("k8s.workload.name", vec!["xds", "node", "metadata", "WORKLOAD_NAME"]),
        ("k8s.cluster.name", vec!["xds", "node", "metadata", "CLUSTER_ID"]),
    ];
    for (key, path) in node {
        if let Some(value) = property(path) {
            attributes.push((key, AttrValue::Str(value)));
        }
    }
    for (key, value) in &config.resource_attributes {
        attributes.retain(|(k, _)| k != key);
        attributes.push((key.as_str(), AttrValue::Str(value.clone())));
    }
    attributes
}

#[derive(Default)]
struct Root {
    worker: Option<Rc<Worker>>,
}

impl Root {
    fn configure(&mut self, config: Config) -> Result<(), String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| format!("no entropy for trace ids: {e}"))?;
        hostcalls::set_tick_period(Duration::from_millis(config.exporter.flush_interval_ms))
            .map_err(|e| format!("cannot set the flush tick: {e:?}"))?;
        let mut ids = IdGenerator::from_seed(seed);
        let flush_queue = hostcalls::register_shared_queue(&format!("llm_trace.flush.{:016x}", ids.next_u64())).ok();
        let envelope = ExportEnvelope::new(
            &resource_attributes(&config),
            crate::SCOPE_NAME,
            crate::VERSION,
            attr::SCHEMA_URL_V1_41,
        );
        let e = &config.exporter;
        let policy = ExportPolicy {
            max_queue_bytes: e.max_queue_bytes,
            max_batch_spans: e.max_batch_spans,
            max_batch_bytes: e.max_batch_bytes,
            max_in_flight: e.max_in_flight,
            drop_oldest: e.drop_oldest,
            max_attempts: e.retry.max_attempts,
            initial_backoff_ns: e.retry.initial_backoff_ms * 1_000_000,
            max_backoff_ns: e.retry.max_backoff_ms * 1_000_000,
        };
        let queue = ExportQueue::new(policy, ids.next_u64());
        log(
            LogLevel::Info,
            &format!(
                "llm-trace {}: exporting spans to cluster `{}` every {} ms.",
                crate::VERSION,
                config.exporter.cluster,
                config.exporter.flush_interval_ms
            ),
        );
        self.worker = Some(Rc::new(Worker {
            config,
            ids: RefCell::new(ids),
            queue: RefCell::new(queue),
            envelope,
            stats: Stats::define(),
            synced: Cell::new(ExportStats::default()),
            origin: Instant::now(),
            flush_queue,
            flush_pending: Cell::new(false),
            export_failing: Cell::new(false),
        }));
        Ok(())
    }
}

impl Context for Root {
    fn on_http_call_response(&mut self, token_id: u32, num_headers: usize, body_size: usize, _num_trailers: usize) {
        let Some(worker) = &self.worker else {
            return;
        };
        // No headers means the call never got an answer (timeout, reset, no healthy collector).
        let header = |name| {
            hostcalls::get_map_value(MapType::HttpCallResponseHeaders, name)
                .ok()
                .flatten()
        };
        let status = if num_headers == 0 {
            None
        } else {
            header(":status").and_then(|s| s.parse::<u16>().ok())
        };
        let rejected = match status {
            Some(200..=299) if body_size > 0 => hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
                .ok()
                .flatten()
                .map_or(0, |b| rejected_spans(&b)),
            _ => 0,
        };
        let retry_after = if num_headers == 0 { None } else { header("retry-after") };
        let outcome = classify_http(status, retry_after.as_deref(), rejected);
        if let Some(error) = metrics::export_error(status.map(u32::from), "status") {
            worker.stats.record(&error);
        }
        let detail = match status {
            Some(s) => format!("collector answered {s}"),
            None => "no answer (timeout or connection failure)".to_string(),
        };
        worker.settle(token_id, outcome, &detail);
    }

    fn on_grpc_call_response(&mut self, token_id: u32, status_code: u32, response_size: usize) {
        let Some(worker) = &self.worker else {
            return;
        };
        let rejected = if status_code == 0 && response_size > 0 {
            hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, 0, response_size)
                .ok()
                .flatten()
                .map_or(0, |b| rejected_spans(&b))
        } else {
            0
        };
        if let Some(error) = metrics::export_error(Some(status_code), "grpc_status") {
            worker.stats.record(&error);
        }
        worker.settle(
            token_id,
            classify_grpc(status_code, rejected),
            &format!("gRPC status {status_code}"),
        );
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        let bytes = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, plugin_configuration_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        let result = Config::from_json(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|c| self.configure(c));
        match result {
            Ok(()) => true,
            Err(message) => {
                log(LogLevel::Error, &message);
                false
            }
        }
    }

    fn on_tick(&mut self) {
        // Also where waiting retries become due.
        if let Some(worker) = &self.worker {
            worker.flush(true);
        }
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        let Some(worker) = &self.worker else {
            return;
        };
        while let Ok(Some(_)) = hostcalls::dequeue_shared_queue(queue_id) {}
        worker.flush_pending.set(false);
        worker.flush(false);
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            worker: self.worker.clone(),
            exchange: None,
            holding_request: false,
        }))
    }
}

/// One HTTP stream. Holds an [`Exchange`] only when the request is an LLM call.
struct Stream {
    worker: Option<Rc<Worker>>,
    exchange: Option<Exchange>,
    /// The request is held until its body is complete, to add `include_usage` (see `stream_usage`).
    holding_request: bool,
}

impl Stream {
    fn finish(&mut self, cut_reason: Option<&str>) {
        if let (Some(worker), Some(exchange)) = (&self.worker, self.exchange.take()) {
            worker.finish(exchange, cut_reason);
        }
    }
}

impl Context for Stream {
    fn on_done(&mut self) -> bool {
        // `on_log` normally finished the exchange; this covers hosts that skip the log phase.
        self.finish(Some("stream_destroyed"));
        true
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(worker) = &self.worker else {
            return Action::Continue;
        };
        let (Some(method), Some(path)) = (request_header(":method"), request_header(":path")) else {
            return Action::Continue;
        };
        // Non-LLM traffic leaves after two header reads (three when overrides match on the host).
        let authority = if worker.config.provider_overrides.is_empty() {
            if Api::detect(&method, &path).is_none() {
                return Action::Continue;
            }
            request_header(":authority")
        } else {
            let authority = request_header(":authority");
            if Exchange::detect(&worker.config, &method, &path, authority.as_deref()).is_none() {
                return Action::Continue;
            }
            authority
        };
        let scheme = request_header(":scheme");
        let traceparent = request_header("traceparent").or_else(|| {
            if !worker.config.accept_b3 {
                return None;
            }
            crate::trace_context::b3_to_traceparent(
                request_header("b3").as_deref(),
                request_header("x-b3-traceid").as_deref(),
                request_header("x-b3-spanid").as_deref(),
                request_header("x-b3-sampled").as_deref(),
            )
        });
        let tracestate = request_header("tracestate");
        let mut attribution: Vec<(String, String)> = worker
            .config
            .attribution_headers
            .iter()
            .filter_map(|(attribute, header)| request_header(header).map(|v| (attribute.clone(), v)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        for (attribute, path) in &worker.config.attribution_properties {
            let Some(value) = string_property(path.iter().map(String::as_str)) else {
                continue;
            };
            // Authenticated sources (verified JWT claims, mesh identity) win over a header.
            attribution.retain(|(a, _)| a != attribute);
            attribution.push((attribute.clone(), value));
        }
        let route_capture = string_property(["xds", "route_metadata", "filter_metadata", "llm-trace", "capture"])
            .and_then(|v| CaptureMode::parse(&v));
        let head = RequestHead {
            attribution: &attribution,
            route_capture,
            method: &method,
            path: &path,
            authority: authority.as_deref(),
            scheme: scheme.as_deref(),
            traceparent: traceparent.as_deref(),
            tracestate: tracestate.as_deref(),
        };
        self.exchange = Exchange::start(&worker.config, &head, worker.clock(), &mut worker.ids.borrow_mut());
        let Some(exchange) = &mut self.exchange else {
            return Action::Continue;
        };
        Stats::add(worker.stats.requests, 1);
        if worker.config.narrow_accept_encoding {
            if let Some(accept) = request_header("accept-encoding") {
                if let Some(narrowed) = crate::content_encoding::readable_accept_encoding(&accept) {
                    let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, "accept-encoding", Some(&narrowed));
                    exchange.note_accept_encoding_narrowed(accept);
                }
            }
        }
        if worker.config.inject_traceparent {
            let traceparent = exchange.traceparent();
            let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, "traceparent", Some(&traceparent));
        }
        if end_of_stream {
            exchange.on_request_end();
            return Action::Continue;
        }
        let content_length = request_header("content-length").and_then(|v| v.trim().parse().ok());
        if exchange.holds_request(&worker.config, content_length) {
            // The body may change size (injected option, redacted values), and headers leave before the body: drop
            // the length now
            // (the upstream gets the body chunked). Pausing the headers instead would stall the body callbacks
            // on Envoys without `allow_on_headers_stop_iteration`.
            let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, "content-length", None);
            self.holding_request = true;
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let (Some(worker), Some(exchange)) = (&self.worker, &mut self.exchange) else {
            return Action::Continue;
        };
        if self.holding_request {
            if !end_of_stream {
                return Action::Pause; // Envoy buffers; the next call sees the whole body so far
            }
            self.holding_request = false;
            let body = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
                .ok()
                .flatten();
            let body = body.unwrap_or_default();
            if let Some(injected) = exchange.on_buffered_request(&worker.config, &body) {
                if hostcalls::set_buffer(BufferType::HttpRequestBody, 0, body_size, &injected).is_err() {
                    exchange.rewrite_failed();
                    log(
                        LogLevel::Warn,
                        "llm-trace: the host refused the rewritten request body; it went as sent.",
                    );
                }
            }
            return Action::Continue;
        }
        let chunk = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
            .ok()
            .flatten();
        exchange.on_request_body(&worker.config, chunk.as_deref().unwrap_or_default(), end_of_stream);
        Action::Continue
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        if let Some(exchange) = &mut self.exchange {
            exchange.on_request_end();
        }
        self.holding_request = false;
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if let (Some(worker), Some(exchange)) = (&self.worker, &mut self.exchange) {
            let status = response_header(":status").and_then(|s| s.parse().ok()).unwrap_or(0);
            let content_type = response_header("content-type");
            let content_encoding = response_header("content-encoding");
            let head = ResponseHead {
                status,
                content_type: content_type.as_deref(),
                content_encoding: content_encoding.as_deref(),
            };
            exchange.on_response_headers(&worker.config, &head, end_of_stream, worker.clock());
            if let Ok(headers) = hostcalls::get_map(MapType::HttpResponseHeaders) {
                let figures = crate::rate_limit::from_headers(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                if !figures.is_empty() {
                    exchange.note_rate_limits(figures);
                }
            }
            if exchange.rewrites_response() {
                let _ = hostcalls::set_map_value(MapType::HttpResponseHeaders, "content-length", None);
            }
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if let (Some(worker), Some(exchange)) = (&self.worker, &mut self.exchange) {
            let chunk = hostcalls::get_buffer(BufferType::HttpResponseBody, 0, body_size)
                .ok()
                .flatten();
            let chunk = chunk.as_deref().unwrap_or_default();
            exchange.on_response_body(&worker.config, chunk, end_of_stream, worker.clock());
            if let Some(forward) = exchange.forward_response_chunk(chunk, end_of_stream) {
                let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, body_size, &forward);
            }
        }
        Action::Continue
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        if let (Some(worker), Some(exchange)) = (&self.worker, &mut self.exchange) {
            exchange.on_response_end(worker.clock());
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        let cut = self.exchange.as_ref().is_some_and(|x| !x.response_ended());
        let reason = if cut {
            string_property(["response", "code_details"])
        } else {
            None
        };
        self.finish(reason.as_deref().or(if cut { Some("stream_cut") } else { None }));
    }
}
