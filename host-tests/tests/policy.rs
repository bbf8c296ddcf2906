//! The tracing policy in the real `.wasm`: redaction of exported content and of the forwarded request, and every
//! sampling rule. Assertions are on the decoded OTLP payloads, the bytes forwarded, and the stats.

use host_tests::host::{Host, HostOptions};
use host_tests::replay::flush_exports;
use serde_json::Value;

fn host(config: &str) -> Host {
    Host::with_options(HostOptions {
        plugin_config: config.to_string(),
        ..Default::default()
    })
    .unwrap()
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    span["attributes"].get(key).unwrap_or(&Value::Null)
}

fn headers<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
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

const ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",
  "choices":[{"index":0,"message":{"role":"assistant","content":"Noted."},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13}}"#;

fn chat_request(prompt: &str) -> String {
    serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}).to_string()
}

/// One non-streaming call; returns the bytes forwarded upstream.
fn call(h: &mut Host, extra: &[(&str, &str)], request: &str, status: &str, answer: &str, latency_ms: u64) -> Vec<u8> {
    let s = h.new_stream().unwrap();
    h.request_headers(s, &headers(extra), false).unwrap();
    let (_, forwarded) = h.request_body(s, request.as_bytes(), true).unwrap();
    h.advance_ms(latency_ms);
    h.response_headers(s, &[(":status", status), ("content-type", "application/json")], false)
        .unwrap();
    h.response_body(s, answer.as_bytes(), true).unwrap();
    h.log(s).unwrap();
    h.done(s).unwrap();
    forwarded
}

const FULL_CAPTURE: &str = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full"}}"#;
const KEY: &str = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx012345";

#[test]
fn a_secret_and_an_email_split_across_stream_chunks_are_still_redacted() {
    let mut h = host(FULL_CAPTURE);
    let s = h.new_stream().unwrap();
    h.request_headers(s, &headers(&[]), false).unwrap();
    let request = r#"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"repeat"}]}"#;
    h.request_body(s, request.as_bytes(), true).unwrap();
    h.response_headers(s, &[(":status", "200"), ("content-type", "text/event-stream")], false)
        .unwrap();
    // The key and the address each arrive in two content deltas, and the bytes in 7-byte pieces.
    let deltas = [
        "Your key is sk-proj-AbCdEfGh",
        "IjKlMnOpQrStUvWx012345, mail jane.d",
        "oe@example.com.",
    ];
    let mut stream = String::new();
    for d in deltas {
        stream.push_str(&format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"finish_reason\":null}}]}}\n\n",
            serde_json::to_string(d).unwrap()
        ));
    }
    stream.push_str("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    stream.push_str("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":20,\"total_tokens\":25}}\n\ndata: [DONE]\n\n");
    let pieces: Vec<&[u8]> = stream.as_bytes().chunks(7).collect();
    let mut client_got = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        client_got.extend(h.response_body(s, p, i + 1 == pieces.len()).unwrap().1);
    }
    assert_eq!(client_got, stream.as_bytes(), "the client gets the answer unchanged");
    h.log(s).unwrap();
    let span = &flush_exports(&mut h).unwrap()[0];
    let output = attr(span, "gen_ai.output.messages").as_str().unwrap();
    assert!(output.contains("Your key is [OPENAI_KEY], mail [EMAIL]."), "{output}");
    assert!(
        !output.contains("sk-proj") && !output.contains("example.com"),
        "{output}"
    );
    assert_eq!(attr(span, "llm.redactions.openai_key"), 1);
    assert_eq!(attr(span, "llm.redactions.email"), 1);
    assert_eq!(h.counter("llm_trace.redactions.openai_key"), Some(1));
    assert_eq!(h.counter("llm_trace.redactions.email"), Some(1));
}

#[test]
fn keyed_hashes_are_stable_across_calls_and_change_with_the_key() {
    let config = |key: &str| {
        format!(
            r#"{{"exporter":{{"cluster":"otel_collector"}},"capture":{{"content":"full"}},
               "redaction":{{"detectors":{{"email":"hash"}},"hmac_key":"{key}"}}}}"#
        )
    };
    let prompt = |p: &str| chat_request(p);
    let mut h = host(&config("0123456789abcdef0123"));
    call(&mut h, &[], &prompt("I am jane@example.com"), "200", ANSWER, 1);
    call(&mut h, &[], &prompt("Still jane@example.com here"), "200", ANSWER, 1);
    let spans = flush_exports(&mut h).unwrap();
    let hashed = |span: &Value| {
        let input = attr(span, "gen_ai.input.messages").as_str().unwrap().to_string();
        let start = input.find("[EMAIL:").unwrap();
        input[start..start + "[EMAIL:]".len() + 16].to_string()
    };
    let first = hashed(&spans[0]);
    assert_eq!(hashed(&spans[1]), first, "same value, same key: same hash");
    assert!(!attr(&spans[0], "gen_ai.input.messages")
        .as_str()
        .unwrap()
        .contains("jane"));
    let mut other = host(&config("another-secret-key-0000"));
    call(&mut other, &[], &prompt("I am jane@example.com"), "200", ANSWER, 1);
    assert_ne!(hashed(&flush_exports(&mut other).unwrap()[0]), first);
}

#[test]
fn content_is_redacted_before_it_is_truncated() {
    let config = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full","max_content_bytes":120}}"#;
    let mut h = host(config);
    // 120 bytes of JSON leave the text 64 bytes, marker included. The first key starts before that cut and ends
    // after it: truncating first would leak its first part. The second is inside the part that can be exported.
    let straddling = format!("{} {KEY} and more text after it", "x".repeat(40));
    let inside = format!("key {KEY} {}", "y".repeat(60));
    for prompt in [&straddling, &inside] {
        call(&mut h, &[], &chat_request(prompt), "200", ANSWER, 1);
    }
    let spans = flush_exports(&mut h).unwrap();
    let mut texts = Vec::new();
    for span in &spans {
        let input = attr(span, "gen_ai.input.messages").as_str().unwrap();
        assert!(input.len() <= 120, "{} bytes", input.len());
        assert!(!input.contains("sk-proj"), "{input}");
        // Cut inside the text: the value is still JSON.
        let messages: Value = serde_json::from_str(input).unwrap();
        let text = messages[0]["parts"][0]["content"].as_str().unwrap().to_string();
        assert!(text.ends_with("…[truncated]"), "{text}");
        texts.push(text);
    }
    assert_eq!(
        texts[0],
        format!("{}…[truncated]", "x".repeat(40)),
        "the straddling key is left out whole"
    );
    assert_eq!(texts[1], "key [OPENAI_KEY]…[truncated]");
}

#[test]
fn a_drop_detector_removes_the_whole_field_and_error_messages_are_redacted() {
    let config = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full"},
        "redaction":{"detectors":{"private_key":"drop"}}}"#;
    let mut h = host(config);
    let prompt = "sign with -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    call(&mut h, &[], &chat_request(prompt), "200", ANSWER, 1);
    let error = r#"{"error":{"message":"Invalid key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx012345 for ops@example.com","type":"invalid_request_error","code":"invalid_api_key"}}"#;
    call(&mut h, &[], &chat_request("hi"), "401", error, 1);
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(attr(&spans[0], "gen_ai.input.messages"), &Value::Null, "dropped");
    assert!(attr(&spans[0], "gen_ai.output.messages")
        .as_str()
        .unwrap()
        .contains("Noted."));
    assert_eq!(attr(&spans[0], "llm.redactions.private_key"), 1);
    assert_eq!(
        attr(&spans[1], "llm.error.message"),
        "Invalid key [OPENAI_KEY] for [EMAIL]"
    );
    assert_eq!(spans[1]["status"]["message"], "Invalid key [OPENAI_KEY] for [EMAIL]");
    // What the error message lost is counted like any other redaction.
    assert_eq!(attr(&spans[1], "llm.redactions.openai_key"), 1);
    assert_eq!(attr(&spans[1], "llm.redactions.email"), 1);
    assert_eq!(h.counter("llm_trace.redactions.email"), Some(1));
}

#[test]
fn identity_values_are_redacted_by_default_and_opaque_ids_stay() {
    let mut h = host(FULL_CAPTURE);
    let card = ["4111 1111", " 1111 1111"].concat();
    call(
        &mut h,
        &[
            ("x-user-id", "jane.doe@example.com"),
            ("x-session-id", "sess-8f3a9c2e-41"),
        ],
        &chat_request("hi"),
        "200",
        ANSWER,
        1,
    );
    call(
        &mut h,
        &[("x-user-id", "u-42"), ("x-session-id", &card)],
        &chat_request("hi"),
        "200",
        ANSWER,
        1,
    );
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(attr(&spans[0], "user.id"), "[EMAIL]");
    assert_eq!(
        attr(&spans[0], "session.id"),
        "sess-8f3a9c2e-41",
        "an opaque id matches nothing"
    );
    assert_eq!(attr(&spans[0], "llm.redactions.email"), 1);
    assert_eq!(attr(&spans[1], "user.id"), "u-42");
    assert_eq!(attr(&spans[1], "session.id"), "[CARD]");
    assert_eq!(attr(&spans[1], "gen_ai.conversation.id"), "[CARD]");
    // Switched off, identity values go as sent.
    let mut off = host(r#"{"exporter":{"cluster":"otel_collector"},"redaction":{"identity":false}}"#);
    call(
        &mut off,
        &[("x-user-id", "jane.doe@example.com")],
        &chat_request("hi"),
        "200",
        ANSWER,
        1,
    );
    assert_eq!(
        attr(&flush_exports(&mut off).unwrap()[0], "user.id"),
        "jane.doe@example.com"
    );
}

/// Issue 12's stalling pattern is refused at load, naming the field; an accepted pattern is bounded per call:
/// past the budget the attribute is dropped and counted, never exported unredacted.
#[test]
fn custom_regexes_are_bounded_at_load_and_per_call() {
    let refused = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full"},
        "redaction":{"custom":[{"name":"tag","regex":"[a-z]{1000}x"}]}}"#;
    let named = match Host::with_options(HostOptions {
        plugin_config: refused.to_string(),
        ..Default::default()
    }) {
        Err(e) => format!("{e:#}").contains("redaction.custom[0].regex"),
        Ok(h) => h
            .logs()
            .iter()
            .any(|(_, l)| l.contains("redaction.custom[0].regex") && l.contains("{1000}")),
    };
    assert!(named, "the configuration is refused with the field named");

    let bounded = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full","max_content_bytes":65536},
        "redaction":{"custom":[{"name":"tag","regex":"[a-z]{100}x"}],"custom_budget_bytes":40000}}"#;
    let mut h = host(bounded);
    let prompt = "a".repeat(16 * 1024);
    let request = serde_json::json!({"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": prompt}, {"role": "user", "content": prompt},
        {"role": "user", "content": prompt}, {"role": "user", "content": prompt}]})
    .to_string();
    call(&mut h, &[], &request, "200", ANSWER, 1);
    let span = &flush_exports(&mut h).unwrap()[0];
    assert_eq!(
        attr(span, "gen_ai.input.messages"),
        &Value::Null,
        "dropped, not exported unredacted"
    );
    assert!(attr(span, "gen_ai.output.messages")
        .as_str()
        .unwrap()
        .contains("Noted."));
    assert_eq!(attr(span, "llm.redactions.budget_exceeded"), 1);
    assert_eq!(h.counter("llm_trace.redactions.budget_exceeded"), Some(1));
}

#[test]
fn request_redaction_rewrites_what_goes_upstream_and_says_when_it_could_not() {
    let config = r#"{"exporter":{"cluster":"otel_collector"},
        "redaction":{"request":{"enabled":true,"detectors":["card","openai_key"]}}}"#;
    let mut h = host(config);
    let request = chat_request("pay with 4111 1111 1111 1111, mail me at a@b.io");
    let len = request.len().to_string();
    let forwarded = call(&mut h, &[("content-length", &len)], &request, "200", ANSWER, 1);
    let sent: Value = serde_json::from_slice(&forwarded).unwrap();
    assert_eq!(
        sent["messages"][0]["content"], "pay with [CARD], mail me at a@b.io",
        "only the configured detectors apply upstream"
    );
    assert_eq!(sent["model"], "gpt-4o-mini");
    // Without a content-length the body cannot be held within a bound: it goes as sent, and the span says so.
    let forwarded = call(&mut h, &[], &request, "200", ANSWER, 1);
    assert_eq!(forwarded, request.as_bytes());
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(attr(&spans[0], "llm.request.redactions.card"), 1);
    assert_eq!(attr(&spans[1], "llm.request.redaction_skipped"), "no_content_length");
    assert_eq!(h.counter("llm_trace.request_redactions.card"), Some(1));
}

/// Credentials never reach telemetry, whatever the configuration asks for.
#[test]
fn credential_headers_cannot_be_configured_as_attribution() {
    for header in [
        "authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "x-amz-security-token",
    ] {
        let config = format!(
            r#"{{"exporter":{{"cluster":"otel_collector"}},"attribution":{{"headers":{{"user.id":"{header}"}}}}}}"#
        );
        let h = Host::with_options(HostOptions {
            plugin_config: config,
            ..Default::default()
        });
        let refused = match h {
            Err(_) => true,
            Ok(h) => h.logs().iter().any(|(_, l)| l.contains("carries credentials")),
        };
        assert!(refused, "{header} accepted");
    }
}

// Sampling: base ratio 0 so only a rule can keep a span.

fn sampled(config_sampling: &str, extra: &[(&str, &str)], status: &str, answer: &str, latency_ms: u64) -> Vec<Value> {
    let config = format!(r#"{{"exporter":{{"cluster":"otel_collector"}},"sampling":{config_sampling}}}"#);
    let mut h = host(&config);
    call(&mut h, extra, &chat_request("hi"), status, answer, latency_ms);
    flush_exports(&mut h).unwrap()
}

fn rule(spans: &[Value]) -> Option<String> {
    spans
        .first()
        .map(|s| attr(s, "llm.sampling.rule").as_str().unwrap().to_string())
}

#[test]
fn each_tail_rule_keeps_its_calls_and_nothing_else() {
    let truncated = ANSWER.replace(r#""finish_reason":"stop""#, r#""finish_reason":"length""#);
    let error = r#"{"error":{"message":"busy","type":"server_error"}}"#;
    assert_eq!(
        rule(&sampled(r#"{"ratio":0}"#, &[], "500", error, 1)).as_deref(),
        Some("error")
    );
    assert_eq!(
        rule(&sampled(r#"{"ratio":0}"#, &[], "200", &truncated, 1)).as_deref(),
        Some("truncated")
    );
    assert_eq!(rule(&sampled(r#"{"ratio":0}"#, &[], "200", ANSWER, 1)), None);
    let keep_nothing = r#"{"ratio":0,"keep_errors":false,"keep_truncated":false}"#;
    assert_eq!(rule(&sampled(keep_nothing, &[], "500", error, 1)), None);
    assert_eq!(rule(&sampled(keep_nothing, &[], "200", &truncated, 1)), None);

    let slow = r#"{"ratio":0,"min_duration_ms":500}"#;
    assert_eq!(
        rule(&sampled(slow, &[], "200", ANSWER, 600)).as_deref(),
        Some("duration")
    );
    assert_eq!(rule(&sampled(slow, &[], "200", ANSWER, 400)), None);

    // gpt-4o-mini-2024-07-18, 11 input × $0.15/M + 2 output × $0.60/M = $0.00000285.
    assert_eq!(
        rule(&sampled(
            r#"{"ratio":0,"min_cost_usd":0.0000028}"#,
            &[],
            "200",
            ANSWER,
            1
        ))
        .as_deref(),
        Some("cost")
    );
    assert_eq!(
        rule(&sampled(
            r#"{"ratio":0,"min_cost_usd":0.0000029}"#,
            &[],
            "200",
            ANSWER,
            1
        )),
        None
    );

    let vip = r#"{"ratio":0,"keep_users":["u-42"],"keep_tiers":["enterprise"],"keep_features":["checkout"]}"#;
    assert_eq!(
        rule(&sampled(vip, &[("x-user-id", "u-42")], "200", ANSWER, 1)).as_deref(),
        Some("user")
    );
    assert_eq!(
        rule(&sampled(vip, &[("x-user-tier", "enterprise")], "200", ANSWER, 1)).as_deref(),
        Some("tier")
    );
    assert_eq!(
        rule(&sampled(vip, &[("x-feature", "checkout")], "200", ANSWER, 1)).as_deref(),
        Some("feature")
    );
    assert_eq!(
        rule(&sampled(
            vip,
            &[("x-user-id", "u-7"), ("x-feature", "search")],
            "200",
            ANSWER,
            1
        )),
        None
    );
}

#[test]
fn a_cut_stream_is_kept_and_ttft_over_the_threshold_is_kept() {
    // A cut carries an error too; with errors not kept on their own, the `partial` rule is what keeps it.
    let config =
        r#"{"exporter":{"cluster":"otel_collector"},"sampling":{"ratio":0,"min_ttft_ms":300,"keep_errors":false}}"#;
    let mut h = host(config);
    for (first_chunk_after_ms, cut) in [(400, false), (100, false), (100, true)] {
        let s = h.new_stream().unwrap();
        h.request_headers(s, &headers(&[]), false).unwrap();
        h.request_body(s, br#"{"model":"gpt-4o","stream":true,"messages":[]}"#, true)
            .unwrap();
        h.response_headers(s, &[(":status", "200"), ("content-type", "text/event-stream")], false)
            .unwrap();
        h.advance_ms(first_chunk_after_ms);
        let chunk = "data: {\"id\":\"c\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
        h.response_body(s, chunk.as_bytes(), false).unwrap();
        if !cut {
            let end = "data: {\"id\":\"c\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
            h.response_body(s, end.as_bytes(), true).unwrap();
        }
        h.log(s).unwrap();
        h.done(s).unwrap();
    }
    let rules: Vec<String> = flush_exports(&mut h)
        .unwrap()
        .iter()
        .map(|s| rule(std::slice::from_ref(s)).unwrap())
        .collect();
    assert_eq!(rules, ["ttft", "partial"]);
}

/// Well-spread 64-bit values from a counter, for random-looking trace ids.
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn head_ratio_is_consistent_per_trace_and_parent_based_follows_the_caller() {
    // The same trace id gets the same decision on every proxy: ratio 0.5 over 200 traces keeps about half, and
    // replaying the same traces gives the same set.
    let config = r#"{"exporter":{"cluster":"otel_collector"},"sampling":{"ratio":0.5}}"#;
    let run = || {
        let mut h = host(config);
        for i in 0..200u32 {
            let tp = format!(
                "00-{:016x}{:016x}-00f067aa0ba902b7-01",
                splitmix(i.into()),
                splitmix(u64::from(i) + 1000)
            );
            call(&mut h, &[("traceparent", &tp)], &chat_request("hi"), "200", ANSWER, 1);
        }
        let mut ids: Vec<String> = flush_exports(&mut h)
            .unwrap()
            .iter()
            .map(|s| s["trace_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let first = run();
    assert!((70..=130).contains(&first.len()), "kept {} of 200", first.len());
    assert_eq!(run(), first);

    let parent = r#"{"exporter":{"cluster":"otel_collector"},"sampling":{"ratio":0,"parent_based":true}}"#;
    let mut h = host(parent);
    let tp = |flags: &str| format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}");
    call(
        &mut h,
        &[("traceparent", &tp("01"))],
        &chat_request("hi"),
        "200",
        ANSWER,
        1,
    );
    call(
        &mut h,
        &[("traceparent", &tp("00"))],
        &chat_request("hi"),
        "200",
        ANSWER,
        1,
    );
    let spans = flush_exports(&mut h).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(attr(&spans[0], "llm.sampling.rule"), "parent");
}

#[test]
fn verified_jwt_claims_and_peer_identity_win_over_headers_and_route_metadata_only_tightens_capture() {
    let config = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full"},
        "attribution":{"jwt_claims":{"user.id":"sub","app.user.tier":"plan"},
                       "properties":{"source.workload":["downstream_peer","workload"]}}}"#;
    let mut h = host(config);
    let run = |h: &mut Host, route_capture: Option<&str>| {
        let s = h.new_stream().unwrap();
        let jwt = [
            "metadata",
            "filter_metadata",
            "envoy.filters.http.jwt_authn",
            "jwt_payload",
        ];
        h.set_stream_property(s, &[&jwt[..], &["sub"]].concat(), b"user-from-jwt".to_vec());
        h.set_stream_property(s, &[&jwt[..], &["plan"]].concat(), b"enterprise".to_vec());
        h.set_stream_property(s, &["downstream_peer", "workload"], b"checkout-v2".to_vec());
        if let Some(mode) = route_capture {
            let path = ["xds", "route_metadata", "filter_metadata", "llm-trace", "capture"];
            h.set_stream_property(s, &path, mode.as_bytes().to_vec());
        }
        h.request_headers(
            s,
            &headers(&[("x-user-id", "spoofed"), ("x-session-id", "sess-1")]),
            false,
        )
        .unwrap();
        h.request_body(s, chat_request("Say hi").as_bytes(), true).unwrap();
        h.response_headers(s, &[(":status", "200"), ("content-type", "application/json")], false)
            .unwrap();
        h.response_body(s, ANSWER.as_bytes(), true).unwrap();
        h.log(s).unwrap();
        h.done(s).unwrap();
    };
    run(&mut h, None);
    run(&mut h, Some("metadata"));
    let spans = flush_exports(&mut h).unwrap();
    let s = &spans[0];
    assert_eq!(attr(s, "user.id"), "user-from-jwt");
    assert_eq!(attr(s, "app.user.tier"), "enterprise");
    assert_eq!(attr(s, "source.workload"), "checkout-v2");
    assert_eq!(
        attr(s, "session.id"),
        "sess-1",
        "headers still fill what no claim covers"
    );
    assert!(attr(s, "gen_ai.input.messages").as_str().unwrap().contains("Say hi"));
    // The route asked for metadata only: texts become their lengths.
    let tightened = attr(&spans[1], "gen_ai.input.messages").as_str().unwrap();
    assert!(
        !tightened.contains("Say hi") && tightened.contains("[6 chars]"),
        "{tightened}"
    );

    // A route cannot loosen the policy: with capture off, `full` in route metadata changes nothing.
    let mut off = host(r#"{"exporter":{"cluster":"otel_collector"}}"#);
    run(&mut off, Some("full"));
    assert_eq!(
        attr(&flush_exports(&mut off).unwrap()[0], "gen_ai.input.messages"),
        &Value::Null
    );
}
