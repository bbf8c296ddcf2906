"""A RAG application through real Envoy: `envoy/rag_demo.py` with the official `chromadb` and `openai` clients, a
real Chroma server (`chroma run` from the chromadb wheel, on loopback, started and stopped here) and the mock LLM
for embeddings and chat. Each question is embeddings -> retrieval -> chat: one trace when the application propagates
`traceparent`, one session (and the query naming its embeddings call) when it does not. Every assertion is on spans
the OTLP receiver decoded and on Envoy's stats."""
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import chroma_server, running_stack  # noqa: E402
from rag_demo import CHAT_MODEL, COLLECTION, CORPUS, EMBED_MODEL, Rag  # noqa: E402

QUESTION = "Which moon has a thick atmosphere?"
SECOND = "Which moon sprays water ice from geysers?"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("rag"))
    with chroma_server(workdir) as chroma_port:
        with running_stack("e2e/rag.yaml", workdir=workdir, placeholders={"CHROMA_PORT": str(chroma_port)}) as s:
            yield s


@pytest.fixture(scope="module")
def ingested(stack):
    rag = Rag("127.0.0.1", stack.listen_port, session="rag-ingest")
    rag.ingest()
    return rag


def spans_where(stack, predicate, count: int, timeout: float = 10.0) -> list[dict]:
    """The first `count` spans matching, oldest first, waiting for them to be exported."""
    found: list[dict] = []

    def enough():
        found[:] = [s for s in stack.spans() if predicate(s)]
        return len(found) >= count

    from harness import wait_until

    wait_until(enough, timeout, f"{count} matching span(s)")
    return sorted(found, key=lambda s: int(s["start_time_unix_nano"]))


def by_operation(spans: list[dict]) -> dict:
    return {s["attributes"]["gen_ai.operation.name"]: s for s in spans}


def documents(span: dict) -> list[dict]:
    return json.loads(span["attributes"]["gen_ai.retrieval.documents"])


def test_with_traceparent_a_question_is_one_trace_of_three_sibling_spans(stack, ingested):
    rag = Rag("127.0.0.1", stack.listen_port, session="rag-s1", propagate=True)
    answer = rag.ask(QUESTION)
    _, trace_id, app_span, _ = answer["traceparent"].split("-")
    spans = spans_where(stack, lambda s: s["trace_id"] == trace_id, 3)
    assert len(spans) == 3, spans
    ops = by_operation(spans)
    assert [s["attributes"]["gen_ai.operation.name"] for s in spans] == ["embeddings", "retrieval", "chat"]
    for s in spans:
        assert s["parent_span_id"] == app_span, "siblings under the application's span"
        assert s["attributes"]["session.id"] == "rag-s1"
        assert s["kind"] == "CLIENT"
    embeddings, retrieval, chat = ops["embeddings"], ops["retrieval"], ops["chat"]
    assert embeddings["name"] == f"embeddings {EMBED_MODEL}" and chat["name"] == f"chat {CHAT_MODEL}"
    # In wire order: the query starts after its vector came back, the chat after the documents did.
    assert int(embeddings["end_time_unix_nano"]) <= int(retrieval["start_time_unix_nano"])
    assert int(retrieval["end_time_unix_nano"]) <= int(chat["start_time_unix_nano"])

    a = retrieval["attributes"]
    collection_id = str(rag.chroma.get_collection(COLLECTION, embedding_function=None).id)
    assert retrieval["name"] == f"retrieval {COLLECTION}"
    assert retrieval["status"]["code"] == "UNSET"
    assert a["db.system.name"] == "chroma"
    assert a["db.collection.name"] == COLLECTION, "learnt from get_collection's GET by name"
    assert a["gen_ai.data_source.id"] == collection_id, "what the query path carries"
    assert a["db.namespace"] == "default_tenant|default_database"
    assert a["db.operation.name"] == "query"
    assert a["gen_ai.request.top_k"] == 3.0
    assert a["db.response.returned_rows"] == 3
    assert a["db.response.status_code"] == "200" and a["http.response.status_code"] == 200
    assert a["llm.retrieval.score.kind"] == "distance" and a["llm.retrieval.distance.metric"] == "cosine"
    assert a["llm.retrieval.query.vector_dimension"] == 16
    # The documents are exactly what the client got back (ids, distances as parsed, texts under full capture).
    texts = dict(CORPUS)
    assert [(d["id"], d["score"]) for d in documents(retrieval)] == list(zip(answer["ids"], answer["distances"]))
    assert [d["content"] for d in documents(retrieval)] == [texts[i] for i in answer["ids"]]
    assert a["openinference.span.kind"] == "RETRIEVER"
    for i, (doc_id, distance) in enumerate(zip(answer["ids"], answer["distances"])):
        assert a[f"retrieval.documents.{i}.document.id"] == doc_id
        assert a[f"retrieval.documents.{i}.document.score"] == distance
        assert a[f"retrieval.documents.{i}.document.content"] == texts[doc_id]
    # Its query vector came from this question's embeddings call.
    assert a["llm.retrieval.query_embedding.span_id"] == embeddings["span_id"]
    assert a["llm.retrieval.query_embedding.trace_id"] == trace_id
    # The chat prompt carries the retrieved chunks: the span shows what the model was given.
    assert all(doc_id in chat["attributes"]["gen_ai.input.messages"] for doc_id in answer["ids"])


def test_without_traceparent_the_three_spans_share_the_session_and_the_query_names_its_embeddings_call(
        stack, ingested):
    rag = Rag("127.0.0.1", stack.listen_port, session="rag-s2")
    answer = rag.ask(SECOND)
    assert answer["traceparent"] is None
    spans = spans_where(stack, lambda s: s["attributes"].get("session.id") == "rag-s2", 3)
    ops = by_operation(spans)
    assert sorted(ops) == ["chat", "embeddings", "retrieval"]
    assert len({s["trace_id"] for s in spans}) == 3, "three traces"
    assert all("parent_span_id" not in s or not s["parent_span_id"] for s in spans)
    retrieval, embeddings = ops["retrieval"], ops["embeddings"]
    assert retrieval["attributes"]["llm.retrieval.query_embedding.span_id"] == embeddings["span_id"]
    assert retrieval["attributes"]["llm.retrieval.query_embedding.trace_id"] == embeddings["trace_id"]
    assert [(d["id"], d["score"]) for d in documents(retrieval)] == list(zip(answer["ids"], answer["distances"]))


def test_collection_calls_and_adds_make_no_span_and_every_retrieval_counts_by_store_and_collection(stack, ingested):
    rag = Rag("127.0.0.1", stack.listen_port, session="rag-s3")
    rag.ask(QUESTION, k=2)
    spans_where(stack, lambda s: s["attributes"].get("session.id") == "rag-s3", 3)
    everything = stack.spans()
    operations = [s["attributes"].get("gen_ai.operation.name") for s in everything]
    assert set(operations) == {"embeddings", "retrieval", "chat"}, operations
    retrievals = [s for s in everything if s["attributes"]["gen_ai.operation.name"] == "retrieval"]
    assert all(s["attributes"]["db.operation.name"] == "query" for s in retrievals), "no add, get or count span"
    ingest = [s for s in everything if s["attributes"].get("session.id") == "rag-ingest"]
    assert [s["attributes"]["gen_ai.operation.name"] for s in ingest] == ["embeddings"], "the add made no span"
    stats = stack.admin("/stats/prometheus")

    def value(metric: str, status: str | None = None) -> float:
        want = {"store": "chroma", "collection": COLLECTION, **({"status": status} if status else {})}
        for line in stats.splitlines():
            m = re.match(r"^(\w+)\{([^}]*)\} (\S+)$", line)
            if m and m.group(1) == metric and dict(re.findall(r'(\w+)="([^"]*)"', m.group(2))) == want:
                return float(m.group(3))
        raise AssertionError(f"{metric}{want} missing in:\n" + "\n".join(
            line for line in stats.splitlines() if "retrieval" in line))

    queries = len(retrievals)
    assert value("llm_retrieval_requests", "ok") == queries
    assert value("llm_retrieval_documents") == sum(s["attributes"]["db.response.returned_rows"] for s in retrievals)

    # Envoy publishes histograms at its stats flush (every 5 s by default).
    def durations_counted():
        nonlocal stats
        stats = stack.admin("/stats/prometheus")
        return value("llm_retrieval_duration_ms_count") == queries

    from harness import wait_until

    wait_until(durations_counted, 15, "the retrieval duration histogram")
