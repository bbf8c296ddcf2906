//! Quality through the real `.wasm` under the wasmtime host: the `server-timing` a traced response carries back,
//! and the LLM judge driven like Envoy drives it (the root context makes the judge call off the request path, the
//! answer is settled back, the verdict leaves as an OTLP log record on the evaluated span). The feedback endpoint
//! answers with `proxy_send_local_response`, which this host does not implement; the end-to-end tests in real Envoy
//! cover it (`envoy/e2e/test_quality.py`).

use host_tests::host::{Host, HostOptions};
use host_tests::otlp_json;
use serde_json::{json, Value};

const CHAT_REQUEST: &str =
    r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Who wrote Dune? Mail me at jane@example.com"}]}"#;
const CHAT_RESPONSE: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",
  "choices":[{"index":0,"message":{"role":"assistant","content":"Frank Herbert wrote Dune."},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":11,"completion_tokens":5,"total_tokens":16}}"#;

fn host(quality: &str) -> Host {
    Host::with_options(HostOptions {
        plugin_config: format!(
            r#"{{"exporter":{{"cluster":"otel_collector"}},"capture":{{"content":"full"}},"quality":{quality}}}"#
        ),
        clusters: vec!["otel_collector".into(), "judge".into()],
        ..Default::default()
    })
    .unwrap()
}

/// One chat call; returns the response headers the client got.
fn chat_call(h: &mut Host, upstream_headers: &[(&str, &str)]) -> Vec<(String, String)> {
    let s = h.new_stream().unwrap();
    let request = [
        (":method", "POST"),
        (":scheme", "https"),
        (":authority", "api.openai.com"),
        (":path", "/v1/chat/completions"),
        ("content-type", "application/json"),
    ];
    h.request_headers(s, &request, false).unwrap();
    h.request_body(s, CHAT_REQUEST.as_bytes(), true).unwrap();
    h.advance_ms(20);
    let mut response = vec![(":status", "200"), ("content-type", "application/json")];
    response.extend_from_slice(upstream_headers);
    let (_, headers) = h.response_headers(s, &response, false).unwrap();
    h.response_body(s, CHAT_RESPONSE.as_bytes(), true).unwrap();
    h.log(s).unwrap();
    h.done(s).unwrap();
    headers
}

/// `(trace id, span id)` from `server-timing: trace;desc=00-{trace}-{span}-{flags}`.
fn ids(headers: &[(String, String)]) -> (String, String) {
    let value = headers
        .iter()
        .filter(|(k, _)| k == "server-timing")
        .map(|(_, v)| v.as_str())
        .find(|v| v.starts_with("trace;desc="))
        .unwrap();
    let parts: Vec<&str> = value.trim_start_matches("trace;desc=").split('-').collect();
    assert_eq!((parts[0], parts[3]), ("00", "01"));
    (parts[1].to_string(), parts[2].to_string())
}

#[test]
fn a_traced_response_carries_its_span_back_after_the_upstreams_server_timing() {
    let mut h = host("{}");
    let headers = chat_call(&mut h, &[("server-timing", "upstream;dur=12")]);
    let timings: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k == "server-timing")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(timings[0], "upstream;dur=12", "the upstream's metric stays");
    let (trace_id, span_id) = ids(&headers);
    h.tick().unwrap();
    let calls = h.take_http_calls();
    let spans = otlp_json::spans_to_json(&otlp_json::decode_export_request(&calls[0].body, None).unwrap());
    assert_eq!(
        (spans[0]["trace_id"].as_str(), spans[0]["span_id"].as_str()),
        (Some(&*trace_id), Some(&*span_id))
    );

    let mut off = host(r#"{"trace_context_header":""}"#);
    let headers = chat_call(&mut off, &[]);
    assert!(!headers.iter().any(|(k, _)| k == "server-timing"), "turned off");
}

#[test]
fn the_judge_call_leaves_from_the_root_context_and_its_verdict_is_an_event_on_the_call() {
    let mut h = host(r#"{"judge":{"cluster":"judge","model":"gpt-4o-mini","headers":{"x-mock-judge":"1"}}}"#);
    let (trace_id, span_id) = ids(&chat_call(&mut h, &[]));
    // The finished call woke the root context (shared queue), which made the judge call at once.
    let calls = h.take_http_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let judge = &calls[0];
    assert_eq!(judge.upstream, "judge");
    assert!(judge.headers.contains(&("x-mock-judge".to_string(), "1".to_string())));
    assert!(judge
        .headers
        .contains(&(":path".to_string(), "/v1/chat/completions".to_string())));
    let sent: Value = serde_json::from_slice(&judge.body).unwrap();
    let prompt = sent["messages"][0]["content"].as_str().unwrap();
    assert!(prompt.contains("user: Who wrote Dune? Mail me at [EMAIL]"), "{prompt}");
    assert!(prompt.contains("Frank Herbert wrote Dune.") && !prompt.contains("jane@example.com"));
    assert_eq!(judge.timeout_ms, 10_000);
    let verdict = json!({"id": "chatcmpl-j", "model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0,
        "message": {"role": "assistant", "content": "{\"score\": 0.75, \"label\": \"pass\", \"reason\": \"Right author.\"}"},
        "finish_reason": "stop"}], "usage": {"prompt_tokens": 80, "completion_tokens": 12}});
    h.advance_ms(300);
    h.respond_http_call(judge.token, &[(":status", "200")], verdict.to_string().as_bytes())
        .unwrap();
    assert_eq!(h.counter("llm_trace.judge.calls"), Some(1));
    assert_eq!(h.counter("llm_trace.judge.scored"), Some(1));
    assert_eq!(h.counter("llm_trace.judge.tokens_input"), Some(80));
    assert_eq!(
        h.histogram("llm.quality_score.provider.openai.model.gpt-4o-mini-2024-07-18.op.chat.evaluation.llm_judge"),
        Some(vec![75])
    );

    h.tick().unwrap();
    let exports = h.take_http_calls();
    let path = |c: &host_tests::host::HttpCall| {
        c.headers
            .iter()
            .find(|(k, _)| k == ":path")
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let logs = exports.iter().find(|c| path(c) == "/v1/logs").expect("a logs export");
    assert_eq!(logs.upstream, "otel_collector");
    let records = otlp_json::log_records_to_json(&otlp_json::decode_logs_request(&logs.body, None).unwrap());
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(
        (r["trace_id"].as_str(), r["span_id"].as_str()),
        (Some(&*trace_id), Some(&*span_id))
    );
    assert_eq!(r["event_name"], "gen_ai.evaluation.result");
    let a = &r["attributes"];
    assert_eq!(a["gen_ai.evaluation.name"], "llm_judge");
    assert_eq!(a["gen_ai.evaluation.score.value"], 0.75);
    assert_eq!(a["gen_ai.evaluation.score.label"], "pass");
    assert_eq!(a["gen_ai.evaluation.explanation"], "Right author.");
    assert_eq!(a["llm.evaluation.annotator_kind"], "LLM");
    assert_eq!(a["llm.judge.usage.output_tokens"], 12);
    assert_eq!(r["resource"]["service.name"], "llm-trace");
    for call in &exports {
        h.respond_http_call(call.token, &[(":status", "200")], b"").unwrap();
    }
    assert_eq!(h.counter("llm_trace.log_records_exported"), Some(1));
}

#[test]
fn a_judge_that_does_not_answer_is_counted_failed_and_nothing_is_exported() {
    let mut h = host(r#"{"judge":{"cluster":"judge","model":"gpt-4o-mini","timeout_ms":1000}}"#);
    chat_call(&mut h, &[]);
    let calls = h.take_http_calls();
    assert_eq!(calls[0].timeout_ms, 1000);
    h.fail_http_call(calls[0].token).unwrap();
    assert_eq!(h.counter("llm_trace.judge.failed"), Some(1));
    assert_eq!(h.counter("llm_trace.judge.scored").unwrap_or(0), 0);
    assert!(h
        .logs()
        .iter()
        .any(|(_, l)| l.contains("judge call to cluster `judge` failed")));
    h.tick().unwrap();
    let exports = h.take_http_calls();
    assert!(exports
        .iter()
        .all(|c| !c.headers.contains(&(":path".to_string(), "/v1/logs".to_string()))));
}
