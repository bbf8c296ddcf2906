//! llm-trace: a proxy-wasm filter that records every LLM API call passing through Envoy as an OpenTelemetry span
//! (GenAI semantic conventions) and ships it over OTLP to a collector cluster.
//!
//! Data flows one way: the glue layer (the only code that names `proxy_wasm`, compiled for wasm32 only) turns host
//! callbacks into calls on an [`exchange::Exchange`]; the exchange picks a [`provider`] decoder, frames the response
//! ([`sse`]), fills an [`observation::Observation`], and on completion turns it into a [`span::SpanRecord`], which the
//! [`export::ExportQueue`] batches and [`otlp`] encodes. Every module except `glue` is plain Rust, unit-tested natively.

pub mod attributes;
pub mod config;
pub mod content;
pub mod content_encoding;
pub mod event_stream;
pub mod exchange;
pub mod export;
pub mod json_array;
pub mod json_fields;
pub mod metrics;
pub mod observation;
pub mod otlp;
pub mod pricing;
pub mod provider;
pub mod rate_limit;
pub mod redaction;
pub mod sampling;
pub mod span;
pub mod sse;
pub mod stream_usage;
pub mod trace_context;

#[cfg(target_arch = "wasm32")]
mod glue;

/// Version of the filter, reported as `service.version`-like scope version on every span.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Instrumentation scope name on every exported span.
pub const SCOPE_NAME: &str = "llm-trace";
