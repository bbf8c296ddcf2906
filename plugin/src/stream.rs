//! One HTTP stream: each callback hands the core what it asks for and applies the edits it returns. A stream holds
//! an [`Exchange`] only when the request is an LLM call.

use crate::host::{self, log, Request, Response};
use crate::root::Worker;
use llm_trace_core::{Exchange, StreamEnd, CUT_REASON_PROPERTY};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, LogLevel};
use std::cell::Cell;
use std::rc::Rc;

/// Where held request headers stand (the core asked for `hold_headers`).
enum HeadersHold {
    NotHeld,
    /// Waiting for the first body callback, watched by the worker's tick; the flag is set if the tick let go.
    AwaitingBody(Rc<Cell<bool>>),
    /// Body callbacks come: the headers go with the complete body.
    WithBody,
}

pub(crate) struct Stream {
    worker: Option<Rc<Worker>>,
    context_id: u32,
    exchange: Option<Exchange>,
    /// The core asked to hold the request body until it is complete (to rewrite it).
    holding_request: bool,
    headers: HeadersHold,
}

impl Stream {
    pub(crate) fn new(worker: Option<Rc<Worker>>, context_id: u32) -> Stream {
        Stream {
            worker,
            context_id,
            exchange: None,
            holding_request: false,
            headers: HeadersHold::NotHeld,
        }
    }

    /// The headers are no longer held by this stream (its body came, or it ends); `body_came` reports a body
    /// callback while they were held.
    fn stop_watching_headers(&mut self, body_came: bool) {
        if let (Some(worker), HeadersHold::AwaitingBody(released)) = (&self.worker, &self.headers) {
            let released = released.get();
            worker.unwatch_held_headers(self.context_id);
            if released {
                // The tick let the headers go as sent: only read the body from here on.
                self.holding_request = false;
                if let Some(exchange) = &mut self.exchange {
                    exchange.headers_released();
                }
                self.headers = HeadersHold::NotHeld;
                return;
            }
            if body_came {
                worker.tracer.borrow_mut().note_headers_hold(true);
                self.headers = HeadersHold::WithBody;
                return;
            }
        }
        if !body_came {
            self.headers = HeadersHold::NotHeld;
        }
    }

    fn finish(&mut self, end: StreamEnd) {
        self.stop_watching_headers(false);
        if let (Some(worker), Some(exchange)) = (&self.worker, self.exchange.take()) {
            let now = host::clock(worker.origin);
            worker.tracer.borrow_mut().finish(exchange, now, end);
            worker.apply_effects();
        }
    }
}

impl Context for Stream {
    fn on_done(&mut self) -> bool {
        // `on_log` normally finished the exchange; this covers hosts that skip the log phase.
        self.finish(StreamEnd::Destroyed);
        true
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(worker) = &self.worker else {
            return Action::Continue;
        };
        let now = host::clock(worker.origin);
        let started = worker.tracer.borrow_mut().start(&Request, now, end_of_stream);
        let Some((exchange, edits)) = started else {
            return Action::Continue;
        };
        for (name, value) in &edits.set_headers {
            host::set_request_header(name, Some(value));
        }
        for name in &edits.remove_headers {
            host::set_request_header(name, None);
        }
        self.holding_request = edits.hold_body;
        self.exchange = Some(exchange);
        worker.apply_effects();
        if edits.hold_headers {
            // Held until the body is complete, so a rewritten body goes with its own content-length.
            self.headers = HeadersHold::AwaitingBody(worker.watch_held_headers(self.context_id));
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.stop_watching_headers(true);
        let Some(exchange) = &mut self.exchange else {
            return Action::Continue;
        };
        if self.holding_request {
            if !end_of_stream {
                return Action::Pause; // Envoy buffers; the next call sees the whole body so far
            }
            self.holding_request = false;
            self.headers = HeadersHold::NotHeld;
            let body = host::buffer(BufferType::HttpRequestBody, body_size);
            let edits = exchange.complete_held_request(&body);
            if let Some(rewritten) = edits.body {
                if hostcalls::set_buffer(BufferType::HttpRequestBody, 0, body_size, &rewritten).is_err() {
                    exchange.rewrite_refused();
                    log(
                        LogLevel::Warn,
                        "llm-trace: the host refused the rewritten request body; it went as sent.",
                    );
                } else {
                    // Held headers have not left yet: they go with the new body's length.
                    for (name, value) in &edits.set_headers {
                        host::set_request_header(name, Some(value));
                    }
                }
            }
            return Action::Continue;
        }
        let chunk = host::buffer(BufferType::HttpRequestBody, body_size);
        exchange.request_body(&chunk, end_of_stream);
        Action::Continue
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        self.stop_watching_headers(false);
        if let Some(exchange) = &mut self.exchange {
            // Trailers end the body without a last body callback: whatever was held goes as sent.
            exchange.headers_released();
            exchange.request_end();
        }
        self.holding_request = false;
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if let (Some(worker), Some(exchange)) = (&self.worker, &mut self.exchange) {
            let edits = exchange.response_headers(&Response, end_of_stream, host::clock(worker.origin));
            if edits.remove_content_length {
                host::set_response_header("content-length", None);
            }
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if let (Some(worker), Some(exchange)) = (&self.worker, &mut self.exchange) {
            let chunk = host::buffer(BufferType::HttpResponseBody, body_size);
            if let Some(forward) = exchange.response_body(&chunk, end_of_stream, host::clock(worker.origin)) {
                let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, body_size, &forward);
            }
        }
        Action::Continue
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        if let (Some(worker), Some(exchange)) = (&self.worker, &mut self.exchange) {
            exchange.response_trailers(host::clock(worker.origin));
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        let cut = self.exchange.as_ref().is_some_and(|x| !x.response_ended());
        let cut_reason = if cut {
            host::property(&CUT_REASON_PROPERTY)
        } else {
            None
        };
        self.finish(StreamEnd::Logged { cut_reason });
    }
}
