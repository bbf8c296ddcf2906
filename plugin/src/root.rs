//! The root context: configuration, the per-worker tracer, the flush tick and the export calls' answers. Export
//! happens here only, never on a request's path.

use crate::host::{self, log, write_logs};
use crate::stats::Stats;
use crate::stream::Stream;
use llm_trace_core::{CollectorAnswer, Config, Effects, ExportBody, ExportRequest, Tracer, HEADERS_HOLD_TIMEOUT_MS};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, LogLevel, MapType};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Per-worker state shared by the root context and every HTTP context of that worker (same thread).
pub(crate) struct Worker {
    pub(crate) tracer: RefCell<Tracer>,
    pub(crate) stats: Stats,
    pub(crate) origin: Instant,
    /// Private shared queue whose `on_queue_ready` wakes the root context to flush a full batch off the request path.
    flush_queue: Option<u32>,
    /// Streams whose request headers are held until their body comes; the tick lets go of those that waited too
    /// long, so no call can hang on a host that stops body callbacks while headers are held.
    held_headers: RefCell<Vec<HeldHeaders>>,
    root_context_id: u32,
    /// The buffers of the last effects applied, handed back to the tracer next time (see
    /// [`Tracer::swap_effects`]). A `Cell`: never borrowed across a host call.
    spare_effects: Cell<Effects>,
}

/// A stream waiting, with its request headers held, for its first body callback.
struct HeldHeaders {
    context_id: u32,
    since_ns: u64,
    /// Set when the tick let the headers go; the stream reads it at its next callback.
    released: Rc<Cell<bool>>,
}

impl Worker {
    /// Applies what the tracer asked for after a call.
    pub(crate) fn apply_effects(&self) {
        let mut effects = self.spare_effects.take();
        self.tracer.borrow_mut().swap_effects(&mut effects);
        self.stats.apply(&effects.metrics);
        write_logs(&effects.logs);
        if effects.wake_exporter {
            if let Some(queue_id) = self.flush_queue {
                let _ = hostcalls::enqueue_shared_queue(queue_id, Some(b""));
            }
        }
        self.spare_effects.set(effects);
    }

    /// A stream holds its request headers until its body comes: watched by the tick. The returned flag is set if
    /// the tick lets them go.
    pub(crate) fn watch_held_headers(&self, context_id: u32) -> Rc<Cell<bool>> {
        let released = Rc::new(Cell::new(false));
        self.held_headers.borrow_mut().push(HeldHeaders {
            context_id,
            since_ns: host::clock(self.origin).mono_ns,
            released: Rc::clone(&released),
        });
        released
    }

    /// The stream's body came (or the stream ended): no more watching.
    pub(crate) fn unwatch_held_headers(&self, context_id: u32) {
        self.held_headers.borrow_mut().retain(|h| h.context_id != context_id);
    }

    /// Lets go of request headers that have waited [`HEADERS_HOLD_TIMEOUT_MS`] for a body callback.
    fn release_stalled_headers(&self) {
        let now = host::clock(self.origin).mono_ns;
        let stalled: Vec<HeldHeaders> = {
            let mut held = self.held_headers.borrow_mut();
            let (stalled, waiting) = held
                .drain(..)
                .partition(|h| now.saturating_sub(h.since_ns) >= HEADERS_HOLD_TIMEOUT_MS * 1_000_000);
            *held = waiting;
            stalled
        };
        if stalled.is_empty() {
            return;
        }
        for h in &stalled {
            h.released.set(true);
            if hostcalls::set_effective_context(h.context_id).is_ok() {
                let _ = hostcalls::resume_http_request();
            }
            self.tracer.borrow_mut().note_headers_hold(false);
        }
        // Export calls made next must belong to the root context.
        let _ = hostcalls::set_effective_context(self.root_context_id);
        self.apply_effects();
    }

    /// Sends every export call the tracer hands out now (`tick`: also partial batches), then its judge calls and
    /// Phoenix annotations.
    fn flush(&self, tick: bool) {
        let now = host::clock(self.origin);
        {
            let mut tracer = self.tracer.borrow_mut();
            while let Some(request) = tracer.next_export(now, tick) {
                match send(&request) {
                    Ok(token) => tracer.dispatched(request, token),
                    Err(detail) => tracer.dispatch_refused(request, now, &detail),
                }
            }
            while let Some(call) = tracer.next_quality_call(now) {
                match send_http(&call.cluster, &call.headers, &call.body, call.timeout_ms) {
                    Ok(token) => tracer.quality_dispatched(call, token, now),
                    Err(detail) => tracer.quality_dispatch_refused(call, &detail),
                }
            }
        }
        self.apply_effects();
    }

    /// Answers the feedback requests whose body did not come in time, each as its own HTTP context. Call last in
    /// a callback: it leaves another context effective (the host resets it for the next callback).
    fn expire_local_requests(&self) {
        let now = host::clock(self.origin);
        let overdue = self.tracer.borrow_mut().overdue_local_requests(now);
        self.apply_effects();
        for (context_id, reply) in overdue {
            if hostcalls::set_effective_context(context_id).is_ok() {
                host::send_reply(&reply);
            }
        }
    }
}

/// Dispatches one HTTP call (an export, a judge call, an annotation); returns the call's token.
fn send_http(cluster: &str, headers: &[(String, String)], body: &[u8], timeout_ms: u64) -> Result<u32, String> {
    let headers = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    hostcalls::dispatch_http_call(cluster, headers, Some(body), vec![], Duration::from_millis(timeout_ms))
        .map_err(|status| format!("{status:?}"))
}

/// Dispatches one export call to the collector cluster; returns the call's token.
fn send(request: &ExportRequest) -> Result<u32, String> {
    let timeout = Duration::from_millis(request.timeout_ms);
    let refused = |status| format!("{status:?}");
    match &request.body {
        ExportBody::Http { headers, body } => send_http(&request.cluster, headers, body, request.timeout_ms),
        ExportBody::Grpc {
            service,
            method,
            metadata,
            message,
        } => {
            let metadata: Vec<(&str, &[u8])> = metadata.iter().map(|(k, v)| (k.as_str(), v.as_bytes())).collect();
            hostcalls::dispatch_grpc_call(&request.cluster, service, method, metadata, Some(message), timeout)
                .map_err(refused)
        }
    }
}

pub(crate) struct Root {
    worker: Option<Rc<Worker>>,
    context_id: u32,
}

impl Root {
    pub(crate) fn new(context_id: u32) -> Root {
        Root {
            worker: None,
            context_id,
        }
    }

    fn configure(&mut self, config: Config) -> Result<(), String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| format!("no entropy for trace ids: {e}"))?;
        let mut tracer = Tracer::new(config, seed, &host::property);
        hostcalls::set_tick_period(Duration::from_millis(tracer.tick_period_ms()))
            .map_err(|e| format!("cannot set the flush tick: {e:?}"))?;
        let flush_queue =
            hostcalls::register_shared_queue(&format!("llm_trace.flush.{:016x}", tracer.random_u64())).ok();
        let worker = Rc::new(Worker {
            tracer: RefCell::new(tracer),
            stats: Stats::define(),
            origin: Instant::now(),
            flush_queue,
            held_headers: RefCell::new(Vec::new()),
            root_context_id: self.context_id,
            spare_effects: Cell::new(Effects::default()),
        });
        worker.apply_effects();
        self.worker = Some(worker);
        Ok(())
    }
}

impl Context for Root {
    fn on_done(&mut self) -> bool {
        // The VM or this configuration goes away, with what it queued: take its part out of the shared gauges.
        if let Some(worker) = &self.worker {
            worker.tracer.borrow_mut().withdraw_gauges();
            worker.apply_effects();
        }
        true
    }

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
        let quality_limit = worker.tracer.borrow().quality_answer_limit(token_id);
        if let Some(limit) = quality_limit {
            let body = host::buffer(BufferType::HttpCallResponseBody, body_size.min(limit));
            let now = host::clock(worker.origin);
            worker
                .tracer
                .borrow_mut()
                .quality_answered(token_id, status, &body, now);
            worker.flush(false);
            return;
        }
        let body = if body_size > 0 && CollectorAnswer::body_wanted_http(status) {
            host::buffer(BufferType::HttpCallResponseBody, body_size)
        } else {
            Vec::new()
        };
        let retry_after = if num_headers == 0 { None } else { header("retry-after") };
        let answer = CollectorAnswer::Http {
            status,
            retry_after: retry_after.as_deref(),
            body: &body,
        };
        let now = host::clock(worker.origin);
        worker.tracer.borrow_mut().settled(token_id, answer, now);
        worker.flush(false);
    }

    fn on_grpc_call_response(&mut self, token_id: u32, status_code: u32, response_size: usize) {
        let Some(worker) = &self.worker else {
            return;
        };
        let body = if response_size > 0 && CollectorAnswer::body_wanted_grpc(status_code) {
            host::buffer(BufferType::GrpcReceiveBuffer, response_size)
        } else {
            Vec::new()
        };
        let answer = CollectorAnswer::Grpc {
            status: status_code,
            body: &body,
        };
        let now = host::clock(worker.origin);
        worker.tracer.borrow_mut().settled(token_id, answer, now);
        worker.flush(false);
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        let bytes = host::buffer(BufferType::PluginConfiguration, plugin_configuration_size);
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
            worker.release_stalled_headers();
            worker.flush(true);
            worker.expire_local_requests();
        }
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        let Some(worker) = &self.worker else {
            return;
        };
        while let Ok(Some(_)) = hostcalls::dequeue_shared_queue(queue_id) {}
        worker.tracer.borrow_mut().exporter_woken();
        worker.flush(false);
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream::new(self.worker.clone(), context_id)))
    }
}
