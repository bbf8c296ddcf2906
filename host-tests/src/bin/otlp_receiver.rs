//! `otlp-receiver`: an OTLP/HTTP trace and log receiver for the demo and the end-to-end tests. Decodes every export
//! with the official protobuf types, appends one JSON object per span to `--out` and one per log record (the
//! evaluation events) to `--logs-out` (one per line; by default `--out` with `.jsonl` turned into `.logs.jsonl`),
//! and answers with an empty export response.
//!
//! `otlp-receiver --listen 127.0.0.1:0 --out spans.jsonl [--logs-out logs.jsonl] [--fail-status 503 --fail-count N]
//! [--quiet]` prints `otlp-receiver listening on ADDR`. `--fail-status` answers the first N exports with that status (retry tests).
//! `--quiet` (benchmarks) only decodes each export and answers: no JSON, no file, no output, so the receiver does
//! not steal CPU from the load generator it shares a core with.

use host_tests::otlp_json::{decode_export_request, decode_logs_request, log_records_to_json, spans_to_json};
use host_tests::servers::{arg, serve};
use std::io::Write as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

fn main() -> std::io::Result<()> {
    let listen = arg("--listen").unwrap_or_else(|| "127.0.0.1:4318".into());
    let out_path = arg("--out").unwrap_or_else(|| "spans.jsonl".into());
    let fail_status = arg("--fail-status").and_then(|v| v.parse::<u16>().ok());
    let fail_count = arg("--fail-count").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let logs_path = arg("--logs-out").unwrap_or_else(|| match out_path.strip_suffix(".jsonl") {
        Some(stem) => format!("{stem}.logs.jsonl"),
        None => format!("{out_path}.logs"),
    });
    let open = |path: &str| std::fs::OpenOptions::new().create(true).append(true).open(path);
    let out = Mutex::new(open(&out_path)?);
    let logs_out = Mutex::new(open(&logs_path)?);
    let failed = AtomicU64::new(0);
    let quiet = std::env::args().any(|a| a == "--quiet");
    let listener = TcpListener::bind(&listen)?;
    serve("otlp-receiver", listener, move |req, r| {
        if req.method == "GET" && req.path == "/healthz" {
            return r.send(200, &[("content-type", "text/plain")], b"ok");
        }
        if req.method != "POST" || (req.path != "/v1/traces" && req.path != "/v1/logs") {
            return r.send(404, &[], b"");
        }
        if let Some(status) = fail_status {
            if failed.fetch_add(1, Ordering::SeqCst) < fail_count {
                return r.send(status, &[("retry-after", "1")], b"");
            }
        }
        if req.path == "/v1/logs" {
            let request = match decode_logs_request(&req.body, req.header("content-encoding")) {
                Ok(request) => request,
                Err(e) => return r.send(400, &[("content-type", "text/plain")], format!("{e:#}").as_bytes()),
            };
            if !quiet {
                let records = log_records_to_json(&request);
                let mut file = logs_out.lock().map_err(|_| std::io::Error::other("poisoned"))?;
                for record in &records {
                    writeln!(file, "{record}")?;
                    println!(
                        "log {} {} {}",
                        record["trace_id"].as_str().unwrap_or(""),
                        record["span_id"].as_str().unwrap_or("-"),
                        record["event_name"].as_str().unwrap_or("")
                    );
                }
                file.flush()?;
            }
            return r.send(200, &[("content-type", "application/x-protobuf")], b"");
        }
        let request = match decode_export_request(&req.body, req.header("content-encoding")) {
            Ok(request) => request,
            Err(e) => return r.send(400, &[("content-type", "text/plain")], format!("{e:#}").as_bytes()),
        };
        if quiet {
            return r.send(200, &[("content-type", "application/x-protobuf")], b"");
        }
        let spans = spans_to_json(&request);
        {
            let mut file = out.lock().map_err(|_| std::io::Error::other("poisoned"))?;
            for span in &spans {
                writeln!(file, "{span}")?;
            }
            file.flush()?;
        }
        for span in &spans {
            println!(
                "span {} {} {}",
                span["trace_id"].as_str().unwrap_or(""),
                span["name"].as_str().unwrap_or(""),
                span["status"]["code"].as_str().unwrap_or("")
            );
        }
        r.send(200, &[("content-type", "application/x-protobuf")], b"")
    })
}
