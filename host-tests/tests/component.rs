//! The wasi:http component (`component/`, `llm_trace_component.wasm`) under the embedding `wasmtime serve` uses:
//! every fixture and every capture in `../shared/captures` replayed through it exports the same spans as the
//! proxy-wasm filter for the same exchange (same clock, same chunking), forwards the same request upstream, and
//! gives the client the bytes the filter gives it (the upstream's, unless the tracer asked the provider for
//! something on the client's behalf). Ids are random in both and compared only for their shape.
//!
//! Needs `make component` and `make wasm` first.

use host_tests::component_host::{
    component_config, replay_component, replay_component_as_configured, with_true_lengths, ComponentPlayed,
    ComponentRuntime, HOP_BY_HOP,
};
use host_tests::exchange_file::ExchangeFile;
use host_tests::host::{Host, HostOptions};
use host_tests::replay::{chunk_sizes, flush_exports, pairs, Chunking, Played, ReplayOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What the component passes to the core when the upstream's body breaks (Envoy's name for the same event); the
/// filter gets it as `response.code_details`.
const UPSTREAM_RESET: &str = "upstream_reset_after_response_started";

const DEFAULT: &str = r#"{"service_name":"llm-trace-replay","exporter":{"cluster":"otel_collector"}}"#;
/// Full capture, redaction (of the forwarded request too), both dialects, `traceparent` injection.
const EVERYTHING: &str = r#"{"service_name":"llm-trace-replay","exporter":{"cluster":"otel_collector"},
    "capture":{"content":"full","max_content_bytes":2048},"dialects":["gen_ai","openinference"],
    "trace_context":{"inject_traceparent":true},"redaction":{"request":{"enabled":true}}}"#;

/// The chunkings of `tests/runtimes.rs`: every split point matters to a streaming decoder.
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
        .collect();
    paths.sort();
    paths
}

/// The proxy-wasm filter's replay of the same exchange (as `replay::replay_played`, plus the cut reason Envoy
/// would give a broken upstream body).
fn through_the_filter(exchange: &ExchangeFile, options: &ReplayOptions) -> Played {
    let mut host = Host::with_options(HostOptions {
        plugin_config: options.plugin_config.clone(),
        seed: 5,
        ..Default::default()
    })
    .unwrap();
    let request_body = exchange.request_body().unwrap();
    let response_body = exchange.response_body().unwrap();
    let stream = host.new_stream().unwrap();
    let (_, request_headers) = host
        .request_headers(
            stream,
            &pairs(&exchange.request_headers().unwrap()),
            request_body.is_empty(),
        )
        .unwrap();
    let mut forwarded_request = Vec::new();
    if !request_body.is_empty() {
        forwarded_request = host.request_body(stream, &request_body, true).unwrap().1;
    }
    host.advance_ms(options.upstream_latency_ms);
    host.response_headers(
        stream,
        &pairs(&exchange.response_headers()),
        response_body.is_empty() && !exchange.cut,
    )
    .unwrap();
    let mut forwarded = Vec::new();
    let mut offset = 0;
    let sizes = chunk_sizes(response_body.len(), options.chunking);
    for (i, size) in sizes.iter().enumerate() {
        host.advance_ms(options.chunk_interval_ms);
        let last = i + 1 == sizes.len() && !exchange.cut;
        forwarded.extend(
            host.response_body(stream, &response_body[offset..offset + size], last)
                .unwrap()
                .1,
        );
        offset += size;
    }
    if exchange.cut {
        host.set_stream_property(
            stream,
            &["response", "code_details"],
            UPSTREAM_RESET.as_bytes().to_vec(),
        );
    }
    host.log(stream).unwrap();
    host.done(stream).unwrap();
    Played {
        request_headers,
        request_body: forwarded_request,
        response_body: forwarded,
        spans: flush_exports(&mut host).unwrap(),
    }
}

/// Ids replaced by their shape (an injected `traceparent` must name the exported span); the forwarded request's
/// headers in lower case, without the hop-by-hop ones (a wasi:http guest may not forward them), sorted.
fn normalized(mut played: Played) -> Played {
    let span = played.spans.first().cloned().unwrap_or(Value::Null);
    for (name, value) in &mut played.request_headers {
        *name = name.to_ascii_lowercase();
        if name == "traceparent" {
            let ours = format!(
                "00-{}-{}-",
                span["trace_id"].as_str().unwrap_or("?"),
                span["span_id"].as_str().unwrap_or("?")
            );
            if value.starts_with(&ours) {
                *value = "<the span's traceparent>".to_string();
            }
        }
    }
    played
        .request_headers
        .retain(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()));
    played.request_headers.sort();
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
    played
}

fn check(path: &Path, configs: &[&str], chunkings: &[Chunking]) {
    let name = path.file_name().unwrap().to_string_lossy();
    let exchange = with_true_lengths(&ExchangeFile::load(path).unwrap()).unwrap();
    let upstream_bytes = exchange.response_body().unwrap();
    for config in configs {
        for &chunking in chunkings {
            let options = ReplayOptions {
                plugin_config: config.to_string(),
                chunking,
                chunk_interval_ms: 1,
                upstream_latency_ms: 3,
            };
            let filter = normalized(through_the_filter(&exchange, &options));
            let ComponentPlayed {
                played,
                client_status,
                client_body_complete,
                stderr,
                ..
            } = replay_component(&exchange, &options).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let component = normalized(played);
            let context = format!("{name} at {chunking:?} with {config}\ncomponent stderr:\n{stderr}");
            assert!(!filter.spans.is_empty(), "{context}: the filter exported nothing");
            assert_eq!(component.spans, filter.spans, "{context}: spans differ");
            assert_eq!(client_status, exchange.response.status, "{context}: status");
            assert_eq!(
                client_body_complete, !exchange.cut,
                "{context}: a cut body must reach the client cut"
            );
            assert_eq!(
                component.response_body, filter.response_body,
                "{context}: client bytes differ"
            );
            let rewritten = filter.spans[0]["attributes"].get("llm.usage.injected").is_some();
            if !rewritten {
                assert!(
                    component.response_body == upstream_bytes,
                    "{context}: not the upstream's bytes"
                );
            }
            assert_eq!(
                component.request_body, filter.request_body,
                "{context}: forwarded request differs"
            );
            assert_eq!(
                component.request_headers, filter.request_headers,
                "{context}: forwarded headers differ"
            );
        }
    }
}

#[test]
fn every_fixture_gives_the_filters_spans_and_bytes_through_the_component() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/exchanges");
    let paths = exchanges_in(&dir);
    assert!(paths.len() >= 19, "fixtures missing: {}", paths.len());
    for path in paths {
        check(&path, &[DEFAULT, EVERYTHING], &CHUNKINGS);
    }
}

#[test]
fn every_capture_gives_the_filters_spans_and_bytes_through_the_component() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/captures");
    let paths = exchanges_in(&dir);
    assert!(paths.len() >= 140, "captures missing: {}", paths.len());
    for path in paths {
        check(&path, &[DEFAULT], &CHUNKINGS);
    }
}

#[test]
fn the_component_imports_the_proxy_world_and_the_cli_interfaces_only() {
    let runtime = ComponentRuntime::shared().unwrap();
    // The proxy world, `wasi:cli/environment` (the configuration) and what Rust's standard library links through
    // wasi-libc (`exit`, the `terminal-*` probes, `insecure-seed` for hash maps): all in `wasi:cli/imports`, which
    // `wasmtime serve -S cli` links. No filesystem, no sockets. Versions are any WASI 0.2 release: the standard
    // library's own imports carry the release wasi-libc was built against (0.2.6 with Rust 1.95), wit-bindgen's the
    // newer one it generates (0.2.12), and a 0.2 runtime links both.
    let expected = [
        "wasi:cli/environment",
        "wasi:cli/exit",
        "wasi:cli/stderr",
        "wasi:cli/stdin",
        "wasi:cli/stdout",
        "wasi:cli/terminal-input",
        "wasi:cli/terminal-output",
        "wasi:cli/terminal-stderr",
        "wasi:cli/terminal-stdin",
        "wasi:cli/terminal-stdout",
        "wasi:clocks/monotonic-clock",
        "wasi:clocks/wall-clock",
        "wasi:http/outgoing-handler",
        "wasi:http/types",
        "wasi:io/error",
        "wasi:io/poll",
        "wasi:io/streams",
        "wasi:random/insecure-seed",
        "wasi:random/random",
    ];
    let imports = runtime.imports();
    let names: Vec<&str> = imports
        .iter()
        .map(|i| i.split_once('@').map_or(i.as_str(), |(name, _)| name))
        .collect();
    assert_eq!(names, expected);
    for import in &imports {
        assert!(import.contains("@0.2."), "{import}: not a WASI 0.2 interface");
    }
}

fn fixture(name: &str) -> ExchangeFile {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/exchanges")
        .join(name);
    with_true_lengths(&ExchangeFile::load(&path).unwrap()).unwrap()
}

#[test]
fn a_collector_that_cannot_be_reached_costs_the_span_and_a_log_line_never_the_call() {
    let exchange = fixture("openai-chat-stream-usage-only-chunk.json");
    let mut config: Value = serde_json::from_str(&component_config(DEFAULT).unwrap()).unwrap();
    config["exporter"]["endpoint"] = Value::String("http://collector.unreachable/v1/traces".into());
    let options = ReplayOptions {
        plugin_config: config.to_string(),
        chunking: Chunking::Fixed(16),
        chunk_interval_ms: 1,
        upstream_latency_ms: 3,
    };
    let played = replay_component_as_configured(&exchange, &options).unwrap();
    assert_eq!(played.client_status, 200);
    assert!(played.client_body_complete);
    assert_eq!(played.played.response_body, exchange.response_body().unwrap());
    assert!(played.played.spans.is_empty());
    assert!(
        played
            .stderr
            .contains("export to `http://collector.unreachable/v1/traces` failed: no answer"),
        "{}",
        played.stderr
    );
}

#[test]
fn a_configuration_error_is_logged_with_its_field_and_the_traffic_passes_untraced() {
    let exchange = fixture("openai-chat.json");
    for (config, expected) in [
        (
            r#"{"exporter":{"cluster":"otel_collector"}}"#,
            "`exporter.endpoint`: is required here",
        ),
        (
            r#"{"exporter":{"endpoint":"http://c/v1/traces","timeout":5}}"#,
            "`exporter.timeout`",
        ),
    ] {
        // `component_config` would add the endpoint: give the configuration as is.
        let options = ReplayOptions {
            plugin_config: config.to_string(),
            ..Default::default()
        };
        let played = replay_component_as_configured(&exchange, &options).unwrap();
        assert_eq!(played.client_status, exchange.response.status);
        assert_eq!(played.played.response_body, exchange.response_body().unwrap());
        assert!(played.played.spans.is_empty());
        assert!(played.stderr.contains(expected), "{}", played.stderr);
        assert!(played.stderr.contains("Traffic passes untraced."), "{}", played.stderr);
    }
}
