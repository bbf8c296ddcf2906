//! What the component reads from its host besides HTTP: the clocks, entropy, the log (stderr), and the header
//! views the core reads requests and responses through.

use crate::wasi::cli::stderr;
use crate::wasi::clocks::{monotonic_clock, wall_clock};
use crate::wasi::random::random;
use llm_trace_core::{Clock, LogLevel, LogLine, RequestView, ResponseView};

/// The host clocks: wall time for span timestamps, the monotonic clock for every duration.
pub(crate) fn now() -> Clock {
    let wall = wall_clock::now();
    Clock {
        unix_ns: wall
            .seconds
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(wall.nanoseconds)),
        mono_ns: monotonic_clock::now(),
    }
}

/// 32 bytes from the host's secure random source, for trace ids and jitter.
pub(crate) fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (byte, random) in seed.iter_mut().zip(random::get_random_bytes(32)) {
        *byte = random;
    }
    seed
}

/// Writes one line to stderr (`wasmtime serve` prefixes it with the instance id). Best effort: a log that cannot
/// be written must not fail the request.
pub(crate) fn log(message: &str) {
    let stream = stderr::get_stderr();
    let mut line = Vec::with_capacity(message.len() + 1);
    line.extend_from_slice(message.as_bytes());
    line.push(b'\n');
    // `blocking-write-and-flush` takes at most 4096 bytes at a time.
    for piece in line.chunks(4096) {
        if stream.blocking_write_and_flush(piece).is_err() {
            return;
        }
    }
}

/// Writes the core's warnings. Its info lines (started, recovered) describe a long-lived worker; an instance that
/// lives for one request would print the start line on every request.
pub(crate) fn write_logs(lines: &[LogLine]) {
    for line in lines.iter().filter(|l| l.level == LogLevel::Warn) {
        log(&format!("[warn] {}", line.message));
    }
}

/// Headers (names in lower case, pseudo-headers first) as the core's request and response views.
pub(crate) struct HeaderList(pub(crate) Vec<(String, String)>);

impl HeaderList {
    /// Pseudo-headers, then every header whose value is text; names in lower case.
    pub(crate) fn new(pseudo: Vec<(String, String)>, entries: &[(String, Vec<u8>)]) -> HeaderList {
        let mut headers = pseudo;
        headers.extend(entries.iter().filter_map(|(name, value)| {
            let value = std::str::from_utf8(value).ok()?;
            Some((name.to_ascii_lowercase(), value.to_string()))
        }));
        HeaderList(headers)
    }

    fn find(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

impl RequestView for HeaderList {
    fn header(&self, name: &str) -> Option<String> {
        self.find(name)
    }
}

impl ResponseView for HeaderList {
    fn header(&self, name: &str) -> Option<String> {
        self.find(name)
    }

    fn headers(&self) -> Vec<(String, String)> {
        self.0.clone()
    }
}
