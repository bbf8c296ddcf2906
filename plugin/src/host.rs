//! Host access: every read and write the adapter makes goes through `hostcalls` (which return `Result`), never
//! through the SDK's unwrapping helpers, and every failure degrades to "absent".

use crate::headers::HeaderMap;
use llm_trace_core::{Clock, LocalReply, RequestView, ResponseView};
use llm_trace_core::{LogLevel as CoreLevel, LogLine};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, LogLevel, MapType};
use std::time::{Instant, UNIX_EPOCH};

pub(crate) fn log(level: LogLevel, message: &str) {
    let _ = hostcalls::log(level, message);
}

/// Writes the core's log lines.
pub(crate) fn write_logs(lines: &[LogLine]) {
    for line in lines {
        let level = match line.level {
            CoreLevel::Warn => LogLevel::Warn,
            CoreLevel::Info => LogLevel::Info,
        };
        log(level, &line.message);
    }
}

/// A host property's value when it is non-empty text.
pub(crate) fn property(path: &[&str]) -> Option<String> {
    hostcalls::get_property(path.to_vec())
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.is_empty())
}

/// A buffer's bytes (a body chunk, the configuration, an export answer); empty when the host has none.
pub(crate) fn buffer(kind: BufferType, size: usize) -> Vec<u8> {
    hostcalls::get_buffer(kind, 0, size).ok().flatten().unwrap_or_default()
}

/// The host clock: wall time for timestamps, and a monotonic reading from `origin`.
pub(crate) fn clock(origin: Instant) -> Clock {
    let unix_ns = hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Clock {
        unix_ns,
        mono_ns: origin.elapsed().as_nanos() as u64,
    }
}

/// A stream's clock after its first reading `first`: the monotonic time read anew, the wall time carried forward
/// from `first` by the monotonic difference. One host call instead of two: the core reads wall time only where a
/// call starts (the span's start); every later instant it uses is monotonic.
pub(crate) fn clock_since(origin: Instant, first: Clock) -> Clock {
    let mono_ns = origin.elapsed().as_nanos() as u64;
    Clock {
        unix_ns: first.unix_ns.saturating_add(mono_ns.saturating_sub(first.mono_ns)),
        mono_ns,
    }
}

/// The request headers of the current HTTP context, read from the host once (one host call, however many headers
/// the core asks for).
pub(crate) struct Request(HeaderMap);

impl Request {
    pub(crate) fn read() -> Request {
        Request(HeaderMap::read(MapType::HttpRequestHeaders))
    }
}

impl RequestView for Request {
    fn header(&self, name: &str) -> Option<String> {
        self.0.get(name).map(str::to_string)
    }

    fn property(&self, path: &[&str]) -> Option<String> {
        property(path)
    }
}

/// The response headers of the current HTTP context, read from the host once.
pub(crate) struct Response(HeaderMap);

impl Response {
    pub(crate) fn read() -> Response {
        Response(HeaderMap::read(MapType::HttpResponseHeaders))
    }
}

impl ResponseView for Response {
    fn header(&self, name: &str) -> Option<String> {
        self.0.get(name).map(str::to_string)
    }

    fn headers(&self) -> Vec<(String, String)> {
        self.0.pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn each_header(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (k, v) in self.0.raw_pairs() {
            f(k, v);
        }
    }
}

/// Sets (`Some`) or removes (`None`) a request header.
pub(crate) fn set_request_header(name: &str, value: Option<&str>) {
    let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, name, value);
}

/// Sets (`Some`) or removes (`None`) a response header.
pub(crate) fn set_response_header(name: &str, value: Option<&str>) {
    let _ = hostcalls::set_map_value(MapType::HttpResponseHeaders, name, value);
}

/// Adds a response header, keeping any of the same name.
pub(crate) fn add_response_header(name: &str, value: &str) {
    let _ = hostcalls::add_map_value(MapType::HttpResponseHeaders, name, value);
}

/// Answers the current HTTP context's request with `reply`; nothing goes upstream.
pub(crate) fn send_reply(reply: &LocalReply) {
    let headers: Vec<(&str, &str)> = reply.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let _ = hostcalls::send_http_response(u32::from(reply.status), headers, Some(&reply.body));
}
