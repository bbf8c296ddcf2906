//! Chroma (the Rust frontend of chromadb 1.x, REST API v2; v1 paths as old clients send them). Query paths carry
//! the collection's id, never its name: the name is in the answers of the collection calls (`GET
//! .../collections/{name}`, create, list), which [`CollectionDecoder`] reads so the tracer can remember it per
//! worker. A query answer lists ids first and distances last, one inner list per query vector; embeddings, when
//! included, are skipped unread.

use super::{apply_ask, decoded, is, Answer, Ask, Endpoint, Keep, PathFacts, Shape};
use crate::model::observation::Observation;
use crate::model::retrieval::{CollectionFact, Retrieval, ScoreKind, Store};
use crate::provider::{ApiDecoder, Reading};
use crate::wire::json_scan::{Event, JsonScanner, Seg, Want};

/// Query vectors whose rows are tracked (a call with more still counts every hit).
const MAX_QUERIES: usize = 1024;
/// Collections learnt from one list answer.
const MAX_LISTED: usize = 64;

/// Chroma paths: `/api/v2/tenants/{t}/databases/{d}/collections[/{id}/{query|get|search}|/{name}]` and
/// `/api/v1/collections/{id}/{query|get}`. Under an override, after any prefix.
pub(super) fn recognise(method: &str, segs: &[&str], lenient: bool) -> Option<(Endpoint, PathFacts)> {
    let start = if lenient {
        segs.windows(2)
            .position(|w| w[0] == "api" && (w[1] == "v2" || w[1] == "v1"))?
    } else {
        0
    };
    match &segs[start..] {
        ["api", "v2", "tenants", tenant, "databases", database, "collections", rest @ ..] => {
            let namespace = Some(format!("{}|{}", decoded(tenant), decoded(database)));
            let facts = |collection: Option<&str>| PathFacts {
                collection: collection.map(decoded),
                namespace: namespace.clone(),
            };
            match (method, rest) {
                ("POST" | "GET", []) => Some((Endpoint::ChromaCollection, facts(None))),
                ("GET", [name]) => Some((Endpoint::ChromaCollection, facts(Some(name)))),
                ("POST", [id, op]) => Some((operation(op)?, facts(Some(id)))),
                _ => None,
            }
        }
        ["api", "v1", "collections", id, op @ ("query" | "get")] if method == "POST" => Some((
            operation(op)?,
            PathFacts {
                collection: Some(decoded(id)),
                namespace: None,
            },
        )),
        _ => None,
    }
}

fn operation(op: &str) -> Option<Endpoint> {
    Some(match op {
        "query" => Endpoint::ChromaQuery,
        "get" => Endpoint::ChromaGet,
        "search" => Endpoint::ChromaSearch,
        _ => return None,
    })
}

/// One Chroma `query`, `get` or `search`.
pub(super) struct Chroma {
    endpoint: Endpoint,
    facts: PathFacts,
    rows: Vec<Row>,
}

/// One query's hits among the kept documents.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// Position of its first kept document.
    first: usize,
    kept: usize,
    /// Ranks counted so far.
    seen: usize,
}

impl Chroma {
    pub(super) fn new(endpoint: Endpoint, facts: PathFacts) -> Chroma {
        Chroma {
            endpoint,
            facts,
            rows: Vec::new(),
        }
    }

    /// `[q][i]` (query, search) or `[i]` (get) after a top-level member: (query, rank).
    fn row_rank(&self, rest: &[Seg]) -> Option<(u32, u32)> {
        match (self.endpoint, rest) {
            (Endpoint::ChromaGet, [Seg::Index(i)]) => Some((0, *i)),
            (Endpoint::ChromaGet, _) => None,
            (_, [Seg::Index(q), Seg::Index(i)]) => Some((*q, *i)),
            _ => None,
        }
    }

    /// The kept document of the hit at `rest`, counting the hit the first time any list names it. Chroma lists
    /// ids first, but every list (`ids`, `distances`, `documents`, `metadatas`) is per query in rank order, so
    /// whichever comes first makes the hits.
    fn slot(&mut self, rest: &[Seg], a: &mut Answer<'_>) -> Option<usize> {
        let (q, i) = self.row_rank(rest)?;
        let (q, i) = (q as usize, i as usize);
        if q >= MAX_QUERIES {
            return None;
        }
        while self.rows.len() <= q {
            let first = a.r.documents.len();
            self.rows.push(Row {
                first,
                kept: 0,
                seen: 0,
            });
        }
        let row = &mut self.rows[q];
        if i == row.seen {
            row.seen += 1;
            // A query's documents stay together: a late hit after another query's is counted, not kept.
            if row.first + row.kept == a.r.documents.len() {
                if a.hit(q as u32).is_some() {
                    row.kept += 1;
                }
            } else {
                a.r.count_hit();
            }
        }
        (i < row.kept).then_some(row.first + i)
    }
}

impl Shape for Chroma {
    fn request(&mut self, path: &[Seg], event: &Event<'_>, ask: &mut Ask) -> Want {
        let top = path.first().and_then(Seg::key);
        let rest = path.get(1..).unwrap_or_default();
        match (self.endpoint, top, rest, event) {
            (_, Some("where" | "where_document"), [], Event::Open(_)) => {
                ask.filter = true;
                Want::Skip
            }
            (_, Some("ids" | "include"), [], Event::Open(_)) => Want::Skip,
            (Endpoint::ChromaQuery, Some("query_embeddings"), [Seg::Index(q)], Event::Open(_)) => {
                ask.query_count += 1;
                if *q == 0 {
                    Want::Events
                } else {
                    Want::Skip
                }
            }
            (Endpoint::ChromaQuery, Some("query_embeddings"), [Seg::Index(0), Seg::Index(_)], Event::Num(n)) => {
                ask.vector_value(n);
                Want::Events
            }
            (Endpoint::ChromaQuery, Some("n_results"), [], Event::Num(n)) => {
                ask.set_top_k(0, n);
                Want::Events
            }
            (Endpoint::ChromaGet, Some("limit"), [], Event::Num(n)) => {
                ask.set_top_k(0, n);
                Want::Events
            }
            (Endpoint::ChromaSearch, Some("searches"), rest, event) => search_request(rest, event, ask),
            _ => Want::Events,
        }
    }

    fn retrieval(&mut self, ask: Ask, keep: Keep) -> Option<Retrieval> {
        let (operation, score_kind) = match self.endpoint {
            Endpoint::ChromaGet => ("get", None),
            Endpoint::ChromaSearch => ("search", Some(ScoreKind::Score)),
            _ => ("query", Some(ScoreKind::Distance)),
        };
        let mut r = Retrieval::new(Store::Chroma, operation, keep.max_documents, keep.content_budget);
        r.score_kind = score_kind;
        r.data_source_id = self.facts.collection.clone();
        r.namespace = self.facts.namespace.clone();
        apply_ask(&mut r, ask);
        Some(r)
    }

    fn response(&mut self, path: &[Seg], event: &Event<'_>, a: &mut Answer<'_>) -> Want {
        let Some((Seg::Key(top), rest)) = path.split_first() else {
            return Want::Events;
        };
        let score_list = if self.endpoint == Endpoint::ChromaSearch {
            "scores"
        } else {
            "distances"
        };
        let top = top.as_str();
        let list = matches!(top, "ids" | "documents" | "metadatas") || top == score_list;
        match (top, rest, event) {
            ("error", [], Event::Str(kind, _)) => a.error(Some(kind), None),
            ("message", [], Event::Str(message, _)) => a.error(None, Some(message)),
            ("documents" | "metadatas", [], Event::Open(_)) if !a.capture => return Want::Skip,
            (_, [], Event::Open(_)) if list => a.r.results_seen(),
            ("ids", _, Event::Str(id, _)) => {
                if let Some(doc) = self.slot(rest, a).and_then(|p| a.r.document(p)) {
                    doc.id = Some(id.to_string());
                }
            }
            (_, _, Event::Num(_)) if top == score_list => {
                if let Some(p) = self.slot(rest, a) {
                    if let (Some(score), Some(doc)) = (super::number(event), a.r.document(p)) {
                        doc.score = Some(score);
                    }
                }
            }
            ("documents", _, Event::Str(..)) => {
                if let Some(p) = self.slot(rest, a) {
                    a.content(Some(p), event);
                }
            }
            ("metadatas", _, Event::Open(_)) if self.row_rank(rest).is_some() => {
                let p = self.slot(rest, a);
                return a.metadata_want(p.is_some());
            }
            ("metadatas", _, Event::Raw(_)) => {
                if let Some(p) = self.slot(rest, a) {
                    a.metadata(Some(p), event);
                }
            }
            ("metadatas", _, Event::Null) => {
                self.slot(rest, a);
            }
            ("embeddings" | "uris" | "include" | "select", [], Event::Open(_)) => return Want::Skip,
            _ => {}
        }
        Want::Events
    }
}

/// `searches[s]` of a Search API request: `limit.limit` is top k; `rank.$knn.query` the first search's vector.
fn search_request(rest: &[Seg], event: &Event<'_>, ask: &mut Ask) -> Want {
    match (rest, event) {
        ([Seg::Index(_)], Event::Open(_)) => {
            ask.query_count += 1;
        }
        ([Seg::Index(s), Seg::Key(l), Seg::Key(l2)], Event::Num(n)) if l == "limit" && l2 == "limit" => {
            ask.set_top_k(*s, n);
        }
        ([Seg::Index(0), Seg::Key(rank), Seg::Key(knn), Seg::Key(query), Seg::Index(_)], Event::Num(n))
            if rank == "rank" && knn == "$knn" && query == "query" =>
        {
            ask.vector_value(n);
        }
        ([Seg::Index(_), Seg::Key(filter)], Event::Open(_)) if filter == "filter" => {
            ask.filter = true;
            return Want::Skip;
        }
        _ => {}
    }
    Want::Events
}

/// A collection call: no span, but its answer names the collection behind its id (create, get by name, list).
/// A deletion is not read: a later query on the deleted id still deserves the name it had.
pub(super) struct CollectionDecoder {
    scanner: JsonScanner,
    current: Learning,
}

#[derive(Default)]
struct Learning {
    id: Option<String>,
    name: Option<String>,
    metric: Option<String>,
}

impl Learning {
    fn fact(&mut self) -> Option<CollectionFact> {
        let l = std::mem::take(self);
        Some(CollectionFact {
            id: l.id?,
            name: l.name?,
            metric: l.metric,
        })
    }
}

impl CollectionDecoder {
    pub(super) fn new() -> CollectionDecoder {
        CollectionDecoder {
            scanner: JsonScanner::new(512),
            current: Learning::default(),
        }
    }

    fn read(&mut self, piece: &[u8], obs: &mut Observation) {
        if obs.http_status != Some(200) {
            return;
        }
        let CollectionDecoder { scanner, current } = self;
        let facts = &mut obs.learned_collections;
        scanner.feed(piece, &mut |path, event| {
            // One collection (create, get) or a list of them.
            let (listed, rest) = match path.split_first() {
                Some((Seg::Index(_), rest)) => (true, rest),
                _ => (false, path),
            };
            match (rest, &event) {
                ([], Event::Close(_)) if facts.len() < MAX_LISTED => facts.extend(current.fact()),
                ([Seg::Key(k)], Event::Str(v, false)) if k == "id" => current.id = Some(v.to_string()),
                ([Seg::Key(k)], Event::Str(v, false)) if k == "name" => current.name = Some(v.to_string()),
                ([Seg::Key(k)], Event::Open(_)) if k != "configuration_json" => return Want::Skip,
                (_, Event::Str(v, false)) if is(rest, &["configuration_json", "hnsw", "space"]) => {
                    current.metric = Some(v.to_string())
                }
                (_, Event::Open(_)) if listed && rest.is_empty() => *current = Learning::default(),
                _ => {}
            }
            Want::Events
        });
    }
}

impl ApiDecoder for CollectionDecoder {
    fn on_request(&mut self, _body: &[u8], _obs: &mut Observation) {}

    fn on_stream_message(&mut self, _event: &[u8], piece: &[u8], _now_ns: u64, obs: &mut Observation) {
        self.read(piece, obs);
    }

    fn on_response_body(&mut self, body: &[u8], _now_ns: u64, obs: &mut Observation) {
        self.read(body, obs);
    }

    fn reading(&self) -> Reading {
        Reading::Pieces
    }
}
