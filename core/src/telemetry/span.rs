//! The span model: what one LLM call becomes, independent of the wire encoding, and the options that shape it.
//! `span_builder` assembles it from an observation.

use crate::policy::redaction::Redact;
use serde::Deserialize;
use std::borrow::Cow;

/// Which GenAI semantic conventions the attribute names follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub(crate) enum Semconv {
    /// v1.41, the last released set with GenAI (the default).
    #[default]
    #[serde(rename = "v1.41")]
    V1_41,
    /// semantic-conventions-genai `main` after v1.41 (`cache_write`, `gen_ai.usage.cost.*`, `"error"` finish reasons).
    #[serde(rename = "latest")]
    Latest,
}

/// How spans are shaped; fixed per worker by the configuration.
pub(crate) struct SpanOptions<'a> {
    pub(crate) semconv: Semconv,
    pub(crate) gen_ai: bool,
    pub(crate) openinference: bool,
    pub(crate) max_content_bytes: usize,
    pub(crate) redactor: Option<&'a dyn Redact>,
}

impl Default for SpanOptions<'_> {
    fn default() -> Self {
        SpanOptions {
            semconv: Semconv::V1_41,
            gen_ai: true,
            openinference: false,
            max_content_bytes: 16 << 10,
            redactor: None,
        }
    }
}

/// An attribute value; the OTLP `AnyValue` subset the filter emits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttrValue {
    Str(String),
    Int(i64),
    Double(f64),
    Bool(bool),
    StrArray(Vec<String>),
}

pub(crate) type Attributes = Vec<(Cow<'static, str>, AttrValue)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusCode {
    Unset,
    Error,
}

/// A finished span, ready to encode.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpanRecord {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: [u8; 8],
    pub(crate) parent_span_id: Option<[u8; 8]>,
    pub(crate) trace_state: String,
    pub(crate) flags: u8,
    pub(crate) name: String,
    pub(crate) start_unix_ns: u64,
    pub(crate) end_unix_ns: u64,
    pub(crate) attributes: Attributes,
    pub(crate) status: StatusCode,
    pub(crate) status_message: String,
    /// Spans this one points at (an evaluation's carrier span links to the span it evaluates).
    pub(crate) links: Vec<SpanLink>,
}

/// A link to another span (OTLP `Span.Link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpanLink {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: [u8; 8],
}

/// Collects attributes, skipping absent values so callers can pass `Option`s straight through.
#[derive(Default)]
pub(super) struct AttributeList(pub(super) Attributes);

impl AttributeList {
    pub(super) fn str(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.0.push((Cow::Borrowed(key), AttrValue::Str(v.to_string())));
        }
    }
    pub(super) fn int(&mut self, key: &'static str, value: Option<i64>) {
        if let Some(v) = value {
            self.0.push((Cow::Borrowed(key), AttrValue::Int(v)));
        }
    }
    pub(super) fn uint(&mut self, key: &'static str, value: Option<u64>) {
        self.int(key, value.map(|v| i64::try_from(v).unwrap_or(i64::MAX)));
    }
    pub(super) fn double(&mut self, key: &'static str, value: Option<f64>) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.0.push((Cow::Borrowed(key), AttrValue::Double(v)));
        }
    }
    pub(super) fn bool(&mut self, key: &'static str, value: bool) {
        self.0.push((Cow::Borrowed(key), AttrValue::Bool(value)));
    }
    pub(super) fn strs(&mut self, key: &'static str, values: &[String]) {
        if !values.is_empty() {
            self.0.push((Cow::Borrowed(key), AttrValue::StrArray(values.to_vec())));
        }
    }
    pub(super) fn owned(&mut self, key: String, value: AttrValue) {
        self.0.push((Cow::Owned(key), value));
    }
}

pub(super) fn seconds_between(from_ns: u64, to_ns: Option<u64>) -> Option<f64> {
    to_ns.map(|t| t.saturating_sub(from_ns) as f64 / 1e9)
}
