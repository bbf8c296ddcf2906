//! Weaviate's GraphQL `Get` (deprecated, still served; the current clients search over gRPC, which no HTTP proxy
//! reads). The class, `limit`, the filter and the vector or text live inside the GraphQL text, so the request's
//! `query` string is parsed here; ids and scores exist only where the query selected `_additional { id distance }`
//! (or `certainty`, `score`). Errors come back with HTTP 200 and an `errors` list.

use super::{apply_ask, is, Answer, Ask, Endpoint, Keep, PathFacts, Shape};
use crate::model::retrieval::{Retrieval, ScoreKind, Store};
use crate::wire::json_scan::{Event, Seg, Want};

/// Arguments of `Get { Class(...) }` that make it a search.
const SEARCHES: [&str; 7] = [
    "nearVector",
    "nearText",
    "nearObject",
    "nearImage",
    "hybrid",
    "bm25",
    "nearMedia",
];
/// Deepest GraphQL value nesting read.
const MAX_NESTING: u32 = 32;

/// `/v1/graphql`; under an override, after any prefix.
pub(super) fn recognise(method: &str, segs: &[&str], lenient: bool) -> Option<(Endpoint, PathFacts)> {
    match segs {
        ["v1", "graphql"] if method == "POST" => Some((Endpoint::WeaviateGraphql, PathFacts::default())),
        [.., "graphql"] if method == "POST" && lenient => Some((Endpoint::WeaviateGraphql, PathFacts::default())),
        _ => None,
    }
}

/// One GraphQL `Get` search.
#[derive(Default)]
pub(super) struct Weaviate {
    query: Option<Gql>,
}

impl Shape for Weaviate {
    fn request(&mut self, path: &[Seg], event: &Event<'_>, ask: &mut Ask) -> Want {
        match event {
            Event::Str(text, false) if is(path, &["query"]) => {
                self.query = parse(text, ask);
                Want::Events
            }
            Event::Open(_) if path.len() == 1 => Want::Skip, // variables
            _ => Want::Events,
        }
    }

    fn retrieval(&mut self, mut ask: Ask, keep: Keep) -> Option<Retrieval> {
        let q = self.query.as_ref()?;
        let mut r = Retrieval::new(Store::Weaviate, "Get", keep.max_documents, keep.content_budget);
        r.score_kind = Some(q.score_kind);
        r.data_source_id = Some(q.class.clone());
        r.collection_name = Some(q.class.clone());
        r.namespace = q.tenant.clone();
        ask.query_count = 1;
        apply_ask(&mut r, ask);
        Some(r)
    }

    fn response(&mut self, path: &[Seg], event: &Event<'_>, a: &mut Answer<'_>) -> Want {
        let Some(q) = &self.query else {
            return Want::Skip;
        };
        if path.len() >= 3 && is(&path[..2], &["data", "Get"]) && path[2].key() == Some(q.class.as_str()) {
            let score_field = match q.score_kind {
                ScoreKind::Distance => "distance",
                ScoreKind::Certainty => "certainty",
                ScoreKind::Score => "score",
            };
            match (&path[3..], event) {
                ([], Event::Open(_)) => a.r.results_seen(),
                ([Seg::Index(_)], Event::Open(_)) => {
                    a.hit(0);
                }
                ([Seg::Index(_), Seg::Key(k)], Event::Open(_)) if k == "_additional" => {}
                ([Seg::Index(_), Seg::Key(_)], Event::Open(_)) => return Want::Skip, // references, objects
                ([Seg::Index(_), Seg::Key(k), Seg::Key(f)], _) if k == "_additional" && f == "id" => a.id(event),
                ([Seg::Index(_), Seg::Key(k), Seg::Key(f)], _) if k == "_additional" && f == score_field => {
                    a.score(event)
                }
                ([Seg::Index(_), Seg::Key(k), Seg::Key(_)], Event::Open(_)) if k == "_additional" => {
                    return Want::Skip; // vector, explainScore
                }
                _ => {}
            }
            return Want::Events;
        }
        if path.len() == 3 && is(&path[..1], &["errors"]) && path[1].index() == Some(0) {
            if let (Some("message"), Event::Str(m, _)) = (path[2].key(), event) {
                a.error(Some("graphql_error"), Some(m));
            }
        }
        Want::Events
    }
}

/// What a GraphQL `Get` search asks.
#[derive(Debug, Clone, PartialEq)]
struct Gql {
    class: String,
    tenant: Option<String>,
    score_kind: ScoreKind,
}

/// Reads `{ Get { Class(args) { fields } } }`: the class, and from the arguments top k, the vector, the text, the
/// filter and the tenant. `None` when it is not a `Get` with a search argument.
fn parse(text: &str, ask: &mut Ask) -> Option<Gql> {
    let tokens = tokenize(text);
    let get = tokens
        .windows(2)
        .position(|w| w[0] == Token::Name("Get") && w[1] == Token::Punct(b'{'))?;
    let Some(Token::Name(class)) = tokens.get(get + 2) else {
        return None;
    };
    if tokens.get(get + 3) != Some(&Token::Punct(b'(')) {
        return None;
    }
    let mut p = Parser {
        tokens: &tokens,
        at: get + 4,
    };
    let mut searched = false;
    let mut tenant = None;
    // Arguments: `name: value` until `)`.
    while let Some(Token::Name(name)) = p.peek().cloned() {
        p.at += 1;
        if !p.eat(b':') {
            return None;
        }
        let value = p.value(0)?;
        match name {
            "limit" => {
                if let Value::Num(n) = value {
                    ask.set_top_k(0, n);
                }
            }
            "where" => ask.filter = true,
            "tenant" => {
                if let Value::Str(t) = value {
                    tenant = Some(t);
                }
            }
            search if SEARCHES.contains(&search) => {
                searched = true;
                read_search(search, &value, ask);
            }
            _ => {}
        }
        p.eat(b',');
    }
    if !searched || !p.eat(b')') {
        return None;
    }
    // The selection: which score `_additional` asks for.
    let selection = &tokens[p.at..];
    let additional = selection.iter().position(|t| *t == Token::Name("_additional"));
    let asked = |name: &str| {
        additional.is_some_and(|a| {
            selection[a..]
                .iter()
                .take_while(|t| **t != Token::Punct(b'}'))
                .any(|t| *t == Token::Name(name))
        })
    };
    let score_kind = if asked("distance") {
        ScoreKind::Distance
    } else if asked("certainty") {
        ScoreKind::Certainty
    } else {
        ScoreKind::Score
    };
    Some(Gql {
        class: class.to_string(),
        tenant,
        score_kind,
    })
}

/// The vector of `nearVector: {vector: [...]}` and the text of `nearText: {concepts: [...]}`,
/// `hybrid`/`bm25: {query: "..."}`.
fn read_search(search: &str, value: &Value<'_>, ask: &mut Ask) {
    let Value::Object(members) = value else {
        return;
    };
    for (name, v) in members {
        match (search, *name, v) {
            ("nearVector" | "hybrid", "vector", Value::List(items)) => {
                for item in items {
                    if let Value::Num(n) = item {
                        ask.vector_value(n);
                    }
                }
            }
            ("nearText", "concepts", Value::List(items)) => {
                let concepts: Vec<&str> = items
                    .iter()
                    .filter_map(|i| match i {
                        Value::Str(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                if !concepts.is_empty() {
                    ask.text = Some(concepts.join(", "));
                }
            }
            ("hybrid" | "bm25", "query", Value::Str(s)) => ask.text = Some(s.clone()),
            _ => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Name(&'a str),
    Str(String),
    Num(&'a str),
    /// `{ } ( ) [ ] : , $ ...`
    Punct(u8),
}

/// GraphQL tokens; commas are punctuation here (the parser skips them where GraphQL ignores them).
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' {
            let mut s = Vec::new();
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    s.push(match b[i] {
                        b'n' => b'\n',
                        b't' => b'\t',
                        other => other,
                    });
                } else {
                    s.push(b[i]);
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Str(String::from_utf8_lossy(&s).into_owned()));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token::Name(&text[start..i]));
        } else if c.is_ascii_digit() || c == b'-' {
            let start = i;
            i += 1;
            while i < b.len() && matches!(b[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                i += 1;
            }
            out.push(Token::Num(&text[start..i]));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// A GraphQL input value.
#[derive(Debug)]
enum Value<'a> {
    Str(String),
    Num(&'a str),
    /// An enum value, a boolean, `null`, or a `$variable`.
    Name,
    List(Vec<Value<'a>>),
    Object(Vec<(&'a str, Value<'a>)>),
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    at: usize,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: u32) -> Option<Value<'a>> {
        if depth > MAX_NESTING {
            return None;
        }
        let token = self.peek()?.clone();
        self.at += 1;
        Some(match token {
            Token::Str(s) => Value::Str(s),
            Token::Num(n) => Value::Num(n),
            Token::Name(_) => Value::Name,
            Token::Punct(b'$') => {
                self.at += 1; // the variable's name
                Value::Name
            }
            Token::Punct(b'[') => {
                let mut items = Vec::new();
                while !self.eat(b']') {
                    if self.eat(b',') {
                        continue;
                    }
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items)
            }
            Token::Punct(b'{') => {
                let mut members = Vec::new();
                while !self.eat(b'}') {
                    if self.eat(b',') {
                        continue;
                    }
                    let Some(Token::Name(name)) = self.peek().cloned() else {
                        return None;
                    };
                    self.at += 1;
                    if !self.eat(b':') {
                        return None;
                    }
                    members.push((name, self.value(depth + 1)?));
                }
                Value::Object(members)
            }
            Token::Punct(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_class_limit_vector_text_filter_and_tenant_from_the_graphql() {
        let mut ask = Ask::default();
        let q = parse(
            r#"{ Get { Moon(nearVector: {vector: [0.85, 0.2, -1e-3]}, limit: 2, tenant: "t1",
                where: {path: ["planet"], operator: Equal, valueText: "saturn"}) { title _additional { id distance } } } }"#,
            &mut ask,
        )
        .unwrap();
        assert_eq!(
            q,
            Gql {
                class: "Moon".into(),
                tenant: Some("t1".into()),
                score_kind: ScoreKind::Distance
            }
        );
        assert_eq!((ask.top_k, ask.filter, ask.vector.len()), (vec![Some(2)], true, 3));
        let mut ask = Ask::default();
        let q = parse(
            r#"{Get{Moon(nearText:{concepts:["thick atmosphere","nitrogen"]}){_additional{certainty}}}}"#,
            &mut ask,
        )
        .unwrap();
        assert_eq!(q.score_kind, ScoreKind::Certainty);
        assert_eq!(ask.text.as_deref(), Some("thick atmosphere, nitrogen"));
        assert_eq!(ask.top_k, Vec::<Option<u64>>::new());
        assert!(
            parse(r#"{ Get { Moon(limit: 2) { title } } }"#, &mut Ask::default()).is_none(),
            "not a search"
        );
        assert!(parse(r#"{ Aggregate { Moon { meta { count } } } }"#, &mut Ask::default()).is_none());
        assert!(parse(r#"{ Get { Moon(nearVector: {vector: [1, 2"#, &mut Ask::default()).is_none());
    }
}
