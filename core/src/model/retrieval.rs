//! What one vector-store query asked and got back, as plain data: the store, the collection, what was asked (top k,
//! vectors, a filter, a query text where it is on the wire) and the documents returned (id, score, and under content
//! capture their text and metadata), bounded. Also the facts a store teaches for later calls (a Chroma collection's
//! name behind its id) and the digest that ties a query vector to the embeddings call that produced it.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// The vector stores the tracer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    Chroma,
    Qdrant,
    Pinecone,
    Elasticsearch,
    OpenSearch,
    Weaviate,
}

impl Store {
    /// `db.system.name`: the registry's `elasticsearch` and `opensearch`; for the others the conventions' rule for
    /// a DBMS they do not list (its name, lower case, no version).
    pub(crate) fn db_system(self) -> &'static str {
        match self {
            Store::Chroma => "chroma",
            Store::Qdrant => "qdrant",
            Store::Pinecone => "pinecone",
            Store::Elasticsearch => "elasticsearch",
            Store::OpenSearch => "opensearch",
            Store::Weaviate => "weaviate",
        }
    }
}

/// What the scores of a retrieval are, as the store returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScoreKind {
    /// A distance: smaller is closer (Chroma `distances`, Weaviate `distance`); can be slightly negative.
    Distance,
    /// The store's score (Qdrant, Pinecone, Elasticsearch, OpenSearch, Chroma `search`): higher is closer for
    /// cosine and dot-product metrics; Qdrant and Pinecone return a distance for Euclidean ones.
    Score,
    /// Weaviate's `certainty` (higher is closer).
    Certainty,
}

impl ScoreKind {
    /// `llm.retrieval.score.kind`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ScoreKind::Distance => "distance",
            ScoreKind::Score => "score",
            ScoreKind::Certainty => "certainty",
        }
    }
}

/// One returned document.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Document {
    /// Which query vector or search of the call it answers (0 for a single query).
    pub(crate) query: u32,
    /// The id as the store wrote it (a Qdrant integer id in decimal).
    pub(crate) id: Option<String>,
    pub(crate) score: Option<f64>,
    /// The document text (content capture only).
    pub(crate) content: Option<String>,
    /// The document's metadata as raw JSON (content capture only).
    pub(crate) metadata: Option<String>,
}

/// Everything known about one vector-store query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Retrieval {
    pub(crate) store: Store,
    /// `db.operation.name` without a batch prefix: `query`, `get`, `search`, `Get` (Weaviate GraphQL).
    pub(crate) operation: &'static str,
    /// The call is a batch of searches (Qdrant `/batch`).
    pub(crate) batch: bool,
    /// `gen_ai.data_source.id`: the store's own identifier on the wire (a Chroma collection id, a Qdrant
    /// collection, a Pinecone index, an Elasticsearch index, a Weaviate class).
    pub(crate) data_source_id: Option<String>,
    /// `db.collection.name`: as the application named it (for Chroma learnt from an earlier collection call).
    pub(crate) collection_name: Option<String>,
    /// `db.namespace`.
    pub(crate) namespace: Option<String>,
    /// Documents asked for, per query or search (`None` where the request leaves it to the store).
    pub(crate) top_k: Vec<Option<u64>>,
    /// Query vectors or searches in the call (0 for a get by ids).
    pub(crate) query_count: u32,
    /// Length of the first query vector.
    pub(crate) vector_dimension: Option<u32>,
    /// The query text, where it is on the wire (content capture only).
    pub(crate) query_text: Option<String>,
    /// The request carries a metadata filter.
    pub(crate) filter: bool,
    /// The embedding model named in the request (Elasticsearch `query_vector_builder`, OpenSearch `neural`).
    pub(crate) request_model: Option<String>,
    pub(crate) score_kind: Option<ScoreKind>,
    /// The collection's distance metric where known (a Chroma collection's `hnsw.space`, learnt).
    pub(crate) distance_metric: Option<String>,
    /// The documents kept, in wire order (at most the configured number).
    pub(crate) documents: Vec<Document>,
    /// Hits returned, all of them counted; `None` until a result list was seen (an error has none).
    pub(crate) returned_rows: Option<u64>,
    /// Hits counted but not kept (past the configured number).
    pub(crate) documents_dropped: u64,
    /// Documents whose text or metadata was left out because the capture budget was spent.
    pub(crate) content_omitted: u64,
    /// Digest of the first query vector's leading values (see [`VectorDigest`]).
    pub(crate) query_digest: Option<u64>,
    /// The embeddings call whose answer was the query vector, when it can be told.
    pub(crate) query_embedding: Option<SpanRef>,
    /// Content bytes that may still be kept.
    pub(crate) content_budget: usize,
    /// Documents that may be kept.
    pub(crate) max_documents: usize,
    /// The document receiving the fields of the hit being read.
    current: Option<usize>,
}

impl Retrieval {
    /// A retrieval from `store` keeping at most `max_documents` documents and `content_budget` bytes of their text
    /// and metadata.
    pub(crate) fn new(store: Store, operation: &'static str, max_documents: usize, content_budget: usize) -> Retrieval {
        Retrieval {
            store,
            operation,
            batch: false,
            data_source_id: None,
            collection_name: None,
            namespace: None,
            top_k: Vec::new(),
            query_count: 0,
            vector_dimension: None,
            query_text: None,
            filter: false,
            request_model: None,
            score_kind: None,
            distance_metric: None,
            documents: Vec::new(),
            returned_rows: None,
            documents_dropped: 0,
            content_omitted: 0,
            query_digest: None,
            query_embedding: None,
            content_budget,
            max_documents,
            current: None,
        }
    }

    /// A result list was seen (possibly empty).
    pub(crate) fn results_seen(&mut self) {
        self.returned_rows.get_or_insert(0);
    }

    /// A hit begins: counted, and kept while there is room. Returns its position among the kept documents.
    pub(crate) fn begin_hit(&mut self, query: u32) -> Option<usize> {
        *self.returned_rows.get_or_insert(0) += 1;
        if self.documents.len() >= self.max_documents {
            self.documents_dropped += 1;
            self.current = None;
            return None;
        }
        self.documents.push(Document {
            query,
            ..Default::default()
        });
        self.current = Some(self.documents.len() - 1);
        self.current
    }

    /// A hit counted but not kept.
    pub(crate) fn count_hit(&mut self) {
        *self.returned_rows.get_or_insert(0) += 1;
        self.documents_dropped += 1;
    }

    /// The document of the hit being read, if it is kept.
    pub(crate) fn hit(&mut self) -> Option<&mut Document> {
        self.current.and_then(|i| self.documents.get_mut(i))
    }

    /// The position of the hit being read, if it is kept.
    pub(crate) fn current(&self) -> Option<usize> {
        self.current
    }

    /// The kept document at `position`.
    pub(crate) fn document(&mut self, position: usize) -> Option<&mut Document> {
        self.documents.get_mut(position)
    }

    /// Spends `bytes` of the content budget; `false` (and counted) when it is spent.
    pub(crate) fn take_budget(&mut self, bytes: usize) -> bool {
        if bytes <= self.content_budget {
            self.content_budget -= bytes;
            true
        } else {
            self.content_omitted += 1;
            false
        }
    }

    /// `top_k` when every query asked for the same number.
    pub(crate) fn single_top_k(&self) -> Option<u64> {
        let first = (*self.top_k.first()?)?;
        self.top_k.iter().all(|k| *k == Some(first)).then_some(first)
    }
}

/// A span another call produced: its trace and span ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpanRef {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: [u8; 8],
}

/// A Chroma collection as a collection call's answer describes it: the id query paths carry, the name the
/// application gave it, its distance metric.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CollectionFact {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) metric: Option<String>,
}

/// What a worker remembers about a collection, by its id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CollectionInfo {
    pub(crate) name: String,
    pub(crate) metric: Option<String>,
}

/// An embeddings call, remembered by the digest of a vector it returned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EmbeddingOrigin {
    pub(crate) span: SpanRef,
    /// When its call finished (monotonic).
    pub(crate) at_ns: u64,
}

/// Values of a vector that enter its digest: enough to tell real embeddings apart, few enough to read cheaply from
/// a base64 prefix.
pub(crate) const DIGEST_VALUES: u32 = 16;

/// A digest of a vector's first [`DIGEST_VALUES`] values as `f32` (FNV-1a over their bits and how many there
/// were). An embeddings API's answer and the vector a client later sends to a store give the same digest when the
/// application passed the vector through: the openai SDK's base64 `f32`s, chromadb's JSON rendering of those
/// `f32`s, and decimal floats parsed back to `f32` all carry the same bits. Not a security boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VectorDigest {
    hash: u64,
    values: u32,
}

impl Default for VectorDigest {
    fn default() -> Self {
        VectorDigest {
            hash: 0xcbf2_9ce4_8422_2325,
            values: 0,
        }
    }
}

impl VectorDigest {
    /// Adds the next value (past the first [`DIGEST_VALUES`], only counted).
    pub(crate) fn push(&mut self, value: f32) {
        if self.values < DIGEST_VALUES {
            self.mix(&value.to_bits().to_le_bytes());
        }
        self.values = self.values.saturating_add(1);
    }

    /// Values pushed.
    pub(crate) fn len(&self) -> u32 {
        self.values
    }

    /// The digest, or `None` for an empty vector.
    pub(crate) fn finish(mut self) -> Option<u64> {
        if self.values == 0 {
            return None;
        }
        let hashed = self.values.min(DIGEST_VALUES);
        self.mix(&hashed.to_le_bytes());
        Some(self.hash)
    }

    fn mix(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.hash ^= u64::from(b);
            self.hash = self.hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A map of at most `capacity` entries that forgets its oldest entry to make room (per-worker learnt state).
#[derive(Debug)]
pub(crate) struct LearnedMap<K, V> {
    entries: HashMap<K, V>,
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V> LearnedMap<K, V> {
    pub(crate) fn new(capacity: usize) -> LearnedMap<K, V> {
        LearnedMap {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Inserts or replaces; returns how many old entries were forgotten to make room.
    pub(crate) fn insert(&mut self, key: K, value: V) -> u64 {
        if self.capacity == 0 {
            return 0;
        }
        if let Some(v) = self.entries.get_mut(&key) {
            *v = value;
            return 0;
        }
        let mut evicted = 0;
        while self.entries.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if self.entries.remove(&oldest).is_some() {
                evicted += 1;
            }
        }
        self.order.push_back(key.clone());
        self.entries.insert(key, value);
        evicted
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_sees_f32_bits_and_the_count_only() {
        let digest = |values: &[f64]| {
            let mut d = VectorDigest::default();
            values.iter().for_each(|v| d.push(*v as f32));
            d.finish()
        };
        // chromadb writes the f32 0.85 as 0.8500000238418579; the embeddings API said 0.85 (as f32 bytes).
        assert_eq!(digest(&[0.85, 0.2]), digest(&[0.8500000238418579, 0.20000000298023224]));
        assert_ne!(digest(&[0.85, 0.2]), digest(&[0.2, 0.85]));
        assert_ne!(digest(&[0.85, 0.2]), digest(&[0.85, 0.2, 0.0]));
        let long: Vec<f64> = (0..40).map(f64::from).collect();
        let mut longer = long.clone();
        longer[30] = -1.0;
        assert_eq!(digest(&long), digest(&longer), "only the first values count");
        assert_eq!(digest(&[]), None);
    }

    #[test]
    fn learned_map_forgets_the_oldest_and_counts_it() {
        let mut m = LearnedMap::new(2);
        assert_eq!(m.insert("a", 1), 0);
        assert_eq!(m.insert("b", 2), 0);
        assert_eq!(m.insert("a", 3), 0, "a replacement makes no room");
        assert_eq!(m.insert("c", 4), 1);
        assert_eq!((m.get(&"a"), m.get(&"b"), m.get(&"c")), (None, Some(&2), Some(&4)));
        assert_eq!((m.len(), m.insert("d", 5)), (2, 1));
        assert_eq!(LearnedMap::new(0).insert("x", 1), 0);
    }

    #[test]
    fn hits_past_the_cap_are_counted_not_kept() {
        let mut r = Retrieval::new(Store::Qdrant, "query", 2, 10);
        assert_eq!(r.returned_rows, None);
        for q in 0..3 {
            r.begin_hit(q);
            if let Some(d) = r.hit() {
                d.id = Some(q.to_string());
            }
        }
        assert_eq!(
            (r.returned_rows, r.documents.len(), r.documents_dropped),
            (Some(3), 2, 1)
        );
        assert!(r.hit().is_none());
        assert!(r.take_budget(10) && !r.take_budget(1));
        assert_eq!(r.content_omitted, 1);
        r.top_k = vec![Some(2), Some(2)];
        assert_eq!(r.single_top_k(), Some(2));
        r.top_k = vec![Some(1), Some(2)];
        assert_eq!(r.single_top_k(), None);
    }
}
