#!/usr/bin/env python3
"""Writes the issue-13 fixtures: one exchange per file, in the exchange format of ../../../../shared/captures, for the
APIs and wire cases the filter does not read yet (Cohere v1/v2, Anthropic Text Completions, Gemini and Vertex
embeddings, Voyage, Ollama's native API, OpenAI Responses `compact`, every Bedrock InvokeModel family with and without
streaming, Google integer enums, proto3's omitted zeros, vendor usage keys, tool arguments sent as an object).

Every body is written here in the wire shape that the vendor's documentation or a public recording shows; each
fixture's `source` names the model it follows. Wire facts and their sources: /work/notes/api13.md.

Bedrock streams are binary `application/vnd.amazon.eventstream` frames built with make_eventstream.py's encoder: for
InvokeModelWithResponseStream every frame is an `:event-type: chunk` event whose JSON payload is
`{"bytes": "<base64 of the model's own JSON chunk>", "p": "<padding>"}`.

`expect` holds the provider's own figures, raw, plus `usage_source` (where they are on the wire: body, stream_chunk,
vendor_key, bedrock_header, bedrock_metrics, estimate) and, where a provider reports two sets, the second set under
extra keys. Run from anywhere: python3 make_more_exchanges.py (deterministic; it validates every body it writes:
JSON, SSE, NDJSON, event-stream CRCs).
"""

import base64
import binascii
import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from make_eventstream import frame, pad  # noqa: E402  (the project's own event-stream encoder)

WRITTEN = []


# ---------------------------------------------------------------------------------------------------------------------
# helpers


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def spaced(obj) -> str:
    """`json.dumps` default separators, as the Python SDKs send request bodies."""
    return json.dumps(obj, ensure_ascii=False)


def floats(seed: int, n: int, digits: int = 9, scale: float = 0.08):
    rnd = random.Random(seed)
    return [round(rnd.gauss(0.0, scale), digits) for _ in range(n)]


def sse(events) -> str:
    """events: (event name or None, data string)."""
    out = []
    for name, data in events:
        if name is not None:
            out.append(f"event: {name}\n")
        out.append(f"data: {data}\n\n")
    return "".join(out)


def ndjson(objs) -> str:
    return "".join(compact(o) + "\n" for o in objs)


def invoke_chunk(inner: dict, padding: int) -> bytes:
    """One InvokeModelWithResponseStream frame: the model's JSON chunk, base64, inside {"bytes", "p"}."""
    raw = compact(inner).encode()
    return frame("chunk", {"bytes": base64.b64encode(raw).decode(), "p": pad(padding)})


def req_headers(base: dict, body: str) -> dict:
    h = dict(base)
    h["content-length"] = str(len(body.encode()))
    return dict(sorted(h.items()))


def expect(provider, operation, streaming, request_model, response_model, input_tokens, output_tokens,
           finish_reason, usage_source, status=200, cache_read=None, cache_write=None, input_total="same",
           output_total="same", reasoning=None, **extra):
    e = {
        "provider": provider,
        "operation": operation,
        "streaming": streaming,
        "request_model": request_model,
        "response_model": response_model,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "finish_reason": finish_reason,
        "status": status,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "input_tokens_total": input_tokens if input_total == "same" else input_total,
        "output_tokens_total": output_tokens if output_total == "same" else output_total,
        "reasoning_tokens": reasoning,
        "usage_source": usage_source,
    }
    e.update(extra)
    return e


def write(name, source, method, url, request_headers, request_body, status, response_headers, expect_block,
          body=None, body_bytes=None):
    response = {"status": status, "headers": dict(response_headers)}
    if body_bytes is not None:
        response["body_base64"] = base64.b64encode(body_bytes).decode()
    else:
        response["body"] = body
    exchange = {
        "name": f"fixture-{name}",
        "source": source,
        "request": {"method": method, "url": url, "headers": request_headers, "body": request_body},
        "response": response,
        "expect": expect_block,
    }
    path = os.path.join(HERE, f"{name}.json")
    with open(path, "w") as f:
        json.dump(exchange, f, indent=2, ensure_ascii=False)
        f.write("\n")
    WRITTEN.append(path)


# ---------------------------------------------------------------------------------------------------------------------
# Cohere (api.cohere.com), shapes of traceloop/openllmetry:packages/opentelemetry-instrumentation-cohere/tests/cassettes

COHERE_REQ = {
    "accept": "*/*",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "content-type": "application/json",
    "host": "api.cohere.com",
    "user-agent": "cohere/5.18.0",
    "x-fern-language": "Python",
    "x-fern-sdk-name": "cohere",
    "x-fern-sdk-version": "5.18.0",
}


def cohere_resp(date, extra=None, length=None, stream_ct=None):
    h = {
        "alt-svc": 'h3=":443"; ma=2592000,h3-29=":443"; ma=2592000',
        "access-control-expose-headers": "X-Debug-Trace-ID",
        "cache-control": "no-cache, no-store, no-transform, must-revalidate, private, max-age=0",
        "content-type": stream_ct or "application/json",
        "date": date,
        "expires": "Thu, 01 Jan 1970 00:00:00 GMT",
        "pragma": "no-cache",
        "server": "envoy",
        "vary": "Origin",
        "via": "1.1 google",
        "x-accel-expires": "0",
        "x-debug-trace-id": "5f0c2a9e1b7d4c3a8e6f0b1d2c3e4f5a",
        "x-envoy-upstream-service-time": "812",
    }
    if length is not None:
        h["content-length"] = str(length)
    else:
        h["transfer-encoding"] = "chunked"
    h.update(extra or {})
    return h


def cohere_fixtures():
    # v2 chat, non-streaming -----------------------------------------------------------------------------------------
    body = spaced({
        "model": "command-a-03-2025",
        "messages": [
            {"role": "system", "content": "Answer in one sentence."},
            {"role": "user", "content": "What is a trace exemplar in a metrics backend?"},
        ],
        "temperature": 0.3,
        "stream": False,
    })
    text = ("An exemplar is a sample trace ID attached to a metric data point, so you can jump from a spike in a "
            "histogram straight to a trace that produced it.")
    resp = compact({
        "id": "6b1f0c2e-4a7d-4e39-9c51-2f8d0a6e7b13",
        "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
        "finish_reason": "COMPLETE",
        "usage": {
            "billed_units": {"input_tokens": 21, "output_tokens": 33},
            "tokens": {"input_tokens": 518, "output_tokens": 35},
            "cached_tokens": 0,
        },
    })
    write(
        "cohere-chat",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-cohere/tests/cassettes/test_chat/test_cohere_v2_chat_legacy.yaml "
        "(usage.cached_tokens per cohere-ai/cohere-python:src/cohere/types/usage.py)",
        "POST", "https://api.cohere.com/v2/chat", req_headers(COHERE_REQ, body), body, 200,
        cohere_resp("Mon, 10 Nov 2025 10:02:11 GMT", {"num_chars": "583", "num_tokens": "54"}, len(resp.encode())),
        expect("cohere", "chat", False, "command-a-03-2025", None, 21, 33, "COMPLETE", "body", cache_read=0,
               input_tokens_processed=518, output_tokens_processed=35),
        body=resp,
    )

    # v2 chat, streaming (SSE with named events, then a bare `data: [DONE]`) ---------------------------------------
    body = spaced({
        "model": "command-r-08-2024",
        "messages": [{"role": "user", "content": "Name one benefit of head-based trace sampling."}],
        "stream": True,
    })
    pieces = ["Head", "-based", " sampling", " is", " cheap", ":", " the", " keep", " or", " drop", " decision",
              " is", " made", " once", ",", " at", " the", " root", " span", ",", " so", " no", " spans", " need",
              " buffering", "."]
    msg_id = "0d6e3b4a-8c21-4f7e-b5a9-1e2d3c4b5a69"
    events = [("message-start", compact({
        "id": msg_id, "type": "message-start",
        "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}},
    }))]
    events.append(("content-start", compact({
        "type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}},
    })))
    for p in pieces:
        events.append(("content-delta", compact({
            "type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": p}}},
        })))
    events.append(("content-end", compact({"type": "content-end", "index": 0})))
    events.append(("message-end", compact({
        "type": "message-end",
        "delta": {"finish_reason": "COMPLETE", "usage": {
            "billed_units": {"input_tokens": 10, "output_tokens": len(pieces)},
            "tokens": {"input_tokens": 507, "output_tokens": len(pieces) + 1},
        }},
    })))
    events.append((None, "[DONE]"))
    write(
        "cohere-chat-stream",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-cohere/tests/cassettes/test_chat/test_cohere_v2_chat_legacy_with_streaming.yaml",
        "POST", "https://api.cohere.com/v2/chat", req_headers(COHERE_REQ, body), body, 200,
        cohere_resp("Mon, 10 Nov 2025 10:03:40 GMT", stream_ct="text/event-stream"),
        expect("cohere", "chat", True, "command-r-08-2024", None, 10, len(pieces), "COMPLETE", "stream_chunk",
               input_tokens_processed=507, output_tokens_processed=len(pieces) + 1),
        body=sse(events),
    )

    # v1 chat, streaming: NDJSON (`application/stream+json`), usage in the stream-end event's response.meta ---------
    body = spaced({"message": "Give one reason to export spans over OTLP/HTTP.", "model": "command-r-plus-08-2024",
                   "stream": True})
    pieces = ["OTLP", "/HTTP", " passes", " through", " ordinary", " proxies", " and", " load", " balancers", ",",
              " so", " no", " gRPC", "-aware", " infrastructure", " is", " needed", "."]
    gen_id = "7c2d9e1f-3a4b-4c5d-8e6f-0a1b2c3d4e5f"
    full = "".join(pieces)
    lines = [{"is_finished": False, "event_type": "stream-start", "generation_id": gen_id}]
    lines += [{"is_finished": False, "event_type": "text-generation", "text": p} for p in pieces]
    lines.append({
        "is_finished": True, "event_type": "stream-end",
        "response": {
            "response_id": "a4e1c7b2-9d3f-4e8a-b6c5-2f1e0d9c8b7a", "text": full, "generation_id": gen_id,
            "chat_history": [
                {"role": "USER", "message": "Give one reason to export spans over OTLP/HTTP."},
                {"role": "CHATBOT", "message": full},
            ],
            "finish_reason": "COMPLETE",
            "meta": {"api_version": {"version": "1"},
                     "billed_units": {"input_tokens": 11, "output_tokens": len(pieces)},
                     "tokens": {"input_tokens": 77, "output_tokens": len(pieces)}},
        },
        "finish_reason": "COMPLETE",
    })
    write(
        "cohere-v1-chat-stream",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-cohere/tests/cassettes/test_chat/test_cohere_chat_legacy_with_streaming.yaml",
        "POST", "https://api.cohere.com/v1/chat", req_headers(COHERE_REQ, body), body, 200,
        cohere_resp("Mon, 10 Nov 2025 10:05:02 GMT", stream_ct="application/stream+json"),
        expect("cohere", "chat", True, "command-r-plus-08-2024", None, 11, len(pieces), "COMPLETE", "stream_chunk",
               input_tokens_processed=77, output_tokens_processed=len(pieces)),
        body=ndjson(lines),
    )

    # v2 embed ------------------------------------------------------------------------------------------------------
    texts = ["A span is one timed operation inside a trace.",
             "Resource attributes describe the entity that emits telemetry."]
    body = spaced({"texts": texts, "model": "embed-v4.0", "input_type": "search_document",
                   "embedding_types": ["float"], "output_dimension": 256})
    vecs = [[round(x, 6) for x in floats(1300 + i, 256, 9, 0.06)] for i in range(2)]
    resp = compact({
        "id": "1e9b7c5a-3d2f-4b6e-8a0c-9f7e5d3c1b2a",
        "texts": texts,
        "embeddings": {"float": vecs},
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 19}},
        "response_type": "embeddings_by_type",
    })
    write(
        "cohere-embed",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-cohere/tests/cassettes/test_embed/test_cohere_v2_embed_legacy.yaml",
        "POST", "https://api.cohere.com/v2/embed", req_headers(COHERE_REQ, body), body, 200,
        cohere_resp("Mon, 10 Nov 2025 10:06:30 GMT", {"num_chars": "107", "num_tokens": "19"}),
        expect("cohere", "embeddings", False, "embed-v4.0", None, 19, None, None, "body"),
        body=resp,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Anthropic legacy Text Completions (/v1/complete)

ANTHROPIC_REQ = {
    "accept": "application/json",
    "accept-encoding": "gzip, deflate",
    "anthropic-version": "2023-06-01",
    "connection": "keep-alive",
    "content-type": "application/json",
    "host": "api.anthropic.com",
    "user-agent": "Anthropic/Python 0.25.8",
    "x-stainless-arch": "x64",
    "x-stainless-async": "false",
    "x-stainless-lang": "python",
    "x-stainless-os": "Linux",
    "x-stainless-package-version": "0.25.8",
    "x-stainless-runtime": "CPython",
    "x-stainless-runtime-version": "3.11.9",
}


def anthropic_resp(date, ct, length=None):
    h = {
        "cf-cache-status": "DYNAMIC",
        "cf-ray": "883a1f2b4c5d6e7f-AMS",
        "connection": "keep-alive",
        "content-type": ct,
        "date": date,
        "request-id": "req_01FxAnthropicComplete000001",
        "server": "cloudflare",
        "via": "1.1 google",
        "x-cloud-trace-context": "3b1d9f0e2a4c6b8d0f1e3a5c7b9d1f3e",
    }
    if length is None:
        h["transfer-encoding"] = "chunked"
    else:
        h["content-length"] = str(length)
    return h


def anthropic_complete_fixtures():
    prompt = "\n\nHuman: In one sentence, what does a trace context header carry?\n\nAssistant:"
    body = spaced({"max_tokens_to_sample": 256, "model": "claude-2.1", "prompt": prompt})
    resp = compact({
        "type": "completion",
        "id": "compl_01FxTextCompletion0000001",
        "completion": " It carries the trace ID, the parent span ID and the sampling flags, so the next service can "
                      "join the same trace.",
        "stop_reason": "stop_sequence",
        "model": "claude-2.1",
        "stop": "\n\nHuman:",
        "log_id": "compl_01FxTextCompletion0000001",
    })
    write(
        "anthropic-complete",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-anthropic/tests/cassettes/test_completion/test_anthropic_completion_legacy.yaml",
        "POST", "https://api.anthropic.com/v1/complete", req_headers(ANTHROPIC_REQ, body), body, 200,
        anthropic_resp("Tue, 14 May 2024 08:12:41 GMT", "application/json", len(resp.encode())),
        expect("anthropic", "text_completion", False, "claude-2.1", "claude-2.1", None, None, "stop_sequence",
               "estimate"),
        body=resp,
    )

    prompt = "\n\nHuman: Describe tail-based sampling.\n\nAssistant:"
    body = spaced({"max_tokens_to_sample": 16, "model": "claude-instant-1.2", "prompt": prompt, "stream": True})
    pieces = [" Tail", "-based", " sampling", " waits", " until", " a", " trace", " is", " complete", " and",
              " then", " keeps", " it", " if", " it", " errored"]
    cid = "compl_01FxTextCompletionStream01"
    events = []
    for i, p in enumerate(pieces):
        events.append(("completion", compact({"type": "completion", "id": cid, "completion": p, "stop_reason": None,
                                              "model": "claude-instant-1.2", "stop": None, "log_id": cid})))
        if i == 3:
            events.append(("ping", compact({"type": "ping"})))
    events.append(("completion", compact({"type": "completion", "id": cid, "completion": "", "stop_reason":
                                          "max_tokens", "model": "claude-instant-1.2", "stop": None, "log_id": cid})))
    write(
        "anthropic-complete-stream",
        "llm-trace fixture, written for this project in the wire shape of the streaming example of "
        "https://docs.claude.com/en/api/streaming (event types completion, ping, error)",
        "POST", "https://api.anthropic.com/v1/complete", req_headers(ANTHROPIC_REQ, body), body, 200,
        anthropic_resp("Tue, 14 May 2024 08:13:05 GMT", "text/event-stream; charset=utf-8"),
        expect("anthropic", "text_completion", True, "claude-instant-1.2", "claude-instant-1.2", None, None,
               "max_tokens", "estimate"),
        body=sse(events),
    )


# ---------------------------------------------------------------------------------------------------------------------
# Google: Gemini embeddings, Vertex predict, integer enums, omitted zeros

GOOGLE_RESP = {
    "alt-svc": 'h3=":443"; ma=2592000,h3-29=":443"; ma=2592000',
    "content-type": "application/json; charset=UTF-8",
    "server": "scaffolding on HTTPServer2",
    "transfer-encoding": "chunked",
    "vary": "Origin, X-Origin, Referer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "x-xss-protection": "0",
}


def genai_req():
    return {
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "content-type": "application/json",
        "host": "generativelanguage.googleapis.com",
        "user-agent": "google-genai-sdk/1.50.0 gl-python/3.12.3",
        "x-goog-api-client": "google-genai-sdk/1.50.0 gl-python/3.12.3",
        "x-goog-api-key": "DUMMY_GOOGLE_API_KEY",
    }


def google_fixtures():
    # embedContent (one text; the response carries no usage) -------------------------------------------------------
    body = spaced({"model": "models/gemini-embedding-001",
                   "content": {"parts": [{"text": "Baggage propagates key-value pairs along a trace."}]},
                   "taskType": "RETRIEVAL_DOCUMENT", "outputDimensionality": 128})
    h = {"accept": "*/*", "content-type": "application/json", "host": "generativelanguage.googleapis.com",
         "user-agent": "curl/8.5.0", "x-goog-api-key": "DUMMY_GOOGLE_API_KEY"}
    resp = json.dumps({"embedding": {"values": floats(2101, 128, 9, 0.09)}}, indent=2) + "\n"
    write(
        "gemini-embed-content",
        "llm-trace fixture, written for this project in the wire shape of googleapis/googleapis:google/ai/"
        "generativelanguage/v1beta/generative_service.proto (EmbedContent: POST /v1beta/{model=models/*}:embedContent,"
        " EmbedContentResponse.embedding.values)",
        "POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent",
        req_headers(h, body), body, 200, {**GOOGLE_RESP, "date": "Mon, 10 Nov 2025 11:00:02 GMT",
                                          "server-timing": "gfet4t7; dur=141"},
        expect("gcp.gemini", "embeddings", False, "gemini-embedding-001", None, None, None, None, "estimate"),
        body=resp,
    )

    # batchEmbedContents (what google-genai's embed_content calls on the Gemini API) --------------------------------
    texts = ["A span is one timed operation.", "A trace is the tree of spans of one request."]
    body = spaced({"requests": [
        {"content": {"parts": [{"text": t}]}, "taskType": "RETRIEVAL_DOCUMENT", "outputDimensionality": 128,
         "model": "models/gemini-embedding-001"} for t in texts]})
    resp = json.dumps({"embeddings": [{"values": floats(2200 + i, 128, 9, 0.09)} for i in range(2)]},
                      indent=2) + "\n"
    write(
        "gemini-batch-embed-contents",
        "llm-trace fixture, written for this project in the wire shape of googleapis/python-genai:google/genai/"
        "models.py (embed_content -> {model}:batchEmbedContents, requests[].content/taskType/outputDimensionality/"
        "model; response embeddings[].values)",
        "POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents",
        req_headers(genai_req(), body), body, 200, {**GOOGLE_RESP, "date": "Mon, 10 Nov 2025 11:01:19 GMT",
                                                    "server-timing": "gfet4t7; dur=188"},
        expect("gcp.gemini", "embeddings", False, "gemini-embedding-001", None, None, None, None, "estimate"),
        body=resp,
    )

    # Vertex AI predict for a text embedding model ------------------------------------------------------------------
    texts = ["Exemplars link metrics to traces.", "Histograms aggregate latency into buckets for a time window."]
    body = spaced({"instances": [{"content": t, "task_type": "RETRIEVAL_DOCUMENT"} for t in texts],
                   "parameters": {"outputDimensionality": 64}})
    counts = [7, 11]
    resp = json.dumps({
        "predictions": [
            {"embeddings": {"statistics": {"truncated": False, "token_count": c}, "values": floats(2300 + i, 64)}}
            for i, c in enumerate(counts)],
        "metadata": {"billableCharacterCount": sum(len(t.replace(" ", "")) for t in texts)},
    }, indent=2) + "\n"
    vh = {
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "content-type": "application/json",
        "host": "us-central1-aiplatform.googleapis.com",
        "user-agent": "google-genai-sdk/1.50.0 gl-python/3.12.3",
        "x-goog-api-client": "google-genai-sdk/1.50.0 gl-python/3.12.3",
        "x-goog-user-project": "llmtrace-fixtures",
    }
    write(
        "vertex-predict-embeddings",
        "llm-trace fixture, written for this project in the wire shape of googleapis/python-genai:google/genai/"
        "models.py (_EmbedContentParametersPrivate_to_vertex / _EmbedContentResponse_from_vertex: instances[]."
        "content/task_type, parameters.outputDimensionality, predictions[].embeddings.statistics.token_count, "
        "metadata.billableCharacterCount)",
        "POST", "https://us-central1-aiplatform.googleapis.com/v1beta1/projects/llmtrace-fixtures/locations/"
        "us-central1/publishers/google/models/text-embedding-005:predict",
        req_headers(vh, body), body, 200, {**GOOGLE_RESP, "date": "Mon, 10 Nov 2025 11:03:44 GMT"},
        expect("gcp.vertex_ai", "embeddings", False, "text-embedding-005", None, sum(counts), None, None, "body",
               billable_characters=sum(len(t.replace(" ", "")) for t in texts)),
        body=resp,
    )

    # integer enums: a GAPIC REST client asks for `$alt=json;enum-encoding=int` ----------------------------------------
    body = spaced({"model": "models/gemini-2.0-flash",
                   "contents": [{"parts": [{"text": "Which header carries W3C trace context?"}], "role": "user"}]})
    gh = {
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "content-type": "application/json",
        "host": "generativelanguage.googleapis.com",
        "user-agent": "python-requests/2.32.3",
        "x-goog-api-client": "gl-python/3.12.3 grpc/1.67.1 gax/2.24.0 gapic/0.6.18 rest/2.32.3",
        "x-goog-api-key": "DUMMY_GOOGLE_API_KEY",
    }
    resp = json.dumps({
        "candidates": [{
            "content": {"parts": [{"text": "The `traceparent` header, with `tracestate` for vendor data.\n"}],
                        "role": "model"},
            "finishReason": 1,
            "avgLogprobs": -0.0871248245239258,
        }],
        "usageMetadata": {
            "promptTokenCount": 9,
            "candidatesTokenCount": 14,
            "totalTokenCount": 23,
            "promptTokensDetails": [{"modality": 1, "tokenCount": 9}],
            "candidatesTokensDetails": [{"modality": 1, "tokenCount": 14}],
        },
        "modelVersion": "gemini-2.0-flash",
        "responseId": "Hq8RaeH2BYyTz7IP4aGo0Qk",
    }, indent=2) + "\n"
    write(
        "gemini-integer-enums",
        "llm-trace fixture, written for this project in the wire shape of gemini-generate-content.json as a GAPIC REST"
        " transport receives it: the request carries `$alt=json;enum-encoding=int` (google-ai-generativelanguage "
        "rest transports), so enums come back as their proto numbers (Candidate.FinishReason STOP = 1, "
        "Modality TEXT = 1)",
        "POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
        "?%24alt=json%3Benum-encoding%3Dint",
        req_headers(gh, body), body, 200, {**GOOGLE_RESP, "date": "Mon, 10 Nov 2025 11:05:12 GMT",
                                           "server-timing": "gfet4t7; dur=602"},
        expect("gcp.gemini", "chat", False, "gemini-2.0-flash", "gemini-2.0-flash", 9, 14, "STOP", "body",
               finish_reason_wire=1),
        body=resp,
    )

    # proto3 JSON omits zeros: thinking used the whole budget, no candidatesTokenCount ---------------------------------
    body = spaced({"contents": [{"parts": [{"text": "List every OpenTelemetry signal and explain each in depth."}],
                                 "role": "user"}],
                   "generationConfig": {"maxOutputTokens": 64}})
    resp = json.dumps({
        "candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": 12,
            "totalTokenCount": 76,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
            "thoughtsTokenCount": 64,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "Kb0RaZ7mMv6Sz7IPq9O7yQ4",
    }, indent=2) + "\n"
    write(
        "gemini-zero-output-tokens",
        "llm-trace fixture, written for this project in the wire shape of gemini-generate-content.json: proto3 JSON "
        "leaves out fields whose value is 0, so an answer whose thinking used the whole maxOutputTokens budget has no "
        "candidatesTokenCount and a content without parts",
        "POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
        req_headers(genai_req(), body), body, 200, {**GOOGLE_RESP, "date": "Mon, 10 Nov 2025 11:06:40 GMT",
                                                    "server-timing": "gfet4t7; dur=1391"},
        expect("gcp.gemini", "chat", False, "gemini-2.5-flash", "gemini-2.5-flash", 12, 0, "MAX_TOKENS", "body",
               output_total=64, reasoning=64),
        body=resp,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Voyage AI


def voyage_fixtures():
    texts = ["Span links connect causally related spans across traces.",
             "A sampler decides whether a trace is recorded."]
    body = spaced({"input": texts, "model": "voyage-3.5", "input_type": "document", "truncation": True,
                   "output_dimension": 256, "output_dtype": "float", "encoding_format": None})
    h = {
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "content-type": "application/json",
        "host": "api.voyageai.com",
        "user-agent": "python-requests/2.32.3",
    }
    resp = compact({
        "object": "list",
        "data": [{"object": "embedding", "embedding": floats(2400 + i, 256, 8, 0.06), "index": i} for i in range(2)],
        "model": "voyage-3.5",
        "usage": {"total_tokens": 19},
    })
    write(
        "voyage-embeddings",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-voyageai/tests/cassettes/test_embed/test_voyageai_embed_legacy.yaml "
        "(usage carries only total_tokens)",
        "POST", "https://api.voyageai.com/v1/embeddings", req_headers(h, body), body, 200,
        {"alt-svc": 'h3=":443"; ma=2592000,h3-29=":443"; ma=2592000', "content-length": str(len(resp.encode())),
         "content-type": "application/json", "date": "Mon, 10 Nov 2025 11:10:05 GMT", "server": "uvicorn",
         "via": "1.1 google", "x-request-id": "9b3f1d7e5c2a4b6d8f0e1c3a5b7d9f1e"},
        expect("voyage_ai", "embeddings", False, "voyage-3.5", "voyage-3.5", 19, None, None, "body"),
        body=resp,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Ollama native API (durations in nanoseconds; NDJSON streams; streams by default)

OLLAMA_REQ = {
    "accept": "application/json",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "content-type": "application/json",
    "host": "127.0.0.1:11434",
    "user-agent": "ollama-python/0.6.1 (x86_64 linux) Python/3.12.3",
}


def ollama_fixtures():
    # /api/chat, stream false ----------------------------------------------------------------------------------------
    body = spaced({"model": "llama3.1", "messages": [{"role": "user", "content": "What is a span event? One line."}],
                   "stream": False, "options": {"temperature": 0.2}})
    resp = compact({
        "model": "llama3.1",
        "created_at": "2025-11-10T11:20:03.118293Z",
        "message": {"role": "assistant", "content": "A span event is a timestamped log record attached to a span, "
                                                    "like an exception or a retry."},
        "done_reason": "stop",
        "done": True,
        "total_duration": 1843120583,
        "load_duration": 21837125,
        "prompt_eval_count": 19,
        "prompt_eval_duration": 148220000,
        "eval_count": 22,
        "eval_duration": 1671015000,
    })
    write(
        "ollama-chat",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-ollama/tests/cassettes/test_chat/test_ollama_chat_legacy.yaml",
        "POST", "http://127.0.0.1:11434/api/chat", req_headers(OLLAMA_REQ, body), body, 200,
        {"content-length": str(len(resp.encode())), "content-type": "application/json; charset=utf-8",
         "date": "Mon, 10 Nov 2025 11:20:03 GMT"},
        expect("ollama", "chat", False, "llama3.1", "llama3.1", 19, 22, "stop", "body"),
        body=resp,
    )

    # /api/chat without `stream`: Ollama streams by default ------------------------------------------------------------
    body = spaced({"model": "llama3.1", "messages": [{"role": "user", "content": "Define trace context in one line."}],
                   "options": {}})
    pieces = ["Trace", " context", " is", " the", " trace", " ID", ",", " span", " ID", " and", " flags", " passed",
              " between", " services", " so", " their", " spans", " join", " one", " trace", "."]
    lines = []
    t = 0
    for p in pieces:
        lines.append({"model": "llama3.1", "created_at": f"2025-11-10T11:21:07.{400000 + t * 21337:06d}Z",
                      "message": {"role": "assistant", "content": p}, "done": False})
        t += 1
    lines.append({"model": "llama3.1", "created_at": f"2025-11-10T11:21:07.{400000 + t * 21337:06d}Z",
                  "message": {"role": "assistant", "content": ""}, "done_reason": "stop", "done": True,
                  "total_duration": 902117458, "load_duration": 19004291, "prompt_eval_count": 17,
                  "prompt_eval_duration": 131808000, "eval_count": len(pieces), "eval_duration": 748390000})
    write(
        "ollama-chat-stream",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-ollama/tests/cassettes/test_chat/test_ollama_streaming_chat_legacy.yaml; the "
        "request has no `stream` field, which Ollama's /api/chat treats as true (ollama/ollama:docs/api.md)",
        "POST", "http://127.0.0.1:11434/api/chat", req_headers(OLLAMA_REQ, body), body, 200,
        {"content-type": "application/x-ndjson", "date": "Mon, 10 Nov 2025 11:21:07 GMT",
         "transfer-encoding": "chunked"},
        expect("ollama", "chat", True, "llama3.1", "llama3.1", 17, len(pieces), "stop", "stream_chunk"),
        body=ndjson(lines),
    )

    # /api/generate, stream true, length-limited ---------------------------------------------------------------------
    body = spaced({"model": "mistral", "prompt": "Explain span kinds.", "stream": True,
                   "options": {"num_predict": 12}})
    pieces = [" Span", " kinds", " tell", " a", " back", "end", " a", " span", "'s", " role", ":", " client"]
    lines = [{"model": "mistral", "created_at": f"2025-11-10T11:22:40.{100000 + i * 28411:06d}Z", "response": p,
              "done": False} for i, p in enumerate(pieces)]
    lines.append({"model": "mistral", "created_at": "2025-11-10T11:22:40.499999Z", "response": "", "done": True,
                  "done_reason": "length",
                  "context": [3, 29473, 6693, 2183, 1059, 5112, 29491, 4, 29473, 4483, 2, 27, 1, 901, 441, 6, 2],
                  "total_duration": 611903250, "load_duration": 15330708, "prompt_eval_count": 9,
                  "prompt_eval_duration": 97211000, "eval_count": len(pieces), "eval_duration": 487002000})
    write(
        "ollama-generate-stream",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-ollama/tests/cassettes/test_generation/"
        "test_ollama_streaming_generation_legacy.yaml",
        "POST", "http://127.0.0.1:11434/api/generate", req_headers(OLLAMA_REQ, body), body, 200,
        {"content-type": "application/x-ndjson", "date": "Mon, 10 Nov 2025 11:22:40 GMT",
         "transfer-encoding": "chunked"},
        expect("ollama", "text_completion", True, "mistral", "mistral", 9, len(pieces), "length", "stream_chunk"),
        body=ndjson(lines),
    )

    # /api/embed -----------------------------------------------------------------------------------------------------
    body = spaced({"model": "all-minilm", "input": ["Why sample traces?", "What is a span link?"]})
    resp = compact({"model": "all-minilm",
                    "embeddings": [floats(2500 + i, 384, 9, 0.05) for i in range(2)],
                    "total_duration": 31442083, "load_duration": 2088417, "prompt_eval_count": 12})
    write(
        "ollama-embed",
        "llm-trace fixture, written for this project in the wire shape of ollama/ollama:docs/api.md (Generate "
        "Embeddings: POST /api/embed, embeddings[][], prompt_eval_count)",
        "POST", "http://127.0.0.1:11434/api/embed", req_headers(OLLAMA_REQ, body), body, 200,
        {"content-type": "application/json; charset=utf-8", "date": "Mon, 10 Nov 2025 11:23:15 GMT",
         "transfer-encoding": "chunked"},
        expect("ollama", "embeddings", False, "all-minilm", "all-minilm", 12, None, None, "body"),
        body=resp,
    )


# ---------------------------------------------------------------------------------------------------------------------
# OpenAI: Responses compact, tool arguments as an object, vendor usage keys

OPENAI_REQ = {
    "accept": "application/json",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "content-type": "application/json",
    "host": "api.openai.com",
    "user-agent": "OpenAI/Python 2.8.1",
    "x-stainless-arch": "x64",
    "x-stainless-async": "false",
    "x-stainless-lang": "python",
    "x-stainless-os": "Linux",
    "x-stainless-package-version": "2.8.1",
    "x-stainless-read-timeout": "600",
    "x-stainless-retry-count": "0",
    "x-stainless-runtime": "CPython",
    "x-stainless-runtime-version": "3.12.3",
}

OPENAI_RESP = {
    "access-control-expose-headers": "X-Request-ID",
    "alt-svc": 'h3=":443"; ma=86400',
    "cf-cache-status": "DYNAMIC",
    "cf-ray": "99c1a2b3c4d5e6f7-FRA",
    "connection": "keep-alive",
    "openai-organization": "llm-trace-fixtures",
    "openai-project": "proj_FixtureProject00000000000",
    "openai-version": "2020-10-01",
    "server": "cloudflare",
    "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
}


def openai_fixtures():
    # POST /v1/responses/compact ---------------------------------------------------------------------------------------
    history = [
        {"role": "user", "content": "Our collector drops spans under load. Where do I start?"},
        {"role": "assistant", "content": "Check the exporter queue size and the batch processor's send_batch_size."},
        {"role": "user", "content": "The queue is full. Should I add memory_limiter?"},
    ]
    body = spaced({"model": "gpt-5.1", "input": history, "instructions": "You are an SRE assistant."})
    resp = json.dumps({
        "id": "resp_0fxc0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f",
        "object": "response.compaction",
        "created_at": 1762773120,
        "output": [
            {"id": "msg_0fxc0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f01", "type": "message", "status": "completed",
             "content": [{"type": "input_text", "text": history[0]["content"]}], "role": "user"},
            {"id": "msg_0fxc0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f02", "type": "message", "status": "completed",
             "content": [{"type": "input_text", "text": history[2]["content"]}], "role": "user"},
            {"id": "cmp_0fxc0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f03", "type": "compaction",
             "encrypted_content": "gAAAAABpEfx0" + "Q29tcGFjdGVkIGNvbnZlcnNhdGlvbiBzdGF0ZQ" * 6 + "=="},
        ],
        "usage": {
            "input_tokens": 4810,
            "input_tokens_details": {"cached_tokens": 3072},
            "output_tokens": 1210,
            "output_tokens_details": {"reasoning_tokens": 896},
            "total_tokens": 6020,
        },
    }, indent=2) + "\n"
    write(
        "openai-responses-compact",
        "llm-trace fixture, written for this project in the wire shape of openai/openai-python:src/openai/types/"
        "responses/compacted_response.py (POST /responses/compact -> object response.compaction, output items "
        "ending in one `compaction` item, ResponseUsage; no model, no status)",
        "POST", "https://api.openai.com/v1/responses/compact", req_headers(OPENAI_REQ, body), body, 200,
        {**OPENAI_RESP, "content-type": "application/json", "date": "Mon, 10 Nov 2025 11:12:00 GMT",
         "openai-processing-ms": "9120", "transfer-encoding": "chunked", "x-request-id":
         "req_fxc0mpact0a1b2c3d4e5f60718293a4"},
        expect("openai", "chat", False, "gpt-5.1", None, 4810, 1210, None, "body", cache_read=3072,
               reasoning=896),
        body=resp,
    )

    # Responses: function_call.arguments sent as a JSON object (a compatible server), non-streaming and streaming -----
    vh = {k: v for k, v in OPENAI_REQ.items() if not k.startswith("x-stainless")}
    vh["host"] = "vllm.internal:8000"
    tools = [{"type": "function", "name": "get_trace", "description": "Fetch a trace by ID",
              "parameters": {"type": "object", "properties": {"trace_id": {"type": "string"}},
                             "required": ["trace_id"]}}]
    body = spaced({"model": "Qwen/Qwen3-8B", "input": "Open trace 4bf92f3577b34da6a3ce929d0e0e4736.", "tools": tools})
    args = {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    call = {"id": "fc_7d1e9b3a5c", "type": "function_call", "status": "completed", "call_id": "call_7d1e9b3a5c",
            "name": "get_trace", "arguments": args}
    response = {
        "id": "resp_7d1e9b3a5c2f4e6a8b0c1d2e3f4a5b6c", "object": "response", "created_at": 1762773300,
        "status": "completed", "error": None, "incomplete_details": None, "instructions": None,
        "max_output_tokens": None, "model": "Qwen/Qwen3-8B", "output": [call], "parallel_tool_calls": True,
        "previous_response_id": None, "reasoning": None, "temperature": 0.7, "text": {"format": {"type": "text"}},
        "tool_choice": "auto", "tools": tools, "top_p": 0.8, "truncation": "disabled",
        "usage": {"input_tokens": 233, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 27,
                  "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 260},
        "user": None, "metadata": {},
    }
    resp = compact(response)
    write(
        "openai-responses-tool-args-object",
        "llm-trace fixture, written for this project in the wire shape of openai-responses.json, from an "
        "OpenAI-compatible server that sends function_call `arguments` as a JSON object instead of a string "
        "(issue 13: the rest of the answer must still decode)",
        "POST", "http://vllm.internal:8000/v1/responses", req_headers(vh, body), body, 200,
        {"content-length": str(len(resp.encode())), "content-type": "application/json",
         "date": "Mon, 10 Nov 2025 11:15:00 GMT", "server": "uvicorn"},
        expect("openai", "chat", False, "Qwen/Qwen3-8B", "Qwen/Qwen3-8B", 233, 27, "completed", "body",
               cache_read=0, reasoning=0),
        body=resp,
    )

    body = spaced({"model": "Qwen/Qwen3-8B", "input": "Open trace 4bf92f3577b34da6a3ce929d0e0e4736.", "tools": tools,
                   "stream": True})
    in_progress = dict(response, status="in_progress", output=[], usage=None)
    added = dict(call, status="in_progress", arguments={})
    seq = 0
    events = []

    def ev(name, payload):
        nonlocal seq
        payload = {"type": name, **payload, "sequence_number": seq}
        seq += 1
        events.append((name, compact(payload)))

    ev("response.created", {"response": in_progress})
    ev("response.in_progress", {"response": in_progress})
    ev("response.output_item.added", {"output_index": 0, "item": added})
    ev("response.function_call_arguments.done", {"item_id": call["id"], "output_index": 0, "arguments": args})
    ev("response.output_item.done", {"output_index": 0, "item": call})
    ev("response.completed", {"response": response})
    write(
        "openai-responses-stream-tool-args-object",
        "llm-trace fixture, written for this project in the wire shape of openai-responses-stream.json, from an "
        "OpenAI-compatible server that sends function_call `arguments` as a JSON object instead of a string "
        "(issue 13: a complete stream must not be marked stream_incomplete)",
        "POST", "http://vllm.internal:8000/v1/responses", req_headers(vh, body), body, 200,
        {"content-type": "text/event-stream; charset=utf-8", "date": "Mon, 10 Nov 2025 11:15:30 GMT",
         "server": "uvicorn", "transfer-encoding": "chunked"},
        expect("openai", "chat", True, "Qwen/Qwen3-8B", "Qwen/Qwen3-8B", 233, 27, "completed", "stream_chunk",
               cache_read=0, reasoning=0),
        body=sse(events),
    )

    # Groq: stream usage under x_groq.usage in the finish chunk (no stream_options) ----------------------------------
    gh = {k: v for k, v in OPENAI_REQ.items()}
    gh.update({"host": "api.groq.com", "user-agent": "Groq/Python 0.33.0", "x-stainless-package-version": "0.33.0"})
    body = spaced({"messages": [{"role": "user", "content": "One tip for naming spans?"}],
                   "model": "llama-3.1-8b-instant", "stream": True})
    pieces = ["Name", " spans", " after", " the", " operation", ",", " not", " the", " instance", ":", " use",
              " `", "GET", " /", "users", "/{", "id", "}`", " rather", " than", " the", " full", " URL", "."]
    cid = "chatcmpl-4f1e2d3c-5b6a-4978-8e9d-0c1b2a3f4e5d"
    base = {"id": cid, "object": "chat.completion.chunk", "created": 1762773500, "model": "llama-3.1-8b-instant",
            "system_fingerprint": "fp_8ab2e50475"}
    xid = "req_01k9qfx0tracefx00000000001"
    chunks = [dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                                   "finish_reason": None}], x_groq={"id": xid})]
    chunks += [dict(base, choices=[{"index": 0, "delta": {"content": p}, "logprobs": None, "finish_reason": None}])
               for p in pieces]
    chunks.append(dict(base, choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
                       x_groq={"id": xid, "usage": {
                           "queue_time": 0.046172931, "prompt_tokens": 42, "prompt_time": 0.002907461,
                           "completion_tokens": len(pieces), "completion_time": 0.02047281,
                           "total_tokens": 42 + len(pieces), "total_time": 0.023380271}}))
    events = [(None, compact(c)) for c in chunks] + [(None, "[DONE]")]
    write(
        "groq-chat-stream-x-groq-usage",
        "llm-trace fixture, written for this project in the wire shape of traceloop/openllmetry:packages/"
        "opentelemetry-instrumentation-groq/tests/traces/cassettes/test_chat_tracing/test_chat_streaming_legacy.yaml",
        "POST", "https://api.groq.com/openai/v1/chat/completions", req_headers(gh, body), body, 200,
        {"cache-control": "no-cache", "cf-cache-status": "DYNAMIC", "cf-ray": "99c1b2c3d4e5f6a7-FRA",
         "connection": "keep-alive", "content-type": "text/event-stream", "date": "Mon, 10 Nov 2025 11:18:20 GMT",
         "server": "cloudflare", "transfer-encoding": "chunked", "vary": "Origin", "x-groq-region": "eu-central-1",
         "x-ratelimit-limit-requests": "14400", "x-ratelimit-limit-tokens": "6000",
         "x-ratelimit-remaining-requests": "14399", "x-ratelimit-remaining-tokens": "5990",
         "x-ratelimit-reset-requests": "6s", "x-ratelimit-reset-tokens": "100ms", "x-request-id": xid},
        expect("groq", "chat", True, "llama-3.1-8b-instant", "llama-3.1-8b-instant", 42, len(pieces), "stop",
               "vendor_key", vendor_usage_key="x_groq.usage"),
        body=sse(events),
    )

    # Moonshot: stream usage inside choices[0].usage of the finish chunk ------------------------------------------------
    mh = {k: v for k, v in OPENAI_REQ.items()}
    mh["host"] = "api.moonshot.ai"
    body = spaced({"messages": [{"role": "user", "content": "What does a span status of Error mean?"}],
                   "model": "moonshot-v1-8k", "stream": True})
    pieces = ["It", " means", " the", " operation", " the", " span", " covers", " failed", ";", " the",
              " description", " says", " why", "."]
    cid = "chatcmpl-6912f0a1b2c3d4e5f6a7b8c9"
    base = {"id": cid, "object": "chat.completion.chunk", "created": 1762773620, "model": "moonshot-v1-8k"}
    chunks = [dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
                   system_fingerprint="fpv0_ff52a3ef")]
    chunks += [dict(base, choices=[{"index": 0, "delta": {"content": p}, "finish_reason": None}],
                    system_fingerprint="fpv0_ff52a3ef") for p in pieces]
    chunks.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop", "usage": {
        "prompt_tokens": 18, "completion_tokens": len(pieces), "total_tokens": 18 + len(pieces)}}],
        system_fingerprint="fpv0_ff52a3ef"))
    events = [(None, compact(c)) for c in chunks] + [(None, "[DONE]")]
    write(
        "moonshot-chat-stream-choice-usage",
        "llm-trace fixture, written for this project in the wire shape of openai-chat-stream-usage-only-chunk.json "
        "with Moonshot's difference: stream usage inside choices[0].usage of the finish chunk (earendil-works/pi "
        "issue 2017)",
        "POST", "https://api.moonshot.ai/v1/chat/completions", req_headers(mh, body), body, 200,
        {"connection": "keep-alive", "content-type": "text/event-stream", "date": "Mon, 10 Nov 2025 11:20:20 GMT",
         "msh-request-id": "6912f0a1b2c3d4e5f6a7b8c9", "server": "nginx", "transfer-encoding": "chunked"},
        expect("moonshot_ai", "chat", True, "moonshot-v1-8k", "moonshot-v1-8k", 18, len(pieces), "stop",
               "vendor_key", vendor_usage_key="choices[0].usage"),
        body=sse(events),
    )


# ---------------------------------------------------------------------------------------------------------------------
# Bedrock InvokeModel / InvokeModelWithResponseStream for every model family

BEDROCK_UA = ("Boto3/1.40.70 md/Botocore#1.40.70 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 "
              "md/pyimpl#CPython m/Z,b cfg/retry-mode#legacy Botocore/1.40.70")


def bedrock_req(stream: bool, n: int):
    h = {
        "content-type": "application/json",
        "user-agent": BEDROCK_UA,
        "x-amz-date": f"20251110T12{n:02d}00Z",
        "amz-sdk-invocation-id": f"4b1c2d3e-5f60-4718-8a9b-0c1d2e3f4a{n:02d}",
        "amz-sdk-request": "attempt=1",
    }
    if stream:
        h["x-amzn-bedrock-accept"] = "application/json"
    else:
        h["accept"] = "application/json"
    return h


def bedrock_resp(n: int, length=None, tokens=None, latency=None, cache=False, stream=False):
    h = {"connection": "keep-alive", "date": f"Mon, 10 Nov 2025 12:{n:02d}:01 GMT"}
    if stream:
        h.update({"content-type": "application/vnd.amazon.eventstream", "transfer-encoding": "chunked",
                  "x-amzn-bedrock-content-type": "application/json"})
    else:
        h.update({"content-type": "application/json", "content-length": str(length)})
        if cache:
            h["x-amzn-bedrock-cache-read-input-token-count"] = "0"
            h["x-amzn-bedrock-cache-write-input-token-count"] = "0"
        if tokens is not None:
            h["x-amzn-bedrock-input-token-count"] = str(tokens[0])
        h["x-amzn-bedrock-invocation-latency"] = str(latency)
        if tokens is not None and tokens[1] is not None:
            h["x-amzn-bedrock-output-token-count"] = str(tokens[1])
    h["x-amzn-requestid"] = f"7e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e6{n:02d}"
    return h


def url(model_id: str, stream: bool) -> str:
    return (f"https://bedrock-runtime.us-east-1.amazonaws.com/model/{model_id.replace(':', '%3A')}/"
            f"{'invoke-with-response-stream' if stream else 'invoke'}")


def metrics(i, o, lat, first):
    return {"inputTokenCount": i, "outputTokenCount": o, "invocationLatency": lat, "firstByteLatency": first}


def check_stream(stream: bytes):
    """Decodes the frames back (both CRCs) and every inner base64 JSON chunk."""
    i, n = 0, 0
    while i < len(stream):
        total, hlen, pcrc = struct.unpack(">III", stream[i:i + 12])
        assert binascii.crc32(stream[i:i + 8]) == pcrc, "prelude crc"
        (mcrc,) = struct.unpack(">I", stream[i + total - 4:i + total])
        assert binascii.crc32(stream[i:i + total - 4]) == mcrc, "message crc"
        payload = json.loads(stream[i + 12 + hlen:i + total - 4])
        json.loads(base64.b64decode(payload["bytes"]))
        i += total
        n += 1
    assert i == len(stream)
    return n


def bedrock_fixtures():
    src_oll = "traceloop/openllmetry:packages/opentelemetry-instrumentation-bedrock/tests/traces/cassettes/"
    src_otel = "open-telemetry/opentelemetry-python-contrib:instrumentation/opentelemetry-instrumentation-botocore/" \
               "tests/cassettes/"

    # Amazon Nova, non-streaming --------------------------------------------------------------------------------------
    mid = "us.amazon.nova-lite-v1:0"
    body = spaced({"schemaVersion": "messages-v1",
                   "messages": [{"role": "user", "content": [{"text": "What is a span processor? One sentence."}]}],
                   "inferenceConfig": {"maxTokens": 200, "temperature": 0.3}})
    resp = compact({
        "output": {"message": {"content": [{"text": "A span processor is the SDK hook that sees every span as it "
                                                    "starts and ends, and batches or filters it before export."}],
                               "role": "assistant"}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 11, "outputTokens": 28, "totalTokens": 39, "cacheReadInputTokenCount": 0,
                  "cacheWriteInputTokenCount": 0},
    })
    write(
        "bedrock-invoke-nova",
        f"llm-trace fixture, written for this project in the wire shape of {src_oll}test_nova/"
        "test_nova_cross_region_invoke.yaml",
        "POST", url(mid, False), req_headers(bedrock_req(False, 1), body), body, 200,
        bedrock_resp(1, len(resp.encode()), (11, 28), 512, cache=True),
        expect("aws.bedrock", "chat", False, mid, None, 11, 28, "end_turn", "body", cache_read=0, cache_write=0),
        body=resp,
    )

    # Amazon Nova, streaming ------------------------------------------------------------------------------------------
    mid = "amazon.nova-micro-v1:0"
    body = spaced({"schemaVersion": "messages-v1",
                   "messages": [{"role": "user", "content": [{"text": "Why batch spans before export?"}]}],
                   "inferenceConfig": {"maxTokens": 300}})
    pieces = ["Batching", " cuts", " the", " number", " of", " export", " requests", ",", " so", " the",
              " network", " and", " the", " collector", " see", " fewer", ",", " larger", " payloads", "."]
    pads = [6, 22, 35, 7, 49, 18, 11, 44, 29, 3, 57, 14, 38, 21, 9, 52, 26, 41, 16, 33, 5, 47, 24, 12, 39, 30,
            2, 55, 19, 43, 8, 36, 27, 13, 50, 23, 45, 10, 31, 17, 54, 4]
    pi = iter(pads)
    frames = [invoke_chunk({"messageStart": {"role": "assistant"}}, next(pi))]
    for k, p in enumerate(pieces):
        frames.append(invoke_chunk({"contentBlockDelta": {"delta": {"text": p}, "contentBlockIndex": k}}, next(pi)))
        frames.append(invoke_chunk({"contentBlockStop": {"contentBlockIndex": k}}, next(pi)))
    frames.append(invoke_chunk({"messageStop": {"stopReason": "end_turn"}}, 39))
    frames.append(invoke_chunk({
        "metadata": {"usage": {"inputTokens": 7, "outputTokens": len(pieces), "cacheReadInputTokenCount": 0,
                               "cacheWriteInputTokenCount": 0}, "metrics": {}, "trace": {}},
        "amazon-bedrock-invocationMetrics": dict(metrics(7, len(pieces), 402, 88), cacheReadInputTokenCount=0,
                                                 cacheWriteInputTokenCount=0),
    }, 24))
    stream = b"".join(frames)
    check_stream(stream)
    write(
        "bedrock-invoke-nova-stream",
        f"llm-trace fixture (make_more_exchanges.py), written for this project in the wire shape of {src_otel}"
        "test_invoke_model_with_response_stream_with_content[amazon.nova].yaml and "
        f"{src_oll}test_nova/test_nova_invoke_stream.yaml",
        "POST", url(mid, True), req_headers(bedrock_req(True, 2), body), body, 200, bedrock_resp(2, stream=True),
        expect("aws.bedrock", "chat", True, mid, None, 7, len(pieces), "end_turn", "stream_chunk", cache_read=0,
               cache_write=0),
        body_bytes=stream,
    )

    # Titan Text, non-streaming ---------------------------------------------------------------------------------------
    mid = "amazon.titan-text-express-v1"
    body = spaced({"inputText": "Summarise in one sentence: a trace is a tree of spans for one request.",
                   "textGenerationConfig": {"maxTokenCount": 100, "temperature": 0.2, "topP": 0.9}})
    resp = compact({"inputTextTokenCount": 17, "results": [{
        "tokenCount": 12, "outputText": "\nA trace groups all the spans of a single request into one tree.",
        "completionReason": "FINISH"}]})
    write(
        "bedrock-invoke-titan-text",
        f"llm-trace fixture, written for this project in the wire shape of {src_oll}test_titan/test_titan_completion.yaml",
        "POST", url(mid, False), req_headers(bedrock_req(False, 3), body), body, 200,
        bedrock_resp(3, len(resp.encode()), (17, 12), 733),
        expect("aws.bedrock", "text_completion", False, mid, None, 17, 12, "FINISH", "body"),
        body=resp,
    )

    # Titan Text, streaming: input count in the first chunk, output count and reason in the last ------------------------
    mid = "amazon.titan-text-lite-v1"
    body = spaced({"inputText": "Explain span attributes in two sentences.",
                   "textGenerationConfig": {"maxTokenCount": 40, "temperature": 0.5}})
    parts = ["\nSpan attributes are key-value pairs that describe an operation, such as",
             " the HTTP method or the database statement. Backends index them so you can filter and",
             " group traces by"]
    frames = [
        invoke_chunk({"outputText": parts[0], "index": 0, "inputTextTokenCount": 9}, 31),
        invoke_chunk({"outputText": parts[1], "index": 0}, 12),
        invoke_chunk({"outputText": parts[2], "index": 0, "totalOutputTextTokenCount": 40,
                      "completionReason": "LENGTH", "amazon-bedrock-invocationMetrics": metrics(9, 40, 1204, 391)},
                     53),
    ]
    stream = b"".join(frames)
    check_stream(stream)
    write(
        "bedrock-invoke-titan-text-stream",
        f"llm-trace fixture (make_more_exchanges.py), written for this project in the wire shape of {src_oll}"
        f"test_titan/test_titan_invoke_stream.yaml and {src_otel}"
        "test_invoke_model_with_response_stream_with_content[amazon.titan].yaml",
        "POST", url(mid, True), req_headers(bedrock_req(True, 4), body), body, 200, bedrock_resp(4, stream=True),
        expect("aws.bedrock", "text_completion", True, mid, None, 9, 40, "LENGTH", "stream_chunk"),
        body_bytes=stream,
    )

    # Titan Text Embeddings V2 ----------------------------------------------------------------------------------------
    mid = "amazon.titan-embed-text-v2:0"
    body = spaced({"inputText": "Span events record things that happened during a span.", "dimensions": 256,
                   "normalize": True})
    vec = floats(2600, 256, 9, 0.06)
    resp = compact({"embedding": vec, "embeddingsByType": {"float": vec}, "inputTextTokenCount": 11})
    write(
        "bedrock-invoke-titan-embed",
        "llm-trace fixture, written for this project in the wire shape of "
        "https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html (V2 response: "
        f"embedding, inputTextTokenCount, embeddingsByType) and {src_otel}"
        "test_invoke_model_with_embeddings_model[amazon.titan].yaml (headers: input count only)",
        "POST", url(mid, False), req_headers(bedrock_req(False, 5), body), body, 200,
        bedrock_resp(5, len(resp.encode()), (11, None), 64),
        expect("aws.bedrock", "embeddings", False, mid, None, 11, None, None, "body"),
        body=resp,
    )

    # Cohere Command R (chat-style body: text, finish_reason; no usage in the body) ------------------------------------
    mid = "cohere.command-r-v1:0"
    body = spaced({"message": "What does the tracestate header hold?", "max_tokens": 60, "temperature": 0.3})
    text = "tracestate carries vendor-specific key-value pairs that travel with traceparent across services."
    resp = compact({
        "response_id": "b7c8d9e0/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
        "text": text,
        "generation_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "chat_history": [{"role": "USER", "message": "What does the tracestate header hold?"},
                         {"role": "CHATBOT", "message": text}],
        "finish_reason": "COMPLETE",
    })
    write(
        "bedrock-invoke-cohere-command",
        f"llm-trace fixture, written for this project in the wire shape of {src_otel}"
        "test_invoke_model_with_content[cohere.command-r].yaml",
        "POST", url(mid, False), req_headers(bedrock_req(False, 6), body), body, 200,
        bedrock_resp(6, len(resp.encode()), (8, 17), 388),
        expect("aws.bedrock", "chat", False, mid, None, 8, 17, "COMPLETE", "bedrock_header"),
        body=resp,
    )

    # Cohere Command (legacy text generation: generations[]) -----------------------------------------------------------
    mid = "cohere.command-light-text-v14"
    body = spaced({"prompt": "Complete: a span kind of SERVER means", "max_tokens": 12, "temperature": 0.5})
    resp = compact({
        "id": "7e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e607",
        "generations": [{"id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                         "text": " the span covers the handling of an incoming remote request,",
                         "finish_reason": "MAX_TOKENS"}],
        "prompt": "Complete: a span kind of SERVER means",
    })
    write(
        "bedrock-invoke-cohere-command-legacy",
        f"llm-trace fixture, written for this project in the wire shape of {src_otel}"
        "test_invoke_model_with_content[cohere.command].yaml",
        "POST", url(mid, False), req_headers(bedrock_req(False, 7), body), body, 200,
        bedrock_resp(7, len(resp.encode()), (9, 12), 301),
        expect("aws.bedrock", "text_completion", False, mid, None, 9, 12, "MAX_TOKENS", "bedrock_header"),
        body=resp,
    )

    # Cohere Command R, streaming: v1 chat stream events inside chunks, usage only in invocationMetrics -----------------
    mid = "cohere.command-r-plus-v1:0"
    body = spaced({"message": "One reason to propagate baggage?", "max_tokens": 80, "stream": True})
    pieces = ["Baggage", " lets", " every", " downstream", " service", " read", " request", "-scoped", " context",
              ",", " like", " a", " tenant", " ID", ",", " without", " changing", " its", " API", "."]
    gen = "8d9e0f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a"
    full = "".join(pieces)
    frames = [invoke_chunk({"is_finished": False, "event_type": "stream-start", "generation_id": gen}, 17)]
    for k, p in enumerate(pieces):
        frames.append(invoke_chunk({"is_finished": False, "event_type": "text-generation", "text": p},
                                   pads[k % len(pads)]))
    frames.append(invoke_chunk({
        "is_finished": True, "event_type": "stream-end",
        "response": {"response_id": "c1d2e3f4/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "text": full,
                     "generation_id": gen,
                     "chat_history": [{"role": "USER", "message": "One reason to propagate baggage?"},
                                      {"role": "CHATBOT", "message": full}],
                     "finish_reason": "COMPLETE"},
        "finish_reason": "COMPLETE",
        "amazon-bedrock-invocationMetrics": metrics(7, len(pieces), 1422, 260),
    }, 28))
    stream = b"".join(frames)
    check_stream(stream)
    write(
        "bedrock-invoke-cohere-command-stream",
        "llm-trace fixture (make_more_exchanges.py), written for this project in the wire shape of Cohere's v1 chat "
        "stream events (traceloop/openllmetry:packages/opentelemetry-instrumentation-cohere/tests/cassettes/test_chat/"
        f"test_cohere_chat_legacy_with_streaming.yaml) inside Bedrock chunk frames as in {src_oll}"
        "test_titan/test_titan_invoke_stream.yaml",
        "POST", url(mid, True), req_headers(bedrock_req(True, 8), body), body, 200, bedrock_resp(8, stream=True),
        expect("aws.bedrock", "chat", True, mid, None, 7, len(pieces), "COMPLETE", "bedrock_metrics"),
        body_bytes=stream,
    )

    # Cohere Embed v4 (embeddings by type; usage only in the input-count header) -----------------------------------------
    mid = "cohere.embed-v4:0"
    texts = ["Sampling keeps a subset of traces.", "Exporters send telemetry to a backend."]
    body = spaced({"texts": texts, "input_type": "search_document", "embedding_types": ["float"],
                   "output_dimension": 256})
    resp = compact({"id": "7e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e609",
                    "embeddings": {"float": [[round(x, 6) for x in floats(2700 + i, 256)] for i in range(2)]},
                    "response_type": "embeddings_by_type", "texts": texts})
    write(
        "bedrock-invoke-cohere-embed",
        f"llm-trace fixture, written for this project in the wire shape of {src_otel}"
        "test_invoke_model_with_embeddings_model[cohere.embed].yaml (embedding_types gives the by-type form of "
        "cohere-ai/cohere-python:src/cohere/types/embed_by_type_response.py)",
        "POST", url(mid, False), req_headers(bedrock_req(False, 9), body), body, 200,
        bedrock_resp(9, len(resp.encode()), (15, None), 97),
        expect("aws.bedrock", "embeddings", False, mid, None, 15, None, None, "bedrock_header"),
        body=resp,
    )

    # Mistral Large 2 (chat form: choices[].message, choices[].stop_reason; no usage in the body) ----------------------
    mid = "mistral.mistral-large-2407-v1:0"
    body = spaced({"messages": [{"role": "user", "content": "What is a root span?"}], "max_tokens": 100,
                   "temperature": 0.2})
    resp = compact({"choices": [{"index": 0, "message": {
        "role": "assistant", "content": "The root span is the first span of a trace: it has no parent and covers "
                                        "the whole request."}, "stop_reason": "stop"}]})
    write(
        "bedrock-invoke-mistral",
        "llm-trace fixture, written for this project in the wire shape of techthoughts2/pwshBedrock:src/Tests/Unit/"
        "Public/Invoke-MistralAIChatModel.Tests.ps1 (Mistral Large 2 on Bedrock: choices[].stop_reason) with the "
        f"headers of {src_otel}test_invoke_model_with_content[mistral.mistral].yaml",
        "POST", url(mid, False), req_headers(bedrock_req(False, 10), body), body, 200,
        bedrock_resp(10, len(resp.encode()), (9, 24), 689),
        expect("aws.bedrock", "chat", False, mid, None, 9, 24, "stop", "bedrock_header"),
        body=resp,
    )

    # Mistral (text completion form: outputs[]), streaming ------------------------------------------------------------
    mid = "mistral.mistral-7b-instruct-v0:2"
    body = spaced({"prompt": "<s>[INST] What is an instrumentation scope? [/INST]", "max_tokens": 60,
                   "temperature": 0.5})
    pieces = [" An", " instrumentation", " scope", " names", " the", " library", " that", " produced", " a",
              " span", ",", " with", " its", " version", "."]
    frames = [invoke_chunk({"outputs": [{"text": p, "stop_reason": None}]}, pads[k]) for k, p in enumerate(pieces)]
    frames.append(invoke_chunk({"outputs": [{"text": "", "stop_reason": "stop"}],
                                "amazon-bedrock-invocationMetrics": metrics(16, len(pieces), 611, 174)}, 21))
    stream = b"".join(frames)
    check_stream(stream)
    write(
        "bedrock-invoke-mistral-stream",
        f"llm-trace fixture (make_more_exchanges.py), written for this project in the wire shape of {src_otel}"
        "test_invoke_model_with_content[mistral.mistral].yaml (outputs[].text, outputs[].stop_reason) in Bedrock "
        f"chunk frames as in {src_oll}test_titan/test_titan_invoke_stream.yaml",
        "POST", url(mid, True), req_headers(bedrock_req(True, 11), body), body, 200, bedrock_resp(11, stream=True),
        expect("aws.bedrock", "text_completion", True, mid, None, 16, len(pieces), "stop", "bedrock_metrics"),
        body_bytes=stream,
    )

    # Meta Llama, non-streaming ----------------------------------------------------------------------------------------
    mid = "meta.llama3-1-70b-instruct-v1:0"
    body = spaced({"prompt": "What is the difference between a span and a log?", "max_gen_len": 64,
                   "temperature": 0.2, "top_p": 0.9})
    resp = compact({"generation": " A span has a start and an end and sits in a trace tree; a log is a single "
                                  "timestamped record.", "prompt_token_count": 12, "generation_token_count": 24,
                    "stop_reason": "stop"})
    write(
        "bedrock-invoke-llama",
        f"llm-trace fixture, written for this project in the wire shape of {src_oll}test_meta/"
        "test_meta_llama3_completion.yaml",
        "POST", url(mid, False), req_headers(bedrock_req(False, 12), body), body, 200,
        bedrock_resp(12, len(resp.encode()), (12, 24), 811),
        expect("aws.bedrock", "text_completion", False, mid, None, 12, 24, "stop", "body"),
        body=resp,
    )

    # Meta Llama, streaming: prompt_token_count in the first chunk, generation_token_count running ------------------------
    mid = "us.meta.llama3-2-3b-instruct-v1:0"
    body = spaced({"prompt": "Name one OpenTelemetry signal.", "max_gen_len": 32})
    pieces = [" Traces", ",", " which", " record", " the", " path", " of", " a", " request", "."]
    frames = []
    for k, p in enumerate(pieces):
        frames.append(invoke_chunk({"generation": p, "prompt_token_count": 8 if k == 0 else None,
                                    "generation_token_count": k + 1, "stop_reason": None}, pads[k + 3]))
    frames.append(invoke_chunk({"generation": "", "prompt_token_count": None,
                                "generation_token_count": len(pieces) + 1, "stop_reason": "stop",
                                "amazon-bedrock-invocationMetrics": metrics(8, len(pieces) + 1, 402, 151)}, 37))
    stream = b"".join(frames)
    check_stream(stream)
    write(
        "bedrock-invoke-llama-stream",
        f"llm-trace fixture (make_more_exchanges.py), written for this project in the wire shape of {src_oll}"
        "test_meta/test_meta_llama3_completion.yaml (generation, prompt_token_count, generation_token_count, "
        f"stop_reason) in Bedrock chunk frames as in {src_oll}test_titan/test_titan_invoke_stream.yaml",
        "POST", url(mid, True), req_headers(bedrock_req(True, 13), body), body, 200, bedrock_resp(13, stream=True),
        expect("aws.bedrock", "text_completion", True, mid, None, 8, len(pieces) + 1, "stop", "stream_chunk"),
        body_bytes=stream,
    )

    # AI21 Jamba (OpenAI-like choices and usage, plus meta.requestDurationMillis) --------------------------------------
    mid = "ai21.jamba-1-5-mini-v1:0"
    body = spaced({"messages": [{"role": "user", "content": "In one sentence, what is a metric exemplar?"}],
                   "max_tokens": 80, "temperature": 0.4})
    resp = compact({
        "id": "chatcmpl-5f6a7b8c9d0e4f1a2b3c4d5e6f7a8b9c",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "An exemplar is a sample measurement "
                                             "with the trace ID of the request that produced it.",
                                             "tool_calls": None}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 23, "completion_tokens": 19, "total_tokens": 42},
        "meta": {"requestDurationMillis": 488},
    })
    write(
        "bedrock-invoke-ai21",
        "llm-trace fixture, written for this project in the wire shape of techthoughts2/pwshBedrock:src/Tests/Unit/"
        "Public/Invoke-AI21LabsJambaModel.Tests.ps1 (Jamba on Bedrock: choices, usage, meta.requestDurationMillis)",
        "POST", url(mid, False), req_headers(bedrock_req(False, 14), body), body, 200,
        bedrock_resp(14, len(resp.encode()), (23, 19), 512),
        expect("aws.bedrock", "chat", False, mid, None, 23, 19, "stop", "body"),
        body=resp,
    )


# ---------------------------------------------------------------------------------------------------------------------
# validation of everything written


def validate(path: str):
    d = json.load(open(path))
    req = d["request"]
    if req["body"]:
        json.loads(req["body"])
        assert req["headers"]["content-length"] == str(len(req["body"].encode())), path
    r = d["response"]
    ct = r["headers"]["content-type"]
    raw = base64.b64decode(r["body_base64"]) if "body_base64" in r else r["body"].encode()
    if "content-length" in r["headers"]:
        assert r["headers"]["content-length"] == str(len(raw)), path
    if ct.startswith("application/vnd.amazon.eventstream"):
        check_stream(raw)
    elif ct.startswith("text/event-stream"):
        text = raw.decode()
        assert text.endswith("\n\n"), path
        for block in text[:-2].split("\n\n"):
            lines = block.split("\n")
            data = [ln[6:] for ln in lines if ln.startswith("data: ")]
            assert len(data) == 1 and all(ln.startswith(("event: ", "data: ")) for ln in lines), (path, block)
            if data[0] != "[DONE]":
                obj = json.loads(data[0])
                names = [ln[7:] for ln in lines if ln.startswith("event: ")]
                if names and "type" in obj:
                    assert names[0] == obj["type"], (path, block)
    elif ct.startswith(("application/x-ndjson", "application/stream+json")):
        text = raw.decode()
        assert text.endswith("\n"), path
        for line in text[:-1].split("\n"):
            json.loads(line)
    else:
        json.loads(raw)
    e = d["expect"]
    for k in ("provider", "operation", "streaming", "request_model", "response_model", "input_tokens",
              "output_tokens", "finish_reason", "status", "cache_read_tokens", "cache_write_tokens",
              "input_tokens_total", "output_tokens_total", "reasoning_tokens", "usage_source"):
        assert k in e, (path, k)
    assert e["usage_source"] in ("body", "stream_chunk", "vendor_key", "bedrock_header", "bedrock_metrics",
                                 "estimate"), path


def main():
    cohere_fixtures()
    anthropic_complete_fixtures()
    google_fixtures()
    voyage_fixtures()
    ollama_fixtures()
    openai_fixtures()
    bedrock_fixtures()
    for p in WRITTEN:
        validate(p)
    print(f"wrote and validated {len(WRITTEN)} fixtures")
    for p in WRITTEN:
        print("  " + os.path.basename(p))


if __name__ == "__main__":
    main()
