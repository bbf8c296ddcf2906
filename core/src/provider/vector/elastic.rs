//! Elasticsearch and OpenSearch kNN searches on `/{index}/_search`. They share the path and the hits; the body
//! tells them apart: Elasticsearch's top-level `knn` (object or list), `retriever.knn` or `query.knn.field`, and
//! OpenSearch's `query.knn.<vector field>` or `query.neural.<field>`. A `_search` with none of these is an ordinary
//! search and leaves no trace.

use super::{apply_ask, decoded, is, Answer, Ask, Endpoint, Keep, PathFacts, Shape};
use crate::model::retrieval::{Retrieval, ScoreKind, Store};
use crate::wire::json_scan::{Event, Seg, Want};

/// `/{index}/_search` and `/_search` (GET or POST); under an override, after any prefix.
pub(super) fn recognise(method: &str, segs: &[&str], lenient: bool) -> Option<(Endpoint, PathFacts)> {
    if method != "POST" && method != "GET" {
        return None;
    }
    let (index, prefix) = match segs {
        [.., index, "_search"] if !index.starts_with('_') => (Some(*index), segs.len() - 2),
        [.., "_search"] => (None, segs.len() - 1),
        _ => return None,
    };
    if prefix > 0 && !lenient {
        return None;
    }
    Some((
        Endpoint::Search { engine: None },
        PathFacts {
            collection: index.map(decoded),
            namespace: None,
        },
    ))
}

/// Members of Elasticsearch's `query.knn` (anything else there is an OpenSearch vector field).
const ES_QUERY_KNN_KEYS: [&str; 9] = [
    "field",
    "query_vector",
    "query_vector_builder",
    "k",
    "num_candidates",
    "filter",
    "similarity",
    "boost",
    "_name",
];

/// One `_search`.
pub(super) struct Search {
    engine: Option<Store>,
    facts: PathFacts,
    /// Elasticsearch's top-level (or retriever) `knn`: top k is its `k`.
    es_knn: bool,
    /// Elasticsearch's `query.knn`: top k is `size`.
    es_query_knn: bool,
    /// OpenSearch's `query.knn.<field>` or `query.neural.<field>`.
    opensearch: bool,
    size: Option<String>,
    k: Option<String>,
}

impl Search {
    pub(super) fn new(engine: Option<Store>, facts: PathFacts) -> Search {
        Search {
            engine,
            facts,
            es_knn: false,
            es_query_knn: false,
            opensearch: false,
            size: None,
            k: None,
        }
    }

    /// Facts inside one kNN clause, wherever it sits (`first`: the clause whose vector and k count).
    fn clause(&mut self, first: bool, rest: &[Seg], event: &Event<'_>, ask: &mut Ask) -> Want {
        let key = rest.first().and_then(Seg::key);
        match (rest.len(), key, event) {
            (1, Some("k"), Event::Num(n)) if first => self.k = Some(n.to_string()),
            (2, Some("query_vector" | "vector"), Event::Num(n)) if first && rest[1].index().is_some() => {
                ask.vector_value(n)
            }
            (1, Some("filter"), Event::Open(_)) => {
                ask.filter = true;
                return Want::Skip;
            }
            (3, Some("query_vector_builder"), Event::Str(t, _))
                if first && is(&rest[1..], &["text_embedding", "model_text"]) =>
            {
                ask.text = Some(t.to_string())
            }
            (3, Some("query_vector_builder"), Event::Str(m, _))
                if first && is(&rest[1..], &["text_embedding", "model_id"]) =>
            {
                ask.model = Some(m.to_string())
            }
            (1, Some("query_text"), Event::Str(t, _)) if first => ask.text = Some(t.to_string()),
            (1, Some("model_id"), Event::Str(m, _)) if first => ask.model = Some(m.to_string()),
            _ => {}
        }
        Want::Events
    }
}

impl Shape for Search {
    fn request(&mut self, path: &[Seg], event: &Event<'_>, ask: &mut Ask) -> Want {
        let key = |i: usize| path.get(i).and_then(Seg::key);
        match (key(0), key(1)) {
            (Some("size"), None) if path.len() == 1 => {
                if let Event::Num(n) = event {
                    self.size = Some(n.to_string());
                }
                Want::Events
            }
            (Some("knn"), _) => {
                self.es_knn = true;
                match (path.get(1), event) {
                    (None, Event::Open(_)) => {
                        ask.query_count = ask.query_count.max(1);
                        Want::Events
                    }
                    (Some(Seg::Index(j)), _) => {
                        if path.len() == 2 && matches!(event, Event::Open(_)) && *j > 0 {
                            ask.query_count += 1;
                        }
                        self.clause(*j == 0, &path[2..], event, ask)
                    }
                    _ => self.clause(true, &path[1..], event, ask),
                }
            }
            (Some("retriever"), Some("knn")) => {
                self.es_knn = true;
                ask.query_count = 1;
                self.clause(true, &path[2..], event, ask)
            }
            (Some("query"), Some("knn")) => {
                ask.query_count = 1;
                match (key(2), path.len(), event) {
                    (Some("field"), 3, Event::Str(..)) => {
                        self.es_query_knn = true;
                        Want::Events
                    }
                    (Some(k), _, _) if ES_QUERY_KNN_KEYS.contains(&k) => self.clause(true, &path[2..], event, ask),
                    (Some(_), 3, Event::Open(_)) => {
                        self.opensearch = true;
                        Want::Events
                    }
                    (Some(_), _, _) => self.clause(true, &path[3..], event, ask),
                    _ => Want::Events,
                }
            }
            (Some("query"), Some("neural")) if path.len() >= 3 => {
                self.opensearch = true;
                ask.query_count = 1;
                self.clause(true, &path[3..], event, ask)
            }
            (Some("aggs" | "aggregations" | "highlight" | "sort" | "_source"), None) => match event {
                Event::Open(_) => Want::Skip,
                _ => Want::Events,
            },
            _ => Want::Events,
        }
    }

    fn retrieval(&mut self, mut ask: Ask, keep: Keep) -> Option<Retrieval> {
        let vector_search = self.es_knn || self.es_query_knn || self.opensearch;
        if !vector_search {
            return None;
        }
        let store = self
            .engine
            .unwrap_or(if self.opensearch && !self.es_knn && !self.es_query_knn {
                Store::OpenSearch
            } else {
                Store::Elasticsearch
            });
        let size = self.size.as_deref();
        let k = self.k.as_deref();
        let top_k = if self.es_knn {
            k.or(size)
        } else if self.es_query_knn {
            size.or(Some("10"))
        } else {
            size.or(k)
        };
        ask.top_k.clear();
        if let Some(n) = top_k {
            ask.set_top_k(0, n);
        }
        let mut r = Retrieval::new(store, "search", keep.max_documents, keep.content_budget);
        r.score_kind = Some(ScoreKind::Score);
        r.data_source_id = self.facts.collection.clone();
        r.collection_name = self.facts.collection.clone();
        apply_ask(&mut r, ask);
        Some(r)
    }

    fn response(&mut self, path: &[Seg], event: &Event<'_>, a: &mut Answer<'_>) -> Want {
        if is(path, &["hits", "hits"]) {
            if matches!(event, Event::Open(_)) {
                a.r.results_seen();
            }
            return Want::Events;
        }
        if path.len() >= 3 && is(&path[..2], &["hits", "hits"]) && path[2].index().is_some() {
            let field = path.get(3).and_then(Seg::key);
            match (path.len(), field, event) {
                (3, _, Event::Open(_)) => {
                    a.hit(0);
                }
                (4, Some("_id"), _) => a.id(event),
                (4, Some("_score"), _) => a.score(event),
                (4, Some("_source"), Event::Open(_)) => return a.metadata_want(a.r.current().is_some()),
                (4, Some("_source"), Event::Raw(_)) => a.metadata(None, event),
                (4, _, Event::Open(_)) => return Want::Skip, // fields, highlight, inner hits, sort values
                _ => {}
            }
            return Want::Events;
        }
        match event {
            Event::Str(kind, _) if is(path, &["error", "type"]) => a.error(Some(kind), None),
            Event::Str(reason, _) if is(path, &["error", "reason"]) => a.error(None, Some(reason)),
            Event::Str(message, _) if is(path, &["error"]) => a.error(None, Some(message)),
            Event::Open(_) if path.len() == 1 && path[0].key() != Some("hits") && path[0].key() != Some("error") => {
                return Want::Skip; // _shards, aggregations, suggest, profile
            }
            Event::Open(_) if is(path, &["error", "root_cause"]) || is(path, &["hits", "total"]) => return Want::Skip,
            _ => {}
        }
        Want::Events
    }
}
