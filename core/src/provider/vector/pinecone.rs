//! Pinecone's data plane on an index host (`{index}-{project}.svc.{environment}.pinecone.io`): `/query`
//! (`topK`, a vector or an id, a namespace in the body) and the integrated-inference records search
//! (`/records/namespaces/{ns}/search`, the query text on the wire, the fields asked for in the hits). The index
//! name is only in the host.

use super::{apply_ask, decoded, is, Answer, Ask, Endpoint, Keep, PathFacts, Shape};
use crate::model::retrieval::{Retrieval, ScoreKind, Store};
use crate::wire::json_scan::{Event, Seg, Want};

/// `/query` and `/records/namespaces/{ns}/search`; under an override, after any prefix.
pub(super) fn recognise(method: &str, segs: &[&str], lenient: bool) -> Option<(Endpoint, PathFacts)> {
    if method != "POST" {
        return None;
    }
    match segs {
        ["query"] => Some((Endpoint::PineconeQuery, PathFacts::default())),
        [.., "query"] if lenient => Some((Endpoint::PineconeQuery, PathFacts::default())),
        [prefix @ .., "records", "namespaces", namespace, "search"] if lenient || prefix.is_empty() => Some((
            Endpoint::PineconeSearch,
            PathFacts {
                collection: None,
                namespace: Some(decoded(namespace)),
            },
        )),
        _ => None,
    }
}

/// The index an index host serves: its first label without the project suffix (`moons-c01b5b5` → `moons`).
fn index_of(host: &str) -> Option<String> {
    if !host.ends_with(".pinecone.io") {
        return None;
    }
    let label = host.split('.').next()?;
    let index = match label.rsplit_once('-') {
        Some((index, project)) if project.len() == 7 && project.bytes().all(|b| b.is_ascii_hexdigit()) => index,
        _ => label,
    };
    Some(index.to_string())
}

/// One Pinecone query or records search.
pub(super) struct Pinecone {
    records: bool,
    facts: PathFacts,
    index: Option<String>,
    /// `/query` needs `topK`; without it the call is something else.
    saw_top_k: bool,
    /// The first field a records search asked for: the hits' text.
    text_field: Option<String>,
}

impl Pinecone {
    pub(super) fn new(endpoint: Endpoint, facts: PathFacts, host: Option<&str>) -> Pinecone {
        Pinecone {
            records: endpoint == Endpoint::PineconeSearch,
            facts,
            index: host.and_then(index_of),
            saw_top_k: false,
            text_field: None,
        }
    }
}

impl Shape for Pinecone {
    fn request(&mut self, path: &[Seg], event: &Event<'_>, ask: &mut Ask) -> Want {
        if self.records {
            match event {
                Event::Num(n) if is(path, &["query", "top_k"]) => {
                    ask.set_top_k(0, n);
                    self.saw_top_k = true;
                }
                Event::Str(t, _) if is(path, &["query", "inputs", "text"]) => ask.text = Some(t.to_string()),
                Event::Num(n) if path.len() == 4 && is(&path[..3], &["query", "vector", "values"]) => {
                    ask.vector_value(n)
                }
                Event::Open(_) if is(path, &["query", "filter"]) => {
                    ask.filter = true;
                    return Want::Skip;
                }
                Event::Str(f, _) if path.len() == 2 && is(&path[..1], &["fields"]) && self.text_field.is_none() => {
                    self.text_field = Some(f.to_string())
                }
                _ => {}
            }
            return Want::Events;
        }
        match event {
            Event::Num(n) if is(path, &["topK"]) => {
                ask.set_top_k(0, n);
                self.saw_top_k = true;
            }
            Event::Str(ns, _) if is(path, &["namespace"]) => ask.namespace = Some(ns.to_string()),
            Event::Num(n) if path.len() == 2 && is(&path[..1], &["vector"]) => ask.vector_value(n),
            Event::Open(_) if is(path, &["filter"]) => {
                ask.filter = true;
                return Want::Skip;
            }
            Event::Open(_) if is(path, &["sparseVector"]) || is(path, &["queries"]) => return Want::Skip,
            _ => {}
        }
        Want::Events
    }

    fn retrieval(&mut self, mut ask: Ask, keep: Keep) -> Option<Retrieval> {
        if !self.saw_top_k {
            return None;
        }
        let operation = if self.records { "search" } else { "query" };
        let mut r = Retrieval::new(Store::Pinecone, operation, keep.max_documents, keep.content_budget);
        r.score_kind = Some(ScoreKind::Score);
        r.data_source_id = self.index.clone();
        r.collection_name = self.index.clone();
        r.namespace = self.facts.namespace.clone();
        ask.query_count = 1;
        apply_ask(&mut r, ask);
        Some(r)
    }

    fn response(&mut self, path: &[Seg], event: &Event<'_>, a: &mut Answer<'_>) -> Want {
        let (list, id_key, score_key): (&[&str], _, _) = if self.records {
            (&["result", "hits"], "_id", "_score")
        } else {
            (&["matches"], "id", "score")
        };
        if is(path, list) {
            if matches!(event, Event::Open(_)) {
                a.r.results_seen();
            }
            return Want::Events;
        }
        let in_hit = path.len() > list.len() && is(&path[..list.len()], list) && path[list.len()].index().is_some();
        if in_hit {
            let hit = &path[list.len() + 1..];
            let field = hit.first().and_then(Seg::key);
            match (hit.len(), field, event) {
                (0, _, Event::Open(_)) => {
                    a.hit(0);
                }
                (1, Some(k), _) if k == id_key => a.id(event),
                (1, Some(k), _) if k == score_key => a.score(event),
                (1, Some("metadata"), Event::Open(_)) if !self.records => {
                    return a.metadata_want(a.r.current().is_some())
                }
                (1, Some("metadata"), Event::Raw(_)) if !self.records => a.metadata(None, event),
                (1, Some("fields"), Event::Open(_)) if self.records && a.capture => return Want::Events,
                (2, Some("fields"), Event::Str(..)) if hit[1].key() == self.text_field.as_deref() => {
                    a.content(None, event)
                }
                (_, _, Event::Open(_)) => return Want::Skip, // values, sparse values, other fields
                _ => {}
            }
            return Want::Events;
        }
        match event {
            // rpcStatus `{"code": 3, "message": ...}`, or `{"error": {"code": "...", "message": ...}}`.
            Event::Str(m, _) if is(path, &["message"]) || is(path, &["error", "message"]) => a.error(None, Some(m)),
            Event::Str(code, _) if is(path, &["error", "code"]) => a.error(Some(code), None),
            Event::Open(_) if is(path, &["results"]) || is(path, &["usage"]) => return Want::Skip,
            _ => {}
        }
        Want::Events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_the_hosts_first_label_without_the_project() {
        assert_eq!(
            index_of("moons-c01b5b5.svc.aped-4627-b74a.pinecone.io").as_deref(),
            Some("moons")
        );
        assert_eq!(
            index_of("semantic-search-c01b5b5.svc.us-west1-gcp.pinecone.io").as_deref(),
            Some("semantic-search")
        );
        assert_eq!(index_of("docs.svc.pinecone.io").as_deref(), Some("docs"));
        assert_eq!(index_of("127.0.0.1"), None);
    }
}
