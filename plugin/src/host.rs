//! Host access: every read and write the adapter makes goes through `hostcalls` (which return `Result`), never
//! through the SDK's unwrapping helpers, and every failure degrades to "absent".

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

/// The request being handled by the current HTTP context.
pub(crate) struct Request;

impl RequestView for Request {
    fn header(&self, name: &str) -> Option<String> {
        hostcalls::get_map_value(MapType::HttpRequestHeaders, name)
            .ok()
            .flatten()
    }

    fn property(&self, path: &[&str]) -> Option<String> {
        property(path)
    }
}

/// The response being handled by the current HTTP context.
pub(crate) struct Response;

impl ResponseView for Response {
    fn header(&self, name: &str) -> Option<String> {
        hostcalls::get_map_value(MapType::HttpResponseHeaders, name)
            .ok()
            .flatten()
    }

    fn headers(&self) -> Vec<(String, String)> {
        hostcalls::get_map(MapType::HttpResponseHeaders).unwrap_or_default()
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
