//! OTLP protobuf encoding (`opentelemetry-proto` message types, `prost` wire format).
//!
//! Each span is encoded once, when it is queued; a batch is then assembled by wrapping the already-encoded spans in
//! `ExportTraceServiceRequest { resource_spans { resource, scope_spans { scope, spans... } } }`. Protobuf repeated
//! fields concatenate, so this produces exactly the bytes prost would, without re-encoding or cloning spans.

use crate::span::{AttrValue, SpanRecord, StatusCode};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, status, Span, Status};
use prost::encoding::{encode_key, encode_varint, WireType};
use prost::Message;

fn any_value(value: &AttrValue) -> AnyValue {
    let v = match value {
        AttrValue::Str(s) => any_value::Value::StringValue(s.clone()),
        AttrValue::Int(i) => any_value::Value::IntValue(*i),
        AttrValue::Double(d) => any_value::Value::DoubleValue(*d),
        AttrValue::Bool(b) => any_value::Value::BoolValue(*b),
        AttrValue::StrArray(items) => any_value::Value::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|s| AnyValue {
                    value: Some(any_value::Value::StringValue(s.clone())),
                })
                .collect(),
        }),
    };
    AnyValue { value: Some(v) }
}

pub fn key_value(key: &str, value: &AttrValue) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(any_value(value)),
        ..Default::default()
    }
}

/// Encodes one span as an OTLP `Span` message.
pub fn encode_span(s: &SpanRecord) -> Vec<u8> {
    let span = Span {
        trace_id: s.trace_id.to_vec(),
        span_id: s.span_id.to_vec(),
        trace_state: s.trace_state.clone(),
        parent_span_id: s.parent_span_id.map(|p| p.to_vec()).unwrap_or_default(),
        // Low byte: W3C trace flags. 0x100 says the parent's remoteness is known; 0x200 that it is remote.
        flags: u32::from(s.flags) | 0x100 | if s.parent_span_id.is_some() { 0x200 } else { 0 },
        name: s.name.clone(),
        kind: span::SpanKind::Client as i32,
        start_time_unix_nano: s.start_unix_ns,
        end_time_unix_nano: s.end_unix_ns,
        attributes: s.attributes.iter().map(|(k, v)| key_value(k, v)).collect(),
        status: Some(Status {
            message: s.status_message.clone(),
            code: match s.status {
                StatusCode::Unset => status::StatusCode::Unset as i32,
                StatusCode::Error => status::StatusCode::Error as i32,
            },
        }),
        ..Default::default()
    };
    span.encode_to_vec()
}

/// The constant envelope parts of every export request of a worker: resource and scope, encoded once.
#[derive(Debug, Clone)]
pub struct ExportEnvelope {
    resource: Vec<u8>,
    scope: Vec<u8>,
    schema_url: String,
}

impl ExportEnvelope {
    pub fn new(
        resource_attributes: &[(&str, AttrValue)],
        scope_name: &str,
        scope_version: &str,
        schema_url: &str,
    ) -> Self {
        let resource = Resource {
            attributes: resource_attributes.iter().map(|(k, v)| key_value(k, v)).collect(),
            ..Default::default()
        };
        let scope = InstrumentationScope {
            name: scope_name.into(),
            version: scope_version.into(),
            ..Default::default()
        };
        ExportEnvelope {
            resource: resource.encode_to_vec(),
            scope: scope.encode_to_vec(),
            schema_url: schema_url.into(),
        }
    }

    /// Encodes an `ExportTraceServiceRequest` holding the given encoded spans.
    pub fn encode_request<'a>(&self, spans: impl Iterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
        // ScopeSpans { scope = 1; repeated spans = 2; schema_url = 3 }
        let spans_len: usize = spans.clone().map(|s| field_len(2, s.len())).sum();
        let scope_spans_len = field_len(1, self.scope.len()) + spans_len + string_field_len(3, &self.schema_url);
        // ResourceSpans { resource = 1; repeated scope_spans = 2; schema_url = 3 }
        let resource_spans_len =
            field_len(1, self.resource.len()) + field_len(2, scope_spans_len) + string_field_len(3, &self.schema_url);
        let total = field_len(1, resource_spans_len);

        let mut buf = Vec::with_capacity(total);
        put_header(&mut buf, 1, resource_spans_len);
        put_bytes(&mut buf, 1, &self.resource);
        put_header(&mut buf, 2, scope_spans_len);
        put_bytes(&mut buf, 1, &self.scope);
        for s in spans {
            put_bytes(&mut buf, 2, s);
        }
        put_string(&mut buf, 3, &self.schema_url);
        put_string(&mut buf, 3, &self.schema_url);
        buf
    }
}

/// Spans the collector refused, from an `ExportTraceServiceResponse` (HTTP or gRPC). An empty or unreadable body
/// means full success, as OTLP specifies.
pub fn rejected_spans(response: &[u8]) -> u64 {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    ExportTraceServiceResponse::decode(response)
        .ok()
        .and_then(|r| r.partial_success)
        .map_or(0, |p| u64::try_from(p.rejected_spans).unwrap_or(0))
}

/// Gzips an export body (`content-encoding: gzip`).
pub fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

fn field_len(tag: u32, len: usize) -> usize {
    prost::encoding::key_len(tag) + prost::encoding::encoded_len_varint(len as u64) + len
}

fn string_field_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        field_len(tag, s.len())
    }
}

fn put_header(buf: &mut Vec<u8>, tag: u32, len: usize) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(len as u64, buf);
}

fn put_bytes(buf: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_header(buf, tag, bytes.len());
    buf.extend_from_slice(bytes);
}

fn put_string(buf: &mut Vec<u8>, tag: u32, s: &str) {
    if !s.is_empty() {
        put_bytes(buf, tag, s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
    use std::borrow::Cow;

    fn record(n: u8) -> SpanRecord {
        SpanRecord {
            trace_id: [n; 16],
            span_id: [n; 8],
            parent_span_id: if n % 2 == 0 { Some([9; 8]) } else { None },
            trace_state: String::new(),
            flags: 1,
            name: format!("chat m{n}"),
            start_unix_ns: 10,
            end_unix_ns: 20,
            attributes: vec![
                (Cow::Borrowed("a.str"), AttrValue::Str("x".into())),
                (Cow::Borrowed("a.int"), AttrValue::Int(-5)),
                (Cow::Borrowed("a.f"), AttrValue::Double(0.5)),
                (Cow::Borrowed("a.b"), AttrValue::Bool(true)),
                (Cow::Borrowed("a.arr"), AttrValue::StrArray(vec!["stop".into()])),
            ],
            status: if n == 2 { StatusCode::Error } else { StatusCode::Unset },
            status_message: String::new(),
        }
    }

    #[test]
    fn partial_success_and_gzip() {
        use opentelemetry_proto::tonic::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceResponse};
        let r = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 3,
                error_message: "bad".into(),
            }),
        };
        assert_eq!(rejected_spans(&r.encode_to_vec()), 3);
        assert_eq!(rejected_spans(b""), 0);
        assert_eq!(rejected_spans(b"\xff\xff"), 0);
        let body = vec![7u8; 10_000];
        let zipped = gzip(&body).unwrap();
        assert!(zipped.len() < 200);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(zipped.as_slice()), &mut out).unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn hand_assembled_batch_equals_prost_encoding_of_the_same_request() {
        let env = ExportEnvelope::new(
            &[("service.name", AttrValue::Str("svc".into()))],
            "llm-trace",
            "0.1.0",
            "s://u",
        );
        let encoded: Vec<Vec<u8>> = (1..=3).map(|n| encode_span(&record(n))).collect();
        let bytes = env.encode_request(encoded.iter().map(Vec::as_slice));

        let spans: Vec<Span> = encoded.iter().map(|b| Span::decode(b.as_slice()).unwrap()).collect();
        let expected = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource::decode(env.resource.as_slice()).unwrap()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope::decode(env.scope.as_slice()).unwrap()),
                    spans,
                    schema_url: "s://u".into(),
                }],
                schema_url: "s://u".into(),
            }],
        };
        assert_eq!(bytes, expected.encode_to_vec());
        let decoded = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
        let span = &decoded.resource_spans[0].scope_spans[0].spans[1];
        assert_eq!(span.name, "chat m2");
        assert_eq!(span.kind, span::SpanKind::Client as i32);
        assert_eq!(span.parent_span_id, vec![9; 8]);
        assert_eq!(span.flags, 0x301);
        assert_eq!(span.status.as_ref().unwrap().code, status::StatusCode::Error as i32);
        assert_eq!(span.attributes.len(), 5);
    }
}
