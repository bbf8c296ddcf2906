//! The second runtime: the same exchanges played through `llm-trace-core` natively, with no Wasm, the way a host
//! drives it (the proxy-wasm filter, the wasi:http component). Same clock, same chunking, same OTLP decoding as the
//! `.wasm` replay in [`crate::replay`], so the two can be compared byte for byte.

use crate::exchange_file::ExchangeFile;
use crate::otlp_json;
use crate::replay::{chunk_sizes, Played, ReplayOptions};
use anyhow::{anyhow, Result};
use llm_trace_core::{
    Clock, CollectorAnswer, Config, ExportBody, RequestView, ResponseView, StreamEnd, Tracer, CUT_REASON_PROPERTY,
};
use serde_json::Value;

/// Headers as a view.
struct Headers<'a>(&'a [(String, String)]);

impl RequestView for Headers<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

impl ResponseView for Headers<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn headers(&self) -> Vec<(String, String)> {
        self.0.to_vec()
    }
}

/// A native host: one tracer and the test's clock, starting where the wasmtime host's does.
pub struct NativeHost {
    tracer: Tracer,
    wall_ns: u64,
    mono_ns: u64,
    next_token: u32,
}

impl NativeHost {
    /// A host whose tracer runs `plugin_config`.
    pub fn new(plugin_config: &str) -> Result<NativeHost> {
        let config = Config::from_json(plugin_config.as_bytes()).map_err(|e| anyhow!("{e}"))?;
        Ok(NativeHost {
            tracer: Tracer::new(config, [7; 32], &|_| None),
            wall_ns: 1_700_000_000_000_000_000,
            mono_ns: 0,
            next_token: 1,
        })
    }

    fn now(&self) -> Clock {
        Clock {
            unix_ns: self.wall_ns,
            mono_ns: self.mono_ns,
        }
    }

    fn advance_ms(&mut self, ms: u64) {
        self.wall_ns += ms * 1_000_000;
        self.mono_ns += ms * 1_000_000;
    }

    /// Plays one exchange as [`crate::replay::play`] does on the wasmtime host.
    pub fn play(&mut self, exchange: &ExchangeFile, options: &ReplayOptions) -> Result<Played> {
        let request_body = exchange.request_body()?;
        let response_body = exchange.response_body()?;
        let mut request_headers = exchange.request_headers()?;
        let now = self.now();
        let started = self
            .tracer
            .start(&Headers(&request_headers), now, request_body.is_empty());
        let Some((mut x, edits)) = started else {
            return Ok(Played {
                request_headers,
                request_body,
                response_body,
                spans: Vec::new(),
            });
        };
        for (name, value) in &edits.set_headers {
            request_headers.retain(|(k, _)| k != name);
            request_headers.push((name.to_string(), value.clone()));
        }
        request_headers.retain(|(k, _)| !edits.remove_headers.contains(&k.as_str()));
        let mut forwarded_request = request_body.clone();
        if !request_body.is_empty() {
            if edits.hold_body {
                if let Some(rewritten) = x.held_request_body(&request_body) {
                    forwarded_request = rewritten;
                }
            } else {
                x.request_body(&request_body, true);
            }
        }
        self.advance_ms(options.upstream_latency_ms);
        let response_headers = exchange.response_headers();
        let edits = x.response_headers(
            &Headers(&response_headers),
            response_body.is_empty() && !exchange.cut,
            self.now(),
        );
        let _ = edits;
        let mut forwarded = Vec::with_capacity(response_body.len());
        let mut offset = 0;
        let sizes = chunk_sizes(response_body.len(), options.chunking);
        for (i, size) in sizes.iter().enumerate() {
            self.advance_ms(options.chunk_interval_ms);
            let chunk = &response_body[offset..offset + size];
            let last = i + 1 == sizes.len() && !exchange.cut;
            match x.response_body(chunk, last, self.now()) {
                Some(rewritten) => forwarded.extend_from_slice(&rewritten),
                None => forwarded.extend_from_slice(chunk),
            }
            offset += size;
        }
        // The wasmtime host has no `response.code_details` property: a cut exchange gets no reason there either.
        let _ = CUT_REASON_PROPERTY;
        let now = self.now();
        self.tracer.finish(x, now, StreamEnd::Logged { cut_reason: None });
        self.tracer.take_effects();
        let spans = self.flush()?;
        Ok(Played {
            request_headers,
            request_body: forwarded_request,
            response_body: forwarded,
            spans,
        })
    }

    /// Ticks the exporter, answers every export call with 200, and returns the exported spans as JSON objects.
    pub fn flush(&mut self) -> Result<Vec<Value>> {
        let mut spans = Vec::new();
        let now = self.now();
        while let Some(request) = self.tracer.next_export(now, true) {
            let decoded = match &request.body {
                ExportBody::Http { headers, body } => {
                    let encoding = headers
                        .iter()
                        .find(|(k, _)| k == "content-encoding")
                        .map(|(_, v)| v.as_str());
                    otlp_json::decode_export_request(body, encoding)?
                }
                ExportBody::Grpc { message, .. } => otlp_json::decode_export_request(message, None)?,
            };
            spans.extend(otlp_json::spans_to_json(&decoded));
            let token = self.next_token;
            self.next_token += 1;
            self.tracer.dispatched(request, token);
            let delivered = CollectorAnswer::Http {
                status: Some(200),
                retry_after: None,
                body: &[],
            };
            self.tracer.settled(token, delivered, now);
        }
        self.tracer.take_effects();
        Ok(spans)
    }
}

/// Plays one exchange on a fresh native host.
pub fn replay_native(exchange: &ExchangeFile, options: &ReplayOptions) -> Result<Played> {
    NativeHost::new(&options.plugin_config)?.play(exchange, options)
}
