//! `wasm-cost`: where the `.wasm` spends its work, per proxy-wasm callback, under the wasmtime host.
//!
//! Plays one exchange file many times on one host (like one Envoy worker) and reports, per callback, the Wasm
//! fuel used (≈ instructions executed, deterministic, so comparable across machines and runs) and the wall time.
//! `wasm-cost [--config FILE] [--iterations N] EXCHANGE.json` prints one JSON object.
//!
//! `wasm-cost --per-byte EXCHANGE.json` reports what redaction costs per byte of content instead: the log callback
//! (where the span is built, redacted and encoded) with content capture full, full with redaction off, and off,
//! and the differences divided by the content bytes (every message and answer text). Every `¦` is removed from
//! the bodies first: the dense fixtures (`host-tests/testdata/redaction-cost/`) store their planted secrets split by
//! it, so the repository carries no shape-valid secret.

use anyhow::{Context as _, Result};
use host_tests::exchange_file::ExchangeFile;
use host_tests::host::{Host, HostOptions};
use host_tests::replay::{flush_exports, pairs};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Default)]
struct Cost {
    calls: u64,
    fuel: u64,
    nanos: u128,
}

type Costs = BTreeMap<&'static str, Cost>;

fn measure(
    costs: &mut Costs,
    host: &mut Host,
    name: &'static str,
    f: &mut dyn FnMut(&mut Host) -> Result<()>,
) -> Result<()> {
    let start = Instant::now();
    f(host)?;
    let c = costs.entry(name).or_default();
    c.nanos += start.elapsed().as_nanos();
    c.fuel += host.fuel_used_by_last_call();
    c.calls += 1;
    Ok(())
}

/// Plays `exchange` `iterations` times on one host with `config`; the cost of each callback.
fn play(exchange: &ExchangeFile, config: &str, iterations: u64) -> Result<Costs> {
    let request_body = exchange.request_body()?;
    let response_body = exchange.response_body()?;
    let request_headers = exchange.request_headers()?;
    let response_headers = exchange.response_headers();
    let (rq, rs) = (pairs(&request_headers), pairs(&response_headers));
    let mut host = Host::with_options(HostOptions {
        plugin_config: config.to_string(),
        ..Default::default()
    })?;
    let mut costs: Costs = BTreeMap::new();
    for n in 0..iterations {
        let stream = host.new_stream()?;
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
        host.done(stream)?;
        if n % 50 == 49 {
            let start = Instant::now();
            let spans = flush_exports(&mut host)?;
            let c = costs.entry("6 export flush (per span)").or_default();
            c.nanos += start.elapsed().as_nanos();
            c.calls += spans.len() as u64;
        }
    }
    Ok(costs)
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
        let costs = play(&exchange, config, iterations)?;
        let log = costs.get(LOG).context("no log callback")?;
        Ok(log.fuel / log.calls.max(1))
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
            "--per-byte" => per_byte = true,
            other => file = Some(other.to_string()),
        }
        i += 1;
    }
    let file = file.context("usage: wasm-cost [--config FILE] [--iterations N] [--per-byte] EXCHANGE.json")?;
    let exchange = ExchangeFile::load(std::path::Path::new(&file))?;

    if per_byte {
        return report_per_byte(exchange, iterations);
    }
    let costs = play(&exchange, &config, iterations)?;
    let total_fuel: u64 = costs.values().map(|c| c.fuel).sum();
    let report: serde_json::Map<String, serde_json::Value> = costs
        .iter()
        .map(|(name, c)| {
            let calls = c.calls.max(1);
            (
                name.to_string(),
                json!({"calls": c.calls, "fuel_per_call": c.fuel / calls,
                       "share_of_fuel": if total_fuel > 0 { (c.fuel as f64 / total_fuel as f64 * 1000.0).round() / 1000.0 } else { 0.0 },
                       "wall_us_per_call": (c.nanos as f64 / calls as f64 / 1000.0 * 10.0).round() / 10.0}),
            )
        })
        .collect();
    println!(
        "{}",
        json!({"exchange": exchange.name, "iterations": iterations,
               "fuel_per_request": total_fuel / iterations.max(1), "callbacks": report})
    );
    Ok(())
}
