//! Micro-benchmarks of the tracer's hot paths, natively (`cargo run --release -p llm-trace-core --example hot_paths`).
//! `make bench` runs it and stores the figures next to the Envoy ones. Timed with `std::time` over many
//! iterations (median of 5 batches); no benchmark framework, to keep the test build small.
//!
//! Figures: one whole non-streaming chat exchange (parse, span, redaction, OTLP encoding) with content capture
//! full and off; SSE decoding MB/s; usage extraction from a chat completion; redaction MB/s; OTLP bytes of a
//! one-span export request.

// A benchmark binary, not the filter: a broken fixture should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use llm_trace_core::{
    Clock, CollectorAnswer, Config, ExportBody, Redact, RequestView, ResponseView, SseDecoder, StreamEnd, Tracer,
};
use std::hint::black_box;
use std::time::Instant;

fn at(ms: u64) -> Clock {
    Clock {
        unix_ns: 1_700_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: 5_000_000_000 + ms * 1_000_000,
    }
}

/// Median nanoseconds per iteration over 5 batches.
fn time_ns(iterations: u32, mut f: impl FnMut()) -> f64 {
    let mut batches: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    batches.sort_by(|a, b| a.total_cmp(b));
    batches[2]
}

const PII: &str = "Customer jane.doe@example.com called from +1 415 555 0132 about card 4111 1111 1111 1111; \
their key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789 was rotated. ";
const FILLER: &str = "Summarise the incident timeline for the on-call review and list the follow-up actions with \
owners. The exporter queue filled at 02:14 and the collector recovered at 02:19. ";

fn chat_request(bytes: usize, text: &str) -> Vec<u8> {
    let content: String = text.chars().cycle().take(bytes.saturating_sub(120)).collect();
    serde_json::json!({"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": content}]})
    .to_string()
    .into_bytes()
}

fn chat_response(words: usize) -> Vec<u8> {
    let answer: Vec<&str> = FILLER.split(' ').cycle().take(words).collect();
    serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1_750_000_000,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.join(" "), "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 200, "completion_tokens": words, "total_tokens": 200 + words,
                  "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}})
    .to_string()
    .into_bytes()
}

fn sse_stream(events: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..events {
        out.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" word{i}\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        ));
    }
    out.push_str("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":64,\"total_tokens\":84}}\n\ndata: [DONE]\n\n");
    out.into_bytes()
}

struct Request;

impl RequestView for Request {
    fn header(&self, name: &str) -> Option<String> {
        match name {
            ":method" => Some("POST".into()),
            ":path" => Some("/v1/chat/completions".into()),
            ":authority" => Some("api.openai.com".into()),
            ":scheme" => Some("https".into()),
            _ => None,
        }
    }
}

struct Response(&'static str);

impl ResponseView for Response {
    fn header(&self, name: &str) -> Option<String> {
        match name {
            ":status" => Some("200".into()),
            "content-type" => Some(self.0.into()),
            _ => None,
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        vec![(":status".into(), "200".into()), ("content-type".into(), self.0.into())]
    }
}

/// One exchange through the core, as a host drives it; returns the size of the export request that carries it.
fn exchange(tracer: &mut Tracer, request: &[u8], response: &[u8], content_type: &'static str) -> usize {
    let Some((mut x, _)) = tracer.start(&Request, at(0), false) else {
        return 0;
    };
    x.request_body(request, true);
    x.response_headers(&Response(content_type), false, at(100));
    x.response_body(response, true, at(150));
    tracer.finish(x, at(200), StreamEnd::Logged { cut_reason: None });
    let bytes = match tracer.next_export(at(200), true) {
        Some(export) => {
            let bytes = match &export.body {
                ExportBody::Http { body, .. } => body.len(),
                ExportBody::Grpc { message, .. } => message.len(),
            };
            tracer.dispatched(export, 1);
            let delivered = CollectorAnswer::Http {
                status: Some(200),
                retry_after: None,
                body: &[],
            };
            tracer.settled(1, delivered, at(250));
            bytes
        }
        None => 0,
    };
    tracer.take_effects();
    bytes
}

fn main() {
    let full_config = r#"{"exporter":{"cluster":"otel"},"capture":{"content":"full","max_content_bytes":4096}}"#;
    let off_config = r#"{"exporter":{"cluster":"otel"},"capture":{"content":"off"}}"#;
    let tracer = |json: &str| Tracer::new(Config::from_json(json.as_bytes()).expect("config"), [7; 32], &|_| None);
    let (mut full, mut off) = (tracer(full_config), tracer(off_config));
    let redactor = llm_trace_core::redactor("{}").expect("the default redaction");
    let request_1k = chat_request(1024, FILLER);
    let request_32k_pii = chat_request(32 * 1024, PII);
    let response_1k = chat_response(150);
    let stream_64 = sse_stream(64);

    // `HOT_PATHS_PROFILE=exchange|exchange-full|redaction`: loop one hot path only, for `perf record` or (with a small
    // `HOT_PATHS_ITERATIONS`) `valgrind --tool=callgrind`, whose instruction counts per function track the
    // `.wasm`'s fuel.
    let iterations: u32 = std::env::var("HOT_PATHS_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    match std::env::var("HOT_PATHS_PROFILE").as_deref() {
        Ok("exchange") => {
            for _ in 0..iterations {
                black_box(exchange(&mut off, &request_1k, &response_1k, "application/json"));
            }
            return;
        }
        Ok("exchange-full") => {
            for _ in 0..iterations {
                black_box(exchange(&mut full, &request_1k, &response_1k, "application/json"));
            }
            return;
        }
        // `HOT_PATHS_REQUEST=FILE HOT_PATHS_RESPONSE=FILE [HOT_PATHS_REDACTION=off]`: one recorded chat exchange
        // (a redaction-cost fixture's bodies) with full capture, redacted or not: the difference is redaction's.
        Ok("exchange-file") => {
            let read = |var: &str| std::fs::read(std::env::var(var).expect(var)).expect("a readable body file");
            let (request, response) = (read("HOT_PATHS_REQUEST"), read("HOT_PATHS_RESPONSE"));
            let redaction = match std::env::var("HOT_PATHS_REDACTION").as_deref() {
                Ok("off") => r#","redaction":{"enabled":false}"#,
                _ => "",
            };
            let config = format!(
                r#"{{"exporter":{{"cluster":"otel"}},"capture":{{"content":"full","max_content_bytes":1048576}}{redaction}}}"#
            );
            let mut tracer = tracer(&config);
            for _ in 0..iterations {
                black_box(exchange(&mut tracer, &request, &response, "application/json"));
            }
            return;
        }
        Ok("redaction") => {
            // `HOT_PATHS_TEXT=FILE`: redact that file's text instead (a redaction-cost fixture's content).
            let clean = match std::env::var("HOT_PATHS_TEXT") {
                Ok(path) => std::fs::read_to_string(path).expect("HOT_PATHS_TEXT names a readable text file"),
                Err(_) => FILLER.repeat(10),
            };
            for _ in 0..iterations {
                black_box(redactor.redact(&clean, &mut Vec::new()));
            }
            return;
        }
        _ => {}
    }
    let mut figures = serde_json::Map::new();
    let mut put = |name: &str, value: f64| {
        println!("{name:48} {value:12.2}");
        figures.insert(name.to_string(), serde_json::json!((value * 100.0).round() / 100.0));
    };
    put(
        "chat_1k_exchange_full_capture_us",
        time_ns(2000, || {
            black_box(exchange(&mut full, &request_1k, &response_1k, "application/json"));
        }) / 1000.0,
    );
    put(
        "chat_1k_exchange_capture_off_us",
        time_ns(2000, || {
            black_box(exchange(&mut off, &request_1k, &response_1k, "application/json"));
        }) / 1000.0,
    );
    put(
        "chat_32k_pii_exchange_full_capture_us",
        time_ns(200, || {
            black_box(exchange(&mut full, &request_32k_pii, &response_1k, "application/json"));
        }) / 1000.0,
    );
    put(
        "sse_64_exchange_full_capture_us",
        time_ns(500, || {
            black_box(exchange(&mut full, &request_1k, &stream_64, "text/event-stream"));
        }) / 1000.0,
    );
    let big_stream = sse_stream(5000);
    let ns = time_ns(20, || {
        let mut decoder = SseDecoder::new(1 << 20);
        let mut events = 0usize;
        for chunk in big_stream.chunks(1024) {
            decoder.feed(chunk, &mut |_, data| events += data.len());
        }
        black_box(events);
    });
    put("sse_decode_mb_per_s", big_stream.len() as f64 / ns * 1000.0);
    let ns = time_ns(5000, || {
        let v: serde_json::Value = serde_json::from_slice(&response_1k).unwrap_or_default();
        black_box(v["usage"]["completion_tokens"].as_u64());
    });
    put("usage_extraction_serde_value_1k_response_us", ns / 1000.0);
    let text: String = PII.repeat(300);
    let ns = time_ns(50, || {
        let mut counts = Vec::new();
        black_box(redactor.redact(&text, &mut counts));
    });
    put("redaction_pii_text_mb_per_s", text.len() as f64 / ns * 1000.0);
    let clean: String = FILLER.repeat(300);
    let ns = time_ns(50, || {
        let mut counts = Vec::new();
        black_box(redactor.redact(&clean, &mut counts));
    });
    put("redaction_clean_text_mb_per_s", clean.len() as f64 / ns * 1000.0);
    let span_bytes = exchange(&mut full, &request_1k, &response_1k, "application/json");
    put("otlp_request_bytes_one_span_chat_1k_full", span_bytes as f64);
    let span_bytes_off = exchange(&mut off, &request_1k, &response_1k, "application/json");
    put("otlp_request_bytes_one_span_chat_1k_off", span_bytes_off as f64);
    if let Some(path) = std::env::args().nth(1) {
        let _ = std::fs::write(path, serde_json::Value::Object(figures).to_string());
    }
}
