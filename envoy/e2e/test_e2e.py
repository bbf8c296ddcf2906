"""The real `.wasm` in real Envoy, driven by the official OpenAI and Anthropic Python SDKs, against the mock LLM
upstream (the only mock: the provider cannot run here). Every assertion is on spans the OTLP receiver decoded."""
import json

import anthropic
import openai
import pytest

ANSWER = "The quick brown fox jumps over the lazy dog and keeps running through the quiet forest until night falls"
ANSWER_WORDS = ANSWER.split(" ")


def prompt_words(*texts: str) -> int:
    return sum(len(t.split()) for t in texts)


def span_for(stack, trace_filter, count_before: int):
    spans = stack.wait_for_spans(count_before + 1)
    matching = [s for s in spans[count_before:] if trace_filter(s)]
    assert matching, f"no matching span in {spans[count_before:]}"
    return matching[-1]


def client(stack, **kw):
    return openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key="test-key", max_retries=0, **kw)


def test_non_streaming_chat_span_has_the_providers_figures(stack):
    before = len(stack.spans())
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a fast animal"}]
    reply = client(stack).chat.completions.create(model="gpt-4o-mini", messages=messages, temperature=0.2)
    assert reply.choices[0].message.content == ANSWER
    span = span_for(stack, lambda s: s["name"] == "chat gpt-4o-mini", before)
    a = span["attributes"]
    assert span["kind"] == "CLIENT" and span["status"]["code"] == "UNSET"
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o-mini"
    assert a["gen_ai.response.model"] == "gpt-4o-mini-2025-01-01"
    assert a["gen_ai.request.temperature"] == 0.2
    assert a["gen_ai.usage.input_tokens"] == prompt_words("You are terse.", "Name a fast animal")
    assert a["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert span["resource"]["service.name"] == "llm-trace-demo"


def test_streaming_with_include_usage_reaches_the_client_unchanged(stack):
    before = len(stack.spans())
    stream = client(stack).chat.completions.create(
        model="gpt-4o", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Tell me about foxes"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANSWER
    assert chunks[-1].usage.completion_tokens == len(ANSWER_WORDS), "the client asked for usage and gets it"
    span = span_for(stack, lambda s: s["name"] == "chat gpt-4o", before)
    a = span["attributes"]
    assert a["gen_ai.usage.input_tokens"] == 4 and a["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)
    assert a["gen_ai.request.stream"] is True
    assert 0 < a["gen_ai.response.time_to_first_chunk"] < 5
    assert "llm.usage.injected" not in a


def test_injected_usage_is_stripped_so_clients_indexing_choices_still_work(stack):
    before = len(stack.spans())
    stream = client(stack).chat.completions.create(
        model="gpt-4.1-nano", stream=True, messages=[{"role": "user", "content": "Tell me a story"}])
    # A client that indexes choices[0] on every chunk must not see the extra usage-only chunk.
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == ANSWER
    span = span_for(stack, lambda s: s["name"] == "chat gpt-4.1-nano", before)
    a = span["attributes"]
    assert a["llm.usage.injected"] is True
    assert a["llm.usage.source"] == "reported"
    assert a["gen_ai.usage.input_tokens"] == 4 and a["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)


def test_traceparent_joins_the_callers_trace(stack):
    before = len(stack.spans())
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    client(stack).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
        extra_headers={"traceparent": f"00-{trace_id}-{parent}-01"})
    span = span_for(stack, lambda s: s["trace_id"] == trace_id, before)
    assert span["parent_span_id"] == parent


def test_provider_error_is_an_error_span_and_the_client_sees_the_status(stack):
    before = len(stack.spans())
    with pytest.raises(openai.RateLimitError):
        client(stack).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers={"x-mock-status": "429"})
    span = span_for(stack, lambda s: s["attributes"].get("http.response.status_code") == 429, before)
    assert span["status"]["code"] == "ERROR"
    assert span["attributes"]["error.type"] == "rate_limit_exceeded"


def test_truncation_by_max_tokens_is_recorded(stack):
    before = len(stack.spans())
    reply = client(stack).chat.completions.create(
        model="gpt-4o-mini", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].finish_reason == "length"
    span = span_for(stack, lambda s: s["attributes"].get("gen_ai.request.max_tokens") == 5, before)
    assert span["attributes"]["gen_ai.response.finish_reasons"] == ["length"]
    assert span["attributes"]["gen_ai.usage.output_tokens"] == 5


def test_gzip_response_is_read_and_forwarded_untouched(stack):
    before = len(stack.spans())
    reply = client(stack).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "compressed please"}],
        extra_headers={"x-mock-gzip": "1"})
    assert reply.choices[0].message.content == ANSWER
    span = span_for(stack, lambda s: s["attributes"].get("gen_ai.usage.input_tokens") == 2, before)
    assert span["attributes"]["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)


def test_anthropic_sdk_streaming_and_not(stack):
    c = anthropic.Anthropic(base_url=stack.base_url, api_key="test-key", max_retries=0)
    before = len(stack.spans())
    msg = c.messages.create(model="claude-3-5-haiku-latest", max_tokens=1024, system="Be brief.",
                            messages=[{"role": "user", "content": "Describe a fox"}])
    assert msg.content[0].text == ANSWER
    with c.messages.stream(model="claude-mock-stream", max_tokens=3,
                           messages=[{"role": "user", "content": "Stream a fox"}]) as stream:
        streamed = "".join(stream.text_stream)
    assert streamed == " ".join(ANSWER_WORDS[:3])
    spans = stack.wait_for_spans(before + 2)[before:]
    by_model = {s["attributes"]["gen_ai.request.model"]: s["attributes"] for s in spans}
    a = by_model["claude-3-5-haiku-latest"]
    assert a["gen_ai.provider.name"] == "anthropic"
    assert a["gen_ai.usage.input_tokens"] == prompt_words("Be brief.", "Describe a fox")
    assert a["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)
    assert a["gen_ai.response.finish_reasons"] == ["end_turn"]
    s = by_model["claude-mock-stream"]
    assert s["gen_ai.usage.output_tokens"] == 3 and s["gen_ai.response.finish_reasons"] == ["max_tokens"]
    assert s["gen_ai.request.stream"] is True


def test_client_abort_mid_stream_exports_a_partial_span(stack):
    import socket
    import struct

    before = len(stack.spans())
    body = json.dumps({"model": "gpt-abort", "stream": True, "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": "go"}]}).encode()
    sock = socket.create_connection(("127.0.0.1", stack.listen_port), timeout=10)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: api.openai.com\r\ncontent-type: application/json\r\n"
                 + f"content-length: {len(body)}\r\n\r\n".encode() + body)
    sock.recv(300)  # the headers and a first event, then the client goes away with a reset
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    span = span_for(stack, lambda s: s["attributes"].get("gen_ai.request.model") == "gpt-abort", before)
    a = span["attributes"]
    assert a["llm.partial"] is True
    assert span["status"]["code"] == "ERROR"
    assert a["error.type"] == "stream_cut"
    assert span["end_time_unix_nano"] - span["start_time_unix_nano"] < 300_000_000, "ends at the cut"


def test_envoy_stats_count_every_call_with_labels(stack):
    text = stack.admin("/stats/prometheus")
    lines = [l for l in text.splitlines() if l.startswith("llm_requests{")]
    assert any('provider="openai"' in l and 'model="gpt-4o-mini-2025-01-01"' in l for l in lines), lines
    assert any("llm_trace_spans_exported" in l for l in text.splitlines())


def test_a_dead_collector_loses_no_spans_and_comes_back_into_rotation():
    """Two collectors (rotel) behind the `otel_collector` cluster: stop one, keep calling, restart it. Envoy's health
    check takes the dead one out, the filter's retries land on the live one, and no span is lost. (The collector is
    killed once it has forwarded what it had: spans a collector has accepted and not yet forwarded die with it.)"""
    import time

    from harness import running_stack, wait_until

    with running_stack(collector="rotel") as stack:
        llm = client(stack)
        ask = lambda: llm.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        wait_until(lambda: stack.collector_healthy(0) and stack.collector_healthy(1), 10, "both collectors healthy")
        for _ in range(4):
            ask()
        stack.wait_for_spans(4)

        stack.stop_collector(0)
        for _ in range(10):
            ask()
        # Every span of the outage reaches the surviving collector.
        stack.wait_for_spans(14, timeout=30)
        at_first = len(stack.spans_at(0))
        assert not stack.collector_healthy(0)

        stack.start_collector(0)
        wait_until(lambda: stack.collector_healthy(0), 10, "the restarted collector back in rotation")
        # Outlier ejection can outlast the health check by a few seconds, and one export carries many spans, so
        # keep calling (in rounds spanning export flushes) until the restarted collector gets a batch again.
        asked = 14
        deadline = time.time() + 30
        while len(stack.spans_at(0)) == at_first and time.time() < deadline:
            for _ in range(5):
                ask()
                asked += 1
            time.sleep(0.6)
        assert len(stack.spans_at(0)) > at_first, "the restarted collector receives spans again"
        spans = stack.wait_for_spans(asked, timeout=30)
        assert len(spans) == asked, "no span lost, none duplicated"
        stats = stack.admin("/stats?filter=llm_trace")
        assert "llm_trace.spans_dropped_export_failed: 0" in stats, stats


VARYING = ("server.port",)  # the mock upstream's port differs between stacks


def stable_attributes(span: dict) -> dict:
    """A span's attributes without the timings, which differ from call to call."""
    return {k: v for k, v in span["attributes"].items()
            if k not in VARYING and not (isinstance(v, float) and ("time" in k or "duration" in k))}


def test_export_over_http_gzip_and_grpc_through_a_real_collector_arrives_intact():
    """The same call exported over OTLP/HTTP, OTLP/HTTP with gzip and OTLP/gRPC to rotel, which forwards it over
    OTLP/HTTP (gzip) to the receiver: the span arrives, with the same attributes and resource, every way."""
    from harness import running_stack, wait_until

    seen = {}
    for protocol, compression in (("http/protobuf", None), ("http/protobuf", "gzip"), ("grpc", None)):
        with running_stack(collector="rotel", protocol=protocol, compression=compression) as stack:
            reply = client(stack).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Name a fast animal"}],
                extra_headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
            assert reply.choices[0].message.content == ANSWER
            span = stack.wait_for_spans(1)[0]
            assert span["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
            assert span["parent_span_id"] == "b7ad6b7169203331"
            assert span["name"] == "chat gpt-4o-mini" and span["kind"] == "CLIENT"
            assert span["attributes"]["gen_ai.usage.output_tokens"] == len(ANSWER_WORDS)
            # Counted when the collector's answer reaches the filter, which can be after the span reached the receiver.
            wait_until(lambda: "llm_trace.spans_exported: 1" in stack.admin("/stats?filter=llm_trace.spans_exported"),
                       5, "the export counted")
            seen[(protocol, compression)] = (stable_attributes(span), span["resource"])
    (first, *others) = seen.values()
    for key, value in zip(list(seen)[1:], others):
        assert value == first, f"{key} differs from OTLP/HTTP"
