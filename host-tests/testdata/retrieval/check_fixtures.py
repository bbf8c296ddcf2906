#!/usr/bin/env python3
"""A reference decoder for the retrieval fixtures, in plain Python (stdlib only), and a check that it reproduces
every `expect` block: detection (store, operation), collection, top_k, query count, query text, documents (id and
score per query), returned rows, status and error type. Also replays chroma-sequence.json in order, learning
collection names from collection responses as the filter would.

It is an executable statement of the rules in /work/notes/retrieval19.md (and of the README here), not the filter:
the Rust decoder should agree with it on every fixture.

    python3 host-tests/testdata/retrieval/check_fixtures.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHROMA = re.compile(r"^/api/v2/tenants/([^/]+)/databases/([^/]+)/collections/([^/]+)/(query|get|search)$")
CHROMA_V1 = re.compile(r"^/api/v1/collections/([^/]+)/(query|get)$")
CHROMA_COLLECTION = re.compile(r"^/api/v2/tenants/([^/]+)/databases/([^/]+)/collections(?:/([^/]+))?$")
QDRANT = re.compile(r"^/collections/([^/]+)/points/(query|search)(/batch)?$")
PINECONE_QUERY = re.compile(r"^/query$")
PINECONE_SEARCH = re.compile(r"^/records/namespaces/([^/]+)/search$")
SEARCH = re.compile(r"^/(?:([^/_][^/]*)/)?_search$")
WEAVIATE = re.compile(r"^/v1/graphql$")
GQL_GET = re.compile(r"Get\s*\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def split(url: str) -> tuple[str, str, str]:
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    path = "/" + path
    return host, path.split("?", 1)[0], path


def loads(text: str | None):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def detect(method: str, path: str, host: str, req: dict | None):
    """(store, operation, collection, extra) or None. Path first, body shape second."""
    if method != "POST" and not (method == "GET" and SEARCH.match(path)):
        return None
    if m := CHROMA.match(path):
        return "chroma", m.group(4), m.group(3), {"tenant": m.group(1), "database": m.group(2)}
    if m := CHROMA_V1.match(path):
        return "chroma", m.group(2), m.group(1), {}
    if m := QDRANT.match(path):
        op = m.group(2) + ("_batch" if m.group(3) else "")
        return "qdrant", op, m.group(1), {}
    if PINECONE_QUERY.match(path) and isinstance(req, dict) and "topK" in req:
        return "pinecone", "query", pinecone_index(host), {"namespace": req.get("namespace")}
    if m := PINECONE_SEARCH.match(path):
        return "pinecone", "search", pinecone_index(host), {"namespace": m.group(1)}
    if (m := SEARCH.match(path)) and isinstance(req, dict):
        q = req.get("query") if isinstance(req.get("query"), dict) else {}
        knn = q.get("knn")
        if "knn" in req or (isinstance(knn, dict) and "field" in knn):
            return "elasticsearch", "search", m.group(1), {}
        if isinstance(knn, dict) and len(knn) == 1:
            return "opensearch", "search", m.group(1), {}
        return None
    if WEAVIATE.match(path) and isinstance(req, dict):
        text = req.get("query") or ""
        if ("nearVector" in text or "nearText" in text) and (m := GQL_GET.search(text)):
            return "weaviate", "graphql", m.group(1), {}
    return None


def pinecone_index(host: str) -> str | None:
    label = host.split(":")[0].split(".")[0]
    if not host.endswith(".pinecone.io"):
        return None
    return re.sub(r"-[0-9a-f]{7}$", "", label)


def gql_arg_int(text: str, name: str):
    m = re.search(name + r"\s*:\s*(\d+)", text)
    return int(m.group(1)) if m else None


def request_facts(store: str, op: str, req: dict) -> dict:
    f = {"top_k": None, "query_count": None, "query_text": None}
    if store == "chroma":
        if op == "query":
            f.update(top_k=req.get("n_results"), query_count=len(req.get("query_embeddings") or []))
        elif op == "get":
            f.update(top_k=req.get("limit"), query_count=0)
        elif op == "search":
            s = req.get("searches") or []
            f.update(top_k=[(x.get("limit") or {}).get("limit") for x in s], query_count=len(s))
    elif store == "qdrant":
        if op.endswith("_batch"):
            s = req.get("searches") or []
            f.update(top_k=[x.get("limit") for x in s], query_count=len(s))
        else:
            f.update(top_k=req.get("limit"), query_count=1)
    elif store == "pinecone":
        if op == "query":
            f.update(top_k=req.get("topK"), query_count=1)
        else:
            q = req.get("query") or {}
            f.update(top_k=q.get("top_k"), query_count=1, query_text=(q.get("inputs") or {}).get("text"))
    elif store == "elasticsearch":
        knn = req.get("knn")
        if isinstance(knn, list):
            knn = knn[0] if knn else {}
        if knn is not None:
            f.update(top_k=knn.get("k", req.get("size")), query_count=1)
        else:
            knn = req["query"]["knn"]
            f.update(top_k=req.get("size", 10), query_count=1)
        qvb = (knn.get("query_vector_builder") or {}).get("text_embedding") or {}
        f["query_text"] = qvb.get("model_text")
    elif store == "opensearch":
        (field, spec), = req["query"]["knn"].items()
        f.update(top_k=req.get("size", spec.get("k")), query_count=1)
    elif store == "weaviate":
        text = req.get("query") or ""
        f.update(top_k=gql_arg_int(text, "limit"), query_count=1)
        m = re.search(r"nearText\s*:\s*\{\s*concepts\s*:\s*\[\s*\"((?:[^\"\\]|\\.)*)\"", text)
        f["query_text"] = m.group(1) if m else None
    return f


def response_docs(store: str, op: str, resp, collection: str | None = None):
    """Documents per query [[{"id", "score"}]] or None (error or nothing to read)."""
    if not isinstance(resp, (dict, list)):
        return None
    if store == "chroma":
        ids = resp.get("ids")
        if ids is None:
            return None
        if op == "get":
            return [[{"id": i, "score": None} for i in ids]]
        scores = resp.get("distances") if op == "query" else resp.get("scores")
        return [[{"id": i, "score": (scores[q][k] if scores and scores[q] is not None else None)}
                 for k, i in enumerate(row)] for q, row in enumerate(ids)]
    if store == "qdrant":
        result = resp.get("result")
        if result is None:
            return None
        pts = lambda lst: [{"id": p["id"], "score": p.get("score")} for p in lst]
        if op == "query":
            return [pts(result["points"])]
        if op == "query_batch":
            return [pts(r["points"]) for r in result]
        if op == "search":
            return [pts(result)]
        return [pts(r) for r in result]
    if store == "pinecone":
        if op == "query":
            return [[{"id": m["id"], "score": m.get("score")} for m in resp["matches"]]] if "matches" in resp else None
        hits = (resp.get("result") or {}).get("hits")
        return [[{"id": h["_id"], "score": h.get("_score")} for h in hits]] if hits is not None else None
    if store in ("elasticsearch", "opensearch"):
        hits = (resp.get("hits") or {}).get("hits")
        return [[{"id": h["_id"], "score": h.get("_score")} for h in hits]] if hits is not None else None
    if store == "weaviate":
        rows = ((resp.get("data") or {}).get("Get") or {}).get(collection)
        if rows is None:
            return None
        out = []
        for r in rows:
            a = r.get("_additional") or {}
            out.append({"id": a.get("id"), "score": a.get("distance", a.get("certainty"))})
        return [out]
    return None


def error_type(store: str, status: int, resp) -> str | None:
    if store == "weaviate" and isinstance(resp, dict) and resp.get("errors"):
        return "graphql_error"
    if status < 400:
        return None
    if isinstance(resp, dict):
        if store == "chroma" and isinstance(resp.get("error"), str):
            return resp["error"]
        if store in ("elasticsearch", "opensearch") and isinstance(resp.get("error"), dict):
            return resp["error"].get("type") or str(status)
    return str(status)


def check(fx: dict, names: dict | None = None) -> list[str]:
    e = fx["expect"]
    req = fx["request"]
    host, path, _ = split(req["url"])
    body = loads(req.get("body"))
    resp = loads(fx["response"].get("body"))
    status = fx["response"]["status"]
    problems = []

    # state a filter can learn (Chroma: id -> name from collection responses)
    if names is not None and status == 200 and CHROMA_COLLECTION.match(path) and isinstance(resp, dict) \
            and "id" in resp and "name" in resp:
        names[resp["id"]] = resp["name"]

    d = detect(req["method"], path, host, body)
    if e["kind"] in ("none", "llm"):
        if d is not None:
            problems.append(f"detected {d[:2]} but expect says no retrieval span")
        return problems
    if d is None:
        return [f"not detected as retrieval: {req['method']} {path}"]
    store, op, coll, extra = d
    def eq(key, got):
        if key in e and e[key] != got:
            problems.append(f"{key}: expect {e[key]!r}, decoder {got!r}")
    eq("provider", store)
    eq("operation", op)
    eq("status", status)
    eq("collection", coll)
    if store == "chroma":
        eq("tenant", extra.get("tenant", e.get("tenant")))
        eq("database", extra.get("database", e.get("database")))
        eq("collection_name", (names or {}).get(coll))
    if "namespace" in extra:
        eq("namespace", extra["namespace"])
    facts = request_facts(store, op, body)
    for k in ("top_k", "query_count", "query_text"):
        eq(k, facts[k])
    docs = response_docs(store, op, resp, coll)
    want = e.get("documents")
    if want is not None:
        want = [[{"id": x["id"], "score": x.get("score")} for x in row] for row in want]
    if docs != want:
        problems.append(f"documents: expect {want}, decoder {docs}")
    eq("returned_rows", sum(len(r) for r in docs) if docs is not None else None)
    eq("error_type", error_type(store, status, resp))
    return problems


def main() -> int:
    failures = 0
    count = 0
    for p in sorted(HERE.glob("*.json")):
        if p.name.endswith("-sequence.json"):
            continue
        fx = json.loads(p.read_text())
        problems = check(fx)
        for problem in problems:
            print(f"FAIL {p.name}: {problem}")
        failures += bool(problems)
        count += 1
    seq = json.loads((HERE / "chroma-sequence.json").read_text())
    names: dict = {}
    for ex in seq["exchanges"]:
        problems = check(ex, names)
        for problem in problems:
            print(f"FAIL chroma-sequence #{ex['seq']} {ex['name']}: {problem}")
        failures += bool(problems)
        count += 1
    rag = json.loads((HERE / "rag-sequence.json").read_text())
    names = {}
    for ex in rag["exchanges"]:
        problems = check(ex, names)
        for problem in problems:
            print(f"FAIL rag-sequence #{ex['seq']} {ex['step']}: {problem}")
        failures += bool(problems)
        count += 1
    print(f"{count - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
