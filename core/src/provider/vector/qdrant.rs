//! Qdrant's REST API: the universal `/points/query` (qdrant-client 1.20 sends `{"query": {"nearest": [...]}}` and
//! fills `limit: 10`) and the legacy `/points/search` that older clients and frameworks still send, each with a
//! `/batch` form. Point ids are integers or UUIDs in the same collection; `prefetch` limits are candidate pools,
//! not top k.

use super::{apply_ask, decoded, Answer, Ask, Endpoint, Keep, PathFacts, Shape};
use crate::model::retrieval::{Retrieval, ScoreKind, Store};
use crate::wire::json_scan::{Event, Seg, Want};

/// `/collections/{c}/points/{query|search}[/batch]`; under an override, after any prefix.
pub(super) fn recognise(method: &str, segs: &[&str], lenient: bool) -> Option<(Endpoint, PathFacts)> {
    if method != "POST" {
        return None;
    }
    let (tail, batch) = match segs.split_last() {
        Some((&"batch", rest)) => (rest, true),
        _ => (segs, false),
    };
    let [prefix @ .., "collections", collection, "points", op] = tail else {
        return None;
    };
    if !lenient && !prefix.is_empty() {
        return None;
    }
    let endpoint = match *op {
        "query" => Endpoint::QdrantQuery { batch },
        "search" => Endpoint::QdrantSearch { batch },
        _ => return None,
    };
    Some((
        endpoint,
        PathFacts {
            collection: Some(decoded(collection)),
            namespace: None,
        },
    ))
}

/// One Qdrant query or search, single or batch.
pub(super) struct Qdrant {
    legacy_search: bool,
    batch: bool,
    facts: PathFacts,
}

impl Qdrant {
    pub(super) fn new(legacy_search: bool, batch: bool, facts: PathFacts) -> Qdrant {
        Qdrant {
            legacy_search,
            batch,
            facts,
        }
    }

    /// The search a request path belongs to, and the path inside that search.
    fn search_of<'p>(&self, path: &'p [Seg]) -> Option<(u32, &'p [Seg])> {
        if !self.batch {
            return Some((0, path));
        }
        match path {
            [Seg::Key(k), Seg::Index(s), rest @ ..] if k == "searches" => Some((*s, rest)),
            _ => None,
        }
    }

    /// The hits list of a response path: (query, path inside the hit) for a point's fields, or the hit itself.
    fn hit_of<'p>(&self, path: &'p [Seg]) -> Option<(u32, &'p [Seg])> {
        let (Seg::Key(result), rest) = path.split_first()? else {
            return None;
        };
        if result != "result" {
            return None;
        }
        match (self.legacy_search, self.batch, rest) {
            (false, false, [Seg::Key(p), Seg::Index(_), hit @ ..]) if p == "points" => Some((0, hit)),
            (false, true, [Seg::Index(q), Seg::Key(p), Seg::Index(_), hit @ ..]) if p == "points" => Some((*q, hit)),
            (true, false, [Seg::Index(_), hit @ ..]) => Some((0, hit)),
            (true, true, [Seg::Index(q), Seg::Index(_), hit @ ..]) => Some((*q, hit)),
            _ => None,
        }
    }

    /// The list that holds the hits (`result.points`, `result`, `result[q].points`, `result[q]`).
    fn is_hit_list(&self, path: &[Seg]) -> bool {
        let keys: Vec<Option<&str>> = super::keys(path).collect();
        match (self.legacy_search, self.batch) {
            (false, false) => keys == [Some("result"), Some("points")],
            (false, true) => keys.len() == 3 && keys[0] == Some("result") && keys[2] == Some("points"),
            (true, false) => keys == [Some("result")],
            (true, true) => keys.len() == 2 && keys[0] == Some("result") && path[1].index().is_some(),
        }
    }
}

impl Shape for Qdrant {
    fn request(&mut self, path: &[Seg], event: &Event<'_>, ask: &mut Ask) -> Want {
        if self.batch && path.len() == 2 && super::is(&path[..1], &["searches"]) && matches!(event, Event::Open(_)) {
            ask.query_count += 1;
            ask.top_k.push(None);
            return Want::Events;
        }
        let Some((search, inner)) = self.search_of(path) else {
            return Want::Events;
        };
        let first = search == 0;
        let key = |i: usize| inner.get(i).and_then(Seg::key);
        match (inner.len(), key(0), key(1), event) {
            (1, Some("limit"), _, Event::Num(n)) => ask.set_top_k(search, n),
            (1, Some("filter"), _, Event::Open(_)) => {
                ask.filter = true;
                return Want::Skip;
            }
            (1, Some("prefetch" | "params" | "lookup_from"), _, Event::Open(_)) => return Want::Skip,
            // `query: [...]`, `query: {"nearest": [...]}`; legacy `vector: [...]`, `vector: {"name", "vector": [...]}`.
            (2, Some("query" | "vector"), None, Event::Num(n)) if first => ask.vector_value(n),
            (3, Some("query"), Some("nearest"), Event::Num(n)) if first && inner[2].index().is_some() => {
                ask.vector_value(n)
            }
            (3, Some("vector"), Some("vector"), Event::Num(n)) if first && inner[2].index().is_some() => {
                ask.vector_value(n)
            }
            // A Document query (server-side inference): the text is on the wire.
            (2, Some("query"), Some("text"), Event::Str(t, _)) if first => ask.text = Some(t.to_string()),
            (3, Some("query"), Some("nearest"), Event::Str(t, _)) if first && key(2) == Some("text") => {
                ask.text = Some(t.to_string())
            }
            (2 | 3, Some("query"), _, Event::Str(m, _))
                if first && inner.last().and_then(Seg::key) == Some("model") =>
            {
                ask.model = Some(m.to_string())
            }
            _ => {}
        }
        Want::Events
    }

    fn retrieval(&mut self, mut ask: Ask, keep: Keep) -> Option<Retrieval> {
        let operation = if self.legacy_search { "search" } else { "query" };
        let mut r = Retrieval::new(Store::Qdrant, operation, keep.max_documents, keep.content_budget);
        r.batch = self.batch;
        r.score_kind = Some(ScoreKind::Score);
        r.data_source_id = self.facts.collection.clone();
        r.collection_name = self.facts.collection.clone();
        if !self.batch {
            ask.query_count = 1;
        }
        apply_ask(&mut r, ask);
        Some(r)
    }

    fn response(&mut self, path: &[Seg], event: &Event<'_>, a: &mut Answer<'_>) -> Want {
        if let Some((query, hit)) = self.hit_of(path) {
            match (hit, event) {
                ([], Event::Open(_)) => {
                    a.hit(query);
                }
                ([Seg::Key(k)], Event::Str(..) | Event::Num(_)) if k == "id" => a.id(event),
                ([Seg::Key(k)], Event::Num(_)) if k == "score" => a.score(event),
                ([Seg::Key(k)], Event::Open(_)) if k == "payload" => return a.metadata_want(a.r.current().is_some()),
                ([Seg::Key(k)], Event::Raw(_)) if k == "payload" => a.metadata(None, event),
                ([Seg::Key(_)], Event::Open(_)) => return Want::Skip, // vectors, shard keys, order values
                _ => {}
            }
            return Want::Events;
        }
        if self.is_hit_list(path) && matches!(event, Event::Open(_)) {
            a.r.results_seen();
        } else if super::is(path, &["status", "error"]) {
            if let Event::Str(message, _) = event {
                a.error(None, Some(message));
            }
        }
        Want::Events
    }
}
