//! The values a host hands the core and the values it gets back: views of headers and properties, the clock, and
//! the edits, metrics and log lines to apply. Nothing here calls a host.

use crate::telemetry::metrics::MetricUpdate;

/// Request headers and host properties, read on demand (a host may fetch each one with a host call).
pub trait RequestView {
    /// A request header by lower-case name; pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`) too.
    fn header(&self, name: &str) -> Option<String>;

    /// A host property when it is non-empty text (Envoy: verified JWT claims in dynamic metadata, Istio peer
    /// identity, route metadata). Hosts without properties answer `None`.
    fn property(&self, path: &[&str]) -> Option<String> {
        let _ = path;
        None
    }
}

/// Response headers, read on demand.
pub trait ResponseView {
    /// A response header by lower-case name (`:status` included).
    fn header(&self, name: &str) -> Option<String>;

    /// Every response header, names in lower case (for the decoders that read figures there).
    fn headers(&self) -> Vec<(String, String)>;

    /// Every response header in order, as bytes (for the rate-limit figures): a host that holds the headers in
    /// place answers without copying or checking each; the core checks the few it reads.
    fn each_header(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in self.headers() {
            f(name.as_bytes(), value.as_bytes());
        }
    }
}

/// Host clock readings: wall time for span timestamps, monotonic time for every duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Nanoseconds since the Unix epoch.
    pub unix_ns: u64,
    /// Nanoseconds of a monotonic clock (any origin, fixed per worker).
    pub mono_ns: u64,
}

/// What to change in the request before it goes upstream, decided when its headers arrive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestEdits {
    /// Headers to set (replacing any value), in order.
    pub set_headers: Vec<(&'static str, String)>,
    /// Headers to remove.
    pub remove_headers: Vec<&'static str>,
    /// Hold the request body until it is complete, then give it whole to [`crate::Exchange::held_request_body`]
    /// (or [`crate::Exchange::complete_held_request`]) and forward what that returns. Only asked for bodies of a
    /// known, bounded length.
    pub hold_body: bool,
    /// Also hold the request headers until the held body is complete, and apply the header edits of
    /// [`crate::Exchange::complete_held_request`] (a correct `content-length`) before they go. Only asked for when
    /// the configuration says the host can (`hold_request_headers`). A host that lets the headers go before the body
    /// is complete (it waited too long for it) says so with [`crate::Exchange::headers_released`] and
    /// [`crate::Tracer::note_headers_hold`]; the request then goes as sent.
    pub hold_headers: bool,
}

/// What to change in a held request once its body is complete (see [`crate::Exchange::complete_held_request`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldRequestEdits {
    /// The body to send instead, when it was rewritten.
    pub body: Option<Vec<u8>>,
    /// Headers to set, only when the headers were held and only once the new body is in place: `content-length`
    /// of the body sent, and `accept-encoding: identity` when the answer must come uncompressed (the usage chunk
    /// the tracer asked for is removed from plain event streams only).
    pub set_headers: Vec<(&'static str, String)>,
}

/// What to change in the response headers before they go to the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseEdits {
    /// The body will be rewritten: drop `content-length`.
    pub remove_content_length: bool,
    /// Headers to add, keeping any of the same name the upstream sent (`server-timing` with the LLM span's
    /// context; several lines of it are one list in HTTP).
    pub add_headers: Vec<(String, String)>,
}

/// How serious a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Something the operator must fix or know (the tracer lost data).
    Warn,
    /// A state change worth a line (started, recovered).
    Info,
}

/// A log line for the host's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// The message, one line, ending with a period.
    pub message: String,
}

/// What the tracer asks of its host after a call: metrics to record, lines to log, and whether to wake the
/// exporter (a full batch is waiting; the proxy-wasm host does it with a shared-queue notification).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effects {
    /// Metric updates, in order.
    pub metrics: Vec<MetricUpdate>,
    /// Log lines, in order.
    pub logs: Vec<LogLine>,
    /// Run the export loop soon, off the request path.
    pub wake_exporter: bool,
}

impl Effects {
    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty() && self.logs.is_empty() && !self.wake_exporter
    }

    /// Empties it and keeps its buffers (see [`crate::Tracer::swap_effects`]).
    pub fn clear(&mut self) {
        self.metrics.clear();
        self.logs.clear();
        self.wake_exporter = false;
    }
}
