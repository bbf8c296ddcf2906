//! Through the `.wasm`: a client that closes after the provider's terminal event (the openai SDK stops reading at
//! `data: [DONE]`) before the response's last bytes reach Envoy gets a complete span, for every streamed API shape;
//! a stream cut before its terminal event stays a cut.

use host_tests::exchange_file::ExchangeFile;
use host_tests::replay::{flush_exports, play, replay_host, ReplayOptions};
use serde_json::Value;

const STREAMS: [&str; 8] = [
    "anthropic-messages-stream-thinking.json",
    "azure-openai-chat-stream.json",
    "bedrock-converse-stream.json",
    "gemini-stream-json-array.json",
    "gemini-stream-sse.json",
    "openai-chat-stream-usage-only-chunk.json",
    "openai-completions-stream.json",
    "openai-responses-stream.json",
];

fn load(name: &str) -> ExchangeFile {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/exchanges")
        .join(name);
    ExchangeFile::load(&path).unwrap()
}

/// Plays the exchange (its body in 64-byte chunks) and returns its one span and the partial-exchange counter.
fn span_of(exchange: &ExchangeFile) -> (Value, Option<u64>) {
    let options = ReplayOptions {
        chunking: host_tests::replay::Chunking::Fixed(64),
        ..Default::default()
    };
    let mut host = replay_host(&options, 1).unwrap();
    play(&mut host, exchange, &options).unwrap();
    let mut spans = flush_exports(&mut host).unwrap();
    assert_eq!(spans.len(), 1, "{}", exchange.name);
    (spans.remove(0), host.counter("llm_trace.partial_exchanges"))
}

#[test]
fn a_close_after_the_terminal_event_exports_a_complete_call_for_every_stream_shape() {
    for name in STREAMS {
        let mut exchange = load(name);
        assert!(!exchange.cut, "{name}");
        exchange.cut = true;
        let (span, partial_exchanges) = span_of(&exchange);
        let a = &span["attributes"];
        assert_eq!(span["status"]["code"], "UNSET", "{name}: {a}");
        assert_eq!(a["error.type"], Value::Null, "{name}");
        assert_eq!(a["llm.partial"], Value::Null, "{name}");
        assert_eq!(a["llm.downstream_closed_early"], true, "{name}");
        assert_eq!(partial_exchanges.unwrap_or(0), 0, "{name}");
    }
}

#[test]
fn a_stream_cut_before_its_terminal_event_stays_a_cut() {
    let (span, partial_exchanges) = span_of(&load("openai-chat-stream-cut.json"));
    let a = &span["attributes"];
    assert_eq!(span["status"]["code"], "ERROR");
    assert_eq!(a["error.type"], "stream_cut");
    assert_eq!(a["llm.partial"], true);
    assert_eq!(a["llm.downstream_closed_early"], Value::Null);
    assert_eq!(partial_exchanges, Some(1));
}
