//! `loadgen`: the benchmark's HTTP/1.1 load generator (keep-alive, one thread per connection, no dependencies).
//!
//! Closed loop (default): every connection sends its next request as soon as the previous answer ended, for
//! saturation throughput and one-connection latency. Open loop (`--rps R`): requests are scheduled at a fixed rate
//! spread over the connections, and latency is measured from the *scheduled* send time, so a stalled proxy cannot
//! hide its queueing (no coordinated omission). Time to first token is the time until the response body first
//! contains `--ttft-marker`.
//!
//! Prints one JSON object: requests, errors, rps, latency and time-to-first-token percentiles in microseconds.

use serde_json::json;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: loadgen --addr HOST:PORT --path P [--body-file F] [--header 'k: v']... \
[--connections C] [--duration-s D] [--warmup-s W] [--rps R] [--ttft-marker TEXT]";

struct Options {
    addr: SocketAddr,
    request: Vec<u8>,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    rps: Option<f64>,
    ttft_marker: Vec<u8>,
}

#[derive(Default)]
struct Samples {
    latency_ns: Vec<u64>,
    ttft_ns: Vec<u64>,
    errors: u64,
    body_bytes: u64,
}

struct Answer {
    status: u16,
    body_bytes: usize,
    ttft: Option<Duration>,
}

fn parse_options() -> Result<Options, String> {
    let mut addr = None;
    let mut path = None;
    let mut body = Vec::new();
    let mut headers = Vec::new();
    let mut connections = 1usize;
    let mut duration = 2.0f64;
    let mut warmup = 0.3f64;
    let mut rps = None;
    let mut ttft_marker = b"\"content\":\"The".to_vec();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--addr" => addr = Some(value()?.parse::<SocketAddr>().map_err(|e| format!("--addr: {e}"))?),
            "--path" => path = Some(value()?),
            "--body-file" => {
                let file = value()?;
                body = std::fs::read(&file).map_err(|e| format!("reading {file}: {e}"))?;
            }
            "--header" => headers.push(value()?),
            "--connections" => connections = value()?.parse().map_err(|e| format!("--connections: {e}"))?,
            "--duration-s" => duration = value()?.parse().map_err(|e| format!("--duration-s: {e}"))?,
            "--warmup-s" => warmup = value()?.parse().map_err(|e| format!("--warmup-s: {e}"))?,
            "--rps" => rps = Some(value()?.parse::<f64>().map_err(|e| format!("--rps: {e}"))?),
            "--ttft-marker" => ttft_marker = value()?.into_bytes(),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    let addr = addr.ok_or(format!("--addr is required\n{USAGE}"))?;
    let path = path.ok_or(format!("--path is required\n{USAGE}"))?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for h in &headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    request.extend_from_slice(&body);
    Ok(Options {
        addr,
        request,
        connections: connections.max(1),
        duration: Duration::from_secs_f64(duration),
        warmup: Duration::from_secs_f64(warmup),
        rps,
        ttft_marker,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One keep-alive connection with its read buffer.
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

impl Connection {
    fn open(addr: SocketAddr) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Connection {
            stream,
            buf: vec![0; 256 * 1024],
            filled: 0,
        })
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self.stream.read(&mut self.buf[self.filled..])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.filled += n;
        Ok(n)
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Sends the request and reads the whole answer (content-length or chunked).
    fn exchange(&mut self, request: &[u8], marker: &[u8], sent_at: Instant) -> std::io::Result<Answer> {
        self.stream.write_all(request)?;
        let head_end = loop {
            if let Some(i) = find(&self.buf[..self.filled], b"\r\n\r\n") {
                break i + 4;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
        let status = head.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        let header = |name: &str| {
            head.lines().find_map(|l| {
                l.strip_prefix(name)
                    .map(|v| v.trim_start_matches(':').trim().to_string())
            })
        };
        let content_length = header("content-length").and_then(|v| v.parse::<usize>().ok());
        let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        self.consume(head_end);
        let mut ttft = None;
        let mut scanned_tail: Vec<u8> = Vec::new();
        let mut body_bytes = 0usize;
        let mut see = |data: &[u8], ttft: &mut Option<Duration>| {
            if ttft.is_none() && !marker.is_empty() {
                scanned_tail.extend_from_slice(data);
                if find(&scanned_tail, marker).is_some() {
                    *ttft = Some(sent_at.elapsed());
                }
                let keep = marker.len().saturating_sub(1);
                if scanned_tail.len() > keep {
                    scanned_tail.drain(..scanned_tail.len() - keep);
                }
            }
        };
        if chunked {
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[..self.filled], b"\r\n") {
                        break i;
                    }
                    self.fill()?;
                };
                let size_text = String::from_utf8_lossy(&self.buf[..line_end]).to_string();
                let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| std::io::Error::other(format!("bad chunk size {size_text:?}")))?;
                self.consume(line_end + 2);
                while self.filled < size + 2 {
                    self.fill()?;
                }
                see(&self.buf[..size], &mut ttft);
                body_bytes += size;
                self.consume(size + 2);
                if size == 0 {
                    break;
                }
            }
        } else {
            let length = content_length.unwrap_or(0);
            let mut seen = 0;
            loop {
                let upto = self.filled.min(length);
                if upto > seen {
                    see(&self.buf[seen..upto], &mut ttft);
                    seen = upto;
                }
                if self.filled >= length {
                    break;
                }
                self.fill()?;
            }
            body_bytes = length;
            self.consume(length);
        }
        Ok(Answer {
            status,
            body_bytes,
            ttft,
        })
    }
}

/// One connection's loop: closed loop, or open loop on a fixed schedule when `interval` is given.
fn run_connection(opts: &Options, index: usize, start: Instant, interval: Option<Duration>) -> Samples {
    let mut samples = Samples::default();
    let measure_from = start + opts.warmup;
    let end = measure_from + opts.duration;
    let mut conn = None;
    let mut k = 0u64;
    loop {
        let scheduled = match interval {
            Some(iv) => {
                // Connections are staggered evenly inside one interval.
                let offset = iv.mul_f64(index as f64 / opts.connections as f64);
                let at = start + offset + iv.mul_f64(k as f64);
                k += 1;
                let now = Instant::now();
                if at > now {
                    std::thread::sleep(at - now);
                }
                at
            }
            None => Instant::now(),
        };
        if scheduled >= end {
            break;
        }
        if conn.is_none() {
            conn = Connection::open(opts.addr).ok();
        }
        let Some(c) = conn.as_mut() else {
            samples.errors += 1;
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        match c.exchange(&opts.request, &opts.ttft_marker, scheduled) {
            Ok(answer) if answer.status == 200 => {
                if scheduled >= measure_from {
                    samples.latency_ns.push(scheduled.elapsed().as_nanos() as u64);
                    if let Some(t) = answer.ttft {
                        samples.ttft_ns.push(t.as_nanos() as u64);
                    }
                    samples.body_bytes += answer.body_bytes as u64;
                }
            }
            Ok(_) => samples.errors += 1,
            Err(_) => {
                samples.errors += 1;
                conn = None;
            }
        }
    }
    samples
}

fn percentiles_us(mut ns: Vec<u64>) -> serde_json::Value {
    if ns.is_empty() {
        return serde_json::Value::Null;
    }
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 - 1.0) * q).round() as usize] as f64 / 1000.0;
    let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64 / 1000.0;
    json!({"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "p999": at(0.999), "max": at(1.0), "mean": mean})
}

fn main() {
    let opts = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let interval = opts
        .rps
        .map(|r| Duration::from_secs_f64(opts.connections as f64 / r.max(0.001)));
    let start = Instant::now() + Duration::from_millis(20);
    let results: Vec<Samples> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..opts.connections)
            .map(|i| {
                let opts = &opts;
                s.spawn(move || {
                    let now = Instant::now();
                    if start > now {
                        std::thread::sleep(start - now);
                    }
                    run_connection(opts, i, start, interval)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut all = Samples::default();
    for r in results {
        all.latency_ns.extend(r.latency_ns);
        all.ttft_ns.extend(r.ttft_ns);
        all.errors += r.errors;
        all.body_bytes += r.body_bytes;
    }
    let requests = all.latency_ns.len();
    let out = json!({
        "requests": requests,
        "errors": all.errors,
        "duration_s": opts.duration.as_secs_f64(),
        "rps": requests as f64 / opts.duration.as_secs_f64(),
        "target_rps": opts.rps,
        "connections": opts.connections,
        "body_bytes_per_request": if requests > 0 { all.body_bytes / requests as u64 } else { 0 },
        "latency_us": percentiles_us(all.latency_ns),
        "ttft_us": percentiles_us(all.ttft_ns),
    });
    println!("{out}");
}
