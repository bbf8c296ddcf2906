//! What a call becomes on the way out: the span model and its dialects ([`span`], [`gen_ai`], [`openinference`],
//! [`retrieval`] for vector-store queries,
//! content for export in [`content`]), the attribute names ([`attributes`]), metrics ([`metrics`]), W3C trace
//! context ([`trace_context`]), OTLP protobuf ([`otlp`]; events as log records in [`otlp_logs`]) and the export
//! queue and call shaping ([`export`]).

pub(crate) mod attributes;
pub(crate) mod content;
pub(crate) mod export;
mod gen_ai;
pub(crate) mod metrics;
mod openinference;
pub(crate) mod otlp;
pub(crate) mod otlp_logs;
mod retrieval;
pub(crate) mod span;
pub(crate) mod span_builder;
pub(crate) mod trace_context;
