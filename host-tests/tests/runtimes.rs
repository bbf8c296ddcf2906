//! The host API is complete: every fixture (LLM and vector-store exchanges) and every capture in
//! `../shared/captures`, replayed through the `.wasm` under wasmtime and natively through `llm-trace-core`, gives the
//! same exported spans and forwards the same bytes (request upstream, response to the client) at every chunking.
//! Trace and span ids are random in both runtimes and are compared only for their shape.

use host_tests::exchange_file::ExchangeFile;
use host_tests::native::replay_native;
use host_tests::replay::{replay_played, Chunking, Played, ReplayOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

const CHUNKINGS: [Chunking; 5] = [
    Chunking::Fixed(1),
    Chunking::Fixed(7),
    Chunking::Fixed(64),
    Chunking::Random(11),
    Chunking::Whole,
];

fn exchanges_in(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        // Sequences (`testdata/retrieval/*-sequence.json`) hold many exchanges; `tests/retrieval.rs` plays them.
        .filter(|p| !p.to_string_lossy().ends_with("-sequence.json"))
        .collect();
    paths.sort();
    paths
}

/// A span with its generated ids replaced by their shape, and the exchange's headers in a stable order. An injected
/// `traceparent` must name the exported span.
fn normalized(mut played: Played) -> Played {
    if let (Some(header), Some(span)) = (
        played.request_headers.iter_mut().find(|(k, _)| k == "traceparent"),
        played.spans.first(),
    ) {
        let ours = format!(
            "00-{}-{}-",
            span["trace_id"].as_str().unwrap(),
            span["span_id"].as_str().unwrap()
        );
        if header.1.starts_with(&ours) {
            header.1 = "<the span's traceparent>".to_string();
        } else {
            // The caller's own: the span is its child.
            let parent = span["parent_span_id"].as_str().unwrap_or_default();
            assert!(
                header.1.contains(parent) && !parent.is_empty(),
                "traceparent {} is neither ours nor our parent",
                header.1
            );
        }
    }
    for span in &mut played.spans {
        for (key, len) in [("trace_id", 32), ("span_id", 16)] {
            let id = span[key].as_str().unwrap_or_default().to_string();
            assert!(
                id.len() == len && id.bytes().all(|b| b.is_ascii_hexdigit()) && id.bytes().any(|b| b != b'0'),
                "{key} `{id}` is not a valid id"
            );
            span[key] = Value::String(format!("<{len} hex digits>"));
        }
    }
    played.request_headers.sort();
    played
}

fn check(path: &Path, configs: &[&str]) {
    let exchange = ExchangeFile::load(path).unwrap();
    for config in configs {
        for chunking in CHUNKINGS {
            let options = ReplayOptions {
                plugin_config: config.to_string(),
                chunking,
                chunk_interval_ms: 1,
                upstream_latency_ms: 3,
            };
            let wasm = normalized(replay_played(&exchange, &options, 5).unwrap());
            let native = normalized(replay_native(&exchange, &options).unwrap());
            let name = path.file_name().unwrap().to_string_lossy();
            assert_eq!(
                wasm.spans, native.spans,
                "{name} at {chunking:?} with {config}: spans differ"
            );
            assert_eq!(
                wasm.response_body, native.response_body,
                "{name} at {chunking:?}: forwarded response differs"
            );
            assert_eq!(
                wasm.request_body, native.request_body,
                "{name}: forwarded request differs"
            );
            assert_eq!(
                wasm.request_headers, native.request_headers,
                "{name}: forwarded headers differ"
            );
        }
    }
}

const DEFAULT: &str = r#"{"service_name":"llm-trace-replay","exporter":{"cluster":"otel_collector"}}"#;
/// Full capture, redaction, both dialects, `traceparent` injection: every code path that shapes a span.
const EVERYTHING: &str = r#"{"service_name":"llm-trace-replay","exporter":{"cluster":"otel_collector"},
    "capture":{"content":"full","max_content_bytes":2048},"dialects":["gen_ai","openinference"],
    "trace_context":{"inject_traceparent":true},"redaction":{"request":{"enabled":true}}}"#;

#[test]
fn every_fixture_gives_the_same_spans_and_bytes_in_wasm_and_natively() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/exchanges");
    let paths = exchanges_in(&dir);
    assert!(paths.len() >= 19, "fixtures missing: {}", paths.len());
    for path in paths {
        check(&path, &[DEFAULT, EVERYTHING]);
    }
}

#[test]
fn every_retrieval_fixture_gives_the_same_spans_and_bytes_in_wasm_and_natively() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/retrieval");
    let paths = exchanges_in(&dir);
    assert!(paths.len() >= 40, "retrieval fixtures missing: {}", paths.len());
    for path in paths {
        check(&path, &[DEFAULT, EVERYTHING]);
    }
}

#[test]
fn every_capture_gives_the_same_spans_and_bytes_in_wasm_and_natively() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/captures");
    let paths = exchanges_in(&dir);
    assert!(paths.len() >= 140, "captures missing: {}", paths.len());
    for path in paths {
        check(&path, &[DEFAULT]);
    }
}
