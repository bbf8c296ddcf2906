#!/usr/bin/env python3
"""A small RAG application with the official `chromadb` and `openai` clients, for issue 19's end-to-end test.

Every call it makes goes to ONE base address (Envoy's listener), split by path the way a route table would:
  * `chromadb.HttpClient(host, port)` sends `/api/v2/...` (Chroma's REST API),
  * `openai.OpenAI(base_url=http://host:port/v1)` sends `/v1/embeddings` and `/v1/chat/completions`.
So one Envoy listener with two routes (prefix `/api/` → the Chroma cluster, prefix `/v1/` → the LLM cluster) puts all
three calls of a question through the filter: embeddings → retrieval → chat.

Correlation, as an application can offer it:
  * `--session ID`: `x-session-id: ID` on every request (openai `default_headers`, chromadb `HttpClient(headers=)`),
    which the filter maps to `session.id` by default. Static per client object: an app serving many sessions from
    one shared client needs the per-request hook below instead.
  * `--traceparent`: one W3C trace per question; each of its three requests carries
    `traceparent: 00-<trace id>-<the question's span id>-01`, so the filter's three spans are siblings under the
    application's span. openai: a public httpx event hook (`http_client=httpx.Client(event_hooks=...)`);
    chromadb: it has no public per-request header hook (its `headers=` are fixed when the client is made), so the
    hook goes on the client's private httpx session (`client._server._session`, chromadb 1.5.9). An application
    with OpenTelemetry would use `opentelemetry-instrumentation-httpx` instead, which covers both clients (both
    use httpx).

    python3 envoy/rag_demo.py --base 127.0.0.1:10000 --session s-1 --traceparent "Which moon has a thick atmosphere?"

The collection is created with `embedding_function=None` and explicit embeddings from the embeddings API (Chroma's
default embedding function would download an ONNX model at run time).
"""

from __future__ import annotations

import argparse
import secrets
import sys

import chromadb
import httpx
import openai
from chromadb.config import Settings

EMBED_MODEL = "text-embedding-3-small"
CHAT_MODEL = "gpt-4o-mini"
COLLECTION = "moons-rag"

CORPUS = [
    ("moons-titan", "Titan is Saturn's largest moon and the only moon with a thick atmosphere, mostly nitrogen."),
    ("moons-enceladus", "Enceladus sprays water ice from geysers near its south pole."),
    ("moons-europa", "Europa, a moon of Jupiter, hides a salty ocean under its ice shell."),
    ("moons-io", "Io is the most volcanically active body in the Solar System."),
    ("moons-triton", "Triton orbits Neptune backwards and has nitrogen geysers."),
    ("moons-phobos", "Phobos is slowly spiralling in towards Mars."),
]


class Trace:
    """The application's own context: one trace and one span per question (no OpenTelemetry SDK needed)."""

    def __init__(self):
        self.header: str | None = None

    def start(self) -> str:
        self.header = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
        return self.header

    def hook(self, request: httpx.Request) -> None:
        if self.header:
            request.headers["traceparent"] = self.header


class Rag:
    def __init__(self, host: str, port: int, session: str | None = None, propagate: bool = False,
                 api_key: str = "sk-rag-demo"):
        headers = {"x-session-id": session} if session else {}
        self.trace = Trace() if propagate else None
        hooks = {"request": [self.trace.hook]} if self.trace else {}
        # Separate dicts: chromadb adds its Content-Type and User-Agent to the dict it is given, in place, so a
        # shared dict would make the openai calls say "Chroma Python Client" too.
        self.llm = openai.OpenAI(base_url=f"http://{host}:{port}/v1", api_key=api_key, default_headers=dict(headers),
                                 http_client=httpx.Client(event_hooks=hooks), max_retries=0)
        self.chroma = chromadb.HttpClient(host=host, port=port, headers=dict(headers) or None,
                                          settings=Settings(anonymized_telemetry=False))
        if self.trace:
            self.chroma._server._session.event_hooks["request"].append(self.trace.hook)  # private, see above

    def embed(self, texts: list[str]) -> list[list[float]]:
        resp = self.llm.embeddings.create(model=EMBED_MODEL, input=texts)
        return [d.embedding for d in resp.data]

    def ingest(self) -> None:
        col = self.chroma.get_or_create_collection(COLLECTION, embedding_function=None,
                                                   configuration={"hnsw": {"space": "cosine"}})
        col.add(ids=[i for i, _ in CORPUS], documents=[t for _, t in CORPUS],
                embeddings=self.embed([t for _, t in CORPUS]), metadatas=[{"source": "moons.md"}] * len(CORPUS))

    def ask(self, question: str, k: int = 3) -> dict:
        tp = self.trace.start() if self.trace else None
        col = self.chroma.get_collection(COLLECTION, embedding_function=None)
        (qvec,) = self.embed([question])
        hits = col.query(query_embeddings=[qvec], n_results=k, include=["documents", "distances"])
        context = "\n".join(f"[{i}] {d}" for i, d in zip(hits["ids"][0], hits["documents"][0]))
        chat = self.llm.chat.completions.create(model=CHAT_MODEL, messages=[
            {"role": "system", "content": "Answer from the context only. Cite ids in brackets."},
            {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"}])
        if self.trace:
            self.trace.header = None
        return {"traceparent": tp, "ids": hits["ids"][0], "distances": hits["distances"][0],
                "answer": chat.choices[0].message.content}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="127.0.0.1:10000", help="host:port of Envoy's listener")
    ap.add_argument("--session")
    ap.add_argument("--traceparent", action="store_true")
    ap.add_argument("--no-ingest", action="store_true")
    ap.add_argument("question", nargs="?", default="Which moon has a thick atmosphere?")
    a = ap.parse_args()
    host, port = a.base.rsplit(":", 1)
    rag = Rag(host, int(port), a.session, a.traceparent)
    if not a.no_ingest:
        rag.ingest()
    print(rag.ask(a.question))
    return 0


if __name__ == "__main__":
    sys.exit(main())
