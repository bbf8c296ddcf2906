//! The property that decoders never lose a call: for every fixture in `host-tests/testdata/exchanges/`, mutations
//! of its response (a field's type changed, a field dropped, a count or an enum spelled differently, an unknown or a
//! broken event injected) lose at most what was mutated. Every other figure of the span (usage, models, finish
//! reasons, status, error) must come out as from the unmutated response, and a broken event must be counted.
//!
//! A small hand-written mutator with a fixed seed (no property-testing crate): every run checks the same cases, and
//! a failure names the fixture, the mutation and the figure.

#[cfg(test)]
mod tests {
    use crate::host_api::{Clock, RequestView, ResponseView};
    use crate::telemetry::span::{AttrValue, SpanRecord};
    use crate::test_support::finish;
    use crate::{Config, Tracer};
    use serde_json::{json, Map, Value};
    use std::io::Read;
    use std::path::PathBuf;

    /// Mutations tried per fixture and kind.
    const ROUNDS: usize = 40;

    /// Keys whose value decides a checked figure, by the figure group they feed. A mutation of anything else must leave
    /// every figure alone; a mutation of one of these may change only its group.
    const USAGE_KEYS: &[&str] = &[
        "usage",
        "usageMetadata",
        "usage_metadata",
        "meta",
        "billed_units",
        "tokens",
        "x_groq",
        "amazon-bedrock-invocationMetrics",
        "metadata",
        "predictions",
        "statistics",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
        "cached_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "input_tokens",
        "output_tokens",
        "input_tokens_details",
        "output_tokens_details",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "promptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "cachedContentTokenCount",
        "toolUsePromptTokenCount",
        "totalTokenCount",
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "cacheReadInputTokens",
        "cacheWriteInputTokens",
        "cacheReadInputTokenCount",
        "cacheWriteInputTokenCount",
        "inputTokenCount",
        "outputTokenCount",
        "prompt_token_count",
        "generation_token_count",
        "inputTextTokenCount",
        "totalOutputTextTokenCount",
        "tokenCount",
        "token_count",
        "prompt_eval_count",
        "eval_count",
    ];
    const MODEL_KEYS: &[&str] = &["model", "modelVersion"];
    const FINISH_KEYS: &[&str] = &[
        "finish_reason",
        "finishReason",
        "stop_reason",
        "stopReason",
        "completionReason",
        "done_reason",
        "status",
        "messageStop",
    ];
    const ERROR_KEYS: &[&str] = &["error"];
    /// Keys that say what a message is, or hold the messages: never mutated (a message that changes kind is another
    /// message, not an odd one).
    const STRUCTURE_KEYS: &[&str] = &[
        "type",
        "event_type",
        "object",
        "done",
        "is_finished",
        "choices",
        "candidates",
        "message",
        "delta",
        "response",
        "output",
        "outputs",
        "results",
        "generations",
        "content",
        "parts",
        "contentBlockDelta",
        "contentBlockStart",
        "bytes",
    ];

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Group {
        Usage,
        Model,
        Finish,
        Error,
    }

    /// The span's figures, by group.
    fn figures(span: &SpanRecord, group: Group, estimated: bool) -> Vec<(String, Option<AttrValue>)> {
        let keys: &[&str] = match group {
            Group::Usage => &[
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.output_tokens",
                "gen_ai.usage.cache_read.input_tokens",
                "gen_ai.usage.cache_creation.input_tokens",
                "gen_ai.usage.reasoning.output_tokens",
                "llm.usage.provider.input_tokens",
                "llm.usage.provider.output_tokens",
                "llm.usage.total_tokens",
                "llm.usage.source",
                "gen_ai.usage.cost",
            ],
            Group::Model => &["gen_ai.response.model", "llm.usage.cost.priced_model"],
            Group::Finish => &["gen_ai.response.finish_reasons"],
            Group::Error => &["error.type"],
        };
        keys.iter()
            // An estimate counts the text, which the mutations may change.
            .filter(|k| !(estimated && matches!(**k, "gen_ai.usage.output_tokens" | "gen_ai.usage.cost")))
            .map(|k| (k.to_string(), attr(span, k).cloned()))
            .collect()
    }

    fn attr<'a>(span: &'a SpanRecord, key: &str) -> Option<&'a AttrValue> {
        span.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn always(span: &SpanRecord) -> Vec<(String, Option<AttrValue>)> {
        [
            "http.response.status_code",
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "gen_ai.request.model",
            "gen_ai.request.stream",
        ]
        .iter()
        .map(|k| (k.to_string(), attr(span, k).cloned()))
        .collect()
    }

    /// One recorded exchange, its response split into messages the mutator can change.
    struct Fixture {
        name: String,
        method: String,
        authority: String,
        path: String,
        request_headers: Vec<(String, String)>,
        request_body: Vec<u8>,
        status: u16,
        response_headers: Vec<(String, String)>,
        body: Body,
    }

    /// A response body as messages.
    #[derive(Clone)]
    enum Body {
        /// SSE events: the event name and the data (JSON, or raw text such as `[DONE]`).
        Sse(Vec<(Option<String>, Data)>),
        Ndjson(Vec<Data>),
        /// Event-stream frames: event type, message type, and the payload (a Bedrock `chunk` payload's inner JSON is
        /// decoded, so mutations reach the model's event).
        EventStream(Vec<Frame>),
        JsonArray(Vec<Value>),
        Whole(Data),
    }

    #[derive(Clone)]
    enum Data {
        Json(Value),
        Raw(Vec<u8>),
    }

    #[derive(Clone)]
    struct Frame {
        event: String,
        message_type: String,
        payload: Payload,
    }

    #[derive(Clone)]
    enum Payload {
        /// `{"bytes": base64(inner), ...outer}`.
        Chunk {
            outer: Map<String, Value>,
            inner: Data,
        },
        Plain(Data),
    }

    fn data(bytes: &[u8]) -> Data {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) if v.is_object() || v.is_array() => Data::Json(v),
            _ => Data::Raw(bytes.to_vec()),
        }
    }

    fn data_bytes(d: &Data) -> Vec<u8> {
        match d {
            Data::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Data::Raw(r) => r.clone(),
        }
    }

    impl Body {
        fn parse(content_type: &str, path_streams: bool, bytes: &[u8]) -> Body {
            let text = || String::from_utf8_lossy(bytes).into_owned();
            if content_type.starts_with("text/event-stream") {
                let mut events = Vec::new();
                for block in text().replace("\r\n", "\n").split("\n\n") {
                    let mut event = None;
                    let mut lines = Vec::new();
                    for line in block.lines() {
                        if let Some(e) = line.strip_prefix("event:") {
                            event = Some(e.trim().to_string());
                        } else if let Some(d) = line.strip_prefix("data:") {
                            lines.push(d.strip_prefix(' ').unwrap_or(d).to_string());
                        }
                    }
                    if !lines.is_empty() {
                        events.push((event, data(lines.join("\n").as_bytes())));
                    }
                }
                Body::Sse(events)
            } else if content_type.contains("ndjson") || content_type.contains("stream+json") {
                Body::Ndjson(
                    text()
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| data(l.as_bytes()))
                        .collect(),
                )
            } else if content_type.contains("amazon.eventstream") {
                let mut frames = Vec::new();
                let mut decoder = crate::wire::event_stream::EventStreamDecoder::new(1 << 20);
                decoder.feed(bytes, &mut |f| {
                    let payload = match serde_json::from_slice::<Value>(f.payload) {
                        Ok(Value::Object(mut outer)) if outer.contains_key("bytes") => {
                            let b64 = outer.remove("bytes").and_then(|b| b.as_str().map(str::to_string));
                            let inner = b64
                                .and_then(|b| crate::provider::bedrock::base64_decode(b.as_bytes()))
                                .unwrap_or_default();
                            Payload::Chunk {
                                outer,
                                inner: data(&inner),
                            }
                        }
                        _ => Payload::Plain(data(f.payload)),
                    };
                    frames.push(Frame {
                        event: f.kind.to_string(),
                        message_type: f.message_type.to_string(),
                        payload,
                    });
                });
                Body::EventStream(frames)
            } else if path_streams && content_type.starts_with("application/json") {
                match serde_json::from_slice::<Value>(bytes) {
                    Ok(Value::Array(items)) => Body::JsonArray(items),
                    _ => Body::Whole(data(bytes)),
                }
            } else {
                Body::Whole(data(bytes))
            }
        }

        fn encode(&self) -> Vec<u8> {
            match self {
                Body::Sse(events) => {
                    let mut out = Vec::new();
                    for (event, d) in events {
                        if let Some(e) = event {
                            out.extend_from_slice(format!("event: {e}\n").as_bytes());
                        }
                        out.extend_from_slice(b"data: ");
                        out.extend_from_slice(&data_bytes(d));
                        out.extend_from_slice(b"\n\n");
                    }
                    out
                }
                Body::Ndjson(lines) => lines
                    .iter()
                    .flat_map(|d| {
                        let mut l = data_bytes(d);
                        l.push(b'\n');
                        l
                    })
                    .collect(),
                Body::EventStream(frames) => frames
                    .iter()
                    .flat_map(|f| {
                        let payload = match &f.payload {
                            Payload::Chunk { outer, inner } => {
                                let mut o = outer.clone();
                                o.insert("bytes".into(), Value::String(base64(&data_bytes(inner))));
                                serde_json::to_vec(&Value::Object(o)).unwrap_or_default()
                            }
                            Payload::Plain(d) => data_bytes(d),
                        };
                        let headers = [
                            (":event-type", f.event.as_str()),
                            (":content-type", "application/json"),
                            (":message-type", f.message_type.as_str()),
                        ];
                        let key = if f.message_type == "exception" {
                            ":exception-type"
                        } else {
                            ":event-type"
                        };
                        let headers: Vec<(&str, &str)> = headers
                            .iter()
                            .map(|(k, v)| if *k == ":event-type" { (key, *v) } else { (*k, *v) })
                            .collect();
                        crate::wire::event_stream::encode_frame(&headers, &payload)
                    })
                    .collect(),
                Body::JsonArray(items) => serde_json::to_vec(&Value::Array(items.clone())).unwrap_or_default(),
                Body::Whole(d) => data_bytes(d),
            }
        }

        /// Every JSON message of the body, for mutation.
        fn messages(&mut self) -> Vec<&mut Value> {
            fn json(d: &mut Data) -> Option<&mut Value> {
                match d {
                    Data::Json(v) => Some(v),
                    Data::Raw(_) => None,
                }
            }
            match self {
                Body::Sse(events) => events.iter_mut().filter_map(|(_, d)| json(d)).collect(),
                Body::Ndjson(lines) => lines.iter_mut().filter_map(json).collect(),
                Body::EventStream(frames) => frames
                    .iter_mut()
                    .filter_map(|f| match &mut f.payload {
                        Payload::Chunk { inner, .. } => json(inner),
                        Payload::Plain(d) => json(d),
                    })
                    .collect(),
                Body::JsonArray(items) => items.iter_mut().collect(),
                Body::Whole(d) => json(d).into_iter().collect(),
            }
        }

        /// Inserts a message at `position` (among the messages): `None` when this framing cannot carry one.
        fn inject(&mut self, position: usize, message: &[u8]) -> Option<()> {
            match self {
                Body::Sse(events) => {
                    let at = position % (events.len() + 1);
                    events.insert(at, (Some("x-unknown".into()), data(message)));
                }
                Body::Ndjson(lines) => {
                    let at = position % (lines.len() + 1);
                    lines.insert(at, data(message));
                }
                Body::EventStream(frames) => {
                    let at = position % (frames.len() + 1);
                    let chunked = frames.iter().any(|f| matches!(f.payload, Payload::Chunk { .. }));
                    let payload = if chunked {
                        Payload::Chunk {
                            outer: Map::new(),
                            inner: data(message),
                        }
                    } else {
                        Payload::Plain(data(message))
                    };
                    let event = if chunked { "chunk" } else { "x-unknown" };
                    frames.insert(
                        at,
                        Frame {
                            event: event.into(),
                            message_type: "event".into(),
                            payload,
                        },
                    );
                }
                Body::JsonArray(items) => {
                    let v = serde_json::from_slice::<Value>(message).ok()?;
                    let at = position % (items.len() + 1);
                    items.insert(at, v);
                }
                Body::Whole(_) => return None,
            }
            Some(())
        }
    }

    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut n = [0u8; 3];
            n[..chunk.len()].copy_from_slice(chunk);
            let v = u32::from_be_bytes([0, n[0], n[1], n[2]]);
            for i in 0..chunk.len() + 1 {
                out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
            }
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
        out
    }

    fn decoded_base64(value: &Value) -> Vec<u8> {
        value
            .as_str()
            .and_then(|s| crate::provider::bedrock::base64_decode(s.as_bytes()))
            .unwrap_or_default()
    }

    fn body_of(v: &Value) -> Vec<u8> {
        match (v.get("body").and_then(Value::as_str), v.get("body_base64")) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(b)) => decoded_base64(b),
            (None, None) => Vec::new(),
        }
    }

    fn headers_of(v: &Value) -> Vec<(String, String)> {
        v.get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or_default().to_string()))
            .collect()
    }

    fn load_fixtures() -> Vec<Fixture> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host-tests/testdata/exchanges");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                let url = v["request"]["url"].as_str().unwrap();
                let rest = url.split_once("://").unwrap().1;
                let (authority, path) = rest.split_at(rest.find('/').unwrap());
                let mut response_headers = headers_of(&v["response"]);
                let mut bytes = body_of(&v["response"]);
                // Mutations work on the decoded body: a gzip body is served decoded.
                if response_headers
                    .iter()
                    .any(|(k, v)| k == "content-encoding" && v == "gzip")
                {
                    let mut plain = Vec::new();
                    flate2::read::GzDecoder::new(&bytes[..])
                        .read_to_end(&mut plain)
                        .unwrap();
                    bytes = plain;
                    response_headers.retain(|(k, _)| k != "content-encoding" && k != "content-length");
                }
                let content_type = response_headers
                    .iter()
                    .find(|(k, _)| k == "content-type")
                    .map(|(_, v)| v.to_ascii_lowercase())
                    .unwrap_or_default();
                let path_streams = path.contains(":streamGenerateContent") || path.ends_with("-stream");
                Fixture {
                    name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                    method: v["request"]["method"].as_str().unwrap().to_string(),
                    authority: authority.to_string(),
                    path: path.to_string(),
                    request_headers: headers_of(&v["request"]),
                    request_body: body_of(&v["request"]),
                    status: v["response"]["status"].as_u64().unwrap() as u16,
                    response_headers,
                    body: Body::parse(&content_type, path_streams, &bytes),
                }
            })
            .collect()
    }

    struct Request<'a>(&'a Fixture);

    impl RequestView for Request<'_> {
        fn header(&self, name: &str) -> Option<String> {
            let f = self.0;
            match name {
                ":method" => Some(f.method.clone()),
                ":path" => Some(f.path.clone()),
                ":authority" => Some(f.authority.clone()),
                ":scheme" => Some("https".into()),
                other => f
                    .request_headers
                    .iter()
                    .find(|(k, _)| k == other)
                    .map(|(_, v)| v.clone()),
            }
        }
    }

    struct Head(Vec<(String, String)>);

    impl ResponseView for Head {
        fn header(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        }
        fn headers(&self) -> Vec<(String, String)> {
            self.0.clone()
        }
    }

    fn at(ms: u64) -> Clock {
        Clock {
            unix_ns: 1_700_000_000_000_000_000 + ms * 1_000_000,
            mono_ns: ms * 1_000_000,
        }
    }

    /// Plays the fixture with `body` as its response, in chunks of `chunk` bytes, natively through the core.
    fn play(f: &Fixture, body: &[u8], chunk: usize) -> SpanRecord {
        let config = Config::from_json(br#"{"exporter":{"cluster":"otel"},"inject_stream_usage":false}"#).unwrap();
        let mut tracer = Tracer::new(config, [9; 32], &|_| None);
        let Some((mut x, _)) = tracer.start(&Request(f), at(0), false) else {
            panic!("{}: not recognised as an LLM call", f.name);
        };
        x.request_body(&f.request_body, true);
        let mut headers = vec![(":status".to_string(), f.status.to_string())];
        headers.extend(
            f.response_headers
                .iter()
                .filter(|(k, _)| k != "content-length")
                .cloned(),
        );
        x.response_headers(&Head(headers), false, at(10));
        let chunks: Vec<&[u8]> = body.chunks(chunk.max(1)).collect();
        for (i, c) in chunks.iter().enumerate() {
            x.response_body(c, i + 1 == chunks.len(), at(20 + i as u64));
        }
        if chunks.is_empty() {
            x.response_body(&[], true, at(20));
        }
        finish(&mut tracer, x, at(5000), None)
    }

    /// A tiny deterministic generator (xorshift64*), so every run checks the same mutations.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Where a member sits: the path of keys to it, and the group its key (or a key below it) feeds.
    struct Member {
        path: Vec<PathStep>,
        key: String,
        group: Option<Group>,
        structural: bool,
        /// The subtree below holds a key of some group or a structural key.
        holds_figures: bool,
    }

    #[derive(Clone)]
    enum PathStep {
        Key(String),
        Index(usize),
    }

    fn group_of(key: &str) -> Option<Group> {
        if USAGE_KEYS.contains(&key) {
            Some(Group::Usage)
        } else if MODEL_KEYS.contains(&key) {
            Some(Group::Model)
        } else if FINISH_KEYS.contains(&key) {
            Some(Group::Finish)
        } else if ERROR_KEYS.contains(&key) {
            Some(Group::Error)
        } else {
            None
        }
    }

    /// Every object member of a message, depth first; a member inside a figure's object (`error.code`,
    /// `usage.queue_time`) belongs to that figure's group. Returns whether the subtree holds figures.
    fn members(value: &Value, inherited: Option<Group>, path: &mut Vec<PathStep>, out: &mut Vec<Member>) -> bool {
        let mut holds = false;
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    path.push(PathStep::Key(k.clone()));
                    let group = group_of(k).or(inherited);
                    let below = members(v, group, path, out);
                    let structural = STRUCTURE_KEYS.contains(&k.as_str());
                    out.push(Member {
                        path: path.clone(),
                        key: k.clone(),
                        group,
                        structural,
                        holds_figures: below,
                    });
                    holds |= below || group.is_some() || structural;
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(PathStep::Index(i));
                    holds |= members(v, inherited, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
        holds
    }

    fn at_path<'a>(value: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
        let mut v = value;
        for step in path {
            v = match step {
                PathStep::Key(k) => v.get_mut(k)?,
                PathStep::Index(i) => v.get_mut(*i)?,
            };
        }
        Some(v)
    }

    fn remove_at(value: &mut Value, path: &[PathStep]) {
        let Some((PathStep::Key(last), parent)) = path.split_last() else {
            return;
        };
        if let Some(Value::Object(map)) = at_path(value, parent) {
            map.remove(last);
        }
    }

    /// A value of another JSON type than `v`.
    fn other_type(v: &Value, rng: &mut Rng) -> Value {
        let candidates = [
            json!("odd"),
            json!(7),
            json!(2.5),
            json!(true),
            json!({"odd": [1, "x"]}),
            json!(["odd", {"x": 1}]),
            Value::Null,
        ];
        let same =
            |c: &Value| std::mem::discriminant(c) == std::mem::discriminant(v) || (c.is_number() && v.is_number());
        let others: Vec<&Value> = candidates.iter().filter(|c| !same(c)).collect();
        others[rng.below(others.len())].clone()
    }

    /// What one mutation did, and which figure groups it may change.
    struct Mutation {
        what: String,
        may_change: Vec<Group>,
        /// Decode errors it must cause (`None`: any number).
        decode_errors: Option<u32>,
        /// Unknown events it must count (`None`: not checked).
        unknown_events: Option<u32>,
    }

    /// Whether the fixture's API types its stream events, so that an injected unknown type is counted.
    fn typed_events(f: &Fixture) -> bool {
        ["anthropic-", "openai-responses-", "bedrock-converse-", "cohere-"]
            .iter()
            .any(|p| f.name.starts_with(p))
    }

    const GEMINI_API_FINISH: [&str; 13] = [
        "FINISH_REASON_UNSPECIFIED",
        "STOP",
        "MAX_TOKENS",
        "SAFETY",
        "RECITATION",
        "OTHER",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "MALFORMED_FUNCTION_CALL",
        "IMAGE_SAFETY",
        "UNEXPECTED_TOOL_CALL",
    ];

    /// Applies mutation `kind` to a copy of the body; `None` when it has nothing to mutate.
    fn mutate(f: &Fixture, kind: usize, rng: &mut Rng) -> Option<(Body, Mutation)> {
        let mut body = f.body.clone();
        if kind >= 5 {
            let (message, errors, unknown, what) = match kind {
                5 => (
                    br#"{"type":"x.unknown","event_type":"x-unknown","x_unknown":{"a":[1,"b"]}}"#.as_slice(),
                    Some(0),
                    u32::from(typed_events(f)),
                    "an unknown event",
                ),
                _ => (
                    br#"{"type":"content","broken": [1,"#.as_slice(),
                    Some(1),
                    0,
                    "an event that is not JSON",
                ),
            };
            let position = rng.below(64);
            body.inject(position, message)?;
            let mutation = Mutation {
                what: format!("{what} injected at {position}"),
                may_change: Vec::new(),
                decode_errors: errors,
                unknown_events: Some(unknown),
            };
            return Some((body, mutation));
        }
        let mut messages = body.messages();
        if messages.is_empty() {
            return None;
        }
        let m = rng.below(messages.len());
        let message = &mut *messages[m];
        let mut all = Vec::new();
        members(message, None, &mut Vec::new(), &mut all);
        let mutation = match kind {
            // A field of no figure, of another type.
            0 | 1 => {
                let free: Vec<&Member> = all
                    .iter()
                    .filter(|x| x.group.is_none() && !x.structural && !x.holds_figures)
                    .collect();
                let target = free.get(rng.below(free.len()))?;
                let slot = at_path(message, &target.path)?;
                if kind == 0 {
                    *slot = other_type(slot, rng);
                    Mutation {
                        what: format!("message {m}: `{}` given another type", target.key),
                        may_change: Vec::new(),
                        decode_errors: None,
                        unknown_events: None,
                    }
                } else {
                    remove_at(message, &target.path);
                    Mutation {
                        what: format!("message {m}: `{}` dropped", target.key),
                        may_change: Vec::new(),
                        decode_errors: Some(0),
                        unknown_events: None,
                    }
                }
            }
            // A count spelled as a float or a decimal string; a Gemini finish reason as its number.
            2 => {
                let counts: Vec<&Member> = all
                    .iter()
                    .filter(|x| x.group == Some(Group::Usage))
                    .filter(|x| at_path(&mut message.clone(), &x.path).is_some_and(|v| v.is_u64()))
                    .collect();
                if let Some(target) = counts.get(rng.below(counts.len())) {
                    let slot = at_path(message, &target.path)?;
                    let n = slot.as_u64()?;
                    let as_string = rng.below(2) == 0;
                    *slot = if as_string {
                        json!(n.to_string())
                    } else {
                        json!(n as f64)
                    };
                    Mutation {
                        what: format!("message {m}: count `{}` = {n} written as {slot}", target.key),
                        may_change: Vec::new(),
                        decode_errors: Some(0),
                        unknown_events: None,
                    }
                } else {
                    let finish = all.iter().find(|x| x.key == "finishReason")?;
                    if !f.authority.starts_with("generativelanguage.") {
                        return None;
                    }
                    let slot = at_path(message, &finish.path)?;
                    let spelled = match slot {
                        Value::String(s) => json!(GEMINI_API_FINISH.iter().position(|n| n == s)?),
                        Value::Number(n) => json!(GEMINI_API_FINISH.get(n.as_u64()? as usize)?),
                        _ => return None,
                    };
                    let what = format!("message {m}: finishReason {slot} written as {spelled}");
                    *slot = spelled;
                    Mutation {
                        what,
                        may_change: Vec::new(),
                        decode_errors: Some(0),
                        unknown_events: None,
                    }
                }
            }
            // A field of one figure group, of another type or dropped: only that group may change.
            _ => {
                let figure: Vec<&Member> = all.iter().filter(|x| x.group.is_some()).collect();
                let target = figure.get(rng.below(figure.len()))?;
                let group = target.group?;
                let mut may_change = vec![group];
                // A stream that loses its finish reason may end unfinished; cost follows usage and model.
                if group == Group::Finish {
                    may_change.push(Group::Error);
                }
                if matches!(group, Group::Usage | Group::Model) {
                    may_change.extend([Group::Usage, Group::Model]);
                }
                let what = if kind == 3 {
                    let slot = at_path(message, &target.path)?;
                    *slot = other_type(slot, rng);
                    format!("message {m}: figure `{}` given another type", target.key)
                } else {
                    remove_at(message, &target.path);
                    format!("message {m}: figure `{}` dropped", target.key)
                };
                Mutation {
                    what,
                    may_change,
                    decode_errors: None,
                    unknown_events: None,
                }
            }
        };
        Some((body, mutation))
    }

    fn unknown_events(span: &SpanRecord) -> u32 {
        match attr(span, "llm.stream.unknown_events") {
            Some(AttrValue::Int(n)) => *n as u32,
            _ => 0,
        }
    }

    fn decode_errors(span: &SpanRecord) -> u32 {
        match attr(span, "llm.decode_errors") {
            Some(AttrValue::Int(n)) => *n as u32,
            _ => 0,
        }
    }

    #[test]
    fn every_figure_survives_odd_fields_dropped_fields_and_unknown_or_broken_events_in_every_fixture() {
        let fixtures = load_fixtures();
        assert!(fixtures.len() >= 57, "found only {} fixtures", fixtures.len());
        let mut rng = Rng(0x5eed_1e57_0dd5_1de5);
        let mut checked = 0;
        let groups = [Group::Usage, Group::Model, Group::Finish, Group::Error];
        for f in &fixtures {
            let baseline_body = f.body.encode();
            let baseline = play(f, &baseline_body, baseline_body.len());
            let estimated = attr(&baseline, "llm.usage.source") == Some(&AttrValue::Str("estimate".into()));
            // Every fixture reads whole but the cut one, whose last message is truncated.
            let unread = decode_errors(&baseline);
            assert_eq!(unread, u32::from(f.name.ends_with("-cut")), "{}: unmutated", f.name);
            assert_eq!(unknown_events(&baseline), 0, "{}: unknown events, unmutated", f.name);
            for kind in 0..7 {
                for round in 0..ROUNDS {
                    let Some((body, mutation)) = mutate(f, kind, &mut rng) else {
                        continue;
                    };
                    let bytes = body.encode();
                    let chunk = [bytes.len(), 7, 64][round % 3];
                    let span = play(f, &bytes, chunk);
                    let ctx = format!("{}: {} (chunks of {chunk})", f.name, mutation.what);
                    assert_eq!(always(&span), always(&baseline), "{ctx}");
                    for group in groups {
                        if !mutation.may_change.contains(&group) {
                            assert_eq!(
                                figures(&span, group, estimated),
                                figures(&baseline, group, estimated),
                                "{ctx}: {group:?} figures changed"
                            );
                        }
                    }
                    if let Some(n) = mutation.decode_errors {
                        assert_eq!(decode_errors(&span), unread + n, "{ctx}: decode errors");
                        if n > 0 && unread == 0 {
                            assert_eq!(
                                attr(&span, "llm.decode_error"),
                                Some(&AttrValue::Str("invalid_json".into())),
                                "{ctx}"
                            );
                        }
                    }
                    if let Some(n) = mutation.unknown_events {
                        assert_eq!(unknown_events(&span), n, "{ctx}: unknown events");
                    }
                    checked += 1;
                }
            }
        }
        eprintln!("{checked} mutations checked over {} fixtures", fixtures.len());
        assert!(checked > fixtures.len() * 40, "only {checked} mutations checked");
    }
}
