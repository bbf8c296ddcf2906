"""The llm-trace wasi:http component served on a loopback port (`edge-serve`: the embedding `wasmtime serve` uses,
a fresh instance per request), driven by the official OpenAI Python SDK against the mock LLM upstream. Every
assertion is on spans the OTLP receiver decoded, or on what the SDK got."""
import json
import os

import openai
import pytest
from edge_harness import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSWER = "The quick brown fox jumps over the lazy dog and keeps running through the quiet forest until night falls"
ANSWER_WORDS = ANSWER.split(" ")


def price_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    """The cost from the project's price table (micro-USD per 1M tokens), computed independently of the tracer."""
    with open(os.path.join(ROOT, "core", "data", "prices.json")) as f:
        price = json.load(f)["models"][model]
    return (input_tokens * price["input"] + output_tokens * price["output"]) / 1e12


def client(edge):
    return openai.OpenAI(base_url=f"{edge.base_url}/v1", api_key="test-key", max_retries=0)


def new_span(edge, before: int) -> dict:
    spans = edge.wait_for_spans(before + 1)
    assert len(spans) == before + 1, f"one call, one export: {spans[before:]}"
    return spans[-1]


def test_non_streaming_call_is_traced_with_tokens_and_cost(edge):
    before = len(edge.spans())
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a fast animal"}]
    reply = client(edge).chat.completions.create(model="gpt-4o-mini", messages=messages, temperature=0.2)
    assert reply.choices[0].message.content == ANSWER
    assert reply.usage.completion_tokens == len(ANSWER_WORDS)
    span = new_span(edge, before)
    a = span["attributes"]
    assert span["name"] == "chat gpt-4o-mini" and span["kind"] == "CLIENT" and span["status"]["code"] == "UNSET"
    assert span["resource"]["service.name"] == "llm-trace-edge"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o-mini"
    assert a["gen_ai.response.model"] == "gpt-4o-mini-2025-01-01"
    assert a["gen_ai.request.temperature"] == 0.2
    assert a["gen_ai.usage.input_tokens"] == 7 and a["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)
    assert a["gen_ai.usage.cost"] == pytest.approx(price_usd("gpt-4o-mini", 7, len(ANSWER_WORDS)), rel=1e-9)
    assert a["llm.usage.cost.priced_model"] == "gpt-4o-mini"
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert a["http.response.status_code"] == 200
    assert a["server.address"] == "127.0.0.1", "the upstream the component forwarded to"
    assert json.loads(a["gen_ai.output.messages"])[0]["parts"][0]["content"] == ANSWER


def test_streaming_call_reaches_the_client_chunk_by_chunk_and_records_ttft(edge):
    before = len(edge.spans())
    stream = client(edge).chat.completions.create(
        model="gpt-4o", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Tell me about foxes"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANSWER
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == len(ANSWER_WORDS), \
        "one event per word, as the upstream sent them"
    assert chunks[-1].usage.completion_tokens == len(ANSWER_WORDS)
    span = new_span(edge, before)
    a = span["attributes"]
    assert span["name"] == "chat gpt-4o"
    assert a["gen_ai.request.stream"] is True
    assert a["gen_ai.usage.input_tokens"] == 4 and a["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)
    assert a["gen_ai.usage.cost"] == pytest.approx(price_usd("gpt-4o", 4, len(ANSWER_WORDS)), rel=1e-9)
    # The mock paces events 20 ms apart and sends the role chunk first: the first token comes at least one
    # interval after the request, and well before the 20-word stream (about 400 ms) ends.
    ttft = a["gen_ai.response.time_to_first_chunk"]
    duration = (span["end_time_unix_nano"] - span["start_time_unix_nano"]) / 1e9
    assert 0.015 < ttft < duration, (ttft, duration)
    assert duration > 0.3
    assert "llm.usage.injected" not in a


def test_usage_the_component_asked_for_is_recorded_and_stripped_from_the_client_stream(edge):
    before = len(edge.spans())
    stream = client(edge).chat.completions.create(
        model="gpt-4.1-nano", stream=True, messages=[{"role": "user", "content": "Tell me a story"}])
    # A client that indexes choices[0] on every chunk must not meet the usage-only chunk it did not ask for.
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == ANSWER
    a = new_span(edge, before)["attributes"]
    assert a["llm.usage.injected"] is True
    assert a["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)


def test_provider_error_reaches_the_client_and_the_span(edge):
    before = len(edge.spans())
    with pytest.raises(openai.RateLimitError):
        client(edge).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-mock-status": "429"})
    span = new_span(edge, before)
    assert span["status"]["code"] == "ERROR"
    assert span["attributes"]["error.type"] == "rate_limit_exceeded"
    assert span["attributes"]["http.response.status_code"] == 429


def test_each_request_runs_in_a_fresh_instance_and_exports_its_own_span(edge):
    before = len(edge.spans())
    for _ in range(3):
        client(edge).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    spans = edge.wait_for_spans(before + 3)
    assert len(spans) == before + 3
    assert len({s["trace_id"] for s in spans[before:]}) == 3


def test_upstream_cut_mid_stream_reaches_the_client_cut_and_exports_a_partial_span(edge):
    before = len(edge.spans())
    stream = client(edge).chat.completions.create(
        model="gpt-cut", stream=True, messages=[{"role": "user", "content": "go"}],
        extra_headers={"x-mock-cut-after": "3"})
    received = []
    with pytest.raises(Exception):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == " ".join(ANSWER_WORDS[:3]), "what the upstream sent before the cut, then the break"
    span = new_span(edge, before)
    a = span["attributes"]
    assert a["llm.partial"] is True and span["status"]["code"] == "ERROR"
    assert a["error.type"] == "stream_cut"
    assert span["status"]["message"] == "upstream_reset_after_response_started"


def test_client_abort_mid_stream_exports_a_partial_span(edge):
    import socket
    import struct

    before = len(edge.spans())
    body = json.dumps({"model": "gpt-abort", "stream": True, "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": "go"}]}).encode()
    sock = socket.create_connection(("127.0.0.1", edge.listen_port), timeout=10)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: edge\r\ncontent-type: application/json\r\n"
                 + f"content-length: {len(body)}\r\n\r\n".encode() + body)
    sock.recv(300)  # the headers and a first event, then the client goes away with a reset
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    span = new_span(edge, before)
    a = span["attributes"]
    assert a["gen_ai.request.model"] == "gpt-abort"
    assert a["llm.partial"] is True and a["error.type"] == "stream_cut"
    assert span["status"]["message"] == "downstream_remote_disconnect"
    assert span["end_time_unix_nano"] - span["start_time_unix_nano"] < 300_000_000, "ends at the cut"


def post_feedback(edge, body) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{edge.base_url}/llm-trace/v1/feedback", data=data, method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_server_timing_names_the_span_and_feedback_is_answered_by_the_component_and_exported_on_it(edge):
    import re

    before = len(edge.spans())
    raw = client(edge).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Describe a fox"}],
        extra_headers={"x-mock-server-timing": "1"})
    assert raw.parse().choices[0].message.content == ANSWER
    timing = raw.headers.get("server-timing", "")
    match = re.search(r"trace;desc=00-([0-9a-f]{32})-([0-9a-f]{16})-01", timing)
    assert match, f"no trace context in server-timing: {timing!r}"
    assert "upstream" in timing, f"the upstream's own server-timing is kept beside it: {timing!r}"
    trace_id, span_id = match.group(1), match.group(2)
    span = new_span(edge, before)
    assert (span["trace_id"], span["span_id"]) == (trace_id, span_id)

    status, body = post_feedback(edge, {"trace_id": trace_id, "span_id": span_id, "score": 1, "label": "thumbs_up",
                                        "comment": "Great fox. Reply to jane.doe@example.com"})
    assert (status, body) == (202, {"accepted": True})
    found = []
    wait_until(lambda: found.extend(r for r in edge.log_records() if r["span_id"] == span_id) or found, 10,
              "the evaluation record at the OTLP receiver")
    record = found[0]
    assert record["trace_id"] == trace_id and record["event_name"] == "gen_ai.evaluation.result"
    a = record["attributes"]
    assert a["gen_ai.evaluation.name"] == "user_feedback"
    assert a["gen_ai.evaluation.score.value"] == 1.0 and a["gen_ai.evaluation.score.label"] == "thumbs_up"
    assert a["gen_ai.evaluation.explanation"] == "Great fox. Reply to [EMAIL]"
    assert record["resource"]["service.name"] == "llm-trace-edge"
    assert len(edge.spans()) == before + 1, "feedback is no LLM call: it never reaches the upstream"


def test_bad_feedback_gets_the_cores_error_and_nothing_is_exported(edge):
    records_before = len(edge.log_records())
    assert post_feedback(edge, {"score": 1}) == (400, {"error": "trace_id: required"})
    assert post_feedback(edge, b"not json") == (400, {"error": "body: must be a JSON object"})
    assert post_feedback(edge, b"{" + b" " * (17 << 10) + b"}") == (413, {"error": "body: larger than 16384 bytes"})
    assert len(edge.log_records()) == records_before
