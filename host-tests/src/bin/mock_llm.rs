//! `mock-llm`: a deterministic stand-in for an LLM provider, for the demo, the end-to-end tests and the
//! benchmarks. The provider itself cannot run here, so this is the one mock in the project; it speaks the real
//! wire formats (OpenAI Chat Completions, Embeddings and Anthropic Messages, JSON and SSE) as the recorded captures
//! show them.
//!
//! `mock-llm --listen 127.0.0.1:0 [--chunk-interval-ms 20]` prints `mock-llm listening on ADDR`.
//!
//! Behaviour (the end-to-end tests compute the same figures independently):
//! - The answer is the first N words of [`ANSWER`]: N = `max_tokens` (or `max_completion_tokens`) when below 20,
//!   then finish reason `length` / `max_tokens`; else all 20 and `stop` / `end_turn`.
//! - Input tokens = whitespace-separated words in all message texts (and the Anthropic `system`); output tokens =
//!   words answered; streams send one word per event.
//! - Response model = request model + `-2025-01-01`.
//! - Embeddings (`/v1/embeddings`): one unit vector of [`EMBEDDING_DIMS`] per input, from its words (each word adds
//!   to the dimension its hash picks), as base64 little-endian `f32` when `encoding_format` is `base64` (the openai
//!   SDK's default) else as floats; the model is echoed; prompt tokens = words.
//! - Request headers: `x-mock-status: NNN` answers that status with the provider's error body;
//!   `x-mock-cut-after: N` drops the connection after N streamed words; `x-mock-gzip: 1` gzips a JSON answer.
//! - Benchmark shapes: `x-mock-words: N` answers N words (cycling through the answer; a stream sends N content
//!   events), `x-mock-interval-ms: N` paces this stream (overrides `--chunk-interval-ms`, 0 = unpaced).
//! - `x-mock-server-timing: 1` adds the upstream's own `server-timing: upstream;dur=1` to the answer.
//! - Judge mode (`x-mock-judge: 1`, which the demo's judge cluster config sends): it is a mock because a real model
//!   cannot run here. It answers a chat completion as an LLM judge would, with the structured verdict the filter's
//!   default rubric asks for, computed from the prompt: the answer (between `The assistant's answer:` and `Judge
//!   whether`) has N of the 19 words of [`ANSWER`], so score = N / 19 (two decimals), label `pass` from 0.5 up,
//!   else `fail`. Markers in the prompt (they come from the judged call's question) choose failures: `judge:unparsable`
//!   answers prose, `judge:error` answers 500, `judge:slow` waits 3 s first. Every prompt it gets is logged to stderr
//!   as `judge prompt: <JSON string>`, so a test can see what left the proxy.

use host_tests::servers::{arg, serve, Request, Responder};
use serde_json::{json, Value};
use std::io::Write as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const ANSWER: &str =
    "The quick brown fox jumps over the lazy dog and keeps running through the quiet forest until night falls";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn words_in(value: &Value) -> usize {
    match value {
        Value::String(s) => s.split_whitespace().count(),
        Value::Array(parts) => parts.iter().map(|p| p.get("text").map_or(0, words_in)).sum(),
        _ => 0,
    }
}

fn prompt_words(req: &Value) -> usize {
    let messages: usize = req["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m.get("content").map_or(0, words_in))
        .sum();
    messages + req.get("system").map_or(0, words_in)
}

fn answer_words(req: &Value, words: Option<usize>) -> (Vec<&'static str>, bool) {
    let base = ANSWER.split(' ');
    let all: Vec<&str> = match words {
        Some(n) => base.cycle().take(n).collect(),
        None => base.collect(),
    };
    let limit = req["max_completion_tokens"]
        .as_u64()
        .or(req["max_tokens"].as_u64())
        .unwrap_or(u64::MAX);
    if (limit as usize) < all.len() {
        (all[..limit as usize].to_vec(), true)
    } else {
        (all, false)
    }
}

fn words_override(req: &Request) -> Option<usize> {
    req.header("x-mock-words").and_then(|v| v.parse().ok())
}

fn error_body(anthropic: bool, status: u16) -> Value {
    let (kind, code) = match status {
        429 => ("requests", "rate_limit_exceeded"),
        400 => ("invalid_request_error", "invalid_request"),
        _ => ("server_error", "server_error"),
    };
    if anthropic {
        let kind = if status == 429 {
            "rate_limit_error"
        } else if status >= 500 {
            "overloaded_error"
        } else {
            kind
        };
        json!({"type": "error", "error": {"type": kind, "message": format!("mock error {status}")}})
    } else {
        json!({"error": {"message": format!("mock error {status}"), "type": kind, "param": null, "code": code}})
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(body);
    e.finish().unwrap_or_default()
}

fn send_json(r: &mut Responder<'_>, req: &Request, status: u16, body: &Value) -> std::io::Result<()> {
    let bytes = body.to_string().into_bytes();
    let mut headers = vec![("content-type", "application/json")];
    if req.header("x-mock-server-timing").is_some() {
        headers.push(("server-timing", "upstream;dur=1"));
    }
    if req.header("x-mock-gzip").is_some() {
        headers.push(("content-encoding", "gzip"));
        r.send(status, &headers, &gzip(&bytes))
    } else {
        r.send(status, &headers, &bytes)
    }
}

fn openai_chat(req: &Request, body: &Value, r: &mut Responder<'_>, interval: Duration) -> std::io::Result<()> {
    let model = body["model"].as_str().unwrap_or("mock");
    let response_model = format!("{model}-2025-01-01");
    let id = format!("chatcmpl-mock-{}", COUNTER.fetch_add(1, Ordering::Relaxed));
    let (words, truncated) = answer_words(body, words_override(req));
    let finish = if truncated { "length" } else { "stop" };
    let prompt = prompt_words(body);
    let usage = json!({"prompt_tokens": prompt, "completion_tokens": words.len(), "total_tokens": prompt + words.len(),
        "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}});
    if body["stream"] != json!(true) {
        let answer = words.join(" ");
        return send_json(
            r,
            req,
            200,
            &json!({
            "id": id, "object": "chat.completion", "created": 1_750_000_000, "model": response_model,
            "system_fingerprint": "fp_mock",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer, "refusal": null},
                         "logprobs": null, "finish_reason": finish}],
            "usage": usage}),
        );
    }
    let include_usage = body["stream_options"]["include_usage"] == json!(true);
    let cut_after = req.header("x-mock-cut-after").and_then(|v| v.parse::<usize>().ok());
    let chunk = |delta: Value, finish: Value| {
        let mut c = json!({"id": id, "object": "chat.completion.chunk", "created": 1_750_000_000, "model": response_model,
            "system_fingerprint": "fp_mock", "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        if include_usage {
            c["usage"] = Value::Null;
        }
        format!("data: {c}\n\n")
    };
    r.start_stream(
        200,
        &[
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
        ],
    )?;
    r.chunk(chunk(json!({"role": "assistant", "content": ""}), Value::Null).as_bytes())?;
    for (i, word) in words.iter().enumerate() {
        if cut_after == Some(i) {
            // Give the proxy time to read what was sent: a reset that overtakes the last chunk would lose it, and
            // the tests assert what the client received before the cut (a race that loses under load).
            std::thread::sleep(interval.max(Duration::from_millis(200)));
            r.abort();
            return Err(std::io::Error::other("cut"));
        }
        std::thread::sleep(interval);
        let text = if i == 0 { word.to_string() } else { format!(" {word}") };
        r.chunk(chunk(json!({"content": text}), Value::Null).as_bytes())?;
    }
    r.chunk(chunk(json!({}), json!(finish)).as_bytes())?;
    if include_usage {
        let c = json!({"id": id, "object": "chat.completion.chunk", "created": 1_750_000_000, "model": response_model,
            "system_fingerprint": "fp_mock", "choices": [], "usage": usage});
        r.chunk(format!("data: {c}\n\n").as_bytes())?;
    }
    r.chunk(b"data: [DONE]\n\n")?;
    r.finish()
}

fn anthropic_messages(req: &Request, body: &Value, r: &mut Responder<'_>, interval: Duration) -> std::io::Result<()> {
    let model = format!("{}-2025-01-01", body["model"].as_str().unwrap_or("mock"));
    let id = format!("msg_mock{}", COUNTER.fetch_add(1, Ordering::Relaxed));
    let (words, truncated) = answer_words(body, words_override(req));
    let stop = if truncated { "max_tokens" } else { "end_turn" };
    let prompt = prompt_words(body);
    if body["stream"] != json!(true) {
        return send_json(
            r,
            req,
            200,
            &json!({
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": words.join(" ")}], "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": prompt, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                      "output_tokens": words.len()}}),
        );
    }
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    r.start_stream(
        200,
        &[
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
        ],
    )?;
    r.chunk(event("message_start", json!({"type": "message_start", "message": {"id": id, "type": "message",
        "role": "assistant", "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": prompt, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}}})).as_bytes())?;
    r.chunk(
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        )
        .as_bytes(),
    )?;
    r.chunk(event("ping", json!({"type": "ping"})).as_bytes())?;
    for (i, word) in words.iter().enumerate() {
        std::thread::sleep(interval);
        let text = if i == 0 { word.to_string() } else { format!(" {word}") };
        r.chunk(
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
            )
            .as_bytes(),
        )?;
    }
    r.chunk(event("content_block_stop", json!({"type": "content_block_stop", "index": 0})).as_bytes())?;
    r.chunk(
        event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
        "usage": {"output_tokens": words.len()}}),
        )
        .as_bytes(),
    )?;
    r.chunk(event("message_stop", json!({"type": "message_stop"})).as_bytes())?;
    r.finish()
}

/// Length of the mock's embeddings.
const EMBEDDING_DIMS: usize = 16;

/// A deterministic unit vector for a text: texts sharing words point the same way.
fn embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; EMBEDDING_DIMS];
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let hash = word.to_lowercase().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        v[(hash % EMBEDDING_DIMS as u64) as usize] += 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        v[0] = 1.0;
        return v;
    }
    v.iter().map(|x| x / norm).collect()
}

fn openai_embeddings(req: &Request, body: &Value, r: &mut Responder<'_>) -> std::io::Result<()> {
    use base64::Engine as _;
    let inputs: Vec<&str> = match &body["input"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let base64 = body["encoding_format"] == json!("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = embedding(text);
            let encoded = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": encoded})
        })
        .collect();
    let words: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    send_json(
        r,
        req,
        200,
        &json!({"object": "list", "data": data, "model": body["model"],
                "usage": {"prompt_tokens": words, "total_tokens": words}}),
    )
}

/// The judge's verdict on the prompt it was sent (see the module documentation).
fn judge(req: &Request, body: &Value, r: &mut Responder<'_>) -> std::io::Result<()> {
    let prompt = body["messages"][0]["content"].as_str().unwrap_or_default();
    eprintln!("judge prompt: {}", json!(prompt));
    if prompt.contains("judge:error") {
        return send_json(r, req, 500, &error_body(false, 500));
    }
    if prompt.contains("judge:slow") {
        std::thread::sleep(Duration::from_secs(3));
    }
    let answer = prompt
        .split("The assistant's answer:")
        .nth(1)
        .and_then(|rest| rest.split("Judge whether").next())
        .unwrap_or_default();
    let expected = ANSWER.split(' ').count();
    let words = answer.split_whitespace().count().min(expected);
    let score = (words as f64 / expected as f64 * 100.0).round() / 100.0;
    let label = if score >= 0.5 { "pass" } else { "fail" };
    let content = if prompt.contains("judge:unparsable") {
        "The answer looks fine to me.".to_string()
    } else {
        json!({"score": score, "label": label, "reason": format!("The answer has {words} of the {expected} words expected.")})
            .to_string()
    };
    let model = format!("{}-2025-01-01", body["model"].as_str().unwrap_or("mock"));
    let (prompt_tokens, completion_tokens) = (prompt.split_whitespace().count(), content.split_whitespace().count());
    send_json(
        r,
        req,
        200,
        &json!({"id": format!("chatcmpl-judge-{}", COUNTER.fetch_add(1, Ordering::Relaxed)), "object": "chat.completion",
            "created": 1_750_000_000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}),
    )
}

fn main() -> std::io::Result<()> {
    let listen = arg("--listen").unwrap_or_else(|| "127.0.0.1:0".into());
    let interval = Duration::from_millis(arg("--chunk-interval-ms").and_then(|v| v.parse().ok()).unwrap_or(20));
    let listener = TcpListener::bind(&listen)?;
    serve("mock-llm", listener, move |req, r| {
        let path = req.path.split('?').next().unwrap_or_default();
        if req.method == "GET" && path == "/healthz" {
            return r.send(200, &[("content-type", "text/plain")], b"ok");
        }
        let anthropic = path.ends_with("/v1/messages");
        let embeddings = path.ends_with("/embeddings");
        if req.method != "POST" || !(anthropic || embeddings || path.ends_with("/chat/completions")) {
            return r.send(
                404,
                &[("content-type", "application/json")],
                br#"{"error":{"message":"not found","type":"invalid_request_error","code":"not_found"}}"#,
            );
        }
        if let Some(status) = req.header("x-mock-status").and_then(|v| v.parse::<u16>().ok()) {
            return send_json(r, req, status, &error_body(anthropic, status));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return send_json(r, req, 400, &error_body(anthropic, 400));
        };
        let interval = req
            .header("x-mock-interval-ms")
            .and_then(|v| v.parse().ok())
            .map_or(interval, Duration::from_millis);
        if req.header("x-mock-judge").is_some() {
            judge(req, &body, r)
        } else if anthropic {
            anthropic_messages(req, &body, r, interval)
        } else if embeddings {
            openai_embeddings(req, &body, r)
        } else {
            openai_chat(req, &body, r, interval)
        }
    })
}
