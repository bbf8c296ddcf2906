#!/usr/bin/env python3
"""Record real Chroma HTTP exchanges as llm-trace exchange fixtures (format: ../../../../shared/captures/README.md).

What runs, all on loopback, nothing downloaded at run time:
  * the real Chroma server, `chroma run` from the `chromadb` wheel (its Rust frontend), on a free port with a
    throw-away `--path`;
  * a recording reverse proxy (this file: stdlib `http.server` + `http.client`) on another free port, which forwards
    every exchange unchanged and keeps the bytes of both bodies as they were on the wire (bodies are the entity bytes:
    chunked framing removed, content coding kept);
  * the official Python client, `chromadb.HttpClient`, pointed at the proxy, running the scenario below with explicit
    8-dimensional embeddings and `embedding_function=None` (Chroma's default embedding function would download an
    ONNX model, which is impossible here).

Versions of the committed recording: chromadb 1.5.9 (server and client from the same wheel; the server reports
`/api/v2/version` = "1.0.0"), httpx 0.28.1, orjson 3.13.0, CPython 3.11.7.

Reproduce (from the repository root):
    python3 -m venv .venv-scratch
    .venv-scratch/bin/pip install chromadb==1.5.9
    .venv-scratch/bin/python host-tests/testdata/retrieval/record_chroma.py

It rewrites host-tests/testdata/retrieval/chroma-*.json and chroma-sequence.json. Collection ids are UUIDs the server
makes up, ports are free ports picked at run time and dates are the clock's, so a new recording differs from the
committed one in those values only; every `expect` block is derived again from the new response bodies, and the
script checks that the official client's own parse of each query result agrees with the `expect` block.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import http.server
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}

# ---------------------------------------------------------------------------------------------------------------
# The recording reverse proxy


class Recorder:
    def __init__(self, upstream_port: int, routes: list[tuple[str, int]] | None = None):
        self.upstream_port = upstream_port
        self.routes = routes or []  # (path prefix, port): the first match wins, else upstream_port
        self.label = "unlabelled"
        self.exchanges: list[dict] = []
        self.lock = threading.Lock()
        self.connections = 0

    def upstream_for(self, path: str) -> int:
        for prefix, port in self.routes:
            if path.startswith(prefix):
                return port
        return self.upstream_port

    def next_connection(self) -> int:
        with self.lock:
            self.connections += 1
            return self.connections


def first_values(pairs) -> dict:
    """Lower-case header names, first value of each (the captures' convention)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), value)
    return out


def body_field(raw: bytes) -> dict:
    try:
        return {"body": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(raw).decode("ascii")}


def read_chunked(rfile) -> bytes:
    out = bytearray()
    while True:
        size_line = rfile.readline()
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return bytes(out)
        out += rfile.read(size)
        rfile.readline()


def make_handler(rec: Recorder):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.conn_id = rec.next_connection()
            self.upstream: dict[int, http.client.HTTPConnection] = {}

        def log_message(self, fmt, *args):  # quiet
            pass

        def _forward(self):
            label = rec.label  # the scenario names its step before the client sends
            headers = list(self.headers.items())
            hmap = first_values(headers)
            if "content-length" in hmap:
                req_body = self.rfile.read(int(hmap["content-length"]))
            elif hmap.get("transfer-encoding", "").lower() == "chunked":
                req_body = read_chunked(self.rfile)
            else:
                req_body = b""
            port = rec.upstream_for(self.path)
            if port not in self.upstream:
                self.upstream[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            up = self.upstream[port]
            up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() == "transfer-encoding":
                    continue
                up.putheader(name, value)
            if "content-length" not in hmap and req_body:
                up.putheader("Content-Length", str(len(req_body)))
            up.endheaders(req_body if req_body else None)
            resp = up.getresponse()
            resp_body = resp.read()  # http.client removes chunked framing; content coding is kept
            resp_headers = resp.getheaders()

            # Recorded before the reply, so the list keeps wire order across connections.
            host = hmap.get("host", f"127.0.0.1:{port}")
            exchange = {
                "request": {
                    "method": self.command,
                    "url": f"http://{host}{self.path}",
                    "headers": first_values(headers),
                    **body_field(req_body),
                },
                "response": {
                    "status": resp.status,
                    "headers": first_values(resp_headers),
                    **body_field(resp_body),
                },
            }
            with rec.lock:
                rec.exchanges.append({"label": label, "connection": self.conn_id, "exchange": exchange})
            self.send_response_only(resp.status, resp.reason)
            for name, value in resp_headers:
                if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
                    continue
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(resp_body)))
            self.end_headers()
            self.wfile.write(resp_body)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward

    return Handler


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30.0) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"chroma server did not answer {url} within {seconds}s")


# The corpus: six chunks about moons with explicit 8-dim embeddings (one axis per topic, a shared component so that
# cosine distances are distinct and no two results tie).
DOCS = [
    ("moons-titan", "Titan is Saturn's largest moon and the only moon with a thick atmosphere, mostly nitrogen.",
     {"source": "moons.md", "planet": "saturn", "chunk": 0},
     [0.90, 0.10, 0.05, 0.00, 0.20, 0.00, 0.10, 0.05]),
    ("moons-enceladus", "Enceladus sprays water ice from geysers near its south pole.",
     {"source": "moons.md", "planet": "saturn", "chunk": 1},
     [0.60, 0.50, 0.10, 0.00, 0.00, 0.10, 0.20, 0.00]),
    ("moons-europa", "Europa, a moon of Jupiter, hides a salty ocean under its ice shell.",
     {"source": "moons.md", "planet": "jupiter", "chunk": 2},
     [0.10, 0.70, 0.60, 0.05, 0.00, 0.10, 0.00, 0.10]),
    ("moons-io", "Io is the most volcanically active body in the Solar System.",
     {"source": "moons.md", "planet": "jupiter", "chunk": 3},
     [0.00, 0.10, 0.90, 0.30, 0.10, 0.00, 0.05, 0.00]),
    ("moons-triton", "Triton orbits Neptune backwards and has nitrogen geysers.",
     {"source": "moons.md", "planet": "neptune", "chunk": 4},
     [0.50, 0.20, 0.00, 0.70, 0.30, 0.00, 0.00, 0.10]),
    ("moons-phobos", "Phobos is slowly spiralling in towards Mars.",
     None,  # a record without metadata: `metadatas` carries null for it
     [0.00, 0.00, 0.10, 0.10, 0.00, 0.90, 0.30, 0.20]),
]
Q_ATMOSPHERE = [0.85, 0.20, 0.05, 0.10, 0.25, 0.00, 0.10, 0.05]  # "Which moon has a thick atmosphere?"
Q_OCEAN = [0.20, 0.80, 0.40, 0.00, 0.00, 0.10, 0.10, 0.05]       # "Which moon has an ocean under ice?"
COLLECTION = "moons-docs"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


# ---------------------------------------------------------------------------------------------------------------
# Expectations, derived from the wire (never from a tracer)


def path_parts(url: str) -> dict:
    path = url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
    seg = path.split("/")
    # api/v2/tenants/{t}/databases/{d}/collections/{id}/{op}
    out = {}
    if seg[:3] == ["api", "v2", "tenants"] and len(seg) >= 4:
        out["tenant"] = seg[3]
    if len(seg) >= 6 and seg[4] == "databases":
        out["database"] = seg[5]
    if len(seg) >= 8 and seg[6] == "collections":
        out["collection"] = seg[7]
    if len(seg) >= 9:
        out["op"] = seg[8]
    return out


def retrieval_expect(ex: dict, names: dict) -> dict:
    req = json.loads(ex["request"]["body"])
    status = ex["response"]["status"]
    parts = path_parts(ex["request"]["url"])
    op = parts["op"]
    coll = parts["collection"]
    host, _, port = ex["request"]["url"].split("://", 1)[1].split("/", 1)[0].partition(":")
    e = {
        "kind": "retrieval",
        "provider": "chroma",
        "operation": op,
        "streaming": False,
        "status": status,
        "db_system": "chroma",
        "server_address": host,
        "server_port": int(port) if port else None,
        "data_source_id": coll,
        "tenant": parts["tenant"],
        "database": parts["database"],
        "namespace": f"{parts['tenant']}|{parts['database']}",
        "collection": coll,
        "collection_id": coll,
        "collection_name": names.get(coll),
        "include": req.get("include"),
        "filter": bool(req.get("where") or req.get("where_document")),
        "query_text": None,
    }
    if op == "query":
        qe = req.get("query_embeddings") or []
        e.update({
            "top_k": req.get("n_results"),
            "query_count": len(qe),
            "vector_dims": sorted({len(v) for v in qe}),
            "score_kind": "distance",
        })
    elif op == "get":
        e.update({"top_k": req.get("limit"), "query_count": 0, "ids_requested": req.get("ids"),
                  "score_kind": None})
    elif op == "search":
        e.update({"top_k": [s.get("limit", {}).get("limit") for s in req.get("searches", [])],
                  "query_count": len(req.get("searches", [])), "score_kind": "score"})
    body = ex["response"].get("body", "")
    if status != 200:
        err = json.loads(body)
        e.update({"error_type": err.get("error"), "error_message": err.get("message"),
                  "documents": None, "returned_rows": None})
        return e
    resp = json.loads(body)
    e["error_type"] = None
    if op == "query":
        docs = []
        for qi, ids in enumerate(resp["ids"]):
            dists = (resp.get("distances") or [None] * len(resp["ids"]))[qi]
            texts = (resp.get("documents") or [None] * len(resp["ids"]))[qi]
            metas = (resp.get("metadatas") or [None] * len(resp["ids"]))[qi]
            row = []
            for i, doc_id in enumerate(ids):
                d = {"id": doc_id, "score": dists[i] if dists is not None else None}
                if texts is not None:
                    d["content"] = texts[i]
                if metas is not None:
                    d["metadata"] = metas[i]
                row.append(d)
            docs.append(row)
        e["documents"] = docs
        e["returned_rows"] = sum(len(r) for r in resp["ids"])
    elif op == "get":
        texts = resp.get("documents")
        metas = resp.get("metadatas")
        row = []
        for i, doc_id in enumerate(resp["ids"]):
            d = {"id": doc_id, "score": None}
            if texts is not None:
                d["content"] = texts[i]
            if metas is not None:
                d["metadata"] = metas[i]
            row.append(d)
        e["documents"] = [row]
        e["returned_rows"] = len(resp["ids"])
    elif op == "search":
        docs = []
        for si, ids in enumerate(resp["ids"]):
            scores = (resp.get("scores") or [None] * len(resp["ids"]))[si]
            docs.append([{"id": doc_id, "score": scores[i] if scores else None} for i, doc_id in enumerate(ids)])
        e["documents"] = docs
        e["returned_rows"] = sum(len(r) for r in resp["ids"])
    return e


def none_expect(ex: dict, operation: str, learns: dict | None = None) -> dict:
    e = {"kind": "none", "provider": "chroma", "operation": operation, "streaming": False,
         "status": ex["response"]["status"]}
    if learns:
        e["learns"] = learns
    return e


# ---------------------------------------------------------------------------------------------------------------
# The scenario


def run(out_dir: Path, keep: bool) -> None:
    venv_bin = Path(sys.executable).parent
    chroma_bin = shutil.which("chroma", path=str(venv_bin)) or shutil.which("chroma")
    if not chroma_bin:
        raise SystemExit("`chroma` not found: pip install chromadb==1.5.9 in this interpreter's venv")
    import chromadb
    import httpx
    from chromadb.config import Settings

    chroma_port, proxy_port = free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="chroma-rec-"))
    log = open(tmp / "server.log", "wb")
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False", NO_COLOR="1")
    server = subprocess.Popen(
        [chroma_bin, "run", "--host", "127.0.0.1", "--port", str(chroma_port), "--path", str(tmp / "db")],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    rec = Recorder(chroma_port)
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", proxy_port), make_handler(rec))
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    notes: dict[str, str] = {}
    try:
        wait_for(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat")
        settings = Settings(anonymized_telemetry=False)

        def step(label):
            rec.label = label

        step("client-start")
        client = chromadb.HttpClient(host="127.0.0.1", port=proxy_port, settings=settings)
        step("heartbeat")
        client.heartbeat()
        step("create-collection")
        col = client.create_collection(COLLECTION, embedding_function=None,
                                       configuration={"hnsw": {"space": "cosine"}},
                                       metadata={"owner": "llm-trace fixtures"})
        step("add")
        col.add(ids=[d[0] for d in DOCS], documents=[d[1] for d in DOCS],
                metadatas=[d[2] for d in DOCS], embeddings=[d[3] for d in DOCS])
        step("count")
        assert col.count() == len(DOCS)

        # A second client, as a second process of the application would be: it learns the id from the name.
        step("client2-start")
        client2 = chromadb.HttpClient(host="127.0.0.1", port=proxy_port, settings=settings)
        step("get-collection")
        col2 = client2.get_collection(COLLECTION, embedding_function=None)

        step("query")
        r_query = col2.query(query_embeddings=[Q_ATMOSPHERE], n_results=3,
                             include=["documents", "metadatas", "distances"])
        step("query-batch")
        r_batch = col2.query(query_embeddings=[Q_ATMOSPHERE, Q_OCEAN], n_results=3,
                             include=["documents", "metadatas", "distances"])
        step("get-ids")
        r_get = col2.get(ids=["moons-titan", "moons-phobos"], include=["documents", "metadatas", "embeddings"])
        step("query-where")
        r_where = col2.query(query_embeddings=[Q_ATMOSPHERE], n_results=3, where={"planet": "jupiter"},
                             include=["documents", "metadatas", "distances"])
        step("query-distances-only")
        r_dist = col2.query(query_embeddings=[Q_OCEAN], n_results=2, include=["distances"])

        step("query-texts")
        try:
            col2.query(query_texts=["Which moon has a thick atmosphere?"], n_results=3)
            notes["query-texts"] = "query_texts succeeded"
        except Exception as exc:  # expected: no embedding function on the client, nothing sent
            notes["query-texts"] = f"client raised {type(exc).__name__}: {exc}"

        step("search")
        try:
            from chromadb import Knn, Search, K
            r_search = col2.search(Search().rank(Knn(query=Q_ATMOSPHERE)).limit(3)
                                   .select(K.DOCUMENT, K.SCORE, "planet"))
            notes["search"] = f"search returned ids {r_search['ids']}"
        except Exception as exc:
            notes["search"] = f"client raised {type(exc).__name__}: {exc}"

        step("traceparent-client")
        client3 = chromadb.HttpClient(host="127.0.0.1", port=proxy_port, settings=settings,
                                      headers={"traceparent": TRACEPARENT})
        col3 = client3.get_collection(COLLECTION, embedding_function=None)
        step("query-traceparent")
        col3.query(query_embeddings=[Q_OCEAN], n_results=1)

        step("get-missing-collection")
        try:
            client2.get_collection("no-such-collection")
        except Exception as exc:
            notes["get-missing-collection"] = f"client raised {type(exc).__name__}: {exc}"

        step("create-doomed")
        doomed = client.create_collection("moons-deleted", embedding_function=None)
        step("delete-doomed")
        client.delete_collection("moons-deleted")
        step("query-missing-collection")
        try:
            doomed.query(query_embeddings=[Q_ATMOSPHERE], n_results=3)
        except Exception as exc:
            notes["query-missing-collection"] = f"client raised {type(exc).__name__}: {exc}"

        step("query-wrong-dimension")
        try:
            col2.query(query_embeddings=[[0.1, 0.2, 0.3]], n_results=3)
        except Exception as exc:
            notes["query-wrong-dimension"] = f"client raised {type(exc).__name__}: {exc}"

        step("v1-query")
        v1 = httpx.post(f"http://127.0.0.1:{proxy_port}/api/v1/collections/{col2.id}/query",
                        json={"query_embeddings": [Q_ATMOSPHERE], "n_results": 3})
        notes["v1-query"] = f"HTTP {v1.status_code}"

        step("version")
        versions = {"chromadb": chromadb.__version__, "httpx": httpx.__version__,
                    "python": platform.python_version(),
                    "server_version": client.get_version()}
    finally:
        proxy.shutdown()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            (tmp / "raw-exchanges.json").write_text(json.dumps(rec.exchanges, indent=1))
            print(f"kept {tmp}")

    write_fixtures(out_dir, rec, notes, versions, results={
        "query": r_query, "query-batch": r_batch, "get-ids": r_get, "query-where": r_where,
        "query-distances-only": r_dist})


# ---------------------------------------------------------------------------------------------------------------
# Writing the fixtures


def exchange_kind(ex: dict) -> str:
    """A short name for what an exchange is, from its method and path."""
    method = ex["request"]["method"]
    path = ex["request"]["url"].split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
    seg = path.split("/")
    parts = path_parts(ex["request"]["url"])
    if seg[:2] == ["api", "v1"]:
        return "v1-" + "-".join(seg[2:3] + seg[4:5])
    if "op" in parts:
        return parts["op"]
    if "collection" in parts:
        return {"GET": "get-collection", "DELETE": "delete-collection", "PUT": "modify-collection"}.get(method, method)
    if path.endswith("/collections"):
        return "create-collection" if method == "POST" else "list-collections"
    if "database" in parts:
        return "get-database"
    if "tenant" in parts:
        return "get-tenant"
    return seg[-1]


def write_fixtures(out_dir: Path, rec: Recorder, notes: dict, versions: dict, results: dict) -> None:
    source = (f"recorded here: chromadb {versions['chromadb']} `chroma run` (server /api/v2/version "
              f"{versions['server_version']}) driven by chromadb.HttpClient {versions['chromadb']} (httpx "
              f"{versions['httpx']}, CPython {versions['python']}) through "
              "host-tests/testdata/retrieval/record_chroma.py")
    names: dict[str, str] = {}  # collection id -> name, learnt from collection responses, as a filter would
    per_label: dict[str, int] = {}
    for item in rec.exchanges:
        per_label[item["label"]] = per_label.get(item["label"], 0) + 1

    for p in out_dir.glob("chroma-*.json"):
        p.unlink()
    sequence = []
    written: set[str] = set()
    seen_shapes: set[tuple] = set()
    for seq, item in enumerate(rec.exchanges):
        ex = item["exchange"]
        label = item["label"]
        kind = exchange_kind(ex)
        url = ex["request"]["url"]
        path = url.split("://", 1)[1].split("/", 1)[1]
        parts = path_parts(url)
        op = parts.get("op")
        status = ex["response"]["status"]
        resp_body = ex["response"].get("body", "")
        learns = None
        if status == 200 and kind in ("get-collection", "create-collection"):
            # GET .../collections/{name} and POST .../collections (create) answer {"id": uuid, "name": ...}
            c = json.loads(resp_body)
            names[c["id"]] = c["name"]
            learns = {"collection_id": c["id"], "collection_name": c["name"],
                      "hnsw_space": (c.get("configuration_json") or {}).get("hnsw", {}).get("space"),
                      "dimension": c.get("dimension")}

        if op in ("query", "get", "search") and path.startswith("api/v2/"):
            in_sequence = retrieval_expect(ex, names)
            standalone = dict(in_sequence, collection_name=None,
                              learnable_collection_name=in_sequence["collection_name"])
        elif kind.startswith("v1-"):
            in_sequence = standalone = {
                "kind": "retrieval", "provider": "chroma", "operation": "query", "streaming": False,
                "status": status, "db_system": "chroma", "collection": path.split("/")[3],
                "collection_id": path.split("/")[3], "top_k": json.loads(ex["request"]["body"]).get("n_results"),
                "query_count": len(json.loads(ex["request"]["body"]).get("query_embeddings") or []),
                "error_type": str(status), "documents": None, "returned_rows": None,
                "note": "v1 path (clients before chromadb 0.6): current servers route /api/v1/* to a 410 "
                        "notice for every method but POST, so a v1 query gets 405 with an empty body"}
        else:
            in_sequence = standalone = none_expect(ex, kind, learns)

        sequence.append({"seq": seq, "connection": item["connection"], "step": label, "name": f"{label}/{kind}",
                         **ex, "expect": in_sequence})

        # One standalone fixture per distinct exchange shape (the client start-up calls repeat per client).
        shape = (ex["request"]["method"], kind, status, label if op else "")
        if shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        name = f"chroma-{label}" if per_label[label] == 1 or kind == label else f"chroma-{label}--{kind}"
        assert name not in written, name
        written.add(name)
        fixture = {"name": name, "source": source, **ex, "expect": standalone}
        if label in notes:
            fixture["note"] = notes[label]
        (out_dir / f"{name}.json").write_text(json.dumps(fixture, indent=2, ensure_ascii=False) + "\n")

    (out_dir / "chroma-sequence.json").write_text(json.dumps({
        "name": "chroma-sequence",
        "source": source,
        "about": "Every exchange of one recording, in wire order, each with its expectations when replayed in this "
                 "order through one filter instance (so a collection name learnt from an earlier "
                 "GET .../collections/{name} or create response is known). `connection` numbers the client "
                 "connections the proxy accepted: httpx keeps one pooled connection per client object, and "
                 "chromadb's admin client (tenant and database checks at start-up) has its own. Steps that "
                 "sent nothing, or whose outcome is worth a word, are in `notes`.",
        "notes": notes,
        "exchanges": sequence,
    }, indent=1, ensure_ascii=False) + "\n")

    # Cross-check: the official client's own parse agrees with the expectations derived from the wire.
    for label, result in results.items():
        fx = json.loads((out_dir / f"chroma-{label}.json").read_text())
        docs = fx["expect"]["documents"]
        if label == "get-ids":
            assert [d["id"] for d in docs[0]] == result["ids"], label
            continue
        assert [[d["id"] for d in row] for row in docs] == result["ids"], label
        assert [[d["score"] for d in row] for row in docs] == result["distances"], label
    print(f"wrote {len(written)} fixtures + chroma-sequence.json ({len(sequence)} exchanges) to {out_dir}")
    for k, v in notes.items():
        print(f"  {k}: {v}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--keep", action="store_true", help="keep the server's data dir and log")
    args = ap.parse_args()
    run(args.out, args.keep)
