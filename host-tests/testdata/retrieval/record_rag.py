#!/usr/bin/env python3
"""Record the embeddings → Chroma query → chat shape of envoy/rag_demo.py as one exchange sequence.

Runs on loopback: a real `chroma run` (chromadb 1.5.9), a small OpenAI-shaped mock (embeddings from a fixed keyword
table, so the nearest chunks are meaningful; chat with a fixed answer: the LLM is a mock, as in the project's
tests), and the recording proxy of record_chroma.py standing where Envoy stands, routing by path exactly as the
end-to-end Envoy config would (`/api/` → Chroma, everything else → the LLM mock). The application is
envoy/rag_demo.py with the official clients (chromadb 1.5.9, openai 3.57.0): ingest, then one question with
`traceparent` propagated and `x-session-id`, then one with the session header only.

    .venv-scratch/bin/pip install chromadb==1.5.9 openai==3.57.0
    .venv-scratch/bin/python host-tests/testdata/retrieval/record_rag.py

Writes rag-sequence.json: every exchange in wire order, and `joins`, what the recording shows can be joined:
trace ids from traceparent, session ids, and which embeddings response produced each Chroma query vector (the
query vector is the embedding's float32 values, printed by chromadb as the shortest float64 repr of each float32).
"""

from __future__ import annotations

import base64
import http.server
import importlib.metadata as md
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[2] / "envoy"))
import record_chroma as rc  # noqa: E402

KEYWORDS = ["saturn", "atmosphere", "nitrogen", "ocean", "ice", "volcan", "geyser", "mars"]


def keyword_embedding(text: str) -> list[float]:
    t = text.lower()
    v = [0.05 + t.count(k) for k in KEYWORDS]
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def make_mock():
    class Mock(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        calls = 0

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("content-length") or 0)
            req = json.loads(self.rfile.read(n) or b"{}")
            Mock.calls += 1
            if self.path == "/v1/embeddings":
                inputs = req["input"] if isinstance(req["input"], list) else [req["input"]]
                data = []
                for i, text in enumerate(inputs):
                    vec = keyword_embedding(text)
                    if req.get("encoding_format") == "base64":
                        emb = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
                    else:
                        emb = vec
                    data.append({"object": "embedding", "index": i, "embedding": emb})
                tokens = sum(len(t.split()) for t in inputs)
                body = {"object": "list", "data": data, "model": req["model"],
                        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
            elif self.path == "/v1/chat/completions":
                body = {"id": f"chatcmpl-rag-{Mock.calls}", "object": "chat.completion", "created": 1796155200,
                        "model": req["model"] + "-2024-07-18",
                        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                     "message": {"role": "assistant", "refusal": None,
                                                 "content": "Titan [moons-titan] has a thick nitrogen atmosphere."}}],
                        "usage": {"prompt_tokens": 96, "completion_tokens": 11, "total_tokens": 107},
                        "system_fingerprint": "fp_mock"}
            else:
                body = {"error": {"message": "not found", "type": "invalid_request_error"}}
            raw = json.dumps(body).encode()
            self.send_response_only(200 if "error" not in body else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Mock


def f32_key(vec) -> tuple:
    """The float32 values of a vector: what survives chromadb's np.float32 conversion."""
    return tuple(struct.unpack(f"<{len(vec)}f", struct.pack(f"<{len(vec)}f", *vec)))


def main() -> None:
    import rag_demo

    chroma_bin = shutil.which("chroma", path=str(Path(sys.executable).parent))
    chroma_port, mock_port, proxy_port = rc.free_port(), rc.free_port(), rc.free_port()
    tmp = Path(tempfile.mkdtemp(prefix="rag-rec-"))
    log = open(tmp / "server.log", "wb")
    server = subprocess.Popen([chroma_bin, "run", "--host", "127.0.0.1", "--port", str(chroma_port), "--path",
                               str(tmp / "db")], stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ, ANONYMIZED_TELEMETRY="False", NO_COLOR="1"))
    mock = http.server.ThreadingHTTPServer(("127.0.0.1", mock_port), make_mock())
    threading.Thread(target=mock.serve_forever, daemon=True).start()
    rec = rc.Recorder(mock_port, routes=[("/api/", chroma_port)])
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", proxy_port), rc.make_handler(rec))
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        rc.wait_for(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat")
        rec.label = "start"
        app = rag_demo.Rag("127.0.0.1", proxy_port, session="sess-rag-1", propagate=True)
        rec.label = "ingest"
        app.ingest()
        rec.label = "ask-traced"
        r1 = app.ask("Which moon has a thick atmosphere?")
        app2 = rag_demo.Rag("127.0.0.1", proxy_port, session="sess-rag-2", propagate=False)
        rec.label = "ask-session-only"
        r2 = app2.ask("Which moon has an ocean under its ice?")
    finally:
        proxy.shutdown()
        mock.shutdown()
        server.terminate()
        server.wait(10)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)

    # What can be joined, read off the wire.
    seq = []
    emb_vectors = {}  # f32 key -> seq of the embeddings exchange that returned it
    joins = []
    for i, item in enumerate(rec.exchanges):
        ex = item["exchange"]
        url = ex["request"]["url"]
        path = url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
        h = ex["request"]["headers"]
        entry = {"seq": i, "step": item["label"], "connection": item["connection"], **ex}
        tp = h.get("traceparent")
        kind = "none"
        if path == "v1/embeddings":
            kind = "llm"
            resp = json.loads(ex["response"]["body"])
            for d in resp["data"]:
                e = d["embedding"]
                if isinstance(e, str):
                    raw = base64.b64decode(e)
                    e = list(struct.unpack(f"<{len(raw) // 4}f", raw))
                emb_vectors[f32_key(e)] = (i, d["index"])  # the latest response wins
            entry["expect"] = {"kind": "llm", "provider": "openai", "operation": "embeddings"}
        elif path == "v1/chat/completions":
            kind = "llm"
            entry["expect"] = {"kind": "llm", "provider": "openai", "operation": "chat"}
        elif path.endswith("/query"):
            kind = "retrieval"
            req = json.loads(ex["request"]["body"])
            src = [emb_vectors.get(f32_key(q)) for q in req["query_embeddings"]]
            resp = json.loads(ex["response"]["body"])
            entry["expect"] = {"kind": "retrieval", "provider": "chroma", "operation": "query",
                               "documents": [[{"id": d, "score": s} for d, s in zip(ids, ds)]
                                             for ids, ds in zip(resp["ids"], resp["distances"])],
                               "query_vector_from": [{"seq": s[0], "index": s[1]} if s else None for s in src]}
        else:
            entry["expect"] = {"kind": "none"}
        if kind != "none":
            joins.append({"seq": i, "step": item["label"], "kind": kind, "path": "/" + path,
                          "trace_id": tp.split("-")[1] if tp else None,
                          "parent_span_id": tp.split("-")[2] if tp else None,
                          "session_id": h.get("x-session-id"),
                          "connection": item["connection"],
                          **({"query_vector_from": entry["expect"]["query_vector_from"]} if kind == "retrieval" else {})})
        seq.append(entry)

    versions = {p: md.version(p) for p in ("chromadb", "openai", "httpx")}
    out = {
        "name": "rag-sequence",
        "source": f"recorded here by host-tests/testdata/retrieval/record_rag.py: envoy/rag_demo.py with chromadb "
                  f"{versions['chromadb']} and openai {versions['openai']} (httpx {versions['httpx']}) against a real "
                  f"`chroma run` and a Python OpenAI-shaped mock, through a path-routing recording proxy",
        "results": {"ask-traced": r1, "ask-session-only": r2},
        "joins": joins,
        "exchanges": seq,
    }
    (HERE / "rag-sequence.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    for j in joins:
        print(j)


if __name__ == "__main__":
    main()
