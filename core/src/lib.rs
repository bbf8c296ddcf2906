//! llm-trace-core: the whole LLM tracer as a library that any host can drive, with no host dependency (sans-IO).
//!
//! # Data flow
//! A host (the proxy-wasm filter in `plugin/`, the wasi:http component, the native replay in `host-tests`) owns one
//! [`Tracer`] per worker and hands it plain values; the tracer hands back plain values to apply:
//!
//! 1. [`Tracer::start`] gets the request headers and properties through a [`RequestView`]. It detects the API once
//!    ([`provider`]), resolves attribution and capture ([`policy`]), and returns an [`Exchange`] with the
//!    [`RequestEdits`] to apply (headers to set or remove, whether to hold the body). Non-LLM traffic gets `None`.
//! 2. The host feeds the exchange body chunks and the time ([`Clock`]); the exchange frames them ([`wire`]), lets the
//!    provider decoder fill an [`model::Observation`], and answers with the bytes to forward where they change.
//! 3. [`Tracer::finish`] prices, samples and builds the span ([`telemetry`]), encodes it and queues it; the metrics
//!    to record and the log lines wait in [`Tracer::take_effects`].
//! 4. [`Tracer::due`] hands out [`ExportRequest`]s (cluster, headers, body, timeout, HTTP or gRPC) off the request
//!    path; the host sends them and reports the collector's answer to [`Tracer::settled`].
//!
//! 5. Quality ([`quality`]): each traced response carries its span's context back to the caller
//!    ([`ResponseEdits::add_headers`]); [`Tracer::local_request`] recognises the feedback endpoint, which the host
//!    answers itself with the [`LocalReply`] the tracer gives; finished calls picked for the LLM judge become
//!    [`QualityCall`]s the host makes off the request path ([`Tracer::next_quality_call`]) and settles back
//!    ([`Tracer::quality_answered`]). Evaluations leave as OTLP log records through the export loop.
//!
//! The core never calls the host and the host never decides policy. Layers import downward only:
//! `wire`, `model` ← `provider`, `policy` ← `telemetry` ← `quality` ← `exchange`, `tracer`.

mod config;
mod config_error;
mod exchange;
mod host_api;
mod model;
mod policy;
mod provider;
mod quality;
mod telemetry;
#[cfg(test)]
mod test_support;
mod tracer;
mod wire;

pub use config::Config;
pub use config_error::ConfigError;
pub use exchange::{Exchange, StreamEnd, CUT_REASON_PROPERTY};
pub use host_api::{Clock, Effects, LogLevel, LogLine, RequestEdits, RequestView, ResponseEdits, ResponseView};
pub use policy::redaction::{Redact, Redactor};
pub use quality::{LocalReply, LocalRequest, LocalStart, QualityCall};
pub use telemetry::export::{CollectorAnswer, ExportBody, ExportRequest};
pub use telemetry::metrics::{MetricKind, MetricUpdate, Recording, Stat};
pub use tracer::Tracer;
pub use wire::sse::SseDecoder;

/// Builds a redactor from a `redaction` configuration object, as the tracer does (for benchmarks and tools).
pub fn redactor(json: &str) -> Result<Redactor, ConfigError> {
    policy::redaction::build(json)
}

/// Version of the tracer, reported as the instrumentation scope version and `service.version` on every span.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Instrumentation scope name on every exported span.
pub const SCOPE_NAME: &str = "llm-trace";
