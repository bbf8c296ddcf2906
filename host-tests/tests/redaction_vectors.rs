//! Every redaction test vector through the real `.wasm`: planted in a streamed answer whose deltas split the value
//! in three (the stream then cut in 7-byte pieces), and inside a JSON document sent as the prompt. No planted value
//! may reach the exported span, and each one's detector must count it. The vectors live with the redactor
//! (`core/src/policy/redaction/testdata/vectors.jsonl`); their long tokens carry `¦` marks, removed here.

use host_tests::host::{Host, HostOptions};
use host_tests::replay::flush_exports;
use serde_json::{json, Value};

struct Vector {
    id: String,
    detector: String,
    redact: String,
    masked: String,
}

fn vectors() -> Vec<Vector> {
    include_str!("../../core/src/policy/redaction/testdata/vectors.jsonl")
        .lines()
        .filter_map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let text = |k: &str| v[k].as_str().map(|s| s.replace('¦', ""));
            Some(Vector {
                id: v["id"].as_str().unwrap().to_string(),
                detector: v["detector"].as_str().unwrap().to_string(),
                redact: text("redact")?,
                masked: text("masked")?,
            })
        })
        .collect()
}

fn headers() -> Vec<(&'static str, &'static str)> {
    vec![
        (":method", "POST"),
        (":scheme", "https"),
        (":authority", "api.openai.com"),
        (":path", "/v1/chat/completions"),
        ("content-type", "application/json"),
    ]
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    span["attributes"].get(key).unwrap_or(&Value::Null)
}

/// The value as it may appear in exported JSON: raw, escaped once or twice.
fn leaked(exported: &str, value: &str) -> bool {
    let once = serde_json::to_string(value).unwrap();
    let once = once.trim_matches('"').to_string();
    let twice = serde_json::to_string(&once).unwrap();
    let twice = twice.trim_matches('"').to_string();
    [value.to_string(), once, twice]
        .iter()
        .any(|v| exported.contains(v.as_str()))
}

/// A streamed answer `Case n: noted <vector>.` whose three content deltas split the planted value, sent in 7-byte
/// pieces, after a prompt holding the vector inside a JSON document.
fn play(h: &mut Host, n: usize, v: &Vector) {
    let s = h.new_stream().unwrap();
    h.request_headers(s, &headers(), false).unwrap();
    let prompt = json!({"case": n, "note": format!("see {} here", v.redact)}).to_string();
    let request = json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
                         "messages": [{"role": "user", "content": prompt}]})
    .to_string();
    h.request_body(s, request.as_bytes(), true).unwrap();
    h.response_headers(s, &[(":status", "200"), ("content-type", "text/event-stream")], false)
        .unwrap();
    let answer = format!("Case {n}: noted {}.", v.redact);
    let at = answer.find(v.masked.as_str()).unwrap();
    let cut = |k: usize| {
        let mut c = at + v.masked.len() * k / 3;
        while !answer.is_char_boundary(c) {
            c += 1;
        }
        c
    };
    let (a, b) = (cut(1), cut(2));
    let mut stream = String::new();
    for delta in [&answer[..a], &answer[a..b], &answer[b..]] {
        let chunk = json!({"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o",
                           "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": null}]});
        stream.push_str(&format!("data: {chunk}\n\n"));
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
    h.done(s).unwrap();
}

#[test]
fn no_vector_leaks_when_split_across_stream_chunks_or_planted_in_a_json_prompt() {
    // Every phone region on, so each region's numbers are recognised.
    let config = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full","max_content_bytes":65536},
                     "redaction":{"phone_regions":["*"]}}"#;
    let mut h = Host::with_options(HostOptions {
        plugin_config: config.to_string(),
        ..Default::default()
    })
    .unwrap();
    let vectors = vectors();
    assert!(vectors.len() >= 400, "{} vectors", vectors.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for batch in vectors.chunks(40).enumerate() {
        let (b, batch) = batch;
        for (k, v) in batch.iter().enumerate() {
            play(&mut h, b * 40 + k, v);
        }
        let spans = flush_exports(&mut h).unwrap();
        assert_eq!(spans.len(), batch.len(), "one span per call");
        for span in &spans {
            let output = attr(span, "gen_ai.output.messages").as_str().unwrap_or_default();
            let input = attr(span, "gen_ai.input.messages").as_str().unwrap_or_default();
            // Which case: the number before the planted value survives redaction.
            let Some(n) = output
                .split("Case ")
                .nth(1)
                .and_then(|r| r.split(':').next())
                .and_then(|n| n.parse::<usize>().ok())
            else {
                failures.push(format!("a span without its case number: {output}"));
                continue;
            };
            let v = &vectors[n];
            let label = format!("[{}]", v.detector.to_ascii_uppercase());
            let everything = serde_json::to_string(span).unwrap();
            if leaked(&everything, &v.masked) {
                failures.push(format!("{}: leaked: {output} / {input}", v.id));
            }
            // Under its own label in both, a key-named vendor value before the answer's full stop included.
            if !output.contains(&label) || !input.contains(&label) {
                failures.push(format!("{}: {label} missing: {output} / {input}", v.id));
            }
            let counted = |d: &str| attr(span, &format!("llm.redactions.{d}")).as_i64().unwrap_or(0);
            if counted(&v.detector) < 2 {
                failures.push(format!("{}: not counted twice", v.id));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, vectors.len());
    assert!(h.counter("llm_trace.redactions.openai_key").unwrap_or(0) >= 8);
}
