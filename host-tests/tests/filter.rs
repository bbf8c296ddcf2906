//! The real `.wasm` under the wasmtime host, driven like Envoy drives it; every assertion is on the decoded OTLP
//! payloads the filter dispatched, the logs it wrote, or the stats it defined.

use host_tests::host::{Host, HostOptions};
use host_tests::replay::flush_exports;
use serde_json::{json, Value};

const CONFIG: &str =
    r#"{"service_name":"filter-tests","exporter":{"cluster":"otel_collector","authority":"collector:4318"}}"#;

fn host(config: &str) -> Host {
    Host::with_options(HostOptions {
        plugin_config: config.to_string(),
        ..Default::default()
    })
    .unwrap()
}

const CHAT_REQUEST: &str =
    r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}],"temperature":0.3,"max_tokens":40}"#;
const CHAT_RESPONSE: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",
  "choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":0}}}"#;

fn request_headers<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![
        (":method", "POST"),
        (":scheme", "https"),
        (":authority", "api.openai.com"),
        (":path", "/v1/chat/completions"),
        ("content-type", "application/json"),
    ];
    h.extend_from_slice(extra);
    h
}

/// One non-streaming chat call: request, response after `latency_ms`, log phase.
fn chat_call(host: &mut Host, extra_headers: &[(&str, &str)], status: &str, body: &str, latency_ms: u64) {
    let s = host.new_stream().unwrap();
    host.request_headers(s, &request_headers(extra_headers), false).unwrap();
    host.request_body(s, CHAT_REQUEST.as_bytes(), true).unwrap();
    host.advance_ms(latency_ms);
    host.response_headers(s, &[(":status", status), ("content-type", "application/json")], false)
        .unwrap();
    host.response_body(s, body.as_bytes(), true).unwrap();
    host.log(s).unwrap();
    host.done(s).unwrap();
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    span["attributes"].get(key).unwrap_or(&Value::Null)
}

#[test]
fn non_streaming_chat_exports_one_client_span_with_genai_attributes() {
    let mut h = host(CONFIG);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1500);
    assert!(
        h.take_http_calls().is_empty(),
        "nothing is exported before the flush tick"
    );
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s["name"], "chat gpt-4o-mini");
    assert_eq!(s["kind"], "CLIENT");
    assert_eq!(s["status"]["code"], "UNSET");
    assert_eq!(
        s["end_time_unix_nano"].as_u64().unwrap() - s["start_time_unix_nano"].as_u64().unwrap(),
        1_500_000_000
    );
    assert_eq!(s["resource"]["service.name"], "filter-tests");
    assert_eq!(s["scope"]["name"], "llm-trace");
    for (key, value) in [
        ("gen_ai.operation.name", json!("chat")),
        ("gen_ai.provider.name", json!("openai")),
        ("gen_ai.request.model", json!("gpt-4o-mini")),
        ("gen_ai.request.temperature", json!(0.3)),
        ("gen_ai.request.max_tokens", json!(40)),
        ("gen_ai.response.id", json!("chatcmpl-1")),
        ("gen_ai.response.model", json!("gpt-4o-mini-2024-07-18")),
        ("gen_ai.response.finish_reasons", json!(["stop"])),
        ("gen_ai.usage.input_tokens", json!(11)),
        ("gen_ai.usage.output_tokens", json!(2)),
        ("gen_ai.usage.cache_read.input_tokens", json!(0)),
        ("server.address", json!("api.openai.com")),
        ("server.port", json!(443)),
        ("openai.api.type", json!("chat_completions")),
        ("http.response.status_code", json!(200)),
        ("llm.usage.source", json!("body")),
    ] {
        assert_eq!(attr(s, key), &value, "{key}");
    }
    assert_eq!(
        attr(s, "gen_ai.request.stream"),
        &Value::Null,
        "only streaming requests say stream=true"
    );
    assert_eq!(attr(s, "error.type"), &Value::Null);
    assert_eq!(h.counter("llm_trace.requests"), Some(1));
    assert_eq!(h.counter("llm_trace.spans_created"), Some(1));
    assert_eq!(h.counter("llm_trace.spans_exported"), Some(1));
}

#[test]
fn export_call_targets_the_collector_cluster_as_otlp_http_protobuf() {
    let config = r#"{"exporter":{"cluster":"otel_collector","authority":"collector:4318","path":"/otlp/v1/traces",
        "timeout_ms":2500,"headers":{"X-Api-Key":"secret"}}}"#;
    let mut h = host(config);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 10);
    h.tick().unwrap();
    let calls = h.take_http_calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.upstream, "otel_collector");
    assert_eq!(c.timeout_ms, 2500);
    let header = |name: &str| c.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(header(":method"), Some("POST"));
    assert_eq!(header(":path"), Some("/otlp/v1/traces"));
    assert_eq!(header(":authority"), Some("collector:4318"));
    assert_eq!(header("content-type"), Some("application/x-protobuf"));
    assert_eq!(header("x-api-key"), Some("secret"));
}

#[test]
fn traceparent_joins_the_callers_trace_and_absent_one_starts_a_new_trace() {
    let mut h = host(CONFIG);
    chat_call(
        &mut h,
        &[("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")],
        "200",
        CHAT_RESPONSE,
        1,
    );
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    chat_call(
        &mut h,
        &[("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01")],
        "200",
        CHAT_RESPONSE,
        1,
    );
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(spans[0]["parent_span_id"], "00f067aa0ba902b7");
    for s in &spans[1..] {
        assert_eq!(s["parent_span_id"], Value::Null);
        let id = s["trace_id"].as_str().unwrap();
        assert_eq!(id.len(), 32);
        assert_ne!(id, "00000000000000000000000000000000");
        assert_ne!(id, "4bf92f3577b34da6a3ce929d0e0e4736");
    }
    assert_ne!(spans[1]["trace_id"], spans[2]["trace_id"]);
    let span_ids: std::collections::HashSet<_> = spans
        .iter()
        .map(|s| s["span_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(span_ids.len(), 3);
}

#[test]
fn provider_error_gives_error_status_and_type() {
    let mut h = host(CONFIG);
    let body =
        r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
    chat_call(&mut h, &[], "429", body, 5);
    let s = &flush_exports(&mut h).unwrap()[0];
    assert_eq!(s["status"]["code"], "ERROR");
    assert_eq!(s["status"]["message"], "Rate limit reached");
    assert_eq!(attr(s, "error.type"), "rate_limit_exceeded");
    assert_eq!(attr(s, "http.response.status_code"), 429);
}

const STREAM_CHUNKS: [&str; 5] = [
    "data: {\"id\":\"c9\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"c9\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel",
    "lo\"},\"finish_reason\":null}],\"usage\":null}\n\ndata: {\"id\":\"c9\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"c9\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":5,\"total_tokens\":26,\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n",
    "data: [DONE]\n\n",
];

fn start_stream(h: &mut Host) -> u32 {
    let s = h.new_stream().unwrap();
    h.request_headers(s, &request_headers(&[]), false).unwrap();
    let body = r#"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}"#;
    h.request_body(s, body.as_bytes(), true).unwrap();
    h.advance_ms(200);
    h.response_headers(s, &[(":status", "200"), ("content-type", "text/event-stream")], false)
        .unwrap();
    s
}

#[test]
fn stream_records_time_to_first_token_from_the_first_content_chunk() {
    let mut h = host(CONFIG);
    let s = start_stream(&mut h);
    for (i, chunk) in STREAM_CHUNKS.iter().enumerate() {
        h.advance_ms(100);
        let (_, forwarded) = h
            .response_body(s, chunk.as_bytes(), i + 1 == STREAM_CHUNKS.len())
            .unwrap();
        assert_eq!(forwarded, chunk.as_bytes(), "the filter forwards every chunk unchanged");
    }
    h.log(s).unwrap();
    h.done(s).unwrap();
    let span = &flush_exports(&mut h).unwrap()[0];
    // Role chunk at 300 ms (first byte); the content event completes with the third chunk at 500 ms; end at 700 ms.
    assert_eq!(attr(span, "llm.response.time_to_first_byte"), 0.3);
    assert_eq!(attr(span, "gen_ai.response.time_to_first_chunk"), 0.5);
    assert_eq!(
        span["end_time_unix_nano"].as_u64().unwrap() - span["start_time_unix_nano"].as_u64().unwrap(),
        700_000_000
    );
    assert_eq!(attr(span, "gen_ai.request.stream"), true);
    assert_eq!(attr(span, "gen_ai.response.finish_reasons"), &json!(["length"]));
    assert_eq!(attr(span, "gen_ai.usage.input_tokens"), 21);
    assert_eq!(attr(span, "gen_ai.usage.output_tokens"), 5);
    assert_eq!(attr(span, "gen_ai.usage.reasoning.output_tokens"), 0);
    assert_eq!(span["status"]["code"], "UNSET");
}

#[test]
fn client_abort_mid_stream_exports_a_partial_span_ending_at_the_cut() {
    let mut h = host(CONFIG);
    let s = start_stream(&mut h);
    h.advance_ms(100);
    h.response_body(s, STREAM_CHUNKS[0].as_bytes(), false).unwrap();
    h.advance_ms(100);
    h.response_body(s, STREAM_CHUNKS[1].as_bytes(), false).unwrap();
    h.advance_ms(50);
    h.set_stream_property(
        s,
        &["response", "code_details"],
        b"downstream_remote_disconnect".to_vec(),
    );
    h.log(s).unwrap();
    h.done(s).unwrap();
    let span = &flush_exports(&mut h).unwrap()[0];
    assert_eq!(attr(span, "llm.partial"), true);
    assert_eq!(attr(span, "error.type"), "stream_cut");
    assert_eq!(attr(span, "llm.error.message"), "downstream_remote_disconnect");
    assert_eq!(span["status"]["code"], "ERROR");
    assert_eq!(attr(span, "gen_ai.response.model"), "gpt-4o-2024-08-06");
    assert_eq!(
        span["end_time_unix_nano"].as_u64().unwrap() - span["start_time_unix_nano"].as_u64().unwrap(),
        450_000_000
    );
    assert_eq!(h.counter("llm_trace.partial_exchanges"), Some(1));
}

#[test]
fn upstream_reset_before_any_response_still_exports_a_span() {
    let mut h = host(CONFIG);
    let s = h.new_stream().unwrap();
    h.request_headers(s, &request_headers(&[]), false).unwrap();
    h.request_body(s, CHAT_REQUEST.as_bytes(), true).unwrap();
    h.advance_ms(30);
    h.log(s).unwrap();
    h.done(s).unwrap();
    let span = &flush_exports(&mut h).unwrap()[0];
    assert_eq!(attr(span, "error.type"), "no_response");
    assert_eq!(attr(span, "llm.partial"), true);
    assert_eq!(attr(span, "gen_ai.request.model"), "gpt-4o-mini");
}

#[test]
fn stream_that_ends_without_a_finish_is_an_error() {
    let mut h = host(CONFIG);
    let s = start_stream(&mut h);
    h.response_body(s, STREAM_CHUNKS[0].as_bytes(), false).unwrap();
    h.response_body(s, b"", true).unwrap();
    h.log(s).unwrap();
    h.done(s).unwrap();
    let span = &flush_exports(&mut h).unwrap()[0];
    assert_eq!(attr(span, "error.type"), "stream_incomplete");
    assert_eq!(attr(span, "llm.partial"), &Value::Null);
}

#[test]
fn non_llm_traffic_is_not_traced() {
    let mut h = host(CONFIG);
    let s = h.new_stream().unwrap();
    h.request_headers(
        s,
        &[
            (":method", "GET"),
            (":path", "/v1/models"),
            (":authority", "api.openai.com"),
        ],
        true,
    )
    .unwrap();
    h.response_headers(s, &[(":status", "200")], false).unwrap();
    h.response_body(s, b"{}", true).unwrap();
    h.log(s).unwrap();
    h.done(s).unwrap();
    assert!(flush_exports(&mut h).unwrap().is_empty());
    assert_eq!(h.counter("llm_trace.requests").unwrap_or(0), 0);
}

#[test]
fn a_full_batch_is_flushed_by_the_root_context_without_waiting_for_the_tick() {
    let mut h = host(r#"{"exporter":{"cluster":"otel_collector","max_batch_spans":2,"flush_interval_ms":60000}}"#);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    assert!(h.take_http_calls().is_empty());
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    let calls = h.take_http_calls();
    assert_eq!(calls.len(), 1, "the second span completes a batch");
    let req = host_tests::otlp_json::decode_export_request(&calls[0].body, None).unwrap();
    assert_eq!(host_tests::otlp_json::spans_to_json(&req).len(), 2);
}

#[test]
fn full_queue_drops_and_counts_and_failed_exports_are_counted() {
    // Each span encodes to about 1 KB (with its cost attributes): a 3 KiB queue holds only a couple.
    let mut h = host(r#"{"exporter":{"cluster":"otel_collector","max_queue_bytes":3072,"retry":{"max_attempts":1}}}"#);
    for _ in 0..10 {
        chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    }
    let dropped = h.counter("llm_trace.spans_dropped_queue_full").unwrap();
    assert!(dropped >= 6, "dropped {dropped}");
    assert_eq!(h.counter("llm_trace.spans_created"), Some(10));
    h.tick().unwrap();
    let calls = h.take_http_calls();
    assert_eq!(calls.len(), 1);
    h.fail_http_call(calls[0].token).unwrap();
    let queued = 10 - dropped;
    assert_eq!(h.counter("llm_trace.spans_dropped_export_failed"), Some(queued));
    assert_eq!(h.counter("llm_trace.export_failures"), Some(1));
    assert!(
        h.logs()
            .iter()
            .any(|(_, m)| m.contains("export to cluster `otel_collector` failed")),
        "{:?}",
        h.logs()
    );
    // Every created span is accounted for.
    let exported = h.counter("llm_trace.spans_exported").unwrap_or(0);
    assert_eq!(exported + dropped + queued, 10);
}

#[test]
fn retryable_export_failure_is_retried_after_retry_after_and_400_is_not() {
    let mut h = host(CONFIG);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    h.tick().unwrap();
    let first = h.take_http_calls().remove(0);
    h.respond_http_call(first.token, &[(":status", "503"), ("retry-after", "2")], b"")
        .unwrap();
    h.tick().unwrap();
    assert!(h.take_http_calls().is_empty(), "Retry-After: 2 s not elapsed yet");
    h.advance_ms(2_000);
    h.tick().unwrap();
    let retry = h.take_http_calls().remove(0);
    assert_eq!(retry.body, first.body, "the same batch goes again");
    h.respond_http_call(retry.token, &[(":status", "200")], b"").unwrap();
    assert_eq!(h.counter("llm_trace.spans_exported"), Some(1));
    assert_eq!(h.counter("llm_trace.export_retries"), Some(1));
    assert_eq!(h.counter("llm_trace.export_failures"), Some(1));

    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    h.tick().unwrap();
    let bad = h.take_http_calls().remove(0);
    h.respond_http_call(bad.token, &[(":status", "400")], b"").unwrap();
    h.advance_ms(60_000);
    h.tick().unwrap();
    assert!(h.take_http_calls().is_empty(), "400 is never retried");
    assert_eq!(h.counter("llm_trace.spans_dropped_export_failed"), Some(1));
}

#[test]
fn partial_success_counts_rejected_spans() {
    use opentelemetry_proto::tonic::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceResponse};
    use prost::Message;
    let mut h = host(CONFIG);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    h.tick().unwrap();
    let call = h.take_http_calls().remove(0);
    let answer = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 1,
            error_message: "bad attr".into(),
        }),
    };
    h.respond_http_call(call.token, &[(":status", "200")], &answer.encode_to_vec())
        .unwrap();
    assert_eq!(h.counter("llm_trace.spans_rejected"), Some(1));
    assert_eq!(h.counter("llm_trace.spans_exported"), Some(1));
    h.advance_ms(60_000);
    h.tick().unwrap();
    assert!(h.take_http_calls().is_empty(), "a partial success is never retried");
}

#[test]
fn grpc_transport_and_gzip_http_bodies() {
    let mut h = host(r#"{"exporter":{"cluster":"otel_collector","protocol":"grpc","headers":{"x-api-key":"k"}}}"#);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    h.tick().unwrap();
    let calls = h.take_grpc_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].service, "opentelemetry.proto.collector.trace.v1.TraceService");
    assert_eq!(calls[0].method, "Export");
    assert_eq!(calls[0].metadata, vec![("x-api-key".to_string(), b"k".to_vec())]);
    let req = host_tests::otlp_json::decode_export_request(&calls[0].message, None).unwrap();
    assert_eq!(
        host_tests::otlp_json::spans_to_json(&req)[0]["name"],
        "chat gpt-4o-mini"
    );
    h.respond_grpc_call(calls[0].token, 0, b"").unwrap();
    assert_eq!(h.counter("llm_trace.spans_exported"), Some(1));

    let mut h = host(r#"{"exporter":{"cluster":"otel_collector","compression":"gzip"}}"#);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    h.tick().unwrap();
    let call = h.take_http_calls().remove(0);
    assert!(call
        .headers
        .contains(&("content-encoding".to_string(), "gzip".to_string())));
    assert_eq!(&call.body[..2], &[0x1f, 0x8b]);
    let req = host_tests::otlp_json::decode_export_request(&call.body, Some("gzip")).unwrap();
    assert_eq!(host_tests::otlp_json::spans_to_json(&req).len(), 1);
}

#[test]
fn traceparent_is_injected_upstream_when_configured() {
    let mut h = host(r#"{"exporter":{"cluster":"otel_collector"},"trace_context":{"inject_traceparent":true}}"#);
    let s = h.new_stream().unwrap();
    let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let (_, headers) = h
        .request_headers(s, &request_headers(&[("traceparent", incoming)]), false)
        .unwrap();
    let sent = headers
        .iter()
        .find(|(k, _)| k == "traceparent")
        .map(|(_, v)| v.clone())
        .unwrap();
    h.request_body(s, CHAT_REQUEST.as_bytes(), true).unwrap();
    h.response_headers(s, &[(":status", "200"), ("content-type", "application/json")], false)
        .unwrap();
    h.response_body(s, CHAT_RESPONSE.as_bytes(), true).unwrap();
    h.log(s).unwrap();
    let span = &flush_exports(&mut h).unwrap()[0];
    assert_eq!(
        sent,
        format!(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01",
            span["span_id"].as_str().unwrap()
        )
    );
    assert_ne!(sent, incoming);
}

#[test]
fn sampling_keeps_errors_and_drops_the_rest_at_ratio_zero_but_metrics_count_every_call() {
    let mut h = host(r#"{"exporter":{"cluster":"otel_collector"},"sampling":{"ratio":0.0}}"#);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    let err = r#"{"error":{"message":"x","type":"server_error","code":null}}"#;
    chat_call(&mut h, &[], "500", err, 1);
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(attr(&spans[0], "llm.sampling.rule"), "error");
    assert_eq!(h.counter("llm_trace.spans_sampled_out"), Some(1));
    let model = "gpt-4o-mini-2024-07-18".replace('.', "_");
    let ok = format!("llm.requests.provider.openai.model.{model}.op.chat.status.ok");
    assert_eq!(h.counter(&ok), Some(1), "{:?}", h.metric_names());
    assert_eq!(
        h.counter(&format!("llm.tokens_input.provider.openai.model.{model}.op.chat")),
        Some(11)
    );
}

#[test]
fn include_usage_is_injected_and_the_usage_chunk_never_reaches_the_client() {
    let mut h = host(CONFIG);
    let s = h.new_stream().unwrap();
    let body = r#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}"#;
    let len = body.len().to_string();
    let (_, headers) = h
        .request_headers(s, &request_headers(&[("content-length", &len)]), false)
        .unwrap();
    assert!(
        headers.iter().all(|(k, _)| k != "content-length"),
        "the body will grow: length dropped"
    );
    let (action, forwarded) = h.request_body(s, &body.as_bytes()[..20], false).unwrap();
    assert_eq!(
        (action, forwarded.len()),
        (host_tests::host::Action::Pause, 0),
        "held until complete"
    );
    let (_, forwarded) = h.request_body(s, &body.as_bytes()[20..], true).unwrap();
    let sent: Value = serde_json::from_slice(&forwarded).unwrap();
    assert_eq!(sent["stream_options"]["include_usage"], true);
    assert_eq!(sent["messages"][0]["content"], "x");
    h.response_headers(s, &[(":status", "200"), ("content-type", "text/event-stream")], false)
        .unwrap();
    let mut client_got = Vec::new();
    let all: String = STREAM_CHUNKS.concat();
    let pieces: Vec<&[u8]> = all.as_bytes().chunks(9).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let (_, out) = h.response_body(s, piece, i + 1 == pieces.len()).unwrap();
        client_got.extend(out);
    }
    let client_got = String::from_utf8(client_got).unwrap();
    assert_eq!(
        client_got,
        all.replace(STREAM_CHUNKS[3], ""),
        "everything but the usage-only chunk, unchanged"
    );
    h.log(s).unwrap();
    let span = &flush_exports(&mut h).unwrap()[0];
    assert_eq!(attr(span, "gen_ai.usage.input_tokens"), 21);
    assert_eq!(attr(span, "llm.usage.injected"), true);
}

const HOLDING: &str =
    r#"{"service_name":"filter-tests","exporter":{"cluster":"otel_collector"},"hold_request_headers":true}"#;

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn held_headers_go_with_the_rewritten_body_and_its_own_content_length() {
    use host_tests::host::Action;
    let mut h = host(HOLDING);
    let body = r#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}"#;
    let len = body.len().to_string();
    let s = h.new_stream().unwrap();
    let head = request_headers(&[("content-length", &len), ("accept-encoding", "gzip, deflate")]);
    let (action, _) = h.request_headers(s, &head, false).unwrap();
    assert_eq!(action, Action::Pause, "headers held with the body");
    let (action, _) = h.request_body(s, &body.as_bytes()[..20], false).unwrap();
    assert_eq!(action, Action::Pause);
    let (action, forwarded) = h.request_body(s, &body.as_bytes()[20..], true).unwrap();
    assert_eq!(action, Action::Continue);
    let sent: Value = serde_json::from_slice(&forwarded).unwrap();
    assert_eq!(sent["stream_options"]["include_usage"], true);
    let headers = h.request_headers_now(s);
    assert_eq!(
        header(&headers, "content-length"),
        Some(forwarded.len().to_string().as_str())
    );
    assert_eq!(
        header(&headers, "accept-encoding"),
        Some("identity"),
        "plain SSE, so the usage chunk can go"
    );
    // Not streamed: body and headers exactly as sent.
    let plain = CHAT_REQUEST;
    let plain_len = plain.len().to_string();
    let p = h.new_stream().unwrap();
    let head = request_headers(&[("content-length", &plain_len), ("accept-encoding", "gzip")]);
    assert_eq!(h.request_headers(p, &head, false).unwrap().0, Action::Pause);
    let (_, forwarded) = h.request_body(p, plain.as_bytes(), true).unwrap();
    assert_eq!(forwarded, plain.as_bytes());
    let headers = h.request_headers_now(p);
    assert_eq!(header(&headers, "content-length"), Some(plain_len.as_str()));
    assert_eq!(header(&headers, "accept-encoding"), Some("gzip"));
    assert!(
        h.take_continued().is_empty(),
        "the body callbacks came: nothing to let go"
    );
    assert_eq!(h.counter("llm_trace.headers_hold_timeouts"), Some(0));
}

#[test]
fn held_headers_whose_body_never_comes_are_let_go_by_the_tick_and_the_worker_stops_holding() {
    use host_tests::host::Action;
    let mut h = host(HOLDING);
    let len = CHAT_REQUEST.len().to_string();
    let s = h.new_stream().unwrap();
    let head = request_headers(&[("content-length", &len)]);
    assert_eq!(h.request_headers(s, &head, false).unwrap().0, Action::Pause);
    h.advance_ms(600);
    h.tick().unwrap();
    assert!(h.take_continued().is_empty(), "not yet");
    h.advance_ms(500);
    h.tick().unwrap();
    assert_eq!(h.take_continued(), vec![s], "let go after 1 s");
    assert_eq!(h.counter("llm_trace.headers_hold_timeouts"), Some(1));
    assert!(h
        .logs()
        .iter()
        .any(|(_, l)| l.contains("allow_on_headers_stop_iteration: true")));
    // The body comes after all (Envoy hands on what it buffered): read, forwarded as sent.
    let (action, forwarded) = h.request_body(s, CHAT_REQUEST.as_bytes(), true).unwrap();
    assert_eq!(
        (action, forwarded.as_slice()),
        (Action::Continue, CHAT_REQUEST.as_bytes())
    );
    h.response_headers(s, &[(":status", "200"), ("content-type", "application/json")], false)
        .unwrap();
    h.response_body(s, CHAT_RESPONSE.as_bytes(), true).unwrap();
    h.log(s).unwrap();
    // This worker no longer holds headers: the next rewritable request goes without its length instead.
    let n = h.new_stream().unwrap();
    let (action, headers) = h.request_headers(n, &head, false).unwrap();
    assert_eq!(action, Action::Continue);
    assert_eq!(header(&headers, "content-length"), None);
    // The tick made the root context effective again: export works.
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(attr(&spans[0], "gen_ai.usage.input_tokens"), 11);
}

#[test]
fn collector_error_status_counts_the_batch_as_failed() {
    let mut h = host(CONFIG);
    chat_call(&mut h, &[], "200", CHAT_RESPONSE, 1);
    h.tick().unwrap();
    let call = h.take_http_calls().remove(0);
    h.respond_http_call(call.token, &[(":status", "503")], b"").unwrap();
    assert_eq!(h.counter("llm_trace.export_failures"), Some(1));
    assert_eq!(h.counter("llm_trace.export_errors.status.503"), Some(1));
    assert_eq!(h.counter("llm_trace.spans_exported").unwrap_or(0), 0);
    // The retry gets no answer at all (timeout, reset, no healthy collector).
    h.advance_ms(60_000);
    h.tick().unwrap();
    let retry = h.take_http_calls().remove(0);
    h.fail_http_call(retry.token).unwrap();
    assert_eq!(h.counter("llm_trace.export_errors.status.none"), Some(1));
}

#[test]
fn invalid_configuration_is_rejected_with_one_clear_log_line() {
    let err = Host::with_options(HostOptions {
        plugin_config: r#"{"exporter":{"cluster":"otel_collector","timeout_ms":"5s"}}"#.into(),
        ..Default::default()
    })
    .err()
    .expect("configuration must be rejected");
    let message = format!("{err:#}");
    assert!(
        message.contains(
            "Invalid llm-trace configuration: `exporter.timeout_ms`: invalid type: string \"5s\", expected u64."
        ),
        "{message}"
    );
}

#[test]
fn rate_limit_headers_become_attributes_and_unreadable_codings_are_not_requested() {
    let mut h = host(CONFIG);
    let s = h.new_stream().unwrap();
    let (_, sent) = h
        .request_headers(
            s,
            &request_headers(&[("accept-encoding", "gzip, deflate, br, zstd")]),
            false,
        )
        .unwrap();
    let accept: Vec<&str> = sent
        .iter()
        .filter(|(k, _)| k == "accept-encoding")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        accept,
        ["gzip, deflate"],
        "br and zstd removed; the client still gets a coding it accepts"
    );
    h.request_body(s, CHAT_REQUEST.as_bytes(), true).unwrap();
    let limited = [
        (":status", "429"),
        ("content-type", "application/json"),
        ("x-ratelimit-limit-requests", "10000"),
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-remaining-tokens", "149984"),
        ("x-ratelimit-reset-requests", "6m0s"),
        ("retry-after", "20"),
    ];
    h.response_headers(s, &limited, false).unwrap();
    let error =
        r#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","code":"rate_limit_exceeded"}}"#;
    h.response_body(s, error.as_bytes(), true).unwrap();
    h.log(s).unwrap();
    let span = &flush_exports(&mut h).unwrap()[0];
    assert_eq!(attr(span, "llm.ratelimit.requests.limit"), 10000);
    assert_eq!(attr(span, "llm.ratelimit.requests.remaining"), 0);
    assert_eq!(attr(span, "llm.ratelimit.tokens.remaining"), 149984);
    assert_eq!(attr(span, "llm.ratelimit.requests.reset"), "6m0s");
    assert_eq!(attr(span, "llm.ratelimit.retry_after"), "20");
    assert_eq!(
        attr(span, "llm.request.accept_encoding_narrowed"),
        "gzip, deflate, br, zstd"
    );
    assert_eq!(attr(span, "error.type"), "rate_limit_exceeded");
    assert_eq!(attr(span, "llm.error.message"), "Rate limit reached for gpt-4o-mini");
}

#[test]
fn a_b3_context_is_joined_when_configured() {
    let mut h = host(r#"{"exporter":{"cluster":"otel_collector"},"trace_context":{"accept_b3":true}}"#);
    chat_call(
        &mut h,
        &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")],
        "200",
        CHAT_RESPONSE,
        1,
    );
    let multi = [
        ("x-b3-traceid", "64fe8b2a57d3eff7"),
        ("x-b3-spanid", "05e3ac9a4f6e3b90"),
        ("x-b3-sampled", "1"),
    ];
    chat_call(&mut h, &multi, "200", CHAT_RESPONSE, 1);
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(spans[0]["trace_id"], "80f198ee56343ba864fe8b2a57d3eff7");
    assert_eq!(spans[0]["parent_span_id"], "e457b5a2e4d86bd1");
    assert_eq!(spans[1]["trace_id"], "000000000000000064fe8b2a57d3eff7");
    assert_eq!(spans[1]["parent_span_id"], "05e3ac9a4f6e3b90");
    // Off by default: the same header starts a new trace.
    let mut plain = host(CONFIG);
    chat_call(
        &mut plain,
        &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")],
        "200",
        CHAT_RESPONSE,
        1,
    );
    let span = &flush_exports(&mut plain).unwrap()[0];
    assert_ne!(span["trace_id"], "80f198ee56343ba864fe8b2a57d3eff7");
}
