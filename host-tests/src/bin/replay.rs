//! `replay`: shows what llm-trace would export for recorded LLM traffic.
//!
//! Runs the real `.wasm` under the wasmtime host: request headers and body, response headers after the upstream
//! latency, the response body in chunks (advancing the clock before each), end of stream, the log phase, then an
//! exporter flush. Prints one JSON object per exported span, decoded from the OTLP protobuf the filter sent.

use anyhow::{bail, Context as _, Result};
use host_tests::exchange_file::ExchangeFile;
use host_tests::replay::{replay_exchange, Chunking, ReplayOptions};
use serde_json::{json, Value};
use std::io::Write as _;
use std::path::PathBuf;

const USAGE: &str = "usage: replay [--config FILE] [--chunk-size N] [--seed S] [--upstream-latency-ms L] \
[--chunk-interval-ms I] EXCHANGE.json...
  --config FILE           plugin configuration JSON (default: export to cluster `otel_collector`)
  --chunk-size N          response body chunk size in bytes; 0 = random sizes from --seed (default: one chunk)
  --seed S                seed for random chunk sizes and the filter's ids (default: 1)
  --upstream-latency-ms L clock advance before the response headers (default: 0)
  --chunk-interval-ms I   clock advance before each response body chunk (default: 0)";

struct Args {
    options: ReplayOptions,
    seed: u64,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut options = ReplayOptions::default();
    let mut chunk_size: Option<usize> = None;
    let mut seed = 1u64;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--config" => {
                let path = value("--config")?;
                options.plugin_config =
                    std::fs::read_to_string(&path).with_context(|| format!("reading config file {path}"))?;
            }
            "--chunk-size" => chunk_size = Some(value("--chunk-size")?.parse().context("--chunk-size")?),
            "--seed" => seed = value("--seed")?.parse().context("--seed")?,
            "--upstream-latency-ms" => {
                options.upstream_latency_ms = value("--upstream-latency-ms")?
                    .parse()
                    .context("--upstream-latency-ms")?
            }
            "--chunk-interval-ms" => {
                options.chunk_interval_ms = value("--chunk-interval-ms")?.parse().context("--chunk-interval-ms")?
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => bail!("unknown option {flag}\n{USAGE}"),
            file => files.push(PathBuf::from(file)),
        }
    }
    if files.is_empty() {
        bail!("no exchange files given\n{USAGE}");
    }
    options.chunking = match chunk_size {
        None => Chunking::Whole,
        Some(0) => Chunking::Random(seed),
        Some(n) => Chunking::Fixed(n),
    };
    Ok(Args { options, seed, files })
}

/// The replay output shape: the exported span without resource and scope, tagged with the exchange name.
fn output_line(span: &Value) -> Value {
    let field = |k: &str| span.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "exchange": field("exchange"),
        "name": field("name"),
        "kind": field("kind"),
        "trace_id": field("trace_id"),
        "span_id": field("span_id"),
        "parent_span_id": field("parent_span_id"),
        "start_time_unix_nano": field("start_time_unix_nano"),
        "end_time_unix_nano": field("end_time_unix_nano"),
        "status": field("status"),
        "attributes": field("attributes"),
        "events": field("events"),
    })
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.files {
        let exchange = ExchangeFile::load(path)?;
        let spans = replay_exchange(&exchange, &args.options, args.seed)
            .with_context(|| format!("replaying {}", path.display()))?;
        for span in &spans {
            writeln!(out, "{}", output_line(span))?;
        }
    }
    Ok(())
}
