#!/usr/bin/env python3
"""Documented vector-store exchanges (Qdrant, Pinecone, Elasticsearch, OpenSearch, Weaviate) as llm-trace fixtures.

None of these servers can run here, so each fixture pairs
  * a request sent by the store's **official Python client** (real bytes: headers, JSON serialisation, path) to a
    loopback stub, where such a client exists and still speaks HTTP for that call; otherwise a request written with
    httpx in the documented shape (the fixture's `source` says which), and
  * a response **written from the vendor's documented wire format** (API reference / OpenAPI schema named in
    `source`), served by the stub with the documented content type. Ids, scores, payloads and timings are
    illustrative; field names, nesting and types are the documented ones.

Versions of the committed recording: qdrant-client 1.20.0, pinecone 10.2.0, elasticsearch 9.5.1 (elastic-transport
9.4.2), opensearch-py 3.2.0, httpx 0.28.1, CPython 3.11.7.

Reproduce (from the repository root):
    python3 -m venv /tmp/venv-stores
    /tmp/venv-stores/bin/pip install qdrant-client==1.20.0 pinecone==10.2.0 elasticsearch==9.5.1 opensearch-py==3.2.0
    /tmp/venv-stores/bin/python host-tests/testdata/retrieval/record_clients.py

It rewrites the qdrant-*, pinecone-*, elasticsearch-*, opensearch-* and weaviate-* fixtures next to this file
(ports and dates change from run to run, nothing else).
"""

from __future__ import annotations

import base64
import http.server
import json
import platform
import socket
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATE = "Tue, 01 Dec 2026 20:00:00 GMT"

SRC_QDRANT = ("Qdrant v1.19.x REST API reference (api.qdrant.tech/v-1-19-x: query-points, query-batch-points) and "
              "qdrant/qdrant docs/redoc/master/openapi.json@74f3e85 (QueryResponse, ScoredPoint); "
              "shared/reference/specs-next.md 3.2")
SRC_QDRANT_LEGACY = ("Qdrant legacy search API: src/actix/api/search_api.rs (still routed in v1.19.0; removed from "
                     "openapi.json by 73e6c16), SearchRequest/ScoredPoint as in the v1.12.x API reference; "
                     "shared/reference/specs-next.md 3.2")
SRC_QDRANT_ERR = ("Qdrant error body {\"status\":{\"error\":...},\"time\":...} as quoted in qdrant/qdrant issue "
                  "#2842 and qdrant/n8n-nodes-qdrant issue #19 (404 for a missing collection)")
SRC_PINECONE = ("Pinecone data plane OpenAPI 2026-04 (pinecone-io/pinecone-api 2026-04/db_data_2026-04.oas.yaml@068bdf7: "
                "queryVectors, QueryResponse, ScoredVector, Usage, rpcStatus); shared/reference/specs-next.md 3.3")
SRC_PINECONE_SEARCH = ("Pinecone data plane OpenAPI 2026-04 (db_data_2026-04.oas.yaml@068bdf7: "
                       "POST /records/namespaces/{namespace}/search, SearchRecordsRequest, SearchRecordsResponse, "
                       "Hit, SearchUsage); shared/reference/specs-next.md 3.3")
SRC_ES = ("Elasticsearch reference: kNN search (knn-search-api / search-your-data/knn-search), knn query "
          "(query-dsl-knn-query), search API response body, error response shape; "
          "shared/reference/specs-next.md 3.5")
SRC_OS = ("OpenSearch k-NN plugin docs (vector-search/vector-search-techniques/approximate-knn, k-NN query type) and "
          "the OpenSearch search API response; shared/reference/specs-next.md 3.5")
SRC_WEAVIATE = ("Weaviate GraphQL API docs (api/graphql/get, search-operators nearVector/nearText, "
                "additional-properties, migration notice) and weaviate/weaviate openapi-specs/schema.json@adcffc5 "
                "(POST /v1/graphql: GraphQLQuery, GraphQLResponse, GraphQLError); shared/reference/specs-next.md 3.4")

V8 = [0.85, 0.20, 0.05, 0.10, 0.25, 0.00, 0.10, 0.05]
V8B = [0.20, 0.80, 0.40, 0.00, 0.00, 0.10, 0.10, 0.05]

# ---------------------------------------------------------------------------------------------------------------
# The stub: answers from a route table, records each exchange byte-exact


class Stub:
    def __init__(self):
        self.routes: dict[tuple[str, str], tuple[int, dict, bytes]] = {}
        self.exchanges: list[dict] = []
        self.taken = 0

    def route(self, method: str, path: str, status: int, body, headers: dict | None = None):
        raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.routes[(method, path)] = (status, headers or {"content-type": "application/json"}, raw)


def first_values(pairs) -> dict:
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), value)
    return out


def body_field(raw: bytes) -> dict:
    try:
        return {"body": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(raw).decode("ascii")}


def make_handler(stub: Stub):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _any(self):
            n = int(self.headers.get("content-length") or 0)
            req = self.rfile.read(n) if n else b""
            key = (self.command, self.path.split("?", 1)[0])
            status, headers, body = stub.routes.get(key, (404, {"content-type": "application/json"},
                                                         b'{"error":"no stub route"}'))
            resp_headers = dict(headers)
            resp_headers["content-length"] = str(len(body))
            resp_headers.setdefault("date", DATE)
            stub.exchanges.append({
                "request": {"method": self.command, "url": f"http://{self.headers.get('host')}{self.path}",
                            "headers": first_values(self.headers.items()), **body_field(req)},
                "response": {"status": status, "headers": dict(resp_headers), **body_field(body)},
            })
            self.send_response_only(status)
            for k, v in resp_headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _any

    return H


def serve() -> tuple[Stub, http.server.ThreadingHTTPServer, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stub = Stub()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(stub))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return stub, srv, port


FIXTURES: list[dict] = []


def take(stub: Stub, name: str, source: str, expect: dict, note: str | None = None, host: str | None = None) -> None:
    """The one exchange the last client call made (it must have made exactly one)."""
    assert len(stub.exchanges) == stub.taken + 1, f"{name}: {len(stub.exchanges) - stub.taken} exchanges"
    stub.taken += 1
    ex = json.loads(json.dumps(stub.exchanges[-1]))
    if host:  # a documented public host in place of the loopback stub's address
        path = ex["request"]["url"].split("://", 1)[1].split("/", 1)[1]
        ex["request"]["url"] = f"https://{host}/{path}"
        ex["request"]["headers"]["host"] = host
        expect = dict(expect, server_address=host, server_port=443)
    fx = {"name": name, "source": source, **ex, "expect": expect}
    if note:
        fx["note"] = note
    FIXTURES.append(fx)


def base_expect(provider: str, operation: str, status: int, port: int | None, **kw) -> dict:
    """port None: the documented public host of the store (Pinecone index hosts), HTTPS on 443."""
    e = {"kind": "retrieval", "provider": provider, "operation": operation, "streaming": False, "status": status,
         "db_system": provider, "server_address": "127.0.0.1", "server_port": port}
    e.update(kw)
    return e


# ---------------------------------------------------------------------------------------------------------------
# Qdrant


def qdrant() -> None:
    import httpx
    from qdrant_client import QdrantClient, models

    stub, srv, port = serve()
    c = "moons"
    p1 = {"text": "Titan is Saturn's largest moon and the only moon with a thick atmosphere.", "planet": "saturn"}
    p2 = {"text": "Enceladus sprays water ice from geysers near its south pole.", "planet": "saturn"}
    p3 = {"text": "Triton orbits Neptune backwards and has nitrogen geysers.", "planet": "neptune"}
    u2 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
    stub.route("POST", f"/collections/{c}/points/query", 200, {
        "result": {"points": [
            {"id": 42, "version": 3, "score": 0.9856108, "payload": p1},
            {"id": u2, "version": 3, "score": 0.8414472, "payload": p2},
            {"id": 7, "version": 1, "score": 0.7110896, "payload": p3}]},
        "status": "ok", "time": 0.002141, "usage": None})
    client = QdrantClient(url=f"http://127.0.0.1:{port}", check_compatibility=False)
    client.query_points(c, query=V8, limit=3, with_payload=True,
                        query_filter=models.Filter(must=[models.FieldCondition(
                            key="planet", match=models.MatchAny(any=["saturn", "neptune"]))]))
    docs = [[{"id": 42, "score": 0.9856108, "metadata": p1},
             {"id": u2, "score": 0.8414472, "metadata": p2},
             {"id": 7, "score": 0.7110896, "metadata": p3}]]
    take(stub, "qdrant-query", SRC_QDRANT + "; request sent by qdrant-client 1.20.0 QdrantClient.query_points",
         base_expect("qdrant", "query", 200, port, data_source_id=c, collection=c, collection_name=c,
                     namespace=None, top_k=3, query_count=1, vector_dims=[8], query_text=None, filter=True,
                     score_kind="score", documents=docs, returned_rows=3, error_type=None),
         note="payload is the whole point payload; which key holds the chunk text is the application's choice "
              "(here `text`), so `content` stays unset unless configured")

    # query/batch
    stub.route("POST", f"/collections/{c}/points/query/batch", 200, {
        "result": [
            {"points": [{"id": 42, "version": 3, "score": 0.9856108},
                        {"id": u2, "version": 3, "score": 0.8414472}]},
            {"points": [{"id": 11, "version": 2, "score": 0.9561283},
                        {"id": u2, "version": 3, "score": 0.7761130}]}],
        "status": "ok", "time": 0.003517, "usage": None})
    client.query_batch_points(c, requests=[models.QueryRequest(query=V8, limit=2),
                                           models.QueryRequest(query=V8B, limit=2)])
    take(stub, "qdrant-query-batch", SRC_QDRANT + "; request sent by qdrant-client 1.20.0 QdrantClient.query_batch_points",
         base_expect("qdrant", "query_batch", 200, port, data_source_id=c, collection=c, collection_name=c,
                     namespace=None, top_k=[2, 2], query_count=2, batch_size=2, vector_dims=[8], query_text=None,
                     filter=False, score_kind="score",
                     documents=[[{"id": 42, "score": 0.9856108}, {"id": u2, "score": 0.8414472}],
                                [{"id": 11, "score": 0.9561283}, {"id": u2, "score": 0.7761130}]],
                     returned_rows=4, error_type=None),
         note="with_payload defaults to false: hits carry no payload")

    # query with named vector, no limit (server default 10), prefetch-less
    stub.route("POST", "/collections/articles/points/query", 200, {
        "result": {"points": [{"id": 3, "version": 0, "score": 0.5123}]}, "status": "ok", "time": 0.0009})
    client.query_points("articles", query=V8, using="title")
    take(stub, "qdrant-query-named-default-limit",
         SRC_QDRANT + "; request sent by qdrant-client 1.20.0 QdrantClient.query_points(using=...) without limit",
         base_expect("qdrant", "query", 200, port, data_source_id="articles", collection="articles",
                     collection_name="articles", namespace=None, top_k=10, query_count=1,
                     vector_dims=[8], query_text=None, filter=False, score_kind="score",
                     documents=[[{"id": 3, "score": 0.5123}]], returned_rows=1, error_type=None),
         note="qdrant-client fills in limit=10 (the server default too) and with_payload=true when the caller "
              "leaves them out; the query vector travels as {\"nearest\": [...]}, not as a bare array")

    # legacy search and search/batch (no longer in qdrant-client 1.20)
    stub.route("POST", f"/collections/{c}/points/search", 200, {
        "result": [{"id": 42, "version": 3, "score": 0.9856108, "payload": p1, "vector": None},
                   {"id": u2, "version": 3, "score": 0.8414472, "payload": p2, "vector": None}],
        "status": "ok", "time": 0.001532})
    httpx.post(f"http://127.0.0.1:{port}/collections/{c}/points/search",
               json={"vector": V8, "limit": 2, "with_payload": True,
                     "filter": {"must": [{"key": "planet", "match": {"value": "saturn"}}]}},
               headers={"api-key": "qdrant-fixture-key"})
    take(stub, "qdrant-search", SRC_QDRANT_LEGACY + "; request written with httpx in the documented shape",
         base_expect("qdrant", "search", 200, port, data_source_id=c, collection=c, collection_name=c,
                     namespace=None, top_k=2, query_count=1, vector_dims=[8], query_text=None, filter=True,
                     score_kind="score",
                     documents=[[{"id": 42, "score": 0.9856108, "metadata": p1},
                                 {"id": u2, "score": 0.8414472, "metadata": p2}]],
                     returned_rows=2, error_type=None),
         note="`api-key` is a credential header: never exported")

    stub.route("POST", f"/collections/{c}/points/search/batch", 200, {
        "result": [[{"id": 42, "version": 3, "score": 0.9856108, "payload": None, "vector": None}],
                   [{"id": 11, "version": 2, "score": 0.9561283, "payload": None, "vector": None},
                    {"id": u2, "version": 3, "score": 0.7761130, "payload": None, "vector": None}]],
        "status": "ok", "time": 0.002210})
    httpx.post(f"http://127.0.0.1:{port}/collections/{c}/points/search/batch",
               json={"searches": [{"vector": {"name": "body", "vector": V8}, "limit": 1},
                                  {"vector": {"name": "body", "vector": V8B}, "limit": 2}]})
    take(stub, "qdrant-search-batch", SRC_QDRANT_LEGACY + "; request written with httpx in the documented shape",
         base_expect("qdrant", "search_batch", 200, port, data_source_id=c, collection=c, collection_name=c,
                     namespace=None, top_k=[1, 2], query_count=2, batch_size=2, vector_dims=[8], query_text=None,
                     filter=False, score_kind="score",
                     documents=[[{"id": 42, "score": 0.9856108}],
                                [{"id": 11, "score": 0.9561283}, {"id": u2, "score": 0.7761130}]],
                     returned_rows=3, error_type=None),
         note="named vector form {\"name\",\"vector\"}")

    # error: missing collection
    stub.route("POST", "/collections/no-such/points/query", 404, {
        "status": {"error": "Not found: Collection `no-such` doesn't exist!"}, "time": 0.000011})
    try:
        client.query_points("no-such", query=V8, limit=3)
    except Exception:
        pass
    take(stub, "qdrant-query-missing-collection",
         SRC_QDRANT_ERR + "; request sent by qdrant-client 1.20.0",
         base_expect("qdrant", "query", 404, port, data_source_id="no-such", collection="no-such",
                     collection_name="no-such", namespace=None, top_k=3, query_count=1, vector_dims=[8],
                     query_text=None, filter=False, score_kind="score", documents=None, returned_rows=None,
                     error_type="404", error_message="Not found: Collection `no-such` doesn't exist!"))
    srv.shutdown()


# ---------------------------------------------------------------------------------------------------------------
# Pinecone


def pinecone() -> None:
    from pinecone import Pinecone

    stub, srv, port = serve()
    ns = "chunks-v1"
    host = "moons-c01b5b5.svc.aped-4627-b74a.pinecone.io"  # {index}-{project}.svc.{environment}.pinecone.io
    m1 = {"text": "Titan is Saturn's largest moon and the only moon with a thick atmosphere.", "planet": "saturn"}
    m2 = {"text": "Enceladus sprays water ice from geysers near its south pole.", "planet": "saturn"}
    stub.route("POST", "/query", 200, {
        "results": [],
        "matches": [{"id": "moons-titan", "score": 0.985610783, "values": [], "metadata": m1},
                    {"id": "moons-enceladus", "score": 0.841447234, "values": [], "metadata": m2}],
        "namespace": ns, "usage": {"readUnits": 5}})
    pc = Pinecone(api_key="pcsk_fixture_key")
    index = pc.Index(host=f"http://127.0.0.1:{port}")
    index.query(vector=V8, top_k=2, namespace=ns, include_metadata=True,
                filter={"planet": {"$eq": "saturn"}})
    take(stub, "pinecone-query", SRC_PINECONE + "; request sent by pinecone 10.2.0 Index.query",
         base_expect("pinecone", "query", 200, None, data_source_id="moons", collection="moons", collection_name="moons",
                     namespace=ns, top_k=2, query_count=1, vector_dims=[8], query_text=None, filter=True,
                     score_kind="score",
                     documents=[[{"id": "moons-titan", "score": 0.985610783, "metadata": m1},
                                 {"id": "moons-enceladus", "score": 0.841447234, "metadata": m2}]],
                     returned_rows=2, error_type=None),
         host=host,
         note="sent to a loopback stub, then url and host set to an index host of the documented form "
              "{index}-{project}.svc.{environment}.pinecone.io; the index (`moons`) is known only from the host, "
              "the namespace is in the body. `results: []` and `values: []` stand for the deprecated multi-query "
              "field and for includeValues=false")

    # records search (integrated inference): the query text is on the wire
    hits = [{"_id": "moons-titan", "_score": 0.9281134605407715,
             "fields": {"chunk_text": "Titan is Saturn's largest moon and the only moon with a thick atmosphere."}},
            {"_id": "moons-triton", "_score": 0.6120445728302002,
             "fields": {"chunk_text": "Triton orbits Neptune backwards and has nitrogen geysers."}}]
    stub.route("POST", f"/records/namespaces/{ns}/search", 200, {
        "result": {"hits": hits}, "usage": {"read_units": 6, "embed_total_tokens": 9}})
    index.search(namespace=ns, query={"inputs": {"text": "Which moon has a thick atmosphere?"}, "top_k": 2},
                 fields=["chunk_text"])
    take(stub, "pinecone-records-search", SRC_PINECONE_SEARCH + "; request sent by pinecone 10.2.0 Index.search",
         base_expect("pinecone", "search", 200, None, data_source_id="moons", collection="moons", collection_name="moons",
                     namespace=ns, top_k=2, query_count=1, vector_dims=[], query_text="Which moon has a thick atmosphere?",
                     filter=False, score_kind="score",
                     documents=[[{"id": "moons-titan", "score": 0.9281134605407715,
                                  "content": hits[0]["fields"]["chunk_text"]},
                                 {"id": "moons-triton", "score": 0.6120445728302002,
                                  "content": hits[1]["fields"]["chunk_text"]}]],
                     returned_rows=2, error_type=None, usage={"read_units": 6, "embed_total_tokens": 9}),
         host=host,
         note="namespace in the path; server-side embedding (embed_total_tokens is the embedding model's token "
              "count for the query); url and host set to the documented index-host form as for pinecone-query")

    # error: dimension mismatch (rpcStatus)
    stub.route("POST", "/query", 400, {
        "code": 3, "message": "Vector dimension 3 does not match the dimension of the index 8", "details": []})
    try:
        index.query(vector=[0.1, 0.2, 0.3], top_k=2, namespace=ns)
    except Exception:
        pass
    take(stub, "pinecone-query-bad-dimension", SRC_PINECONE + " (rpcStatus error body); request sent by pinecone 10.2.0",
         base_expect("pinecone", "query", 400, None, data_source_id="moons", collection="moons", collection_name="moons",
                     namespace=ns, top_k=2, query_count=1, vector_dims=[3], query_text=None, filter=False,
                     score_kind="score", documents=None, returned_rows=None, error_type="400",
                     error_message="Vector dimension 3 does not match the dimension of the index 8"),
         host=host,
         note="rpcStatus.code is a gRPC status code (3 = INVALID_ARGUMENT)")
    srv.shutdown()


# ---------------------------------------------------------------------------------------------------------------
# Elasticsearch


ES_HEADERS = {"x-elastic-product": "Elasticsearch",
              "content-type": "application/vnd.elasticsearch+json;compatible-with=9"}


def es_hits(index: str, hits: list[tuple[str, float, dict]]) -> dict:
    return {"took": 4, "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": len(hits), "relation": "eq"},
                     "max_score": hits[0][1] if hits else None,
                     "hits": [{"_index": index, "_id": i, "_score": s, "_source": src} for i, s, src in hits]}}


def elasticsearch() -> None:
    from elasticsearch import Elasticsearch

    stub, srv, port = serve()
    idx = "moons"
    t = {"title": "Titan", "text": "Titan is Saturn's largest moon and the only moon with a thick atmosphere."}
    e = {"title": "Enceladus", "text": "Enceladus sprays water ice from geysers near its south pole."}
    tr = {"title": "Triton", "text": "Triton orbits Neptune backwards and has nitrogen geysers."}
    stub.route("POST", f"/{idx}/_search", 200, es_hits(idx, [("titan", 0.9928054, t), ("enceladus", 0.9207236, e),
                                                             ("triton", 0.8555448, tr)]), ES_HEADERS)
    es = Elasticsearch(f"http://127.0.0.1:{port}")
    es.search(index=idx, knn={"field": "embedding", "query_vector": V8, "k": 3, "num_candidates": 50,
                              "filter": {"term": {"planet": "saturn"}}},
              source=["title", "text"])
    docs = [[{"id": "titan", "score": 0.9928054, "metadata": t}, {"id": "enceladus", "score": 0.9207236, "metadata": e},
             {"id": "triton", "score": 0.8555448, "metadata": tr}]]
    take(stub, "elasticsearch-knn", SRC_ES + "; request sent by elasticsearch 9.5.1 Elasticsearch.search(knn=...)",
         base_expect("elasticsearch", "search", 200, port, data_source_id=idx, collection=idx, collection_name=idx,
                     namespace=None, top_k=3, query_count=1, vector_dims=[8], query_text=None, filter=True,
                     score_kind="score", documents=docs, returned_rows=3, error_type=None),
         note="top-level knn: k is top_k; num_candidates is the per-shard candidate pool, not top_k")

    # query.knn: k comes from size
    stub.route("POST", "/moons-v2/_search", 200, es_hits("moons-v2", [("titan", 0.9928054, t),
                                                                       ("enceladus", 0.9207236, e)]), ES_HEADERS)
    es.search(index="moons-v2", size=2,
              query={"knn": {"field": "embedding", "query_vector": V8, "num_candidates": 20}}, source=["title", "text"])
    take(stub, "elasticsearch-query-knn",
         SRC_ES + "; request sent by elasticsearch 9.5.1 Elasticsearch.search(query={'knn':...}, size=2)",
         base_expect("elasticsearch", "search", 200, port, data_source_id="moons-v2", collection="moons-v2",
                     collection_name="moons-v2", namespace=None, top_k=2, query_count=1, vector_dims=[8],
                     query_text=None, filter=False, score_kind="score",
                     documents=[[{"id": "titan", "score": 0.9928054, "metadata": t},
                                 {"id": "enceladus", "score": 0.9207236, "metadata": e}]],
                     returned_rows=2, error_type=None),
         note="knn query: the number of hits is `size` (default 10); the query's own `k` is optional")

    # knn with query_vector_builder: the text is on the wire
    stub.route("POST", "/moons-semantic/_search", 200, es_hits("moons-semantic", [("titan", 0.8912, t)]), ES_HEADERS)
    es.search(index="moons-semantic",
              knn={"field": "embedding", "k": 1, "num_candidates": 10,
                   "query_vector_builder": {"text_embedding": {"model_id": "my-e5-model",
                                                               "model_text": "Which moon has a thick atmosphere?"}}},
              source=["title", "text"])
    take(stub, "elasticsearch-knn-text", SRC_ES + "; request sent by elasticsearch 9.5.1",
         base_expect("elasticsearch", "search", 200, port, data_source_id="moons-semantic",
                     collection="moons-semantic", collection_name="moons-semantic", namespace=None, top_k=1,
                     query_count=1, vector_dims=[], query_text="Which moon has a thick atmosphere?", filter=False,
                     score_kind="score", documents=[[{"id": "titan", "score": 0.8912, "metadata": t}]],
                     returned_rows=1, error_type=None, request_model="my-e5-model"))

    # error: index not found
    err = {"error": {"root_cause": [{"type": "index_not_found_exception", "reason": "no such index [nope]",
                                     "resource.type": "index_or_alias", "resource.id": "nope", "index_uuid": "_na_",
                                     "index": "nope"}],
                     "type": "index_not_found_exception", "reason": "no such index [nope]",
                     "resource.type": "index_or_alias", "resource.id": "nope", "index_uuid": "_na_", "index": "nope"},
           "status": 404}
    stub.route("POST", "/nope/_search", 404, err, ES_HEADERS)
    try:
        es.search(index="nope", knn={"field": "embedding", "query_vector": V8, "k": 3, "num_candidates": 10})
    except Exception:
        pass
    take(stub, "elasticsearch-knn-missing-index", SRC_ES + "; request sent by elasticsearch 9.5.1",
         base_expect("elasticsearch", "search", 404, port, data_source_id="nope", collection="nope",
                     collection_name="nope", namespace=None, top_k=3, query_count=1, vector_dims=[8],
                     query_text=None, filter=False, score_kind="score", documents=None, returned_rows=None,
                     error_type="index_not_found_exception", error_message="no such index [nope]"))
    srv.shutdown()


# ---------------------------------------------------------------------------------------------------------------
# OpenSearch


def opensearch() -> None:
    from opensearchpy import OpenSearch

    stub, srv, port = serve()
    idx = "moons"
    t = {"title": "Titan", "text": "Titan is Saturn's largest moon and the only moon with a thick atmosphere."}
    e = {"title": "Enceladus", "text": "Enceladus sprays water ice from geysers near its south pole."}
    body = es_hits(idx, [("titan", 0.98582166, t), ("enceladus", 0.86317337, e)])
    stub.route("POST", f"/{idx}/_search", 200, body, {"content-type": "application/json; charset=UTF-8"})
    stub.route("GET", f"/{idx}/_search", 200, body, {"content-type": "application/json; charset=UTF-8"})
    client = OpenSearch(hosts=[{"host": "127.0.0.1", "port": port}], use_ssl=False)
    client.search(index=idx, body={"size": 2, "_source": ["title", "text"],
                                   "query": {"knn": {"embedding": {"vector": V8, "k": 2}}}})
    take(stub, "opensearch-knn", SRC_OS + "; request sent by opensearch-py 3.2.0 OpenSearch.search",
         base_expect("opensearch", "search", 200, port, data_source_id=idx, collection=idx, collection_name=idx,
                     namespace=None, top_k=2, query_count=1, vector_dims=[8], query_text=None, filter=False,
                     score_kind="score",
                     documents=[[{"id": "titan", "score": 0.98582166, "metadata": t},
                                 {"id": "enceladus", "score": 0.86317337, "metadata": e}]],
                     returned_rows=2, error_type=None),
         note="OpenSearch knn query: `query.knn.<vector field>.{vector,k}`; `size` caps the hits. For the "
              "`l2` space OpenSearch's _score is 1/(1+d) (k-NN spaces docs): higher is better")

    # knn with a filter inside the knn clause (efficient filtering, Lucene/Faiss engines)
    stub.route("POST", "/moons-filtered/_search", 200, es_hits("moons-filtered", [("titan", 0.98582166, t)]),
               {"content-type": "application/json; charset=UTF-8"})
    client.search(index="moons-filtered", body={
        "size": 3, "query": {"knn": {"embedding": {"vector": V8, "k": 3,
                                                   "filter": {"term": {"planet": "saturn"}}}}}})
    take(stub, "opensearch-knn-filter", SRC_OS + "; request sent by opensearch-py 3.2.0 OpenSearch.search",
         base_expect("opensearch", "search", 200, port, data_source_id="moons-filtered", collection="moons-filtered",
                     collection_name="moons-filtered", namespace=None, top_k=3, query_count=1, vector_dims=[8],
                     query_text=None, filter=True, score_kind="score",
                     documents=[[{"id": "titan", "score": 0.98582166, "metadata": t}]], returned_rows=1,
                     error_type=None),
         note="fewer hits than k: returned_rows counts what came back")
    srv.shutdown()


# ---------------------------------------------------------------------------------------------------------------
# Weaviate GraphQL (the v4 Python client searches over gRPC, so requests are written with httpx)


def weaviate() -> None:
    import httpx

    stub, srv, port = serve()
    q1 = ("{ Get { Moon(nearVector: {vector: [0.85, 0.2, 0.05, 0.1, 0.25, 0.0, 0.1, 0.05]}, limit: 2, "
          "where: {path: [\"planet\"], operator: Equal, valueText: \"saturn\"}) "
          "{ title text _additional { id distance } } } }")
    stub.route("POST", "/v1/graphql", 200, {"data": {"Get": {"Moon": [
        {"title": "Titan", "text": "Titan is Saturn's largest moon and the only moon with a thick atmosphere.",
         "_additional": {"id": "a6b1b6c4-2f0b-4b3e-9a57-1d6b8e3f2c01", "distance": 0.014389217}},
        {"title": "Enceladus", "text": "Enceladus sprays water ice from geysers near its south pole.",
         "_additional": {"id": "0f3a3a0e-6d3e-4c55-8d0c-6b2b7f7e9a12", "distance": 0.15855277}}]}}})
    httpx.post(f"http://127.0.0.1:{port}/v1/graphql", json={"query": q1})
    take(stub, "weaviate-graphql-nearvector", SRC_WEAVIATE + "; request written with httpx in the documented shape",
         base_expect("weaviate", "graphql", 200, port, data_source_id="Moon", collection="Moon",
                     collection_name="Moon", namespace=None, top_k=2, query_count=1, vector_dims=[8],
                     query_text=None, filter=True, score_kind="distance",
                     documents=[[{"id": "a6b1b6c4-2f0b-4b3e-9a57-1d6b8e3f2c01", "score": 0.014389217},
                                 {"id": "0f3a3a0e-6d3e-4c55-8d0c-6b2b7f7e9a12", "score": 0.15855277}]],
                     returned_rows=2, error_type=None),
         note="the collection (class) and limit are inside the GraphQL text: a decoder must parse "
              "`Get { <Class>(nearVector|nearText ..., limit: N)` and read `_additional.{id,distance|certainty}`; "
              "the properties asked for (`title text`) are content")

    q2 = ("{ Get { Moon(nearText: {concepts: [\"moon with a thick atmosphere\"]}, limit: 1) "
          "{ title _additional { id certainty distance } } } }")
    stub.route("POST", "/v1/graphql", 200, {"data": {"Get": {"Moon": [
        {"title": "Titan", "_additional": {"id": "a6b1b6c4-2f0b-4b3e-9a57-1d6b8e3f2c01", "certainty": 0.9928054,
                                           "distance": 0.0143892}}]}}})
    httpx.post(f"http://127.0.0.1:{port}/v1/graphql", json={"query": q2})
    take(stub, "weaviate-graphql-neartext", SRC_WEAVIATE + "; request written with httpx in the documented shape",
         base_expect("weaviate", "graphql", 200, port, data_source_id="Moon", collection="Moon",
                     collection_name="Moon", namespace=None, top_k=1, query_count=1, vector_dims=[],
                     query_text="moon with a thick atmosphere", filter=False, score_kind="distance",
                     documents=[[{"id": "a6b1b6c4-2f0b-4b3e-9a57-1d6b8e3f2c01", "score": 0.0143892}]],
                     returned_rows=1, error_type=None),
         note="certainty = 1 - distance/2 on cosine indexes; prefer distance when both are present")

    # GraphQL errors come with HTTP 200
    q3 = "{ Get { Planet(nearVector: {vector: [0.1, 0.2]}, limit: 3) { name _additional { id distance } } } }"
    stub.route("POST", "/v1/graphql", 200, {
        "data": {"Get": {"Planet": None}},
        "errors": [{"locations": [{"column": 9, "line": 1}],
                    "message": "Cannot query field \"Planet\" on type \"GetObjectsObj\".",
                    "path": ["Get", "Planet"]}]})
    httpx.post(f"http://127.0.0.1:{port}/v1/graphql", json={"query": q3})
    take(stub, "weaviate-graphql-error", SRC_WEAVIATE + " (GraphQLError); request written with httpx",
         base_expect("weaviate", "graphql", 200, port, data_source_id="Planet", collection="Planet",
                     collection_name="Planet", namespace=None, top_k=3, query_count=1, vector_dims=[2],
                     query_text=None, filter=False, score_kind="distance", documents=None, returned_rows=None,
                     error_type="graphql_error",
                     error_message="Cannot query field \"Planet\" on type \"GetObjectsObj\"."),
         note="a GraphQL error is HTTP 200 with `errors`: the span is an error although the status is 200")
    srv.shutdown()


def main() -> None:
    versions = {}
    import importlib.metadata as md
    for p in ("qdrant-client", "pinecone", "elasticsearch", "elastic-transport", "opensearch-py", "httpx"):
        versions[p] = md.version(p)
    print("versions:", versions, "python", platform.python_version())
    for fn in (qdrant, pinecone, elasticsearch, opensearch, weaviate):
        fn()
    prefixes = ("qdrant-", "pinecone-", "elasticsearch-", "opensearch-", "weaviate-")
    for p in HERE.glob("*.json"):
        if p.name.startswith(prefixes):
            p.unlink()
    for fx in FIXTURES:
        (HERE / f"{fx['name']}.json").write_text(json.dumps(fx, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(FIXTURES)} fixtures to {HERE}")


if __name__ == "__main__":
    main()
