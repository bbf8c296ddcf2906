//! `replay`: shows what llm-trace would export for recorded LLM traffic.
//!
//! Runs the real `.wasm` under the wasmtime host: request headers and body, response headers after the upstream
//! latency, the response body in chunks (advancing the clock before each), end of stream, the log phase, then an
//! exporter flush. Prints one JSON object per exported span, decoded from the OTLP protobuf the filter sent (over
//! OTLP/HTTP or gRPC, to whatever cluster the configuration names).
//!
//! Exit status: 0 when every exchange exported a span; 1 when one exported nothing (said on stderr, with the
//! filter's warnings); 2 when the configuration was rejected or a file could not be read.

use anyhow::{bail, Context as _, Result};
use host_tests::exchange_file::ExchangeFile;
use host_tests::replay::{replay_host, replay_logged, Chunking, ReplayOptions};
use serde_json::{json, Value};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: replay [--config FILE] [--chunk-size N] [--seed S] [--upstream-latency-ms L] \
[--chunk-interval-ms I] EXCHANGE.json...
  --config FILE           plugin configuration JSON (default: export to cluster `otel_collector`); the replay
                          host knows whichever cluster `exporter.cluster` names
  --chunk-size N          response body chunk size in bytes; 0 = random sizes from --seed (default: one chunk)
  --seed S                seed for random chunk sizes and the filter's ids (default: 1)
  --upstream-latency-ms L clock advance before the response headers (default: 0)
  --chunk-interval-ms I   clock advance before each response body chunk (default: 0)
Exit status: 0 every exchange exported a span; 1 one exported nothing (reason on stderr); 2 the configuration
was rejected or a file could not be read.";

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

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("replay: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Replays every file; `false` when one of them exported nothing.
fn run() -> Result<bool> {
    let args = parse_args()?;
    // A configuration the filter rejects is reported once, before any exchange.
    replay_host(&args.options, args.seed)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut every_file_exported = true;
    for path in &args.files {
        let exchange = ExchangeFile::load(path)?;
        let replayed = replay_logged(&exchange, &args.options, args.seed)
            .with_context(|| format!("replaying {}", path.display()))?;
        for span in &replayed.spans {
            writeln!(out, "{}", output_line(span))?;
        }
        if replayed.spans.is_empty() {
            every_file_exported = false;
            let why = if replayed.warnings.is_empty() {
                "it is not a call the filter traces (path or host not recognised), or sampling dropped it".to_string()
            } else {
                format!("the filter logged: {}", replayed.warnings.join(" | "))
            };
            eprintln!("replay: {}: the filter exported no span; {why}", path.display());
        }
    }
    Ok(every_file_exported)
}
