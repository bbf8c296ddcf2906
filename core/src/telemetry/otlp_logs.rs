//! OTLP log records for events (`opentelemetry-proto` `logs.v1.LogRecord`, `prost` wire format): an event is a log
//! record with an `event_name`, tied to a span by its trace and span ids (how `gen_ai.evaluation.result` reaches
//! the collector).
//!
//! Records are encoded once, when queued, like spans. A batch needs no envelope of its own:
//! `ExportLogsServiceRequest { resource_logs { resource, scope_logs { scope, log_records... } } }` has the field
//! numbers of the traces request (1, 1/2, 1/2/3), so [`super::otlp::ExportEnvelope`] wraps records as it wraps spans,
//! and the collector's `ExportLogsServiceResponse` has the shape [`super::otlp::rejected_spans`] reads.

use super::otlp::{
    field_len, fixed64_field_len, key_value_len, put_bytes, put_fixed64, put_header, put_key_value, put_string,
    string_field_len,
};
use super::span::Attributes;
use prost::encoding::{encode_key, WireType};

/// One event, ready to encode.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventRecord {
    pub(crate) time_unix_ns: u64,
    /// The span the event is about: its trace, and its span when known.
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: Option<[u8; 8]>,
    /// W3C trace flags of that span (0 when unknown).
    pub(crate) flags: u8,
    pub(crate) event_name: &'static str,
    pub(crate) attributes: Attributes,
}

/// Encodes one event as an OTLP `LogRecord` message, fields in the order prost writes them (a test holds the bytes
/// to prost's).
pub(crate) fn encode_event(r: &EventRecord) -> Vec<u8> {
    let attributes_len: usize = r
        .attributes
        .iter()
        .map(|(k, v)| field_len(6, key_value_len(k, v)))
        .sum();
    let total = fixed64_field_len(1, r.time_unix_ns)
        + attributes_len
        + if r.flags != 0 { 5 } else { 0 }
        + field_len(9, 16)
        + r.span_id.map_or(0, |_| field_len(10, 8))
        + fixed64_field_len(11, r.time_unix_ns)
        + string_field_len(12, r.event_name);
    let mut buf = Vec::with_capacity(total);
    put_fixed64(&mut buf, 1, r.time_unix_ns);
    for (k, v) in &r.attributes {
        put_header(&mut buf, 6, key_value_len(k, v));
        put_key_value(&mut buf, k, v);
    }
    if r.flags != 0 {
        encode_key(8, WireType::ThirtyTwoBit, &mut buf);
        buf.extend_from_slice(&u32::from(r.flags).to_le_bytes());
    }
    put_bytes(&mut buf, 9, &r.trace_id);
    if let Some(span_id) = &r.span_id {
        put_bytes(&mut buf, 10, span_id);
    }
    // Observed when the proxy recorded it, which is also when it happened.
    put_fixed64(&mut buf, 11, r.time_unix_ns);
    put_string(&mut buf, 12, r.event_name);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::otlp::{key_value, rejected_spans, ExportEnvelope};
    use crate::telemetry::span::AttrValue;
    use opentelemetry_proto::tonic::collector::logs::v1::{
        ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
    };
    use opentelemetry_proto::tonic::logs::v1::LogRecord;
    use prost::Message;
    use std::borrow::Cow;

    fn event(span_id: Option<[u8; 8]>, flags: u8) -> EventRecord {
        EventRecord {
            time_unix_ns: 1_764_000_000_000_000_000,
            trace_id: [0x0a; 16],
            span_id,
            flags,
            event_name: "gen_ai.evaluation.result",
            attributes: vec![
                (
                    Cow::Borrowed("gen_ai.evaluation.name"),
                    AttrValue::Str("Relevance".into()),
                ),
                (Cow::Borrowed("gen_ai.evaluation.score.value"), AttrValue::Double(0.0)),
                (
                    Cow::Borrowed("gen_ai.evaluation.explanation"),
                    AttrValue::Str("é".repeat(300)),
                ),
            ],
        }
    }

    fn with_prost(r: &EventRecord) -> Vec<u8> {
        LogRecord {
            time_unix_nano: r.time_unix_ns,
            observed_time_unix_nano: r.time_unix_ns,
            attributes: r.attributes.iter().map(|(k, v)| key_value(k, v)).collect(),
            flags: u32::from(r.flags),
            trace_id: r.trace_id.to_vec(),
            span_id: r.span_id.map(|s| s.to_vec()).unwrap_or_default(),
            event_name: r.event_name.to_string(),
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn direct_encoding_is_byte_identical_to_prost() {
        for r in [event(Some([0xb7; 8]), 1), event(None, 0)] {
            assert_eq!(encode_event(&r), with_prost(&r));
        }
    }

    #[test]
    fn the_span_envelope_makes_a_logs_request_and_reads_the_logs_answer() {
        let env = ExportEnvelope::new(
            &[("service.name".to_string(), AttrValue::Str("svc".into()))],
            "llm-trace",
            "0.1.0",
            "s://u",
        );
        let records = [encode_event(&event(Some([2; 8]), 1)), encode_event(&event(None, 0))];
        let bytes = env.encode_request(records.iter().map(Vec::as_slice));
        let decoded = ExportLogsServiceRequest::decode(bytes.as_slice()).unwrap();
        let scope_logs = &decoded.resource_logs[0].scope_logs[0];
        assert_eq!(scope_logs.scope.as_ref().unwrap().name, "llm-trace");
        assert_eq!(scope_logs.log_records.len(), 2);
        let first = &scope_logs.log_records[0];
        assert_eq!(first.event_name, "gen_ai.evaluation.result");
        assert_eq!(
            (first.trace_id.clone(), first.span_id.clone()),
            (vec![0x0a; 16], vec![2; 8])
        );
        assert!(scope_logs.log_records[1].span_id.is_empty());
        let answer = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 1,
                error_message: "no".into(),
            }),
        };
        assert_eq!(rejected_spans(&answer.encode_to_vec()), 1);
    }
}
