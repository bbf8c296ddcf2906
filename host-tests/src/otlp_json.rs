//! Decodes what the filter exported (OTLP protobuf, possibly gzipped) with the official `opentelemetry-proto`
//! types, and renders spans as plain JSON for assertions, `replay` output and the OTLP receiver.

use anyhow::{Context as _, Result};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span, status};
use prost::Message;
use serde_json::{json, Map, Value};
use std::io::Read;

/// Parses an `ExportTraceServiceRequest`, gunzipping first when `content_encoding` says gzip.
pub fn decode_export_request(body: &[u8], content_encoding: Option<&str>) -> Result<ExportTraceServiceRequest> {
    let bytes = gunzipped(body, content_encoding)?;
    ExportTraceServiceRequest::decode(bytes.as_slice()).context("decoding ExportTraceServiceRequest")
}

/// Parses an `ExportLogsServiceRequest` (evaluation events), gunzipping first when `content_encoding` says gzip.
pub fn decode_logs_request(body: &[u8], content_encoding: Option<&str>) -> Result<ExportLogsServiceRequest> {
    let bytes = gunzipped(body, content_encoding)?;
    ExportLogsServiceRequest::decode(bytes.as_slice()).context("decoding ExportLogsServiceRequest")
}

fn gunzipped(body: &[u8], content_encoding: Option<&str>) -> Result<Vec<u8>> {
    if !content_encoding.is_some_and(|e| e.eq_ignore_ascii_case("gzip")) {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .context("gunzipping the export body")?;
    Ok(out)
}

/// One JSON object per log record (an event when `event_name` is set), with its resource and scope.
pub fn log_records_to_json(request: &ExportLogsServiceRequest) -> Vec<Value> {
    let mut out = Vec::new();
    for rl in &request.resource_logs {
        let resource = rl
            .resource
            .as_ref()
            .map_or(json!({}), |r| attributes_to_json(&r.attributes));
        for sl in &rl.scope_logs {
            let scope = sl
                .scope
                .as_ref()
                .map_or(json!({}), |s| json!({"name": s.name, "version": s.version}));
            for r in &sl.log_records {
                out.push(json!({
                    "event_name": r.event_name,
                    "trace_id": hex(&r.trace_id),
                    "span_id": if r.span_id.is_empty() { Value::Null } else { json!(hex(&r.span_id)) },
                    "flags": r.flags,
                    "time_unix_nano": r.time_unix_nano,
                    "observed_time_unix_nano": r.observed_time_unix_nano,
                    "severity_number": r.severity_number,
                    "body": r.body.as_ref().map_or(Value::Null, any_value_to_json),
                    "attributes": attributes_to_json(&r.attributes),
                    "resource": resource,
                    "scope": scope,
                    "schema_url": sl.schema_url,
                }));
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An attribute value as plain JSON: string, number, bool, array, object (kvlist), base64 (bytes).
pub fn any_value_to_json(value: &AnyValue) -> Value {
    use base64::Engine as _;
    match &value.value {
        Some(any_value::Value::StringValue(s)) => json!(s),
        Some(any_value::Value::BoolValue(b)) => json!(b),
        Some(any_value::Value::IntValue(i)) => json!(i),
        Some(any_value::Value::DoubleValue(d)) => json!(d),
        Some(any_value::Value::ArrayValue(a)) => Value::Array(a.values.iter().map(any_value_to_json).collect()),
        Some(any_value::Value::KvlistValue(kv)) => attributes_to_json(&kv.values),
        Some(any_value::Value::BytesValue(b)) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        _ => Value::Null,
    }
}

pub fn attributes_to_json(attributes: &[KeyValue]) -> Value {
    let mut map = Map::new();
    for kv in attributes {
        map.insert(kv.key.clone(), kv.value.as_ref().map_or(Value::Null, any_value_to_json));
    }
    Value::Object(map)
}

fn kind_name(kind: i32) -> &'static str {
    match span::SpanKind::try_from(kind) {
        Ok(span::SpanKind::Internal) => "INTERNAL",
        Ok(span::SpanKind::Server) => "SERVER",
        Ok(span::SpanKind::Client) => "CLIENT",
        Ok(span::SpanKind::Producer) => "PRODUCER",
        Ok(span::SpanKind::Consumer) => "CONSUMER",
        _ => "UNSPECIFIED",
    }
}

fn status_name(code: i32) -> &'static str {
    match status::StatusCode::try_from(code) {
        Ok(status::StatusCode::Ok) => "OK",
        Ok(status::StatusCode::Error) => "ERROR",
        _ => "UNSET",
    }
}

/// One JSON object per span, with its resource and scope.
pub fn spans_to_json(request: &ExportTraceServiceRequest) -> Vec<Value> {
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map_or(json!({}), |r| attributes_to_json(&r.attributes));
        for ss in &rs.scope_spans {
            let scope = ss
                .scope
                .as_ref()
                .map_or(json!({}), |s| json!({"name": s.name, "version": s.version}));
            for s in &ss.spans {
                let status = s.status.clone().unwrap_or_default();
                out.push(json!({
                    "name": s.name,
                    "kind": kind_name(s.kind),
                    "trace_id": hex(&s.trace_id),
                    "span_id": hex(&s.span_id),
                    "parent_span_id": if s.parent_span_id.is_empty() { Value::Null } else { json!(hex(&s.parent_span_id)) },
                    "trace_state": s.trace_state,
                    "flags": s.flags,
                    "start_time_unix_nano": s.start_time_unix_nano,
                    "end_time_unix_nano": s.end_time_unix_nano,
                    "status": {"code": status_name(status.code), "message": status.message},
                    "attributes": attributes_to_json(&s.attributes),
                    "links": s.links.iter().map(|l| json!({
                        "trace_id": hex(&l.trace_id),
                        "span_id": hex(&l.span_id),
                        "attributes": attributes_to_json(&l.attributes),
                    })).collect::<Vec<_>>(),
                    "events": s.events.iter().map(|e| json!({
                        "name": e.name,
                        "time_unix_nano": e.time_unix_nano,
                        "attributes": attributes_to_json(&e.attributes),
                    })).collect::<Vec<_>>(),
                    "resource": resource,
                    "scope": scope,
                    "schema_url": ss.schema_url,
                }));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, InstrumentationScope};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
    use std::io::Write;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    #[test]
    fn decodes_gzipped_requests_to_plain_json() {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", any_value::Value::StringValue("svc".into()))],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "llm-trace".into(),
                        version: "0.1.0".into(),
                        ..Default::default()
                    }),
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        name: "chat m".into(),
                        kind: span::SpanKind::Client as i32,
                        start_time_unix_nano: 5,
                        end_time_unix_nano: 9,
                        attributes: vec![
                            kv("i", any_value::Value::IntValue(7)),
                            kv("d", any_value::Value::DoubleValue(0.5)),
                            kv("b", any_value::Value::BoolValue(true)),
                            kv(
                                "a",
                                any_value::Value::ArrayValue(ArrayValue {
                                    values: vec![AnyValue {
                                        value: Some(any_value::Value::StringValue("stop".into())),
                                    }],
                                }),
                            ),
                        ],
                        status: Some(Status {
                            code: status::StatusCode::Error as i32,
                            message: "m".into(),
                        }),
                        ..Default::default()
                    }],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&request.encode_to_vec()).unwrap();
        let decoded = decode_export_request(&gz.finish().unwrap(), Some("gzip")).unwrap();
        let spans = spans_to_json(&decoded);
        assert_eq!(spans.len(), 1);
        let s = &spans[0];
        assert_eq!(s["kind"], "CLIENT");
        assert_eq!(s["trace_id"], "01010101010101010101010101010101");
        assert_eq!(s["parent_span_id"], Value::Null);
        assert_eq!(s["status"], json!({"code": "ERROR", "message": "m"}));
        assert_eq!(s["attributes"], json!({"i": 7, "d": 0.5, "b": true, "a": ["stop"]}));
        assert_eq!(s["resource"]["service.name"], "svc");
        assert!(decode_export_request(b"\xff\xff", None).is_err());
    }

    #[test]
    fn renders_log_records_with_their_span_ids() {
        use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![
                        LogRecord {
                            time_unix_nano: 7,
                            event_name: "gen_ai.evaluation.result".into(),
                            trace_id: vec![0xab; 16],
                            span_id: vec![0xcd; 8],
                            attributes: vec![kv("gen_ai.evaluation.score.value", any_value::Value::DoubleValue(0.5))],
                            ..Default::default()
                        },
                        LogRecord::default(),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let decoded = decode_logs_request(&request.encode_to_vec(), None).unwrap();
        let records = log_records_to_json(&decoded);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["event_name"], "gen_ai.evaluation.result");
        assert_eq!(records[0]["trace_id"], "ab".repeat(16));
        assert_eq!(records[0]["span_id"], "cd".repeat(8));
        assert_eq!(records[0]["attributes"], json!({"gen_ai.evaluation.score.value": 0.5}));
        assert_eq!(records[1]["span_id"], Value::Null);
    }
}
