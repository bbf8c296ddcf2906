//! Vector-store calls as retrieval spans (`testdata/retrieval/`): every fixture (Chroma recorded from a real
//! server, the other stores from their documented wire formats) replayed through the real `.wasm` and natively
//! through the core, at every chunking, must give the same span in both runtimes and carry exactly what its `expect`
//! block says; the sequences replayed in order on one worker learn Chroma collection names and tie each query to
//! the embeddings call whose vector it sent. Also: large answers in bounded memory, cut answers, tentative paths
//! that turn out not to be vector searches, overrides, and the retrieval metrics.

use host_tests::exchange_file::ExchangeFile;
use host_tests::host::{Host, HostOptions};
use host_tests::native::NativeHost;
use host_tests::replay::{flush_exports, play, Chunking, Played, ReplayOptions};
use serde_json::{json, Value};
use std::path::PathBuf;

const CHUNKINGS: [Chunking; 5] = [
    Chunking::Fixed(1),
    Chunking::Fixed(7),
    Chunking::Fixed(64),
    Chunking::Random(11),
    Chunking::Whole,
];

const DEFAULT: &str = r#"{"service_name":"llm-trace-replay","exporter":{"cluster":"otel_collector"}}"#;
/// Full capture and both dialects: document text, metadata and query text on the span.
const FULL: &str = r#"{"service_name":"llm-trace-replay","exporter":{"cluster":"otel_collector"},
    "capture":{"content":"full","max_content_bytes":2048},"dialects":["gen_ai","openinference"]}"#;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/retrieval")
}

/// Every exchange file (not the sequences), with its raw JSON.
fn fixtures() -> Vec<(PathBuf, ExchangeFile, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.to_string_lossy().ends_with("-sequence.json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let raw: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p.clone(), ExchangeFile::load(&p).unwrap(), raw)
        })
        .collect()
}

/// One exchange of a sequence file as an exchange file (its `expect` has other keys), and that `expect`.
fn sequence(name: &str) -> (Value, Vec<(ExchangeFile, Value)>) {
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(dir().join(name)).unwrap()).unwrap();
    let exchanges = raw["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let mut bare = x.clone();
            let expect = bare.as_object_mut().unwrap().remove("expect").unwrap_or(Value::Null);
            if bare.get("name").is_none() {
                bare["name"] = json!(format!("#{} {}", x["seq"], x["step"].as_str().unwrap_or_default()));
            }
            (serde_json::from_value(bare).unwrap(), expect)
        })
        .collect();
    (raw, exchanges)
}

fn options(config: &str, chunking: Chunking) -> ReplayOptions {
    ReplayOptions {
        plugin_config: config.to_string(),
        chunking,
        chunk_interval_ms: 1,
        upstream_latency_ms: 3,
    }
}

fn wasm_host(config: &str) -> Host {
    Host::with_options(HostOptions {
        plugin_config: config.to_string(),
        seed: 5,
        ..Default::default()
    })
    .unwrap()
}

/// Plays one exchange on the wasm host and returns its spans.
fn play_wasm(host: &mut Host, exchange: &ExchangeFile, options: &ReplayOptions) -> (Vec<u8>, Vec<Value>) {
    let forwarded = play(host, exchange, options).unwrap();
    (forwarded, flush_exports(host).unwrap())
}

/// Spans without their random ids and with their duration for their instants (the runtimes' clocks drift apart
/// over a sequence), for comparing the runtimes.
fn without_ids(spans: &[Value]) -> Vec<Value> {
    spans
        .iter()
        .map(|s| {
            let mut s = s.clone();
            let nanos = |k: &str| s[k].as_str().and_then(|v| v.parse::<u64>().ok()).or(s[k].as_u64());
            let duration = nanos("end_time_unix_nano")
                .zip(nanos("start_time_unix_nano"))
                .map(|(e, b)| e - b);
            s["start_time_unix_nano"] = json!(duration);
            s["end_time_unix_nano"] = Value::Null;
            for key in ["trace_id", "span_id", "parent_span_id"] {
                if let Some(v) = s.get_mut(key) {
                    *v = json!(v.as_str().map(|id| id.len()));
                }
            }
            if let Some(a) = s["attributes"].as_object_mut() {
                for key in [
                    "llm.retrieval.query_embedding.trace_id",
                    "llm.retrieval.query_embedding.span_id",
                ] {
                    if let Some(v) = a.get_mut(key) {
                        *v = json!("<id>");
                    }
                }
            }
            s
        })
        .collect()
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    span["attributes"].get(key).unwrap_or(&Value::Null)
}

/// `db.operation.name` for the fixtures' operation names (batches get the conventions' `BATCH ` prefix).
fn operation_name(op: &str) -> String {
    match op {
        "query_batch" => "BATCH query".to_string(),
        "search_batch" => "BATCH search".to_string(),
        "graphql" => "Get".to_string(),
        other => other.to_string(),
    }
}

/// The documents the span must list, flattened in wire order, as `gen_ai.retrieval.documents` writes them.
fn expected_documents(e: &Value, full: bool) -> Option<Vec<Value>> {
    let per_query = e["documents"].as_array()?;
    let multi = e["query_count"].as_u64().unwrap_or(1) > 1;
    let mut out = Vec::new();
    for (q, docs) in per_query.iter().enumerate() {
        for d in docs.as_array().unwrap() {
            let mut o = serde_json::Map::new();
            let id = match &d["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            o.insert("id".into(), json!(id));
            if !d["score"].is_null() {
                o.insert("score".into(), d["score"].clone());
            }
            if multi {
                o.insert("query".into(), json!(q));
            }
            if full {
                if let Some(c) = d.get("content").filter(|c| !c.is_null()) {
                    o.insert("content".into(), c.clone());
                }
                if let Some(m) = d.get("metadata").filter(|m| !m.is_null()) {
                    o.insert("metadata".into(), m.clone());
                }
            }
            out.push(Value::Object(o));
        }
    }
    Some(out)
}

/// Two JSON values equal with numbers compared as f64 (the span's doubles against the fixture's integers), within
/// a few units in the last place: serde_json's default float parsing (here, in the test) can be one ULP off, while
/// the filter parses scores exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs()),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Asserts `span` carries exactly what `e` expects (only the keys `e` has: a `null` there means absent).
fn check_span(span: &Value, e: &Value, full: bool, ctx: &str) {
    let has = |k: &str| e.get(k).is_some();
    let a = |k: &str| attr(span, k);
    assert_eq!(span["kind"], "CLIENT", "{ctx}");
    assert_eq!(a("gen_ai.operation.name"), "retrieval", "{ctx}");
    let source = e.get("data_source_id").unwrap_or(&e["collection"]);
    assert_eq!(a("gen_ai.data_source.id"), source, "{ctx}: data source");
    if let Some(name) = e.get("collection_name") {
        let name = if name.is_null() { source } else { name };
        assert_eq!(
            span["name"],
            json!(format!("retrieval {}", name.as_str().unwrap())),
            "{ctx}"
        );
    }
    assert_eq!(a("db.system.name"), &e["db_system"], "{ctx}");
    for (key, attribute) in [
        ("collection_name", "db.collection.name"),
        ("namespace", "db.namespace"),
        ("server_address", "server.address"),
        ("server_port", "server.port"),
        ("score_kind", "llm.retrieval.score.kind"),
        ("query_count", "llm.retrieval.query.count"),
        ("returned_rows", "db.response.returned_rows"),
        ("batch_size", "db.operation.batch.size"),
        ("request_model", "gen_ai.request.model"),
        ("error_type", "error.type"),
    ] {
        if has(key) {
            assert_eq!(a(attribute), &e[key], "{ctx}: {attribute}");
        }
    }
    assert_eq!(
        a("db.operation.name"),
        &json!(operation_name(e["operation"].as_str().unwrap())),
        "{ctx}"
    );
    assert_eq!(a("http.response.status_code"), &e["status"], "{ctx}");
    assert_eq!(a("db.response.status_code"), &json!(e["status"].to_string()), "{ctx}");
    if has("filter") {
        let filter = e["filter"]
            .as_bool()
            .unwrap()
            .then_some(json!(true))
            .unwrap_or(Value::Null);
        assert_eq!(a("llm.retrieval.filter"), &filter, "{ctx}: filter");
    }
    if let Some(dims) = e.get("vector_dims").and_then(Value::as_array) {
        assert_eq!(
            a("llm.retrieval.query.vector_dimension"),
            dims.first().unwrap_or(&Value::Null),
            "{ctx}"
        );
    }
    if has("top_k") {
        let (single, per_query) = match &e["top_k"] {
            Value::Array(ks) if ks.iter().all(|k| *k == ks[0]) => (ks[0].clone(), Value::Null),
            Value::Array(ks) => (Value::Null, json!(Value::Array(ks.clone()).to_string())),
            k => (k.clone(), Value::Null),
        };
        assert!(
            same(a("gen_ai.request.top_k"), &single),
            "{ctx}: top_k {}",
            a("gen_ai.request.top_k")
        );
        assert_eq!(a("llm.retrieval.top_k_per_query"), &per_query, "{ctx}");
    }
    let error = e.get("error_type").is_some_and(|t| !t.is_null());
    assert_eq!(span["status"]["code"], if error { "ERROR" } else { "UNSET" }, "{ctx}");
    if let Some(message) = e.get("error_message") {
        assert_eq!(a("llm.error.message"), message, "{ctx}");
    }
    if has("documents") {
        let documents = expected_documents(e, full);
        let got = a("gen_ai.retrieval.documents")
            .as_str()
            .map(|s| serde_json::from_str::<Value>(s).unwrap());
        match &documents {
            Some(want) => assert!(
                got.as_ref().is_some_and(|g| same(g, &Value::Array(want.clone()))),
                "{ctx}: documents\n got {got:?}\nwant {want:?}"
            ),
            None => assert_eq!(got, None, "{ctx}: no documents on an error"),
        }
        // OpenInference: the same documents, flattened.
        for (i, d) in documents.unwrap_or_default().iter().enumerate() {
            let oi = |f: &str| attr(span, &format!("retrieval.documents.{i}.document.{f}")).clone();
            if full {
                assert_eq!(oi("id"), d["id"], "{ctx}: OI id {i}");
                let score = d.get("score").unwrap_or(&Value::Null);
                assert!(
                    same(&oi("score"), score),
                    "{ctx}: OI score {i}: {} vs {score}",
                    oi("score")
                );
                assert_eq!(oi("content"), d.get("content").cloned().unwrap_or(Value::Null), "{ctx}");
                let metadata = oi("metadata")
                    .as_str()
                    .map(|m| serde_json::from_str::<Value>(m).unwrap());
                assert_eq!(metadata, d.get("metadata").cloned(), "{ctx}: OI metadata {i}");
            } else {
                assert_eq!(oi("id"), Value::Null, "{ctx}: OpenInference is off by default");
            }
        }
    }
    if has("query_text") {
        let text = if full { e["query_text"].clone() } else { Value::Null };
        assert_eq!(
            a("gen_ai.retrieval.query.text"),
            &text,
            "{ctx}: query text only under capture"
        );
        assert_eq!(a("input.value"), &text, "{ctx}");
    }
    assert_eq!(
        a("openinference.span.kind"),
        &if full { json!("RETRIEVER") } else { Value::Null },
        "{ctx}"
    );
    if !full {
        let leaked: Vec<&String> = span["attributes"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.contains("content") || k.contains("metadata") || k.contains("query.text"))
            .collect();
        assert!(leaked.is_empty(), "{ctx}: content without capture: {leaked:?}");
        if let Some(docs) = a("gen_ai.retrieval.documents").as_str() {
            assert!(
                !docs.contains("\"content\"") && !docs.contains("\"metadata\""),
                "{ctx}: {docs}"
            );
        }
    }
}

#[test]
fn every_fixture_gives_its_expected_span_at_every_chunking_in_wasm_and_natively() {
    let all = fixtures();
    assert!(all.len() >= 40, "fixtures missing: {}", all.len());
    for (path, exchange, raw) in &all {
        let e = &raw["expect"];
        let name = path.file_name().unwrap().to_string_lossy();
        for (config, full) in [(DEFAULT, false), (FULL, true)] {
            for chunking in CHUNKINGS {
                let ctx = format!("{name} at {chunking:?} (full capture {full})");
                let options = options(config, chunking);
                let (forwarded, wasm) = play_wasm(&mut wasm_host(config), exchange, &options);
                let native = NativeHost::new(config).unwrap().play(exchange, &options).unwrap();
                assert_eq!(forwarded, exchange.response_body().unwrap(), "{ctx}: forwarded bytes");
                assert_eq!(without_ids(&wasm), without_ids(&native.spans), "{ctx}: runtimes differ");
                match e["kind"].as_str() {
                    Some("none") => assert!(wasm.is_empty(), "{ctx}: no span expected, got {wasm:?}"),
                    _ => {
                        assert_eq!(wasm.len(), 1, "{ctx}");
                        check_span(&wasm[0], e, full, &ctx);
                    }
                }
            }
        }
    }
}

/// Plays a sequence in order on one worker of each runtime; returns the spans of each exchange (wasm, native).
fn play_sequence(exchanges: &[(ExchangeFile, Value)], config: &str, chunking: Chunking) -> Vec<Vec<Value>> {
    let options = options(config, chunking);
    let mut wasm = wasm_host(config);
    let mut native = NativeHost::new(config).unwrap();
    exchanges
        .iter()
        .map(|(x, _)| {
            let (_, spans) = play_wasm(&mut wasm, x, &options);
            let Played {
                spans: native_spans, ..
            } = native.play(x, &options).unwrap();
            assert_eq!(
                without_ids(&spans),
                without_ids(&native_spans),
                "{}: runtimes differ",
                x.name
            );
            spans
        })
        .collect()
}

#[test]
fn the_chroma_sequence_learns_collection_names_from_collection_calls_in_order() {
    let (_, exchanges) = sequence("chroma-sequence.json");
    assert_eq!(exchanges.len(), 30);
    for chunking in [Chunking::Fixed(5), Chunking::Whole] {
        let spans = play_sequence(&exchanges, DEFAULT, chunking);
        let mut retrievals = 0;
        for ((x, e), spans) in exchanges.iter().zip(&spans) {
            let ctx = format!("{} at {chunking:?}", x.name);
            if e["kind"] == "none" {
                assert!(spans.is_empty(), "{ctx}: {spans:?}");
                continue;
            }
            retrievals += 1;
            assert_eq!(spans.len(), 1, "{ctx}");
            check_span(&spans[0], e, false, &ctx);
        }
        assert_eq!(retrievals, 10);
    }
}

#[test]
fn a_question_is_one_trace_with_traceparent_and_one_session_without_and_its_query_names_its_embeddings_call() {
    let (raw, exchanges) = sequence("rag-sequence.json");
    for config in [DEFAULT, FULL] {
        let spans = play_sequence(&exchanges, config, Chunking::Fixed(64));
        let seqs: Vec<&Value> = raw["exchanges"].as_array().unwrap().iter().map(|x| &x["seq"]).collect();
        let at = |seq: &Value| seqs.iter().position(|s| *s == seq).unwrap();
        let span_of = |seq: &Value| -> &Value {
            let spans = &spans[at(seq)];
            assert_eq!(spans.len(), 1, "seq {seq}: {spans:?}");
            &spans[0]
        };
        for join in raw["joins"].as_array().unwrap() {
            let span = span_of(&join["seq"]);
            let ctx = format!("seq {} ({})", join["seq"], join["path"]);
            assert_eq!(attr(span, "session.id"), &join["session_id"], "{ctx}");
            match join["trace_id"].as_str() {
                Some(trace) => {
                    assert_eq!(span["trace_id"], trace, "{ctx}: the question's trace");
                    assert_eq!(span["parent_span_id"], join["parent_span_id"], "{ctx}: a sibling");
                }
                None => assert_eq!(span["parent_span_id"], Value::Null, "{ctx}: a trace of its own"),
            }
            if join["kind"] != "retrieval" {
                continue;
            }
            let embeddings = span_of(&join["query_vector_from"][0]["seq"]);
            assert_eq!(attr(embeddings, "gen_ai.operation.name"), "embeddings", "{ctx}");
            assert_eq!(
                attr(span, "llm.retrieval.query_embedding.span_id"),
                &embeddings["span_id"],
                "{ctx}: the embeddings call whose vector the query sent"
            );
            assert_eq!(
                attr(span, "llm.retrieval.query_embedding.trace_id"),
                &embeddings["trace_id"],
                "{ctx}"
            );
            assert_eq!(
                attr(span, "db.collection.name"),
                "moons-rag",
                "{ctx}: learnt from the GET"
            );
            let e = &exchanges[at(&join["seq"])].1;
            let docs: Value = serde_json::from_str(attr(span, "gen_ai.retrieval.documents").as_str().unwrap()).unwrap();
            let ids_scores = |list: &Value| -> Vec<Value> {
                list.as_array()
                    .unwrap()
                    .iter()
                    .map(|d| json!({"id": d["id"], "score": d["score"]}))
                    .collect()
            };
            assert!(
                same(&json!(ids_scores(&docs)), &json!(ids_scores(&e["documents"][0]))),
                "{ctx}: {docs}"
            );
        }
    }
}

/// A Chroma query answer with `n` hits, each with an embedding of `dims` floats, a 1 KiB document and metadata.
fn big_chroma_answer(n: usize, dims: usize) -> (String, Vec<(String, f64)>) {
    let ids: Vec<String> = (0..n).map(|i| format!("doc-{i:04}")).collect();
    let scores: Vec<f64> = (0..n).map(|i| i as f64 / 1000.0 + 0.000_123).collect();
    let embedding = format!("[{}]", vec!["0.012345678"; dims].join(","));
    let body = json!({
        "ids": [ids],
        "embeddings": "EMBEDDINGS",
        "documents": [(0..n).map(|i| format!("chunk {i} {}", "lorem ipsum ".repeat(85))).collect::<Vec<_>>()],
        "uris": null,
        "metadatas": [(0..n).map(|i| json!({"source": "big.md", "chunk": i})).collect::<Vec<_>>()],
        "distances": [scores],
        "include": ["embeddings", "documents", "metadatas", "distances"],
    })
    .to_string()
    .replace(
        "\"EMBEDDINGS\"",
        &format!("[[{}]]", vec![embedding.as_str(); n].join(",")),
    );
    (body, ids.into_iter().zip(scores).collect())
}

fn chroma_exchange(body: String) -> ExchangeFile {
    let (_, exchanges) = sequence("chroma-sequence.json");
    let mut x = exchanges.into_iter().find(|(x, _)| x.name == "query/query").unwrap().0;
    x.response
        .headers
        .insert("content-length".into(), body.len().to_string());
    x.response.body = Some(body);
    x
}

#[test]
fn a_large_answer_is_read_in_bounded_memory_with_every_hit_counted() {
    let (body, hits) = big_chroma_answer(300, 1536);
    assert!(body.len() > 4 << 20, "bigger than the response cap: {}", body.len());
    let x = chroma_exchange(body);
    for config in [DEFAULT, FULL] {
        let options = options(config, Chunking::Fixed(16 << 10));
        let mut host = wasm_host(config);
        let before = host.memory_bytes();
        let (_, spans) = play_wasm(&mut host, &x, &options);
        let grown = host.memory_bytes() - before;
        eprintln!(
            "wasm memory grew by {grown} bytes for a {} byte answer",
            x.response.body.as_ref().map_or(0, String::len)
        );
        assert!(
            grown < 1 << 20,
            "the filter's memory grew by {grown} bytes for a 5 MB answer"
        );
        let native = NativeHost::new(config).unwrap().play(&x, &options).unwrap();
        assert_eq!(without_ids(&spans), without_ids(&native.spans));
        let s = &spans[0];
        assert_eq!(attr(s, "db.response.returned_rows"), 300);
        assert_eq!(
            attr(s, "llm.retrieval.documents_dropped"),
            200,
            "retrieval.max_documents is 100"
        );
        let docs: Value = serde_json::from_str(attr(s, "gen_ai.retrieval.documents").as_str().unwrap()).unwrap();
        let docs = docs.as_array().unwrap();
        assert_eq!(docs.len(), 100);
        for (d, (id, score)) in docs.iter().zip(&hits) {
            assert_eq!(d["id"], json!(id));
            assert!(same(&d["score"], &json!(score)), "{} vs {score}", d["score"]);
        }
        if config == FULL {
            let with_text = docs.iter().filter(|d| d.get("content").is_some()).count();
            // 64 KiB of text and metadata per span: about 60 of 1 KiB documents.
            assert!((60..=64).contains(&with_text), "{with_text} documents with text");
            let omitted = attr(s, "llm.retrieval.content_omitted").as_u64().unwrap();
            assert!(omitted >= (100 - with_text) as u64, "{omitted} omitted");
        }
    }
}

#[test]
fn a_cut_answer_gives_a_partial_span_with_the_hits_read_so_far() {
    let (_, exchanges) = sequence("chroma-sequence.json");
    let mut x = exchanges.into_iter().find(|(x, _)| x.name == "query/query").unwrap().0;
    let body = x.response.body.take().unwrap();
    // Cut after the second distance.
    // Cut after the second distance (a number is complete only once the byte after it arrives).
    let cut = body.find("0.15855277,").unwrap() + "0.15855277,".len();
    x.response.body = Some(body[..cut].to_string());
    x.cut = true;
    for chunking in CHUNKINGS {
        let options = options(DEFAULT, chunking);
        let (_, spans) = play_wasm(&mut wasm_host(DEFAULT), &x, &options);
        let native = NativeHost::new(DEFAULT).unwrap().play(&x, &options).unwrap();
        assert_eq!(without_ids(&spans), without_ids(&native.spans));
        let s = &spans[0];
        assert_eq!(attr(s, "llm.partial"), true);
        assert_eq!(attr(s, "error.type"), "response_cut");
        assert_eq!(attr(s, "db.response.returned_rows"), 3, "the ids arrived whole");
        let docs: Value = serde_json::from_str(attr(s, "gen_ai.retrieval.documents").as_str().unwrap()).unwrap();
        assert_eq!(
            docs,
            json!([{"id":"moons-titan","score":0.014389217},{"id":"moons-enceladus","score":0.15855277},{"id":"moons-triton"}]),
            "{chunking:?}"
        );
    }
}

/// An exchange that is no vector search although its path could be.
fn not_a_vector_search(path: &str, host: &str, body: &str) -> ExchangeFile {
    serde_json::from_value(json!({
        "name": path,
        "request": {"method": "POST", "url": format!("http://{host}{path}"),
            "headers": {"content-type": "application/json", "accept-encoding": "gzip, br", "content-length": body.len().to_string()},
            "body": body},
        "response": {"status": 200, "headers": {"content-type": "application/json"},
            "body": r#"{"took":1,"hits":{"total":{"value":0},"hits":[]},"matches":[],"data":{"Get":{}}}"#}
    }))
    .unwrap()
}

#[test]
fn a_tentative_path_that_is_no_vector_search_passes_untouched_and_leaves_no_trace() {
    let config = r#"{"exporter":{"cluster":"otel_collector"},"trace_context":{"inject_traceparent":true}}"#;
    for x in [
        not_a_vector_search(
            "/logs/_search",
            "es.internal:9200",
            r#"{"query":{"match":{"msg":"timeout"}},"size":5}"#,
        ),
        not_a_vector_search("/query", "api.internal", r#"{"sql":"select 1"}"#),
        not_a_vector_search(
            "/v1/graphql",
            "weaviate.internal",
            r#"{"query":"{ Get { Moon(limit: 2) { title } } }"}"#,
        ),
    ] {
        let options = options(config, Chunking::Whole);
        let mut host = wasm_host(config);
        let s = host.new_stream().unwrap();
        let headers = x.request_headers().unwrap();
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (_, forwarded_headers) = host.request_headers(s, &pairs, false).unwrap();
        let mut sent = headers.clone();
        let mut got = forwarded_headers.clone();
        sent.sort();
        got.sort();
        assert_eq!(got, sent, "{}: headers changed", x.name);
        host.request_body(s, x.request_body().unwrap().as_slice(), true)
            .unwrap();
        host.response_headers(s, &[(":status", "200"), ("content-type", "application/json")], false)
            .unwrap();
        host.response_body(s, x.response_body().unwrap().as_slice(), true)
            .unwrap();
        host.log(s).unwrap();
        host.done(s).unwrap();
        assert!(flush_exports(&mut host).unwrap().is_empty(), "{}", x.name);
        let names = host.metric_names();
        assert!(
            !names.iter().any(|n| n.starts_with("llm.retrieval_")),
            "{}: {names:?}",
            x.name
        );
        assert_eq!(host.counter("llm_trace.requests"), Some(0), "{}", x.name);
        let native = NativeHost::new(config).unwrap().play(&x, &options).unwrap();
        assert!(native.spans.is_empty());
    }
}

#[test]
fn an_override_reads_a_stores_paths_under_a_gateway_prefix_and_retrieval_can_be_switched_off() {
    let (_, mut x, raw) = fixtures()
        .into_iter()
        .find(|(p, _, _)| p.ends_with("qdrant-query.json"))
        .unwrap();
    let mut e = raw["expect"].clone();
    x.request.url = x.request.url.replace("/collections/", "/vectors/v1/collections/");
    x.request.url = x.request.url.replace("127.0.0.1:39637", "vectors.internal");
    let config = r#"{"exporter":{"cluster":"otel_collector"},"provider_overrides":[{"host":"vectors.internal","api":"qdrant"}]}"#;
    let options = options(config, Chunking::Fixed(7));
    let (_, spans) = play_wasm(&mut wasm_host(config), &x, &options);
    assert_eq!(spans.len(), 1);
    e["server_address"] = json!("vectors.internal");
    e["server_port"] = json!(80);
    check_span(&spans[0], &e, false, "override");
    let (_, spans) = play_wasm(&mut wasm_host(DEFAULT), &x, &options);
    assert!(spans.is_empty(), "without the override a prefixed path is nothing");
    let off = r#"{"exporter":{"cluster":"otel_collector"},"retrieval":{"enabled":false}}"#;
    let (_, x_plain, _) = fixtures()
        .into_iter()
        .find(|(p, _, _)| p.ends_with("chroma-query.json"))
        .unwrap();
    let (_, spans) = play_wasm(&mut wasm_host(off), &x_plain, &options);
    assert!(spans.is_empty(), "retrieval.enabled: false");
}

#[test]
fn every_retrieval_counts_by_store_collection_and_outcome_sampled_or_not() {
    let (_, exchanges) = sequence("chroma-sequence.json");
    let rows: u64 = exchanges
        .iter()
        .filter(|(_, e)| e["collection_name"] == "moons-docs")
        .filter_map(|(_, e)| e["returned_rows"].as_u64())
        .sum();
    // Nothing is exported (ratio 0, errors not kept): the metrics still count every call.
    let config = r#"{"exporter":{"cluster":"otel_collector"},"sampling":{"ratio":0.0,"keep_errors":false}}"#;
    let options = options(config, Chunking::Fixed(64));
    let mut host = wasm_host(config);
    for (x, _) in &exchanges {
        let (_, spans) = play_wasm(&mut host, x, &options);
        assert!(spans.is_empty());
    }
    let docs = "store.chroma.collection.moons-docs";
    assert_eq!(
        host.counter(&format!("llm.retrieval_requests.{docs}.status.ok")),
        Some(6)
    );
    assert_eq!(
        host.counter(&format!("llm.retrieval_requests.{docs}.status.error")),
        Some(3)
    );
    assert_eq!(
        host.counter("llm.retrieval_requests.store.chroma.collection.moons-deleted.status.error"),
        Some(1)
    );
    assert_eq!(host.counter(&format!("llm.retrieval_documents.{docs}")), Some(rows));
    assert_eq!(
        rows, 16,
        "query 3, two queries 3 + 3, get 2, where 2, distances only 2, traceparent 1"
    );
    assert_eq!(
        host.histogram(&format!("llm.retrieval_duration_ms.{docs}"))
            .map(|h| h.len()),
        Some(9)
    );
    assert_eq!(
        host.counter("llm_trace.requests"),
        Some(10),
        "the ten retrievals, not the collection calls"
    );
    assert_eq!(host.counter("llm_trace.spans_sampled_out"), Some(10));
}

#[test]
fn fixture_files_parse_and_the_reference_decoder_agrees() {
    // The fixtures' own reference decoder (stdlib Python) must still reproduce every `expect` block.
    let out = std::process::Command::new("python3")
        .arg(dir().join("check_fixtures.py"))
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains(" 0 failed"), "{text}");
}
