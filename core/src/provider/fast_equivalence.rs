//! The borrowing fast readers (`*/fast.rs`, [`crate::wire::json_borrow`]) change no result: every stream message
//! and whole response body of every fixture in `host-tests/testdata/exchanges/`, and mutations of it (each member's
//! value replaced by values of every JSON type, members repeated, strings with escapes), gives the same observation
//! through each decoder with the fast reader as without it, content captured or not.

#[cfg(test)]
mod tests {
    use crate::model::content::OutputContent;
    use crate::model::observation::Observation;
    use crate::provider::detect::by_path;
    use crate::wire::framing::Framing;
    use crate::wire::json_borrow::{messages_read, without};
    use serde_json::Value;
    use std::path::PathBuf;

    /// Values every member is replaced with in turn.
    const REPLACEMENTS: &[&str] = &[
        "null",
        "0",
        "7",
        "-1",
        "1.5",
        "28.0",
        "1e3",
        "123456789012345678901",
        "\"7\"",
        "\"\"",
        "\"x\\n\\u00e9\\ud83d\\ude00\\\"y\"",
        "\"\\ud83d\"",
        "[]",
        "[1,\"a\"]",
        "[null,{}]",
        "[{\"text\":\"t\",\"index\":1}]",
        "{}",
        "{\"a\":1}",
        "{\"text\":\"t\",\"type\":\"text_delta\"}",
        "true",
    ];

    /// `(event, data)` of one stream message.
    type Message = (Vec<u8>, Vec<u8>);

    /// A fixture's method and path, the `(event, data)` of every message of its streamed response, or its whole
    /// (not streamed) response body.
    fn messages(fixture: &Value) -> (String, String, Vec<Message>, Option<Vec<u8>>) {
        let request = &fixture["request"];
        let url = request["url"].as_str().unwrap();
        let rest = url.split_once("://").unwrap().1;
        let path = &rest[rest.find('/').unwrap()..];
        let response = &fixture["response"];
        let body = match (response["body"].as_str(), response["body_base64"].as_str()) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(b64)) => crate::provider::bedrock::base64_decode(b64.as_bytes()).unwrap(),
            _ => Vec::new(),
        };
        let content_type = response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string);
        let encoded = response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-encoding"));
        let (mut out, mut whole) = (Vec::new(), None);
        if !encoded {
            let streams = path.contains(":streamGenerateContent") || path.contains("-stream");
            let mut framing = Framing::for_response(content_type.as_deref(), streams, 1 << 20);
            if framing.whole_body().is_none() {
                let mut push = |e: &[u8], d: &[u8]| out.push((e.to_vec(), d.to_vec()));
                framing.feed(&body, usize::MAX, &mut push);
                framing.finish(&mut push);
            } else {
                whole = Some(body);
            }
        }
        (
            request["method"].as_str().unwrap().to_string(),
            path.to_string(),
            out,
            whole,
        )
    }

    /// The data and its mutations: every member's value replaced, every top-level member repeated.
    fn variants(data: &[u8]) -> Vec<Vec<u8>> {
        let mut out = vec![data.to_vec()];
        let Ok(value) = serde_json::from_slice::<Value>(data) else {
            return out;
        };
        let mut paths = Vec::new();
        members(&value, &mut Vec::new(), &mut paths);
        for path in &paths {
            for replacement in REPLACEMENTS {
                let mut text = serde_json::to_string(&with_marker(&value, path)).unwrap();
                text = text.replacen("\"\\u0000marker\"", replacement, 1);
                out.push(text.into_bytes());
            }
        }
        if let Value::Object(top) = &value {
            let text = serde_json::to_string(&value).unwrap();
            for key in top.keys() {
                out.push(format!("{{\"{key}\":null,{}", &text[1..]).into_bytes());
            }
        }
        out
    }

    /// Paths (keys and indexes) of every object member.
    fn members(value: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    at.push(Value::String(k.clone()));
                    out.push(at.clone());
                    members(v, at, out);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    at.push(Value::from(i));
                    members(v, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn with_marker(value: &Value, path: &[Value]) -> Value {
        let mut v = value.clone();
        let mut slot = &mut v;
        for step in path {
            slot = match step {
                Value::String(k) => slot.as_object_mut().unwrap().get_mut(k).unwrap(),
                _ => &mut slot.as_array_mut().unwrap()[step.as_u64().unwrap() as usize],
            };
        }
        *slot = Value::String("\u{0}marker".into());
        v
    }

    /// One stream message (`Some(event)`) or a whole response body (`None`), through a new decoder.
    fn observe(method: &str, path: &str, event: Option<&[u8]>, data: &[u8], capture: bool) -> Observation {
        let detected = by_path(method, path).unwrap();
        let mut decoder = detected.api.decoder(detected.path_streams, None);
        let mut obs = Observation {
            operation: detected.api.operation(),
            output: capture.then(|| OutputContent::new(1 << 20)),
            ..Default::default()
        };
        match event {
            Some(event) => decoder.on_stream_message(event, data, 5, &mut obs),
            None => decoder.on_response_body(data, 5, &mut obs),
        }
        decoder.on_response_end(&mut obs);
        obs
    }

    #[test]
    fn every_message_and_mutation_reads_the_same_with_the_fast_reader() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host-tests/testdata/exchanges");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        let (mut compared, before, mut whole_bodies_read) = (0u64, messages_read(), 0);
        for p in &paths {
            let fixture: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            let (method, path, messages, whole) = messages(&fixture);
            if by_path(&method, &path).is_none() {
                continue;
            }
            let readings = messages
                .iter()
                .map(|(e, d)| (Some(e.as_slice()), d))
                .chain(whole.iter().map(|b| (None, b)));
            for (event, data) in readings {
                for variant in variants(data) {
                    for capture in [false, true] {
                        let read_before = messages_read();
                        let fast = observe(&method, &path, event, &variant, capture);
                        if event.is_none() && variant == *data {
                            whole_bodies_read += messages_read() - read_before;
                        }
                        let serde = without(|| observe(&method, &path, event, &variant, capture));
                        assert_eq!(fast, serde, "{}: {}", p.display(), String::from_utf8_lossy(&variant));
                        compared += 1;
                    }
                }
            }
        }
        let read = messages_read() - before;
        assert!(compared > 10_000, "{compared} messages compared");
        // Most mutations are left to serde on purpose; the fast reader still has to take the fixtures' own
        // messages and the mutations it understands (28,836 of 128,600 readings when this was written).
        assert!(read > 20_000, "the fast reader read {read} of {compared}");
        // Whole OpenAI chat responses (`openai-chat*.json` and the compatible servers' fixtures) take it too.
        assert!(
            whole_bodies_read >= 4,
            "the fast reader read {whole_bodies_read} whole response bodies"
        );
    }
}
