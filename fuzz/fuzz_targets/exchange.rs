//! Every provider decoder, through the core's public API as a host drives it: a `Tracer` starts an exchange from
//! request headers, gets the request body (held and rewritten, or read), response headers and the response body,
//! finishes it and hands out the export. Checked: no panic; a held request that is rewritten gets its own
//! `content-length` when the headers were held; and the whole run (the exported OTLP bytes and every forwarded
//! byte) is the same whether the bodies come whole or split.
//!
//! Input: `[config, seed]`, then four parts, each a little-endian u16 length and its bytes (the last part takes the
//! rest): request headers (`name: value` lines, pseudo-headers included), request body, response headers, response
//! body. `fuzz/seeds.py` turns the project's recorded exchanges into such inputs.
#![no_main]

use llm_trace_core::{Clock, Config, ExportBody, RequestView, ResponseView, StreamEnd, Tracer};
use std::sync::OnceLock;

const CONFIGS: [&str; 4] = [
    r#"{"exporter":{"cluster":"otel"},"capture":{"content":"full","max_content_bytes":512}}"#,
    r#"{"exporter":{"cluster":"otel"},"hold_request_headers":true,"capture":{"content":"metadata"},
        "limits":{"max_request_body_bytes":2048,"max_response_body_bytes":4096,"max_sse_event_bytes":256}}"#,
    r#"{"exporter":{"cluster":"otel","compression":"gzip"},"hold_request_headers":true,
        "redaction":{"request":{"enabled":true}},"capture":{"content":"full"},
        "dialects":["gen_ai","openinference"],"semconv":"latest"}"#,
    r#"{"exporter":{"cluster":"otel","protocol":"grpc"},"sampling":{"ratio":0.5},"default_provider":"vllm",
        "provider_overrides":[{"host":"llm.internal","api":"anthropic_messages"},
                              {"path_prefix":"/generate","api":"openai_chat","inject_stream_usage":false}]}"#,
];

fn configs() -> &'static [Config] {
    static PARSED: OnceLock<Vec<Config>> = OnceLock::new();
    PARSED.get_or_init(|| {
        CONFIGS
            .iter()
            .map(|c| match Config::from_json(c.as_bytes()) {
                Ok(c) => c,
                Err(e) => panic!("the target's own configuration: {e}"),
            })
            .collect()
    })
}

struct Headers(Vec<(String, String)>);

impl Headers {
    fn parse(text: &[u8]) -> Headers {
        let text = String::from_utf8_lossy(text);
        let pairs = text
            .lines()
            .filter_map(|line| {
                // `:path: /v1/x` and `name: value`: the separator is the first `:` after the name's first byte.
                let at = line.get(1..)?.find(':')? + 1;
                Some((
                    line[..at].trim().to_ascii_lowercase(),
                    line[at + 1..].trim().to_string(),
                ))
            })
            .collect();
        Headers(pairs)
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

/// Request headers, with a POST to the chat path where the input names none.
struct Request<'a>(&'a Headers);

impl RequestView for Request<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.0.get(name).or_else(|| match name {
            ":method" => Some("POST".into()),
            ":path" => Some("/v1/chat/completions".into()),
            ":authority" => Some("api.openai.com".into()),
            _ => None,
        })
    }
}

impl ResponseView for Headers {
    fn header(&self, name: &str) -> Option<String> {
        self.get(name)
    }

    fn headers(&self) -> Vec<(String, String)> {
        self.0.clone()
    }
}

/// Chunks of 1..=N bytes from `seed`, or the whole slice for seed 0.
fn split(data: &[u8], seed: u8) -> Vec<&[u8]> {
    if seed == 0 || data.is_empty() {
        return vec![data];
    }
    let mut state = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    let mut chunks = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let (chunk, tail) = rest.split_at((1 + state as usize % (1 + usize::from(seed) * 4)).min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// What a run produced: the export bodies, the forwarded request body and the forwarded response bytes.
#[derive(PartialEq, Debug)]
struct Run {
    exports: Vec<Vec<u8>>,
    request: Vec<u8>,
    response: Vec<u8>,
}

fn run(config: &Config, parts: &[&[u8]; 4], seed: u8) -> Option<Run> {
    let [request_head, request_body, response_head, response_body] = *parts;
    let now = Clock {
        unix_ns: 1_750_000_000_000_000_000,
        mono_ns: 10_000_000_000,
    };
    let mut tracer = Tracer::new(config.clone(), [7; 32], &|_| None);
    let head = Headers::parse(request_head);
    let (mut exchange, edits) = tracer.start(&Request(&head), now, request_body.is_empty())?;
    let mut forwarded_request = request_body.to_vec();
    if edits.hold_body {
        let held = exchange.complete_held_request(request_body);
        if let Some(body) = held.body {
            if edits.hold_headers {
                let length = held.set_headers.iter().find(|(k, _)| *k == "content-length");
                assert_eq!(length.map(|(_, v)| v.clone()), Some(body.len().to_string()));
            } else {
                assert!(held.set_headers.is_empty(), "header edits after the headers left");
            }
            forwarded_request = body;
        }
    } else if !request_body.is_empty() {
        let chunks = split(request_body, seed);
        for (i, chunk) in chunks.iter().enumerate() {
            exchange.request_body(chunk, i + 1 == chunks.len());
        }
    }
    let response = Headers::parse(response_head);
    exchange.response_headers(&response, response_body.is_empty(), now);
    let mut forwarded = Vec::new();
    let chunks = split(response_body, seed);
    for (i, chunk) in chunks.iter().enumerate() {
        match exchange.response_body(chunk, i + 1 == chunks.len(), now) {
            Some(rewritten) => forwarded.extend_from_slice(&rewritten),
            None => forwarded.extend_from_slice(chunk),
        }
    }
    tracer.finish(exchange, now, StreamEnd::Logged { cut_reason: None });
    let mut exports = Vec::new();
    let mut token = 0;
    while let Some(call) = tracer.next_export(now, true) {
        exports.push(match &call.body {
            ExportBody::Http { body, .. } => body.clone(),
            ExportBody::Grpc { message, .. } => message.clone(),
        });
        token += 1;
        tracer.dispatched(call, token);
    }
    let _ = tracer.take_effects();
    Some(Run {
        exports,
        request: forwarded_request,
        response: forwarded,
    })
}

fn take<'a>(data: &mut &'a [u8]) -> &'a [u8] {
    let len = match data {
        [a, b, ..] => usize::from(u16::from_le_bytes([*a, *b])),
        _ => 0,
    };
    let rest = data.get(2..).unwrap_or_default();
    let (part, tail) = rest.split_at(len.min(rest.len()));
    *data = tail;
    part
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [config, seed, rest @ ..] = data else {
        return;
    };
    let mut rest: &[u8] = rest;
    let config = &configs()[usize::from(*config) % CONFIGS.len()];
    let request_head = take(&mut rest);
    let request_body = take(&mut rest);
    let response_head = take(&mut rest);
    let parts = [request_head, request_body, response_head, rest];
    let whole = run(config, &parts, 0);
    let split = run(config, &parts, seed.max(&1).to_owned());
    if whole != split {
        panic!("whole and split bodies differ: {}", difference(&whole, &split));
    }
});

/// Where two runs first differ, readably.
fn difference(a: &Option<Run>, b: &Option<Run>) -> String {
    let (Some(a), Some(b)) = (a, b) else {
        return format!("one run traced nothing: {} vs {}", a.is_some(), b.is_some());
    };
    let near =
        |x: &[u8], at: usize| String::from_utf8_lossy(&x[at.saturating_sub(120)..(at + 120).min(x.len())]).into_owned();
    let pairs = [
        ("export", a.exports.concat(), b.exports.concat()),
        ("request", a.request.clone(), b.request.clone()),
        ("response", a.response.clone(), b.response.clone()),
    ];
    for (what, x, y) in pairs {
        if x != y {
            let at = x
                .iter()
                .zip(&y)
                .position(|(p, q)| p != q)
                .unwrap_or(x.len().min(y.len()));
            return format!(
                "{what} at byte {at}:\nwhole: {:?}\nsplit: {:?}",
                near(&x, at),
                near(&y, at)
            );
        }
    }
    String::new()
}
