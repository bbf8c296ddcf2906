//! OTLP protobuf encoding, written by hand in the wire format of the `opentelemetry-proto` messages (tests hold
//! every encoder to prost's bytes for the same message; the crate itself is a test dependency only, so the `.wasm`
//! links no OpenTelemetry code).
//!
//! Each span is encoded once, when it is queued; a batch is then assembled by wrapping the already-encoded spans in
//! `ExportTraceServiceRequest { resource_spans { resource, scope_spans { scope, spans... } } }`. Protobuf repeated
//! fields concatenate, so this produces exactly the bytes prost would, without re-encoding or cloning spans.

use super::span::{AttrValue, SpanEvent, SpanLink, SpanRecord, StatusCode};
use prost::encoding::WireType;

/// `Span.SpanKind.SPAN_KIND_CLIENT`: every span of the filter is a call to a provider.
const SPAN_KIND_CLIENT: u64 = 3;
/// `Status.StatusCode`: `STATUS_CODE_UNSET` and `STATUS_CODE_ERROR` (the filter never sets `OK`).
const STATUS_CODE_UNSET: i32 = 0;
const STATUS_CODE_ERROR: i32 = 2;

/// prost's `KeyValue` of an attribute: the reference the tests hold the hand-written encoders to.
#[cfg(test)]
pub(crate) fn key_value(key: &str, value: &AttrValue) -> opentelemetry_proto::tonic::common::v1::KeyValue {
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, ArrayValue, KeyValue};
    let text = |s: &String| AnyValue {
        value: Some(Value::StringValue(s.clone())),
    };
    let v = match value {
        AttrValue::Str(s) => Value::StringValue(s.clone()),
        AttrValue::Int(i) => Value::IntValue(*i),
        AttrValue::Double(d) => Value::DoubleValue(*d),
        AttrValue::Bool(b) => Value::BoolValue(*b),
        AttrValue::StrArray(items) => Value::ArrayValue(ArrayValue {
            values: items.iter().map(text).collect(),
        }),
    };
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

/// Encodes one span as an OTLP `Span` message, writing the wire format straight from the record: no intermediate
/// prost structs, so no copy of every key and value (content attributes are kilobytes). Fields go out in the order
/// prost writes them, so the bytes are the same as `Span::encode_to_vec` (a test holds it to that).
pub(crate) fn encode_span(s: &SpanRecord) -> Vec<u8> {
    // Each attribute's length is needed twice (the span's length, then its own header): computed once.
    let attribute_lens: Vec<usize> = s.attributes.iter().map(|(k, v)| key_value_len(k, v)).collect();
    let attributes_len: usize = attribute_lens.iter().map(|len| field_len(9, *len)).sum();
    let events_len: usize = s.events.iter().map(|e| field_len(11, event_len(e))).sum();
    let status_len = string_field_len(2, &s.status_message) + varint_field_len(3, status_code(s.status) as u64);
    let parent_len = if s.parent_span_id.is_some() { field_len(4, 8) } else { 0 };
    let links_len: usize = s.links.iter().map(|_| field_len(13, LINK_LEN)).sum();
    let total = field_len(1, 16)
        + field_len(2, 8)
        + string_field_len(3, &s.trace_state)
        + parent_len
        + 2 + 4 // flags: fixed32, tag 16 takes two key bytes
        + string_field_len(5, &s.name)
        + varint_field_len(6, SPAN_KIND_CLIENT)
        + fixed64_field_len(7, s.start_unix_ns)
        + fixed64_field_len(8, s.end_unix_ns)
        + attributes_len
        + events_len
        + links_len
        + field_len(15, status_len);
    let mut buf = Vec::with_capacity(total);
    put_bytes(&mut buf, 1, &s.trace_id);
    put_bytes(&mut buf, 2, &s.span_id);
    put_string(&mut buf, 3, &s.trace_state);
    if let Some(parent) = &s.parent_span_id {
        put_bytes(&mut buf, 4, parent);
    }
    put_string(&mut buf, 5, &s.name);
    put_varint(&mut buf, 6, SPAN_KIND_CLIENT);
    put_fixed64(&mut buf, 7, s.start_unix_ns);
    put_fixed64(&mut buf, 8, s.end_unix_ns);
    for ((k, v), len) in s.attributes.iter().zip(attribute_lens) {
        put_header(&mut buf, 9, len);
        put_key_value(&mut buf, k, v);
    }
    for e in &s.events {
        put_header(&mut buf, 11, event_len(e));
        put_event(&mut buf, e);
    }
    for link in &s.links {
        put_link(&mut buf, link);
    }
    put_header(&mut buf, 15, status_len);
    put_string(&mut buf, 2, &s.status_message);
    put_varint(&mut buf, 3, status_code(s.status) as u64);
    // Low byte: W3C trace flags. 0x100 says the parent's remoteness is known; 0x200 that it is remote.
    let flags = u32::from(s.flags) | 0x100 | if s.parent_span_id.is_some() { 0x200 } else { 0 };
    put_key(&mut buf, 16, WireType::ThirtyTwoBit);
    buf.extend_from_slice(&flags.to_le_bytes());
    buf
}

/// `Span.Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3 }` body length.
fn event_len(e: &SpanEvent) -> usize {
    let attributes: usize = e
        .attributes
        .iter()
        .map(|(k, v)| field_len(3, key_value_len(k, v)))
        .sum();
    fixed64_field_len(1, e.time_unix_ns) + string_field_len(2, &e.name) + attributes
}

fn put_event(buf: &mut Vec<u8>, e: &SpanEvent) {
    put_fixed64(buf, 1, e.time_unix_ns);
    put_string(buf, 2, &e.name);
    for (k, v) in &e.attributes {
        put_header(buf, 3, key_value_len(k, v));
        put_key_value(buf, k, v);
    }
}

/// `Span.Link { trace_id = 1; span_id = 2 }` body length.
const LINK_LEN: usize = 2 + 16 + 2 + 8;

/// `Span.links` (field 13).
fn put_link(buf: &mut Vec<u8>, link: &SpanLink) {
    put_header(buf, 13, LINK_LEN);
    put_bytes(buf, 1, &link.trace_id);
    put_bytes(buf, 2, &link.span_id);
}

fn status_code(code: StatusCode) -> i32 {
    match code {
        StatusCode::Unset => STATUS_CODE_UNSET,
        StatusCode::Error => STATUS_CODE_ERROR,
    }
}

/// `AnyValue` body length: `string_value = 1; bool_value = 2; int_value = 3; double_value = 4; array_value = 5`.
fn any_value_len(value: &AttrValue) -> usize {
    match value {
        // A oneof member is written even when it holds the default value.
        AttrValue::Str(s) => field_len(1, s.len()),
        AttrValue::Bool(_) => 2,
        AttrValue::Int(i) => 1 + prost::encoding::encoded_len_varint(*i as u64),
        AttrValue::Double(_) => 9,
        AttrValue::StrArray(items) => field_len(5, array_len(items)),
    }
}

/// `ArrayValue { repeated AnyValue values = 1 }` of strings.
fn array_len(items: &[String]) -> usize {
    items.iter().map(|i| field_len(1, field_len(1, i.len()))).sum()
}

/// `KeyValue { key = 1; value = 2 }` body length.
pub(super) fn key_value_len(key: &str, value: &AttrValue) -> usize {
    string_field_len(1, key) + field_len(2, any_value_len(value))
}

pub(super) fn put_key_value(buf: &mut Vec<u8>, key: &str, value: &AttrValue) {
    put_string(buf, 1, key);
    put_header(buf, 2, any_value_len(value));
    match value {
        AttrValue::Str(s) => put_bytes(buf, 1, s.as_bytes()),
        AttrValue::Bool(b) => {
            put_key(buf, 2, WireType::Varint);
            push_varint(buf, u64::from(*b));
        }
        AttrValue::Int(i) => {
            put_key(buf, 3, WireType::Varint);
            push_varint(buf, *i as u64);
        }
        AttrValue::Double(d) => {
            put_key(buf, 4, WireType::SixtyFourBit);
            buf.extend_from_slice(&d.to_le_bytes());
        }
        AttrValue::StrArray(items) => {
            put_header(buf, 5, array_len(items));
            for item in items {
                put_header(buf, 1, field_len(1, item.len()));
                put_bytes(buf, 1, item.as_bytes());
            }
        }
    }
}

fn varint_field_len(tag: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        prost::encoding::key_len(tag) + prost::encoding::encoded_len_varint(value)
    }
}

pub(super) fn fixed64_field_len(tag: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        prost::encoding::key_len(tag) + 8
    }
}

fn put_varint(buf: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        put_key(buf, tag, WireType::Varint);
        push_varint(buf, value);
    }
}

pub(super) fn put_fixed64(buf: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        put_key(buf, tag, WireType::SixtyFourBit);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// A varint, byte by byte into the (already sized) buffer: prost's `encode_varint` goes through `BufMut` per byte.
#[inline]
fn push_varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push(value as u8 | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// A field key (tag and wire type), as prost's `encode_key` writes it.
#[inline]
fn put_key(buf: &mut Vec<u8>, tag: u32, wire_type: WireType) {
    push_varint(buf, u64::from(tag << 3 | wire_type as u32));
}

/// The constant envelope parts of every export request of a worker: resource and scope, encoded once.
#[derive(Debug, Clone)]
pub(crate) struct ExportEnvelope {
    resource: Vec<u8>,
    scope: Vec<u8>,
    schema_url: String,
}

impl ExportEnvelope {
    pub(crate) fn new(
        resource_attributes: &[(String, AttrValue)],
        scope_name: &str,
        scope_version: &str,
        schema_url: &str,
    ) -> Self {
        // Resource { repeated KeyValue attributes = 1 }
        let mut resource = Vec::new();
        for (key, value) in resource_attributes {
            put_header(&mut resource, 1, key_value_len(key, value));
            put_key_value(&mut resource, key, value);
        }
        // InstrumentationScope { string name = 1; string version = 2 }
        let mut scope = Vec::new();
        put_string(&mut scope, 1, scope_name);
        put_string(&mut scope, 2, scope_version);
        ExportEnvelope {
            resource,
            scope,
            schema_url: schema_url.into(),
        }
    }

    /// Encodes an `ExportTraceServiceRequest` holding the given encoded spans.
    pub(crate) fn encode_request<'a>(&self, spans: impl Iterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
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

/// Spans the collector refused, from an `ExportTraceServiceResponse` (HTTP or gRPC): its
/// `ExportTracePartialSuccess partial_success = 1 { int64 rejected_spans = 1; string error_message = 2 }`. An empty
/// or unreadable body means full success, as OTLP specifies.
pub(crate) fn rejected_spans(response: &[u8]) -> u64 {
    let Some(partial_success) = last_field(response, 1, WireType::LengthDelimited) else {
        return 0;
    };
    last_field(partial_success, 1, WireType::Varint)
        .and_then(|varint| read_varint(varint).map(|(value, _)| value))
        // An int64 field: a negative count is no count.
        .map_or(0, |value| u64::try_from(value as i64).unwrap_or(0))
}

/// The last occurrence of field `tag` in a protobuf message (protobuf's rule for a repeated singular field): a
/// length-delimited field's bytes, or a varint's own bytes. `None` when it is absent or the message is malformed.
fn last_field(mut message: &[u8], tag: u64, wire_type: WireType) -> Option<&[u8]> {
    let mut found = None;
    while !message.is_empty() {
        let (key, used) = read_varint(message)?;
        message = &message[used..];
        let value_len = match key & 7 {
            0 => read_varint(message)?.1,
            1 => 8,
            2 => {
                let (len, used) = read_varint(message)?;
                message = &message[used..];
                usize::try_from(len).ok()?
            }
            5 => 4,
            _ => return None,
        };
        let value = message.get(..value_len)?;
        if key >> 3 == tag && key & 7 == wire_type as u64 {
            found = Some(value);
        }
        message = &message[value_len..];
    }
    found
}

/// A varint and the bytes it took; `None` when truncated or longer than ten bytes.
fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Gzips an export body (`content-encoding: gzip`).
pub(crate) fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

pub(super) fn field_len(tag: u32, len: usize) -> usize {
    prost::encoding::key_len(tag) + prost::encoding::encoded_len_varint(len as u64) + len
}

pub(super) fn string_field_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        field_len(tag, s.len())
    }
}

pub(super) fn put_header(buf: &mut Vec<u8>, tag: u32, len: usize) {
    put_key(buf, tag, WireType::LengthDelimited);
    push_varint(buf, len as u64);
}

pub(super) fn put_bytes(buf: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_header(buf, tag, bytes.len());
    buf.extend_from_slice(bytes);
}

pub(super) fn put_string(buf: &mut Vec<u8>, tag: u32, s: &str) {
    if !s.is_empty() {
        put_bytes(buf, tag, s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{span, status, ResourceSpans, ScopeSpans, Span, Status};
    use prost::Message;
    use std::borrow::Cow;

    /// The reference encoding: prost structs built from the record.
    fn encode_span_with_prost(s: &SpanRecord) -> Vec<u8> {
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
            events: s
                .events
                .iter()
                .map(|e| span::Event {
                    time_unix_nano: e.time_unix_ns,
                    name: e.name.to_string(),
                    attributes: e.attributes.iter().map(|(k, v)| key_value(k, v)).collect(),
                    dropped_attributes_count: 0,
                })
                .collect(),
            links: s
                .links
                .iter()
                .map(|l| span::Link {
                    trace_id: l.trace_id.to_vec(),
                    span_id: l.span_id.to_vec(),
                    ..Default::default()
                })
                .collect(),
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

    #[test]
    fn direct_encoding_is_byte_identical_to_prost() {
        let mut records: Vec<SpanRecord> = (1..=4).map(record).collect();
        let mut big = record(2);
        big.trace_state = "vendor=x".into();
        big.status_message = "Overloaded".into();
        big.start_unix_ns = 0;
        big.attributes
            .push((Cow::Borrowed("content"), AttrValue::Str("é".repeat(3000))));
        big.attributes
            .push((Cow::Borrowed("empty"), AttrValue::Str(String::new())));
        big.attributes.push((Cow::Borrowed("zero"), AttrValue::Int(0)));
        big.attributes.push((Cow::Borrowed("neg"), AttrValue::Int(i64::MIN)));
        big.attributes.push((Cow::Borrowed("f"), AttrValue::Bool(false)));
        big.attributes.push((Cow::Borrowed("d0"), AttrValue::Double(0.0)));
        big.attributes.push((
            Cow::Borrowed("arr"),
            AttrValue::StrArray(vec![String::new(), "x".repeat(200)]),
        ));
        big.attributes
            .push((Cow::Borrowed("none"), AttrValue::StrArray(vec![])));
        big.events = vec![
            SpanEvent {
                time_unix_ns: 15,
                name: Cow::Borrowed("First Token Stream Event"),
                attributes: Vec::new(),
            },
            // Defaults (time 0, empty name) are left out by prost; attributes of every type.
            SpanEvent {
                time_unix_ns: 0,
                name: Cow::Borrowed(""),
                attributes: record(1).attributes,
            },
            SpanEvent {
                time_unix_ns: u64::MAX,
                name: Cow::Owned("é".repeat(100)),
                attributes: vec![(Cow::Borrowed("big"), AttrValue::Str("x".repeat(300)))],
            },
        ];
        records.push(big);
        let mut only_events = record(3);
        only_events.attributes.clear();
        only_events.events = vec![SpanEvent {
            time_unix_ns: 12,
            name: Cow::Borrowed("e"),
            attributes: Vec::new(),
        }];
        records.push(only_events);
        let mut linked = record(3);
        linked.links = vec![SpanLink {
            trace_id: [0xab; 16],
            span_id: [0xcd; 8],
        }];
        records.push(linked);
        // Events (field 11) before links (field 13), as prost writes them.
        let mut both = record(4);
        both.events = vec![SpanEvent {
            time_unix_ns: 17,
            name: Cow::Borrowed("First Token Stream Event"),
            attributes: record(1).attributes,
        }];
        both.links = vec![
            SpanLink {
                trace_id: [1; 16],
                span_id: [2; 8],
            },
            SpanLink {
                trace_id: [0; 16],
                span_id: [0; 8],
            },
        ];
        records.push(both);
        for r in &records {
            assert_eq!(encode_span(r), encode_span_with_prost(r), "{}", r.name);
        }
    }

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
            events: Vec::new(),
            links: Vec::new(),
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
        // Field order, unknown fields of every wire type, a repeated message (the last one counts).
        let count = |n: i64, message: &str| {
            ExportTracePartialSuccess {
                rejected_spans: n,
                error_message: message.into(),
            }
            .encode_to_vec()
        };
        let mut body = vec![0x12, 0x02, 0x08, 0x05]; // field 2 (not ours), holding a varint 5
        body.extend([0x18, 0x96, 0x01, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4]); // varint, fixed64, fixed32
        for n in [9, 1_000_000] {
            let inner = count(n, "too many attributes");
            body.push(0x0a);
            body.push(inner.len() as u8);
            body.extend(&inner);
        }
        assert_eq!(rejected_spans(&body), 1_000_000);
        // A negative count, an error message first, truncation anywhere, an unknown wire type.
        let inner = count(-4, "x");
        let negative = [&[0x0a, inner.len() as u8][..], &inner].concat();
        assert_eq!(rejected_spans(&negative), 0);
        let message_first = [0x0a, 0x05, 0x12, 0x01, b'x', 0x08, 0x07];
        assert_eq!(rejected_spans(&message_first), 7);
        for end in 0..message_first.len() {
            assert_eq!(rejected_spans(&message_first[..end]), 0, "{end}");
        }
        assert_eq!(rejected_spans(&[0x0a, 0x02, 0x08, 0x07, 0x0b]), 0);
        let body = vec![7u8; 10_000];
        let zipped = gzip(&body).unwrap();
        assert!(zipped.len() < 200);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(zipped.as_slice()), &mut out).unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn envelope_is_prost_encoding_of_resource_and_scope() {
        let attributes = [
            ("service.name".to_string(), AttrValue::Str("svc".into())),
            ("empty".to_string(), AttrValue::Str(String::new())),
            ("host.cpus".to_string(), AttrValue::Int(2)),
            ("tags".to_string(), AttrValue::StrArray(vec!["a".into(), String::new()])),
        ];
        for (name, version) in [("llm-trace", "0.1.0"), ("", ""), ("s", "")] {
            let env = ExportEnvelope::new(&attributes, name, version, "s://u");
            let resource = Resource {
                attributes: attributes.iter().map(|(k, v)| key_value(k, v)).collect(),
                ..Default::default()
            };
            let scope = InstrumentationScope {
                name: name.into(),
                version: version.into(),
                ..Default::default()
            };
            assert_eq!(env.resource, resource.encode_to_vec());
            assert_eq!(env.scope, scope.encode_to_vec());
        }
        assert!(ExportEnvelope::new(&[], "", "", "").resource.is_empty());
    }

    #[test]
    fn hand_assembled_batch_equals_prost_encoding_of_the_same_request() {
        let env = ExportEnvelope::new(
            &[("service.name".to_string(), AttrValue::Str("svc".into()))],
            "llm-trace",
            "0.1.0",
            "s://u",
        );
        let with_event = |n: u8| {
            let mut r = record(n);
            r.events.push(SpanEvent {
                time_unix_ns: 17,
                name: Cow::Borrowed("First Token Stream Event"),
                attributes: Vec::new(),
            });
            r
        };
        let encoded: Vec<Vec<u8>> = (1..=3).map(|n| encode_span(&with_event(n))).collect();
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
        assert_eq!(
            (
                span.events.len(),
                span.events[0].name.as_str(),
                span.events[0].time_unix_nano
            ),
            (1, "First Token Stream Event", 17)
        );
    }
}
