//! Plays recorded exchanges through the real `.wasm` under the wasmtime host, the way Envoy would deliver them,
//! and returns what the filter exported, decoded from the OTLP it sent. Used by the `replay` CLI and the tests.

use crate::exchange_file::ExchangeFile;
use crate::host::{Host, HostOptions};
use crate::otlp_json;
use anyhow::{Context as _, Result};
use serde_json::Value;

/// How the response body is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// One chunk.
    Whole,
    /// Chunks of this many bytes.
    Fixed(usize),
    /// Random sizes (1..=256 bytes) from this seed.
    Random(u64),
}

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub plugin_config: String,
    pub chunking: Chunking,
    pub upstream_latency_ms: u64,
    pub chunk_interval_ms: u64,
}

/// A configuration that exports to the host's default collector cluster.
pub const DEFAULT_PLUGIN_CONFIG: &str =
    r#"{"service_name":"llm-trace-replay","exporter":{"cluster":"otel_collector"}}"#;

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            plugin_config: DEFAULT_PLUGIN_CONFIG.to_string(),
            chunking: Chunking::Whole,
            upstream_latency_ms: 0,
            chunk_interval_ms: 0,
        }
    }
}

/// Splits `body` as the options say. Deterministic for a given seed.
pub fn chunk_sizes(len: usize, chunking: Chunking) -> Vec<usize> {
    match chunking {
        Chunking::Whole if len == 0 => Vec::new(),
        Chunking::Whole => vec![len],
        Chunking::Fixed(n) => {
            let n = n.max(1);
            (0..len.div_ceil(n)).map(|i| n.min(len - i * n)).collect()
        }
        Chunking::Random(seed) => {
            let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
            let mut sizes = Vec::new();
            let mut left = len;
            while left > 0 {
                // SplitMix64: enough randomness to vary split points, reproducible from the seed.
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                let size = ((z % 256) as usize + 1).min(left);
                sizes.push(size);
                left -= size;
            }
            sizes
        }
    }
}

/// Header pairs as the host's `&str` pairs.
pub fn pairs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// What one exchange looked like on the far side of the tracer: the request as forwarded upstream, the response
/// body as forwarded to the client, and the spans exported for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Played {
    pub request_headers: Vec<(String, String)>,
    pub request_body: Vec<u8>,
    pub response_body: Vec<u8>,
    pub spans: Vec<Value>,
}

/// Plays one exchange on an existing host (request, response in chunks, log phase). Returns the forwarded
/// response body, so callers can check the filter did not alter it.
pub fn play(host: &mut Host, exchange: &ExchangeFile, options: &ReplayOptions) -> Result<Vec<u8>> {
    Ok(play_forwarding(host, exchange, options)?.response_body)
}

/// The collector cluster a plugin configuration exports to (`exporter.cluster`), when it names one.
pub fn exporter_cluster(plugin_config: &str) -> Option<String> {
    let config: Value = serde_json::from_str(plugin_config).ok()?;
    config.pointer("/exporter/cluster")?.as_str().map(str::to_string)
}

/// A fresh host for `options`: it knows the cluster the configuration exports to, whatever its name, so the
/// filter's export calls are accepted as Envoy would accept them for a configured cluster.
pub fn replay_host(options: &ReplayOptions, seed: u64) -> Result<Host> {
    let mut host_options = HostOptions {
        plugin_config: options.plugin_config.clone(),
        seed,
        ..Default::default()
    };
    if let Some(cluster) = exporter_cluster(&options.plugin_config) {
        if !host_options.clusters.contains(&cluster) {
            host_options.clusters.push(cluster);
        }
    }
    Host::with_options(host_options)
}

/// Plays one exchange on a fresh host and returns everything it forwarded and exported.
pub fn replay_played(exchange: &ExchangeFile, options: &ReplayOptions, seed: u64) -> Result<Played> {
    let mut host = replay_host(options, seed)?;
    let mut played = play_forwarding(&mut host, exchange, options)?;
    played.spans = flush_exports(&mut host)?;
    Ok(played)
}

/// [`play`], also returning the request headers and body as forwarded upstream (no spans yet).
fn play_forwarding(host: &mut Host, exchange: &ExchangeFile, options: &ReplayOptions) -> Result<Played> {
    let request_body = exchange.request_body()?;
    let response_body = exchange.response_body()?;
    let stream = host.new_stream()?;
    let (_, request_headers) =
        host.request_headers(stream, &pairs(&exchange.request_headers()?), request_body.is_empty())?;
    let mut forwarded_request = Vec::new();
    if !request_body.is_empty() {
        let (_, out) = host.request_body(stream, &request_body, true)?;
        forwarded_request = out;
    }
    host.advance_ms(options.upstream_latency_ms);
    host.response_headers(
        stream,
        &pairs(&exchange.response_headers()),
        response_body.is_empty() && !exchange.cut,
    )?;
    let mut forwarded = Vec::with_capacity(response_body.len());
    let mut offset = 0;
    let sizes = chunk_sizes(response_body.len(), options.chunking);
    for (i, size) in sizes.iter().enumerate() {
        host.advance_ms(options.chunk_interval_ms);
        let chunk = &response_body[offset..offset + size];
        let (_, out) = host.response_body(stream, chunk, i + 1 == sizes.len() && !exchange.cut)?;
        forwarded.extend_from_slice(&out);
        offset += size;
    }
    host.log(stream)?;
    host.done(stream)?;
    Ok(Played {
        request_headers,
        request_body: forwarded_request,
        response_body: forwarded,
        spans: Vec::new(),
    })
}

/// Ticks the exporter, answers every export call with success (OTLP/HTTP 200, or gRPC status 0), and returns the
/// exported spans as JSON objects.
pub fn flush_exports(host: &mut Host) -> Result<Vec<Value>> {
    let mut spans = Vec::new();
    host.tick()?;
    for call in host.take_grpc_calls() {
        let request = otlp_json::decode_export_request(&call.message, None)
            .with_context(|| format!("decoding gRPC export call to `{}`", call.upstream))?;
        spans.extend(otlp_json::spans_to_json(&request));
        host.respond_grpc_call(call.token, 0, b"")?;
    }
    for call in host.take_http_calls() {
        let encoding = call
            .headers
            .iter()
            .find(|(k, _)| k == "content-encoding")
            .map(|(_, v)| v.as_str());
        let request = otlp_json::decode_export_request(&call.body, encoding)
            .with_context(|| format!("decoding export call to `{}`", call.upstream))?;
        spans.extend(otlp_json::spans_to_json(&request));
        host.respond_http_call(call.token, &[(":status", "200")], b"")?;
    }
    Ok(spans)
}

/// Plays one exchange on a fresh host and returns its exported spans, each tagged with the exchange name.
pub fn replay_exchange(exchange: &ExchangeFile, options: &ReplayOptions, seed: u64) -> Result<Vec<Value>> {
    Ok(replay_logged(exchange, options, seed)?.spans)
}

/// What replaying one exchange produced: the spans exported and what the plugin logged at warning level or above.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub spans: Vec<Value>,
    pub warnings: Vec<String>,
}

/// [`replay_exchange`], also returning the plugin's warnings (why nothing was exported, when nothing was).
pub fn replay_logged(exchange: &ExchangeFile, options: &ReplayOptions, seed: u64) -> Result<Replayed> {
    let mut host = replay_host(options, seed)?;
    play(&mut host, exchange, options)?;
    let mut spans = flush_exports(&mut host)?;
    for span in &mut spans {
        if let Value::Object(map) = span {
            map.insert("exchange".to_string(), Value::String(exchange.name.clone()));
        }
    }
    // proxy-wasm log levels: 3 = warn, 4 = error, 5 = critical.
    let warnings = host
        .logs()
        .into_iter()
        .filter(|(level, _)| *level >= 3)
        .map(|(_, m)| m)
        .collect();
    Ok(Replayed { spans, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_cover_the_body_exactly() {
        assert_eq!(chunk_sizes(10, Chunking::Whole), vec![10]);
        assert_eq!(chunk_sizes(0, Chunking::Whole), Vec::<usize>::new());
        assert_eq!(chunk_sizes(10, Chunking::Fixed(4)), vec![4, 4, 2]);
        assert_eq!(chunk_sizes(0, Chunking::Fixed(4)), Vec::<usize>::new());
        for seed in 0..20 {
            let sizes = chunk_sizes(5000, Chunking::Random(seed));
            assert_eq!(sizes.iter().sum::<usize>(), 5000);
            assert!(sizes.iter().all(|&s| (1..=256).contains(&s)));
            assert_eq!(sizes, chunk_sizes(5000, Chunking::Random(seed)));
        }
    }
}
