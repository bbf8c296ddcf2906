//! One HTTP stream: each callback hands the core what it asks for and applies the edits it returns. A stream holds
//! an [`Exchange`] only when the request is an LLM call.

use crate::host::{self, log, Request, Response};
use crate::root::Worker;
use llm_trace_core::{Clock, Exchange, LocalRequest, LocalStart, StreamEnd, CUT_REASON_PROPERTY};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, LogLevel};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

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
    /// The host's context id (names a feedback request to the core, and held headers to the worker's tick).
    id: u32,
    exchange: Option<Exchange>,
    /// The core asked to hold the request body until it is complete (to rewrite it).
    holding_request: bool,
    headers: HeadersHold,
    /// A request the filter answers itself (the feedback endpoint), collecting its body.
    local: Option<LocalRequest>,
    /// The clock at the request headers; later readings carry its wall time forward (see [`host::clock_since`]).
    first_clock: Option<Clock>,
}

impl Stream {
    pub(crate) fn new(worker: Option<Rc<Worker>>, id: u32) -> Stream {
        Stream {
            worker,
            id,
            exchange: None,
            holding_request: false,
            headers: HeadersHold::NotHeld,
            local: None,
            first_clock: None,
        }
    }

    /// The time now: both clocks read at the stream's first callback, the monotonic one only after that.
    fn now(&mut self, origin: Instant) -> Clock {
        match self.first_clock {
            Some(first) => host::clock_since(origin, first),
            None => {
                let now = host::clock(origin);
                self.first_clock = Some(now);
                now
            }
        }
    }

    /// The headers are no longer held by this stream (its body came, or it ends); `body_came` reports a body
    /// callback while they were held.
    fn stop_watching_headers(&mut self, body_came: bool) {
        if let (Some(worker), HeadersHold::AwaitingBody(released)) = (&self.worker, &self.headers) {
            let released = released.get();
            worker.unwatch_held_headers(self.id);
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

    /// A feedback request's body so far (`complete`: all of it): the core's reply, if any, is sent. The request
    /// stays stopped either way; nothing of it goes upstream.
    fn local_body(&mut self, body_size: usize, complete: bool) -> Action {
        let Some(worker) = self.worker.clone() else {
            return Action::Continue;
        };
        let mut tracer = worker.tracer.borrow_mut();
        let reply = if complete {
            let body = host::buffer(BufferType::HttpRequestBody, body_size.min((16 << 10) + 1));
            let now = host::clock(worker.origin);
            self.local.take().and_then(|local| tracer.local_body(local, &body, now))
        } else {
            self.local
                .as_ref()
                .and_then(|local| tracer.local_body_progress(local, body_size))
        };
        drop(tracer);
        if let Some(reply) = reply {
            host::send_reply(&reply);
        }
        worker.apply_effects();
        Action::Pause
    }

    fn finish(&mut self, end: StreamEnd) {
        self.stop_watching_headers(false);
        if let (Some(worker), Some(exchange)) = (self.worker.clone(), self.exchange.take()) {
            let now = self.now(worker.origin);
            worker.tracer.borrow_mut().finish(exchange, now, end);
            worker.apply_effects();
        }
    }
}

impl Context for Stream {
    fn on_done(&mut self) -> bool {
        // `on_log` normally finished the exchange; this covers hosts that skip the log phase.
        self.finish(StreamEnd::Destroyed);
        if let (Some(worker), Some(local)) = (&self.worker, self.local.take()) {
            worker.tracer.borrow_mut().local_request_ended(&local);
        }
        true
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(worker) = self.worker.clone() else {
            return Action::Continue;
        };
        let now = self.now(worker.origin);
        let request = Request::read();
        let local = worker
            .tracer
            .borrow_mut()
            .local_request(self.id, &request, now, end_of_stream);
        if let Some(start) = local {
            match start {
                LocalStart::Reply(reply) => host::send_reply(&reply),
                LocalStart::CollectBody(request) => self.local = Some(request),
            }
            worker.apply_effects();
            return Action::Pause; // never forwarded: Envoy holds it while the body is collected
        }
        let started = worker.tracer.borrow_mut().start(&request, now, end_of_stream);
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
            self.headers = HeadersHold::AwaitingBody(worker.watch_held_headers(self.id));
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.local.is_some() {
            return self.local_body(body_size, end_of_stream);
        }
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
        if self.local.is_some() {
            return self.local_body(usize::MAX, true);
        }
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
        let (Some(worker), true) = (self.worker.clone(), self.exchange.is_some()) else {
            return Action::Continue;
        };
        let now = self.now(worker.origin);
        if let Some(exchange) = &mut self.exchange {
            let edits = exchange.response_headers(&Response::read(), end_of_stream, now);
            if edits.remove_content_length {
                host::set_response_header("content-length", None);
            }
            for (name, value) in &edits.add_headers {
                host::add_response_header(name, value);
            }
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let (Some(worker), true) = (self.worker.clone(), self.exchange.is_some()) else {
            return Action::Continue;
        };
        let now = self.now(worker.origin);
        if let Some(exchange) = &mut self.exchange {
            let chunk = host::buffer(BufferType::HttpResponseBody, body_size);
            if let Some(forward) = exchange.response_body(&chunk, end_of_stream, now) {
                let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, body_size, &forward);
            }
        }
        Action::Continue
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        let (Some(worker), true) = (self.worker.clone(), self.exchange.is_some()) else {
            return Action::Continue;
        };
        let now = self.now(worker.origin);
        if let Some(exchange) = &mut self.exchange {
            exchange.response_trailers(now);
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
