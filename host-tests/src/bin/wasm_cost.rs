//! `wasm-cost`: where the `.wasm` spends its work, per proxy-wasm callback, under the wasmtime host.
//!
//! Plays one exchange file many times on one host (like one Envoy worker) and reports, per callback, the Wasm
//! fuel used (≈ instructions executed, deterministic, so comparable across machines and runs), the host calls
//! the plugin made (each proxy-wasm/WASI import, by name) and the wall time.
//!
//! - `wasm-cost [--config FILE] [--iterations N] EXCHANGE.json` prints one JSON object for that exchange.
//! - `wasm-cost --fixtures [--iterations N]` plays the fixed fixture set (OpenAI chat, OpenAI stream, Anthropic
//!   stream, Bedrock event-stream, Gemini stream; capture off and full) and prints one JSON object with every
//!   figure, the one `make bench` writes into `bench/results.json`.
//! - `wasm-cost --per-byte EXCHANGE.json` reports what redaction costs per byte of content instead: the log callback
//!   (where the span is built, redacted and encoded) with content capture full, full with redaction off, and off,
//!   and the differences divided by the content bytes (every message and answer text). Every `¦` is removed from
//!   the bodies first: the dense fixtures (`host-tests/testdata/redaction-cost/`) store their planted secrets split
//!   by it, so the repository carries no shape-valid secret.

use anyhow::{Context as _, Result};
use host_tests::exchange_file::ExchangeFile;
use host_tests::host::{Host, HostOptions};
use host_tests::otlp_json;
use host_tests::replay::pairs;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// The fixed fixture set: one exchange per provider shape the issue measures.
const FIXTURES: &[&str] = &[
    "openai-chat",
    "openai-chat-stream-usage-only-chunk",
    "anthropic-messages-stream-thinking",
    "bedrock-converse-stream",
    "gemini-stream-sse",
];

/// The two configurations of the set, the same as `bench/run.py`'s V5 (capture off) and V4 (full, redaction).
const CONFIGS: &[(&str, &str)] = &[
    (
        "off",
        r#"{"service_name":"llm-trace-bench","exporter":{"cluster":"otel_collector","flush_interval_ms":200},"capture":{"content":"off"}}"#,
    ),
    (
        "full",
        r#"{"service_name":"llm-trace-bench","exporter":{"cluster":"otel_collector","flush_interval_ms":200},"capture":{"content":"full","max_content_bytes":4096},"redaction":{"enabled":true}}"#,
    ),
];

#[derive(Default)]
struct Cost {
    calls: u64,
    fuel: u64,
    nanos: u128,
    host_calls: BTreeMap<&'static str, u64>,
}

impl Cost {
    fn host_call_total(&self) -> u64 {
        self.host_calls.values().sum()
    }
}

type Costs = BTreeMap<&'static str, Cost>;

fn add_host_calls(into: &mut BTreeMap<&'static str, u64>, from: BTreeMap<&'static str, u64>) {
    for (name, n) in from {
        *into.entry(name).or_default() += n;
    }
}

fn measure(
    costs: &mut Costs,
    host: &mut Host,
    name: &'static str,
    f: &mut dyn FnMut(&mut Host) -> Result<()>,
) -> Result<()> {
    host.take_host_calls();
    let start = Instant::now();
    f(host)?;
    let c = costs.entry(name).or_default();
    c.nanos += start.elapsed().as_nanos();
    c.fuel += host.fuel_used_by_last_call();
    c.calls += 1;
    add_host_calls(&mut c.host_calls, host.take_host_calls());
    Ok(())
}

/// Ticks the exporter and answers every export call with 200; fuel and host calls go to the export line.
fn flush(costs: &mut Costs, host: &mut Host) -> Result<()> {
    host.take_host_calls();
    let start = Instant::now();
    host.tick()?;
    let mut fuel = host.fuel_used_by_last_call();
    let mut spans = 0u64;
    for call in host.take_http_calls() {
        let encoding = call
            .headers
            .iter()
            .find(|(k, _)| k == "content-encoding")
            .map(|(_, v)| v.as_str());
        let request = otlp_json::decode_export_request(&call.body, encoding)?;
        spans += otlp_json::spans_to_json(&request).len() as u64;
        host.respond_http_call(call.token, &[(":status", "200")], b"")?;
        fuel += host.fuel_used_by_last_call();
    }
    let c = costs.entry("7 export flush (per span)").or_default();
    c.nanos += start.elapsed().as_nanos();
    c.fuel += fuel;
    c.calls += spans;
    add_host_calls(&mut c.host_calls, host.take_host_calls());
    Ok(())
}

/// Events in a response body: SSE events (blank-line separated, with data) or AWS event-stream frames.
fn events_in(body: &[u8], content_type: &str) -> u64 {
    if content_type.contains("amazon.eventstream") {
        let (mut n, mut at) = (0u64, 0usize);
        while let Some(prelude) = body.get(at..at + 4) {
            let len = u32::from_be_bytes([prelude[0], prelude[1], prelude[2], prelude[3]]) as usize;
            if len < 16 || at + len > body.len() {
                break;
            }
            n += 1;
            at += len;
        }
        return n;
    }
    if content_type.contains("event-stream") {
        let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
        return text
            .split("\n\n")
            .filter(|event| event.lines().any(|l| l.starts_with("data:")))
            .count() as u64;
    }
    0
}

fn run(file: &Path, config: &str, iterations: u64) -> Result<Value> {
    play(&ExchangeFile::load(file)?, config, iterations)
}

/// Plays `exchange` `iterations` times on one host with `config`; the report of each callback.
fn play(exchange: &ExchangeFile, config: &str, iterations: u64) -> Result<Value> {
    let request_body = exchange.request_body()?;
    let response_body = exchange.response_body()?;
    let request_headers = exchange.request_headers()?;
    let response_headers = exchange.response_headers();
    let (rq, rs) = (pairs(&request_headers), pairs(&response_headers));
    let content_type = response_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or("", |(_, v)| v.as_str());
    let events = events_in(&response_body, content_type);

    let mut host = Host::with_options(HostOptions {
        plugin_config: config.to_string(),
        ..Default::default()
    })?;
    let mut costs: Costs = BTreeMap::new();
    for n in 0..iterations {
        let mut stream = 0;
        measure(&mut costs, &mut host, "0 new stream", &mut |h| {
            stream = h.new_stream()?;
            Ok(())
        })?;
        measure(&mut costs, &mut host, "1 request_headers", &mut |h| {
            h.request_headers(stream, &rq, request_body.is_empty()).map(|_| ())
        })?;
        if !request_body.is_empty() {
            measure(&mut costs, &mut host, "2 request_body", &mut |h| {
                h.request_body(stream, &request_body, true).map(|_| ())
            })?;
        }
        measure(&mut costs, &mut host, "3 response_headers", &mut |h| {
            h.response_headers(stream, &rs, response_body.is_empty()).map(|_| ())
        })?;
        // The whole answer in one chunk, as Envoy hands over a small response.
        if !response_body.is_empty() {
            measure(&mut costs, &mut host, "4 response_body", &mut |h| {
                h.response_body(stream, &response_body, true).map(|_| ())
            })?;
        }
        measure(&mut costs, &mut host, LOG, &mut |h| h.log(stream))?;
        measure(&mut costs, &mut host, "6 done", &mut |h| h.done(stream))?;
        if n % 50 == 49 || n + 1 == iterations {
            flush(&mut costs, &mut host)?;
        }
    }
    let request_costs: Vec<&Cost> = costs
        .iter()
        .filter(|(name, _)| !name.starts_with('7'))
        .map(|(_, c)| c)
        .collect();
    let total_fuel: u64 = request_costs.iter().map(|c| c.fuel).sum();
    let mut host_calls_per_request: BTreeMap<&'static str, f64> = BTreeMap::new();
    for c in &request_costs {
        for (name, n) in &c.host_calls {
            *host_calls_per_request.entry(name).or_default() += *n as f64 / iterations.max(1) as f64;
        }
    }
    let host_calls_total: f64 = host_calls_per_request.values().sum();
    let round1 = |v: f64| (v * 10.0).round() / 10.0;
    let report: serde_json::Map<String, Value> = costs
        .iter()
        .map(|(name, c)| {
            let calls = c.calls.max(1);
            let by_name: serde_json::Map<String, Value> = c
                .host_calls
                .iter()
                .map(|(k, n)| (k.to_string(), json!(round1(*n as f64 / calls as f64))))
                .collect();
            (
                name.to_string(),
                json!({"calls": c.calls, "fuel_per_call": c.fuel / calls,
                       "share_of_fuel": if total_fuel > 0 { (c.fuel as f64 / total_fuel as f64 * 1000.0).round() / 1000.0 } else { 0.0 },
                       "host_calls_per_call": round1(c.host_call_total() as f64 / calls as f64),
                       "host_calls_by_name": by_name,
                       "wall_us_per_call": (c.nanos as f64 / calls as f64 / 1000.0 * 10.0).round() / 10.0}),
            )
        })
        .collect();
    let response_body_fuel = costs.get("4 response_body").map_or(0, |c| c.fuel / c.calls.max(1));
    Ok(json!({"exchange": exchange.name, "iterations": iterations,
              "fuel_per_request": total_fuel / iterations.max(1),
              "host_calls_per_request": round1(host_calls_total),
              "host_calls_per_request_by_name": host_calls_per_request.iter()
                  .map(|(k, v)| (k.to_string(), json!(round1(*v)))).collect::<serde_json::Map<_, _>>(),
              "response_events": events,
              "fuel_per_response_event": response_body_fuel.checked_div(events).map_or(Value::Null, |v| json!(v)),
              "callbacks": report}))
}

/// Bytes of content in the exchange: every message and answer text of the request and response JSON bodies.
fn content_bytes(exchange: &ExchangeFile) -> Result<usize> {
    fn texts(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(map) => map
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) if k == "content" || k == "text" => s.len(),
                    other => texts(other),
                })
                .sum(),
            serde_json::Value::Array(items) => items.iter().map(texts).sum(),
            _ => 0,
        }
    }
    let mut n = 0;
    for body in [exchange.request_body()?, exchange.response_body()?] {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
            n += texts(&v);
        }
    }
    Ok(n)
}

/// The log callback's fuel per call with content capture full, full without redaction, and off; and per byte of
/// content, what redaction and what capture with redaction add.
fn report_per_byte(mut exchange: ExchangeFile, iterations: u64) -> Result<()> {
    let unmark = |body: &mut Option<String>, headers: &mut BTreeMap<String, String>| {
        if let Some(body) = body.as_mut() {
            *body = body.replace('¦', "");
            if let Some(length) = headers.get_mut("content-length") {
                *length = body.len().to_string();
            }
        }
    };
    unmark(&mut exchange.request.body, &mut exchange.request.headers);
    unmark(&mut exchange.response.body, &mut exchange.response.headers);
    let bytes = content_bytes(&exchange)?;
    let full = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full","max_content_bytes":1048576}}"#;
    let unredacted = r#"{"exporter":{"cluster":"otel_collector"},"capture":{"content":"full","max_content_bytes":1048576},"redaction":{"enabled":false}}"#;
    let off = r#"{"exporter":{"cluster":"otel_collector"}}"#;
    let log_fuel = |config: &str| -> Result<u64> {
        let report = play(&exchange, config, iterations)?;
        report["callbacks"][LOG]["fuel_per_call"]
            .as_u64()
            .context("no log callback")
    };
    let (full, unredacted, off) = (log_fuel(full)?, log_fuel(unredacted)?, log_fuel(off)?);
    let per_byte =
        |more: u64, less: u64| (more.saturating_sub(less) as f64 / bytes.max(1) as f64 * 10.0).round() / 10.0;
    println!(
        "{}",
        json!({"exchange": exchange.name, "iterations": iterations, "content_bytes": bytes,
               "log_fuel_per_call": {"capture_full": full, "capture_full_redaction_off": unredacted, "capture_off": off},
               "redaction_fuel_per_content_byte": per_byte(full, unredacted),
               "capture_and_redaction_fuel_per_content_byte": per_byte(full, off)})
    );
    Ok(())
}

const LOG: &str = "5 log (span built, encoded, queued)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config = r#"{"exporter":{"cluster":"otel_collector"}}"#.to_string();
    let mut iterations = 200u64;
    let mut file = None;
    let mut fixtures = false;
    let mut per_byte = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--config" => {
                config = std::fs::read_to_string(args.get(i + 1).context("--config needs a file")?)?;
                i += 1;
            }
            "--iterations" => {
                iterations = args.get(i + 1).context("--iterations needs a number")?.parse()?;
                i += 1;
            }
            "--fixtures" => fixtures = true,
            "--per-byte" => per_byte = true,
            other => file = Some(other.to_string()),
        }
        i += 1;
    }
    if fixtures {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/exchanges");
        let mut set = serde_json::Map::new();
        for fixture in FIXTURES {
            for (name, config) in CONFIGS {
                let result = run(&dir.join(format!("{fixture}.json")), config, iterations)
                    .with_context(|| format!("fixture {fixture}, capture {name}"))?;
                set.insert(format!("{fixture} capture={name}"), result);
            }
        }
        println!(
            "{}",
            json!({"iterations": iterations, "configs": CONFIGS.iter()
            .map(|(n, c)| (n.to_string(), serde_json::from_str::<Value>(c).unwrap_or(Value::Null)))
            .collect::<serde_json::Map<_, _>>(), "fixtures": set})
        );
        return Ok(());
    }
    let file =
        file.context("usage: wasm-cost [--config FILE] [--iterations N] [--per-byte] EXCHANGE.json | --fixtures")?;
    if per_byte {
        return report_per_byte(ExchangeFile::load(Path::new(&file))?, iterations);
    }
    println!("{}", run(Path::new(&file), &config, iterations)?);
    Ok(())
}
