//! Our own fixtures (`testdata/exchanges/`): the wire cases the shared corpus does not hold (gzip, a cut stream, a
//! usage-only chunk, Anthropic `error` events, Gemini's JSON-array stream, Bedrock event-stream frames, ...), written
//! in the exact shape of real recorded exchanges. Each one is replayed through the real `.wasm` at several chunkings
//! and the exported span must carry exactly the figures in its `expect` block; the forwarded bytes must be the
//! upstream's bytes.

use host_tests::exchange_file::ExchangeFile;
use host_tests::host::{Host, HostOptions};
use host_tests::replay::{flush_exports, play, replay_exchange, Chunking, ReplayOptions};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const CHUNKINGS: [Chunking; 7] = [
    Chunking::Fixed(1),
    Chunking::Fixed(5),
    Chunking::Fixed(7),
    Chunking::Fixed(64),
    Chunking::Random(7),
    Chunking::Random(8),
    Chunking::Whole,
];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/exchanges")
}

/// Every fixture, with its raw JSON (the `expect` block holds more than `ExchangeFile::Expect` models).
fn fixtures() -> Vec<(ExchangeFile, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| (ExchangeFile::load(p).unwrap(), raw(p))).collect()
}

fn raw(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fixture(name: &str) -> (ExchangeFile, Value) {
    let path = fixtures_dir().join(format!("{name}.json"));
    (ExchangeFile::load(&path).unwrap(), raw(&path))
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    span["attributes"].get(key).unwrap_or(&Value::Null)
}

/// The conventions name Gemini's operation `generate_content`; the fixtures file it under `chat` like the corpus.
fn expected_operation(provider: &Value, operation: &Value) -> Value {
    match (provider.as_str(), operation.as_str()) {
        (Some("gcp.gemini"), Some("chat")) => json!("generate_content"),
        _ => operation.clone(),
    }
}

/// Plays an exchange on a fresh host and returns (forwarded response bytes, exported spans).
fn play_once(exchange: &ExchangeFile, chunking: Chunking) -> (Vec<u8>, Vec<Value>) {
    let options = ReplayOptions {
        chunking,
        chunk_interval_ms: 1,
        ..Default::default()
    };
    let mut host = Host::with_options(HostOptions {
        plugin_config: options.plugin_config.clone(),
        seed: 5,
        ..Default::default()
    })
    .unwrap();
    let forwarded = play(&mut host, exchange, &options).unwrap();
    let spans = flush_exports(&mut host).unwrap();
    (forwarded, spans)
}

#[test]
fn every_fixture_matches_its_expectations_exactly_at_every_chunking() {
    let all = fixtures();
    assert!(all.len() >= 57, "expected at least 57 fixtures, found {}", all.len());
    for (exchange, raw) in &all {
        let e = &raw["expect"];
        let upstream_bytes = exchange.response_body().unwrap();
        for chunking in CHUNKINGS {
            let ctx = format!("{} at {:?}", exchange.name, chunking);
            let (forwarded, spans) = play_once(exchange, chunking);
            assert_eq!(
                forwarded, upstream_bytes,
                "{ctx}: forwarded bytes differ from upstream's"
            );
            assert_eq!(spans.len(), 1, "{ctx}");
            let s = &spans[0];
            assert_eq!(attr(s, "gen_ai.provider.name"), &e["provider"], "{ctx}");
            assert_eq!(
                attr(s, "gen_ai.operation.name"),
                &expected_operation(&e["provider"], &e["operation"]),
                "{ctx}"
            );
            assert_eq!(attr(s, "gen_ai.request.model"), &e["request_model"], "{ctx}");
            assert_eq!(attr(s, "gen_ai.response.model"), &e["response_model"], "{ctx}");
            assert_eq!(attr(s, "http.response.status_code"), &e["status"], "{ctx}");
            let streamed = attr(s, "gen_ai.request.stream").as_bool().unwrap_or(false);
            assert_eq!(streamed, e["streaming"].as_bool().unwrap(), "{ctx}");
            match e["finish_reason"].as_str() {
                Some(reason) => assert_eq!(attr(s, "gen_ai.response.finish_reasons"), &json!([reason]), "{ctx}"),
                None => assert_eq!(attr(s, "gen_ai.response.finish_reasons"), &Value::Null, "{ctx}"),
            }
            // Fixtures are well-formed: nothing goes unread but what a fixture says (a cut stream's last,
            // truncated message).
            assert_eq!(
                attr(s, "llm.decode_errors"),
                e.get("decode_errors").unwrap_or(&Value::Null),
                "{ctx}"
            );
            assert_eq!(attr(s, "llm.usage.source"), &e["usage_source"], "{ctx}");
            let reported = !e["input_tokens"].is_null() || !e["output_tokens"].is_null();
            if reported {
                assert_eq!(attr(s, "llm.usage.provider.input_tokens"), &e["input_tokens"], "{ctx}");
                assert_eq!(
                    attr(s, "llm.usage.provider.output_tokens"),
                    &e["output_tokens"],
                    "{ctx}"
                );
                assert_eq!(attr(s, "gen_ai.usage.input_tokens"), &e["input_tokens_total"], "{ctx}");
                assert_eq!(
                    attr(s, "gen_ai.usage.output_tokens"),
                    &e["output_tokens_total"],
                    "{ctx}"
                );
                assert_eq!(
                    attr(s, "gen_ai.usage.cache_read.input_tokens"),
                    &e["cache_read_tokens"],
                    "{ctx}"
                );
                assert_eq!(
                    attr(s, "gen_ai.usage.cache_creation.input_tokens"),
                    &e["cache_write_tokens"],
                    "{ctx}"
                );
                if !e["reasoning_tokens"].is_null() {
                    assert_eq!(
                        attr(s, "gen_ai.usage.reasoning.output_tokens"),
                        &e["reasoning_tokens"],
                        "{ctx}"
                    );
                }
            } else {
                assert_eq!(
                    e["usage_source"], "estimate",
                    "{ctx}: a fixture without usage must say so"
                );
                assert_eq!(attr(s, "gen_ai.usage.input_tokens"), &Value::Null, "{ctx}");
            }
            let error_type = e.get("error_type").unwrap_or(&Value::Null);
            assert_eq!(attr(s, "error.type"), error_type, "{ctx}");
            let error = error_type.is_string();
            assert_eq!(s["status"]["code"], if error { "ERROR" } else { "UNSET" }, "{ctx}");
            let partial = e.get("partial").and_then(Value::as_bool).unwrap_or(false);
            assert_eq!(attr(s, "llm.partial").as_bool().unwrap_or(false), partial, "{ctx}");
        }
    }
}

#[test]
fn injected_include_usage_takes_the_usage_only_chunk_out_of_the_clients_stream() {
    let (mut exchange, _) = fixture("openai-chat-stream-usage-only-chunk");
    // The client did not ask for usage: the filter asks on its behalf, so the client must not see the extra chunk.
    let body = exchange.request.body.take().unwrap();
    let mut request: Value = serde_json::from_str(&body).unwrap();
    request.as_object_mut().unwrap().remove("stream_options");
    let body = serde_json::to_string(&request).unwrap();
    exchange
        .request
        .headers
        .insert("content-length".into(), body.len().to_string());
    exchange.request.body = Some(body);

    let upstream = String::from_utf8(exchange.response_body().unwrap()).unwrap();
    let usage_chunk_start = upstream.find(r#"data: {"id":"chatcmpl-FxOpenAIStreamUsage00000002","object":"chat.completion.chunk","created":1760433402,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_560af6e559","choices":[],"usage""#).unwrap();
    let usage_chunk_end = usage_chunk_start + upstream[usage_chunk_start..].find("\n\n").unwrap() + 2;
    let expected_to_client = format!("{}{}", &upstream[..usage_chunk_start], &upstream[usage_chunk_end..]);

    for chunking in CHUNKINGS {
        let ctx = format!("{chunking:?}");
        let (forwarded, spans) = play_once(&exchange, chunking);
        assert_eq!(String::from_utf8(forwarded).unwrap(), expected_to_client, "{ctx}");
        let s = &spans[0];
        assert_eq!(attr(s, "llm.usage.source"), "stream_chunk", "{ctx}");
        assert_eq!(attr(s, "gen_ai.usage.input_tokens"), 14, "{ctx}");
        assert_eq!(attr(s, "gen_ai.usage.output_tokens"), 19, "{ctx}");
        assert_eq!(attr(s, "gen_ai.response.finish_reasons"), &json!(["stop"]), "{ctx}");
    }
}

#[test]
fn gzip_fixture_is_really_gzip_and_its_usage_is_read() {
    let (exchange, _) = fixture("openai-chat-gzip");
    let wire = exchange.response_body().unwrap();
    assert_eq!(&wire[..2], &[0x1f, 0x8b], "the fixture body must be gzip on the wire");
    let spans = replay_exchange(&exchange, &ReplayOptions::default(), 1).unwrap();
    assert_eq!(attr(&spans[0], "gen_ai.usage.input_tokens"), 1843);
    assert_eq!(attr(&spans[0], "gen_ai.usage.cache_read.input_tokens"), 1664);
    assert_eq!(attr(&spans[0], "gen_ai.usage.output_tokens"), 52);
}

#[test]
fn a_cut_stream_is_partial_with_estimated_output_and_keeps_what_it_saw() {
    let (exchange, _) = fixture("openai-chat-stream-cut");
    for chunking in CHUNKINGS {
        let ctx = format!("{chunking:?}");
        let (_, spans) = play_once(&exchange, chunking);
        let s = &spans[0];
        assert_eq!(attr(s, "llm.partial"), true, "{ctx}");
        assert_eq!(attr(s, "error.type"), "stream_cut", "{ctx}");
        assert_eq!(attr(s, "llm.usage.source"), "estimate", "{ctx}");
        let estimated = attr(s, "gen_ai.usage.output_tokens").as_u64().unwrap();
        assert!(estimated > 0, "{ctx}: the text seen before the cut is counted");
        assert!(
            attr(s, "gen_ai.response.time_to_first_chunk").as_f64().unwrap() > 0.0,
            "{ctx}: first token time is kept"
        );
    }
}

/// The model each fixture of a newly read API is priced as (the table's key; Bedrock may use its regional key), so
/// its cost must be the table's prices times the provider's figures.
const PRICED: [(&str, &str); 20] = [
    ("cohere-chat", "command-a-03-2025"),
    ("cohere-chat-stream", "command-r-08-2024"),
    ("cohere-v1-chat-stream", "command-r-plus-08-2024"),
    ("cohere-embed", "cohere/embed-v4.0"),
    ("voyage-embeddings", "voyage/voyage-3.5"),
    ("ollama-chat", "ollama/llama3.1"),
    ("ollama-generate-stream", "ollama/mistral"),
    ("vertex-predict-embeddings", "text-embedding-005"),
    ("openai-responses-compact", "gpt-5.1"),
    ("groq-chat-stream-x-groq-usage", "groq/llama-3.1-8b-instant"),
    ("moonshot-chat-stream-choice-usage", "moonshot/moonshot-v1-8k"),
    ("bedrock-invoke-nova", "us.amazon.nova-lite-v1:0"),
    ("bedrock-invoke-nova-stream", "amazon.nova-micro-v1:0"),
    ("bedrock-invoke-titan-text", "amazon.titan-text-express-v1"),
    ("bedrock-invoke-titan-embed", "amazon.titan-embed-text-v2:0"),
    ("bedrock-invoke-cohere-command", "cohere.command-r-v1:0"),
    ("bedrock-invoke-cohere-embed", "cohere.embed-v4:0"),
    ("bedrock-invoke-mistral", "mistral.mistral-large-2407-v1:0"),
    ("bedrock-invoke-llama", "meta.llama3-1-70b-instruct-v1:0"),
    ("bedrock-invoke-ai21", "ai21.jamba-1-5-mini-v1:0"),
];

/// A price of the table, in micro-USD per 1M tokens (= pico-USD per token).
fn table_price(model: &str) -> Value {
    let table: Value = serde_json::from_str(include_str!("../../core/data/prices.json")).unwrap();
    table["models"][model].clone()
}

#[test]
fn newly_read_apis_are_priced_from_the_table() {
    for (name, model) in PRICED {
        let (exchange, raw) = fixture(name);
        let e = &raw["expect"];
        let (_, spans) = play_once(&exchange, Chunking::Whole);
        let s = &spans[0];
        let priced = attr(s, "llm.usage.cost.priced_model")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let regional = priced.starts_with("bedrock/") && priced.ends_with(&format!("/{model}"));
        assert!(
            priced == model || regional,
            "{name}: priced as `{priced}`, expected `{model}`"
        );
        let price = table_price(&priced);
        let per_token = |key: &str| price[key].as_u64();
        let input = e["input_tokens_total"].as_u64().unwrap_or(0);
        let cache_read = e["cache_read_tokens"].as_u64().unwrap_or(0);
        let output = e["output_tokens_total"].as_u64().unwrap_or(0);
        let input_pico = (input - cache_read) * per_token("input").unwrap();
        let cache_pico = cache_read * per_token("cache_read").or(per_token("input")).unwrap();
        let output_pico = output * per_token("output").unwrap();
        let usd = |pico: u64| json!(pico as f64 / 1e12);
        assert_eq!(attr(s, "llm.usage.cost.input"), &usd(input_pico), "{name}");
        assert_eq!(attr(s, "llm.usage.cost.cache_read"), &usd(cache_pico), "{name}");
        assert_eq!(attr(s, "llm.usage.cost.output"), &usd(output_pico), "{name}");
        assert_eq!(
            attr(s, "gen_ai.usage.cost"),
            &usd(input_pico + cache_pico + output_pico),
            "{name}"
        );
    }
}

#[test]
fn a_stream_with_an_undecodable_event_keeps_its_figures_and_says_what_was_lost() {
    let (mut exchange, raw) = fixture("anthropic-messages-stream-thinking");
    let body = String::from_utf8(exchange.response_body().unwrap()).unwrap();
    let first_event_end = body.find("\n\n").unwrap() + 2;
    let broken = format!(
        "{}event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\n\n{}",
        &body[..first_event_end],
        &body[first_event_end..]
    );
    exchange.response.body = Some(broken);
    exchange.response.body_base64 = None;
    let e = &raw["expect"];
    for chunking in CHUNKINGS {
        let ctx = format!("{chunking:?}");
        let (_, spans) = play_once(&exchange, chunking);
        let s = &spans[0];
        assert_eq!(attr(s, "llm.decode_errors"), 1, "{ctx}");
        assert_eq!(attr(s, "llm.decode_error"), "invalid_json", "{ctx}");
        assert_eq!(attr(s, "llm.usage.provider.input_tokens"), &e["input_tokens"], "{ctx}");
        assert_eq!(
            attr(s, "llm.usage.provider.output_tokens"),
            &e["output_tokens"],
            "{ctx}"
        );
        assert_eq!(attr(s, "gen_ai.response.model"), &e["response_model"], "{ctx}");
        assert_eq!(
            attr(s, "gen_ai.response.finish_reasons"),
            &json!([e["finish_reason"]]),
            "{ctx}"
        );
        assert_eq!(s["status"]["code"], "UNSET", "{ctx}");
    }
}
