//! Vector stores: one more API shape behind the provider interface. Each store's module knows its paths, its
//! request fields and its answers ([`chroma`], [`qdrant`], [`pinecone`], [`elastic`] for Elasticsearch and
//! OpenSearch, [`weaviate`] for its GraphQL); this module recognises a store call by its path ([`by_path`], or an
//! operator's override, [`resolve`]), holds the `retrieval` configuration, and runs the store's reading of the
//! request and of the answer over an incremental JSON scan, so a large answer (hundreds of hits with their
//! embeddings) is read as it arrives, in bounded memory, and a cut one still gives the hits read so far.
//! [`embeddings`] digests an embeddings API's answer so a later query can name the call its vector came from.
//!
//! Some paths are not specific enough on their own (`_search`, `/query`, `/v1/graphql`): such a call is read
//! tentatively and becomes a retrieval only when its body is a vector search; otherwise it leaves no trace (no
//! span, no metric, no header changed).

use super::{ApiDecoder, Reading};
use crate::config_error::{check_range, invalid, ConfigError};
use crate::model::content::CaptureMode;
use crate::model::observation::{ErrorInfo, Observation};
use crate::model::retrieval::{Retrieval, Store, VectorDigest};
use crate::wire::json_scan::{Event, JsonScanner, Seg, Want};
use serde::Deserialize;

mod chroma;
mod elastic;
pub(crate) mod embeddings;
mod pinecone;
mod qdrant;
mod weaviate;

/// Which vector-store call a request is, as its method and path say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// Chroma `.../collections/{id}/query` (v2, or v1 on old servers).
    ChromaQuery,
    /// Chroma `.../collections/{id}/get`.
    ChromaGet,
    /// Chroma `.../collections/{id}/search` (the Search API).
    ChromaSearch,
    /// Chroma collection metadata (create, get by name, list): no span; teaches id → name.
    ChromaCollection,
    /// Qdrant `/collections/{c}/points/query` (`/batch`).
    QdrantQuery { batch: bool },
    /// Qdrant `/collections/{c}/points/search` (`/batch`), the legacy search.
    QdrantSearch { batch: bool },
    /// Pinecone `/query` on an index host (a retrieval only when the body has `topK`).
    PineconeQuery,
    /// Pinecone `/records/namespaces/{ns}/search`.
    PineconeSearch,
    /// `_search` with a kNN query: Elasticsearch or OpenSearch by the body's shape, unless an override says.
    Search { engine: Option<Store> },
    /// Weaviate `/v1/graphql` (a retrieval only when it is a `Get` with a vector or text search).
    WeaviateGraphql,
    /// A store named by an override, before its path is read ([`resolve`]).
    Unresolved(Store),
}

impl Endpoint {
    /// The store this endpoint belongs to.
    pub(crate) fn store(self) -> Store {
        match self {
            Endpoint::ChromaQuery | Endpoint::ChromaGet | Endpoint::ChromaSearch | Endpoint::ChromaCollection => {
                Store::Chroma
            }
            Endpoint::QdrantQuery { .. } | Endpoint::QdrantSearch { .. } => Store::Qdrant,
            Endpoint::PineconeQuery | Endpoint::PineconeSearch => Store::Pinecone,
            Endpoint::Search { engine } => engine.unwrap_or(Store::Elasticsearch),
            Endpoint::WeaviateGraphql => Store::Weaviate,
            Endpoint::Unresolved(store) => store,
        }
    }

    /// Whether the path alone makes this a retrieval span: only then may the tracer change the request's headers
    /// (a tentative call that turns out to be something else must pass exactly as sent).
    pub(crate) fn certain(self) -> bool {
        matches!(
            self,
            Endpoint::ChromaQuery
                | Endpoint::ChromaGet
                | Endpoint::ChromaSearch
                | Endpoint::QdrantQuery { .. }
                | Endpoint::QdrantSearch { .. }
                | Endpoint::PineconeSearch
        )
    }
}

/// A store named in `provider_overrides[].api`.
pub(crate) fn store_named(name: &str) -> Option<Store> {
    Some(match name {
        "chroma" => Store::Chroma,
        "qdrant" => Store::Qdrant,
        "pinecone" => Store::Pinecone,
        "elasticsearch" => Store::Elasticsearch,
        "opensearch" => Store::OpenSearch,
        "weaviate" => Store::Weaviate,
        _ => return None,
    })
}

/// The names [`store_named`] accepts, for the configuration's error message.
pub(crate) const STORE_NAMES: &str = "chroma, qdrant, pinecone, elasticsearch, opensearch, weaviate";

/// What the path says beyond the endpoint (collection, tenant, namespace), for the decoder.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PathFacts {
    /// The collection, index or class in the path (a Chroma collection id or name).
    pub(crate) collection: Option<String>,
    /// Chroma `tenant|database`, a Pinecone records namespace.
    pub(crate) namespace: Option<String>,
}

/// The path without its query string and trailing slash, as segments.
fn segments(path: &str) -> Vec<&str> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    path.trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Recognises a vector-store call by its method and path alone (exact paths; see [`resolve`] for overrides).
pub(crate) fn by_path(method: &str, path: &str) -> Option<Endpoint> {
    // Every request that is no LLM call comes here: rule most out without allocating.
    let p = path.split_once('?').map_or(path, |(p, _)| p).trim_end_matches('/');
    let maybe = p.starts_with("/api/v")
        || p.starts_with("/collections/")
        || p == "/query"
        || p.starts_with("/records/")
        || p.ends_with("/_search")
        || p == "/v1/graphql";
    if !maybe {
        return None;
    }
    recognise(method, path, None).map(|(endpoint, _)| endpoint)
}

/// The endpoint of a request to a host an override says speaks `store`: the store's paths may sit under a prefix
/// (a gateway's `/vectors/...`).
pub(crate) fn resolve(store: Store, method: &str, path: &str) -> Option<Endpoint> {
    recognise(method, path, Some(store)).map(|(endpoint, _)| endpoint)
}

/// Endpoint and path facts: exact paths of every store, or for an override's `store` its paths at the end of
/// any prefix.
fn recognise(method: &str, path: &str, store: Option<Store>) -> Option<(Endpoint, PathFacts)> {
    let segs = segments(path);
    let method = method.to_ascii_uppercase();
    let lenient = store.is_some();
    type Recognise = fn(&str, &[&str], bool) -> Option<(Endpoint, PathFacts)>;
    let stores: [(Store, Recognise); 5] = [
        (Store::Chroma, chroma::recognise),
        (Store::Qdrant, qdrant::recognise),
        (Store::Pinecone, pinecone::recognise),
        (Store::Weaviate, weaviate::recognise),
        (Store::Elasticsearch, elastic::recognise),
    ];
    let found = stores
        .iter()
        .filter(|(s, _)| store.is_none_or(|want| want == *s || search_engines(want, *s)))
        .find_map(|(_, recognise)| recognise(&method, &segs, lenient))?;
    Some(match (found.0, store) {
        (Endpoint::Search { .. }, Some(engine)) => (Endpoint::Search { engine: Some(engine) }, found.1),
        _ => found,
    })
}

/// Elasticsearch and OpenSearch share their paths.
fn search_engines(want: Store, found: Store) -> bool {
    matches!(want, Store::Elasticsearch | Store::OpenSearch) && matches!(found, Store::Elasticsearch)
}

/// Percent-decodes a path segment.
fn decoded(segment: &str) -> String {
    crate::wire::percent::decode(segment)
}

/// The `retrieval` section of the configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetrievalConfig {
    /// Recognise vector-store calls at all.
    pub(crate) enabled: bool,
    /// Documents kept per retrieval span (all are counted in `db.response.returned_rows`).
    pub(crate) max_documents: usize,
    /// Bytes of document text and metadata kept per retrieval span under content capture.
    pub(crate) max_content_bytes: usize,
    /// Chroma collections whose name a worker remembers (by id).
    pub(crate) max_learned_collections: usize,
    /// Embeddings answers a worker remembers for the join with a later query.
    pub(crate) max_recent_embeddings: usize,
    /// How long an embeddings answer can be joined with a later query.
    pub(crate) embedding_join_window_ms: u64,
}

impl RetrievalConfig {
    /// Whether embeddings answers are digested for the join with later queries.
    pub(crate) fn joins_embeddings(&self) -> bool {
        self.enabled && self.max_recent_embeddings > 0
    }
}

impl Default for RetrievalConfig {
    fn default() -> Self {
        RetrievalConfig {
            enabled: true,
            max_documents: 100,
            max_content_bytes: 64 << 10,
            max_learned_collections: 256,
            max_recent_embeddings: 256,
            embedding_join_window_ms: 300_000,
        }
    }
}

/// `retrieval` as written in the configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawRetrieval {
    enabled: bool,
    max_documents: u64,
    max_content_bytes: u64,
    max_learned_collections: u64,
    max_recent_embeddings: u64,
    embedding_join_window_ms: u64,
}

impl Default for RawRetrieval {
    fn default() -> Self {
        let d = RetrievalConfig::default();
        RawRetrieval {
            enabled: d.enabled,
            max_documents: d.max_documents as u64,
            max_content_bytes: d.max_content_bytes as u64,
            max_learned_collections: d.max_learned_collections as u64,
            max_recent_embeddings: d.max_recent_embeddings as u64,
            embedding_join_window_ms: d.embedding_join_window_ms,
        }
    }
}

impl RawRetrieval {
    /// Checks every figure's range.
    pub(crate) fn validate(self) -> Result<RetrievalConfig, ConfigError> {
        check_range("retrieval.max_documents", self.max_documents, 1, 10_000)?;
        check_range("retrieval.max_content_bytes", self.max_content_bytes, 0, 16 << 20)?;
        check_range(
            "retrieval.max_learned_collections",
            self.max_learned_collections,
            0,
            100_000,
        )?;
        check_range(
            "retrieval.max_recent_embeddings",
            self.max_recent_embeddings,
            0,
            100_000,
        )?;
        check_range(
            "retrieval.embedding_join_window_ms",
            self.embedding_join_window_ms,
            0,
            86_400_000,
        )?;
        let size = |v: u64, field: &str| usize::try_from(v).map_err(|_| invalid(field, "too large"));
        Ok(RetrievalConfig {
            enabled: self.enabled,
            max_documents: size(self.max_documents, "retrieval.max_documents")?,
            max_content_bytes: size(self.max_content_bytes, "retrieval.max_content_bytes")?,
            max_learned_collections: size(self.max_learned_collections, "retrieval.max_learned_collections")?,
            max_recent_embeddings: size(self.max_recent_embeddings, "retrieval.max_recent_embeddings")?,
            embedding_join_window_ms: self.embedding_join_window_ms,
        })
    }
}

/// Where a vector-store request went, for its decoder.
#[derive(Default)]
pub(crate) struct Target<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    /// `server.address`.
    pub(crate) host: Option<&'a str>,
}

/// How much of an answer a decoder keeps.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Keep {
    pub(crate) max_documents: usize,
    /// Document text and metadata bytes per span (content capture only).
    pub(crate) content_budget: usize,
    /// Largest document text or metadata kept (a little over the export cut, so redaction sees what the cut
    /// leaves).
    pub(crate) max_document_bytes: usize,
}

/// The decoder of one vector-store call.
pub(crate) fn decoder(endpoint: Endpoint, target: &Target<'_>, keep: Keep) -> Box<dyn ApiDecoder> {
    let store = endpoint.store();
    let facts = recognise(target.method, target.path, Some(store))
        .map(|(_, f)| f)
        .unwrap_or_default();
    match endpoint {
        Endpoint::ChromaCollection => Box::new(chroma::CollectionDecoder::new()),
        Endpoint::ChromaQuery | Endpoint::ChromaGet | Endpoint::ChromaSearch => {
            scan(chroma::Chroma::new(endpoint, facts), keep)
        }
        Endpoint::QdrantQuery { batch } => scan(qdrant::Qdrant::new(false, batch, facts), keep),
        Endpoint::QdrantSearch { batch } => scan(qdrant::Qdrant::new(true, batch, facts), keep),
        Endpoint::PineconeQuery | Endpoint::PineconeSearch => {
            scan(pinecone::Pinecone::new(endpoint, facts, target.host), keep)
        }
        Endpoint::Search { engine } => scan(elastic::Search::new(engine, facts), keep),
        Endpoint::WeaviateGraphql => scan(weaviate::Weaviate::default(), keep),
        Endpoint::Unresolved(_) => Box::new(Inert),
    }
}

fn scan<S: Shape + 'static>(shape: S, keep: Keep) -> Box<dyn ApiDecoder> {
    Box::new(ScanDecoder {
        shape,
        keep,
        response: None,
    })
}

/// Reads nothing (an override named a store whose paths the request does not match).
struct Inert;

impl ApiDecoder for Inert {
    fn on_request(&mut self, _: &[u8], _: &mut Observation) {}
    fn on_stream_message(&mut self, _: &[u8], _: &[u8], _: u64, _: &mut Observation) {}
    fn on_response_body(&mut self, _: &[u8], _: u64, _: &mut Observation) {}
    fn reading(&self) -> Reading {
        Reading::Ignored
    }
}

/// What a request asked, in the terms every store shares.
#[derive(Debug, Default)]
pub(super) struct Ask {
    /// Documents asked for, per query or search.
    pub(super) top_k: Vec<Option<u64>>,
    pub(super) query_count: u32,
    /// The first query vector.
    pub(super) vector: VectorDigest,
    pub(super) filter: bool,
    pub(super) text: Option<String>,
    pub(super) model: Option<String>,
    pub(super) namespace: Option<String>,
}

impl Ask {
    /// One value of the first query vector.
    pub(super) fn vector_value(&mut self, number: &str) {
        if let Ok(v) = number.parse::<f64>() {
            self.vector.push(v as f32);
        }
    }

    /// The documents asked for by query or search `index`.
    pub(super) fn set_top_k(&mut self, index: u32, number: &str) {
        let Some(k) = parse_count(number) else {
            return;
        };
        let i = index as usize;
        if i < 1024 {
            if self.top_k.len() <= i {
                self.top_k.resize(i + 1, None);
            }
            self.top_k[i] = Some(k);
        }
    }
}

/// A non-negative integer as a JSON number writes it (`3`, `3.0`).
pub(super) fn parse_count(number: &str) -> Option<u64> {
    number.parse::<u64>().ok().or_else(|| {
        number
            .parse::<f64>()
            .ok()
            .filter(|v| *v >= 0.0 && v.fract() == 0.0)
            .map(|v| v as u64)
    })
}

/// One store's reading of its request and answer, as paths of an incremental JSON scan.
pub(super) trait Shape {
    /// One event of the request body.
    fn request(&mut self, path: &[Seg], event: &Event<'_>, ask: &mut Ask) -> Want;
    /// The request is read: the retrieval it makes, or `None` when it is not a vector search after all.
    fn retrieval(&mut self, ask: Ask, keep: Keep) -> Option<Retrieval>;
    /// One event of the answer.
    fn response(&mut self, path: &[Seg], event: &Event<'_>, answer: &mut Answer<'_>) -> Want;
}

/// What an answer's events go into: the retrieval, the call's error, and what content capture allows.
pub(super) struct Answer<'a> {
    pub(super) r: &'a mut Retrieval,
    error: &'a mut Option<ErrorInfo>,
    status: Option<u16>,
    /// Document text and metadata are kept (content capture is on).
    pub(super) capture: bool,
    keep: Keep,
}

impl Answer<'_> {
    /// A hit of query `query` begins.
    pub(super) fn hit(&mut self, query: u32) -> Option<usize> {
        self.r.begin_hit(query)
    }

    /// The current hit's id (a string, or a number as written).
    pub(super) fn id(&mut self, event: &Event<'_>) {
        if let (Some(id), Some(doc)) = (scalar_text(event), self.r.hit()) {
            doc.id = Some(id.to_string());
        }
    }

    /// The current hit's score.
    pub(super) fn score(&mut self, event: &Event<'_>) {
        if let (Some(score), Some(doc)) = (number(event), self.r.hit()) {
            doc.score = Some(score);
        }
    }

    /// Document text for the kept document at `position` (the current hit when `None`), within the budget.
    pub(super) fn content(&mut self, position: Option<usize>, event: &Event<'_>) {
        let Event::Str(text, _) = event else {
            return;
        };
        let Some(position) = position.or(self.r.current()) else {
            return;
        };
        if self.capture && position < self.r.documents.len() && self.r.take_budget(text.len()) {
            if let Some(doc) = self.r.document(position) {
                doc.content = Some(text.to_string());
            }
        }
    }

    /// What to do with a document's metadata object: capture it when content capture is on and the document is
    /// kept.
    pub(super) fn metadata_want(&self, kept: bool) -> Want {
        if self.capture && kept {
            Want::Capture(self.keep.max_document_bytes.min(self.r.content_budget))
        } else {
            Want::Skip
        }
    }

    /// A captured metadata object for the kept document at `position` (the current hit when `None`).
    pub(super) fn metadata(&mut self, position: Option<usize>, event: &Event<'_>) {
        let Event::Raw(raw) = event else {
            return;
        };
        let Some(position) = position.or(self.r.current()) else {
            return;
        };
        match raw {
            Some(raw) if self.r.take_budget(raw.len()) => {
                if let Some(doc) = self.r.document(position) {
                    doc.metadata = Some(String::from_utf8_lossy(raw).into_owned());
                }
            }
            Some(_) => {}
            None => self.r.content_omitted += 1,
        }
    }

    /// The store's error: its type (the HTTP status when the store names none) and message.
    pub(super) fn error(&mut self, kind: Option<&str>, message: Option<&str>) {
        let status = self.status;
        let e = self.error.get_or_insert_with(|| ErrorInfo {
            error_type: status.map_or_else(|| "_OTHER".to_string(), |s| s.to_string()),
            message: None,
        });
        if let Some(kind) = kind.filter(|k| !k.is_empty()) {
            e.error_type = kind.to_string();
        }
        if e.message.is_none() {
            e.message = message.map(str::to_string);
        }
    }
}

/// A string, or a number as written.
pub(super) fn scalar_text<'e>(event: &'e Event<'_>) -> Option<&'e str> {
    match event {
        Event::Str(s, _) | Event::Num(s) => Some(s),
        _ => None,
    }
}

/// A number (or a string holding one: Weaviate writes BM25 scores as strings).
pub(super) fn number(event: &Event<'_>) -> Option<f64> {
    scalar_text(event)
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

/// The member names of a path (`None` where a step is an index).
pub(super) fn keys<'p>(path: &'p [Seg]) -> impl Iterator<Item = Option<&'p str>> + 'p {
    path.iter().map(Seg::key)
}

/// Whether `path` is exactly these member names.
pub(super) fn is(path: &[Seg], names: &[&str]) -> bool {
    path.len() == names.len() && keys(path).zip(names).all(|(k, n)| k == Some(*n))
}

/// Runs a store's [`Shape`] over the request body and the answer's pieces.
struct ScanDecoder<S> {
    shape: S,
    keep: Keep,
    /// The answer's scan, once the request was found to be a retrieval.
    response: Option<JsonScanner>,
}

impl<S: Shape> ScanDecoder<S> {
    fn read(&mut self, piece: &[u8], obs: &mut Observation) {
        let ScanDecoder { shape, keep, response } = self;
        let Observation {
            retrieval,
            error,
            http_status,
            capture,
            ..
        } = obs;
        let (Some(scanner), Some(r)) = (response.as_mut(), retrieval.as_deref_mut()) else {
            return;
        };
        let mut answer = Answer {
            r,
            error,
            status: *http_status,
            capture: *capture != CaptureMode::Off,
            keep: *keep,
        };
        scanner.feed(piece, &mut |path, event| shape.response(path, &event, &mut answer));
    }
}

impl<S: Shape> ApiDecoder for ScanDecoder<S> {
    fn on_request(&mut self, body: &[u8], obs: &mut Observation) {
        let mut ask = Ask::default();
        let mut scanner = JsonScanner::new(body.len());
        let shape = &mut self.shape;
        scanner.feed(body, &mut |path, event| shape.request(path, &event, &mut ask));
        let mut keep = self.keep;
        if obs.capture == CaptureMode::Off {
            keep.content_budget = 0;
        }
        let Some(r) = self.shape.retrieval(ask, keep) else {
            return;
        };
        let max_string = if obs.capture == CaptureMode::Off {
            1024
        } else {
            self.keep.max_document_bytes.max(1024)
        };
        self.response = Some(JsonScanner::new(max_string));
        obs.retrieval = Some(Box::new(r));
    }

    fn on_stream_message(&mut self, _event: &[u8], piece: &[u8], _now_ns: u64, obs: &mut Observation) {
        self.read(piece, obs);
    }

    fn on_response_body(&mut self, body: &[u8], _now_ns: u64, obs: &mut Observation) {
        self.read(body, obs);
    }

    fn reading(&self) -> Reading {
        if self.response.is_some() {
            Reading::Pieces
        } else {
            Reading::Ignored
        }
    }
}

/// Finishes the request facts every store shares into `r`.
pub(super) fn apply_ask(r: &mut Retrieval, ask: Ask) {
    r.top_k = ask.top_k;
    r.query_count = ask.query_count;
    r.vector_dimension = (ask.vector.len() > 0).then(|| ask.vector.len());
    r.query_digest = ask.vector.finish();
    r.filter = ask.filter;
    r.query_text = ask.text;
    r.request_model = ask.model;
    if ask.namespace.is_some() {
        r.namespace = ask.namespace;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_every_store_by_its_paths_only() {
        let ep = |m: &str, p: &str| by_path(m, p);
        let v2 = "/api/v2/tenants/default_tenant/databases/default_database/collections";
        let id = "621072fb-e39c-42f6-90c4-7c198e78c401";
        assert_eq!(ep("POST", &format!("{v2}/{id}/query")), Some(Endpoint::ChromaQuery));
        assert_eq!(ep("POST", &format!("{v2}/{id}/get")), Some(Endpoint::ChromaGet));
        assert_eq!(ep("POST", &format!("{v2}/{id}/search")), Some(Endpoint::ChromaSearch));
        assert_eq!(
            ep("POST", &format!("/api/v1/collections/{id}/query")),
            Some(Endpoint::ChromaQuery)
        );
        assert_eq!(ep("GET", &format!("{v2}/moons-docs")), Some(Endpoint::ChromaCollection));
        assert_eq!(ep("POST", v2), Some(Endpoint::ChromaCollection));
        assert_eq!(ep("DELETE", &format!("{v2}/moons-docs")), None);
        for not_retrieval in ["add", "upsert", "update", "delete"] {
            assert_eq!(
                ep("POST", &format!("{v2}/{id}/{not_retrieval}")),
                None,
                "{not_retrieval}"
            );
        }
        assert_eq!(ep("GET", &format!("{v2}/{id}/count?read_level=index_and_wal")), None);
        assert_eq!(ep("GET", "/api/v2/heartbeat"), None);
        assert_eq!(
            ep("POST", "/collections/moons/points/query/batch"),
            Some(Endpoint::QdrantQuery { batch: true })
        );
        assert_eq!(
            ep("POST", "/collections/my%20docs/points/search"),
            Some(Endpoint::QdrantSearch { batch: false })
        );
        assert_eq!(ep("PUT", "/collections/moons/points"), None);
        assert_eq!(ep("POST", "/collections/moons/points/scroll"), None);
        assert_eq!(ep("POST", "/query"), Some(Endpoint::PineconeQuery));
        assert_eq!(
            ep("POST", "/records/namespaces/ns/search"),
            Some(Endpoint::PineconeSearch)
        );
        assert_eq!(ep("POST", "/moons/_search"), Some(Endpoint::Search { engine: None }));
        assert_eq!(ep("GET", "/_search"), Some(Endpoint::Search { engine: None }));
        assert_eq!(ep("POST", "/moons/_doc"), None);
        assert_eq!(ep("POST", "/v1/graphql"), Some(Endpoint::WeaviateGraphql));
        assert_eq!(
            ep("POST", "/gateway/collections/moons/points/query"),
            None,
            "a prefix needs an override"
        );
    }

    #[test]
    fn an_override_finds_the_stores_paths_under_a_prefix_and_names_the_search_engine() {
        assert_eq!(
            resolve(Store::Qdrant, "POST", "/gateway/collections/moons/points/query"),
            Some(Endpoint::QdrantQuery { batch: false })
        );
        assert_eq!(
            resolve(Store::OpenSearch, "POST", "/moons/_search"),
            Some(Endpoint::Search {
                engine: Some(Store::OpenSearch)
            })
        );
        assert_eq!(resolve(Store::Chroma, "POST", "/moons/_search"), None);
        assert_eq!(
            resolve(Store::Pinecone, "POST", "/pinecone/query"),
            Some(Endpoint::PineconeQuery)
        );
        assert_eq!(
            recognise("POST", "/collections/my%20docs/points/search", None).map(|(_, f)| f.collection),
            Some(Some("my docs".to_string()))
        );
    }

    #[test]
    fn configuration_ranges_name_the_field() {
        let raw: RawRetrieval = serde_json::from_str(r#"{"max_documents":0}"#).unwrap();
        assert_eq!(
            raw.validate().unwrap_err().field,
            "retrieval.max_documents",
            "at least one document"
        );
        let raw: RawRetrieval = serde_json::from_str(r#"{"enabled":false,"max_content_bytes":0}"#).unwrap();
        let c = raw.validate().unwrap();
        assert!(!c.enabled && c.max_content_bytes == 0 && c.max_documents == 100);
        assert!(serde_json::from_str::<RawRetrieval>(r#"{"max_docs":3}"#).is_err());
    }
}
