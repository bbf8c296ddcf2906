#!/usr/bin/env python3
"""`make demo`: real Envoy with the llm-trace filter between the official OpenAI SDK and a mock LLM upstream; sends a
handful of calls and one user feedback, then prints the traces the OTLP receiver got with the scores each call got
(the user's, and the LLM judge's: the mock in its judge mode), and stops everything it started."""
import json
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import running_stack  # noqa: E402

import openai  # noqa: E402

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def send_calls(base_url: str):
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="demo", max_retries=0)
    user = [{"role": "user", "content": "Describe a quick fox. My email is jane.doe@example.com"}]
    calls = [
        ("non-streaming, then the user's thumbs up", lambda: send_feedback(
            base_url, client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=user))),
        ("streaming, client asks for usage", lambda: list(client.chat.completions.create(
            model="gpt-4o", messages=user, stream=True, stream_options={"include_usage": True}))),
        ("streaming, usage injected by the filter", lambda: list(client.chat.completions.create(
            model="gpt-4.1-nano", messages=user, stream=True))),
        ("joins the caller's trace", lambda: client.chat.completions.create(
            model="gpt-4o-mini", messages=user, extra_headers={"traceparent": TRACEPARENT})),
        ("truncated by max_tokens", lambda: client.chat.completions.create(
            model="gpt-4o-mini", messages=user, max_tokens=5)),
        ("provider error (429)", lambda: client.chat.completions.create(
            model="gpt-4o-mini", messages=user, extra_headers={"x-mock-status": "429"})),
    ]
    for label, call in calls:
        try:
            call()
            print(f"  sent: {label}")
        except openai.APIStatusError as e:
            print(f"  sent: {label} -> client got HTTP {e.status_code}")


def send_feedback(base_url: str, raw):
    """What an application does with one call: read its span from `server-timing`, post feedback about it."""
    trace_id, span_id = re.search(r"trace;desc=00-(\w{32})-(\w{16})-", raw.headers["server-timing"]).groups()
    body = json.dumps({"trace_id": trace_id, "span_id": span_id, "score": 1, "label": "thumbs_up"}).encode()
    request = urllib.request.Request(f"{base_url}/llm-trace/v1/feedback", data=body,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 202


def evaluations(workdir: str) -> list[dict]:
    records = []
    for i in (1, 2):
        path = os.path.join(workdir, f"spans-{i}.logs.jsonl")
        if os.path.exists(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    return records


def scores(span: dict, records: list[dict]) -> str:
    short = {"llm_judge": "judge", "user_feedback": "user"}
    out = []
    for r in records:
        a = r["attributes"]
        if r["span_id"] == span["span_id"] and "gen_ai.evaluation.score.value" in a:
            name = short.get(a["gen_ai.evaluation.name"], a["gen_ai.evaluation.name"])
            out.append(f"{name} {a['gen_ai.evaluation.score.value']:.2f} {a.get('gen_ai.evaluation.score.label', '')}")
    return ", ".join(sorted(out))


def table(spans: list[dict], records: list[dict]) -> str:
    header = ["trace", "model (request -> response)", "stream", "in", "out", "cost $", "TTFT ms", "dur ms",
              "finish", "status", "scores"]
    rows = []
    for s in spans:
        a = s["attributes"]
        ttft = a.get("gen_ai.response.time_to_first_chunk")
        cost = a.get("gen_ai.usage.cost")
        rows.append([
            s["trace_id"][:8],
            f"{a.get('gen_ai.request.model')} -> {a.get('gen_ai.response.model', '-')}",
            "y" if a.get("gen_ai.request.stream") else "n",
            str(a.get("gen_ai.usage.input_tokens", "-")),
            str(a.get("gen_ai.usage.output_tokens", "-")) + ("*" if a.get("llm.usage.injected") else ""),
            f"{cost:.6f}" if isinstance(cost, (int, float)) else "",
            f"{ttft * 1000:.1f}" if ttft else "",
            f"{(s['end_time_unix_nano'] - s['start_time_unix_nano']) / 1e6:.1f}",
            ",".join(a.get("gen_ai.response.finish_reasons", [])),
            s["status"]["code"] + (f" ({a['error.type']})" if "error.type" in a else ""),
            scores(s, records),
        ])
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def main():
    with running_stack(chunk_interval_ms=10) as stack:
        print(f"Envoy {stack.base_url} -> mock LLM; spans -> OTLP receiver (work dir {stack.workdir})")
        send_calls(stack.base_url)
        spans = stack.wait_for_spans(6, timeout=10)
        # Five successful calls judged, plus the user's feedback.
        deadline = time.time() + 10
        while len(evaluations(stack.workdir)) < 6 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)
        print()
        print(table(stack.spans(), evaluations(stack.workdir)))
        print("\n* usage the filter asked for on the client's behalf (and removed from the client's stream)")
        print("scores: `judge` the LLM judge's (llm_judge), `user` the feedback posted with the trace context the "
              "response carried (server-timing); the failed call is not judged")
        print("\nOne span in full (OTLP as the receiver decoded it):")
        import json

        example = next((s for s in spans if s["attributes"].get("gen_ai.request.stream")), spans[0])
        print(json.dumps({k: example[k] for k in ("name", "kind", "trace_id", "status", "attributes")}, indent=2))
        time.sleep(1.2)  # one stats flush, for the histograms
        stats = [line for line in stack.admin("/stats/prometheus").splitlines()
                 if line.startswith(("llm_requests", "llm_tokens", "llm_cost_micro_usd", "llm_trace_spans_exported",
                                     "llm_quality_score_count", "llm_trace_judge_"))]
        print("\nEnvoy /stats/prometheus (excerpt):\n" + "\n".join(stats))


if __name__ == "__main__":
    main()
