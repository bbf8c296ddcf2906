//! What a call becomes on the way out: the span model and its dialects ([`span`], [`gen_ai`], [`openinference`],
//! content for export in [`content`]), the attribute names ([`attributes`]), metrics ([`metrics`]), W3C trace
//! context ([`trace_context`]), OTLP protobuf ([`otlp`]) and the export queue and call shaping ([`export`]).

pub mod attributes;
mod content;
pub mod export;
mod gen_ai;
pub mod metrics;
mod openinference;
pub mod otlp;
pub mod span;
pub mod trace_context;
