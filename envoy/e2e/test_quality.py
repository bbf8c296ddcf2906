"""Was it good? Quality in real Envoy with the real `.wasm` and the official OpenAI SDK: the caller reads its LLM
span from `server-timing`, posts feedback through the proxy (answered by the filter itself, never forwarded), and
the test's OTLP receiver gets the `gen_ai.evaluation.result` record on that span; the LLM judge (the mock LLM in its
judge mode, because a real model cannot run here) scores sampled calls; every failure and the budget are counted."""
import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.request

import openai

from harness import ROOT, running_stack, wait_until

ANSWER_WORDS = 19
FEEDBACK_PATH = "/llm-trace/v1/feedback"


def client(stack):
    return openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key="test-key", max_retries=0)


def log_records(stack) -> list[dict]:
    """Every log record (evaluation event) either collector received."""
    records = []
    for spans_path in stack.spans_paths:
        path = spans_path.replace(".jsonl", ".logs.jsonl")
        if os.path.exists(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    return records


def wait_for_record(stack, predicate, timeout=10.0) -> dict:
    found = []
    wait_until(lambda: found.extend(r for r in log_records(stack) if predicate(r)) or found, timeout,
               "an evaluation record at the OTLP receiver")
    return found[0]


def traced_call(stack, question: str, **kw):
    """One chat call through the proxy; returns (reply, trace id, span id) read from the response's server-timing."""
    raw = client(stack).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}], **kw)
    timing = raw.headers.get("server-timing", "")
    match = re.search(r"trace;desc=00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})", timing)
    assert match, f"no trace context in server-timing: {timing!r}"
    return raw.parse(), match.group(1), match.group(2)


def post(stack, body, method="POST", headers=None) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.base_url}{FEEDBACK_PATH}", data=data if method == "POST" else None,
                                     method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def stat(stack, name: str) -> int:
    """A counter from Envoy's admin `/stats` (which shows the filter's stats with their `wasmcustom.` prefix)."""
    for line in stack.admin(f"/stats?filter={re.escape(name)}$").splitlines():
        key, _, value = line.partition(": ")
        if key in (name, f"wasmcustom.{name}"):
            return int(value)
    return 0


def feedback_records(stack) -> list[dict]:
    return [r for r in log_records(stack) if r["attributes"].get("llm.evaluation.annotator_kind") == "HUMAN"]


def test_the_caller_reads_its_span_from_server_timing_and_its_feedback_lands_on_it(stack):
    reply, trace_id, span_id = traced_call(stack, "Describe a fox", extra_headers={"x-mock-server-timing": "1"})
    assert len(reply.choices[0].message.content.split()) == ANSWER_WORDS
    wait_until(lambda: any(s["trace_id"] == trace_id for s in stack.spans()), 10, "the call's span")
    span = next(s for s in stack.spans() if s["trace_id"] == trace_id)
    assert span["span_id"] == span_id, "server-timing names the LLM span"
    upstream_before = stat(stack, "cluster.llm_upstream.upstream_rq_total")

    status, body = post(stack, {"trace_id": trace_id, "span_id": span_id, "score": 1, "label": "thumbs_up",
                                "comment": "Great fox, thanks! Reply to jane.doe@example.com"})
    assert (status, body) == (202, {"accepted": True})
    record = wait_for_record(stack, lambda r: r["span_id"] == span_id
                             and r["attributes"]["gen_ai.evaluation.name"] == "user_feedback")
    assert record["trace_id"] == trace_id
    assert record["event_name"] == "gen_ai.evaluation.result"
    a = record["attributes"]
    assert a["gen_ai.evaluation.score.value"] == 1.0
    assert a["gen_ai.evaluation.score.label"] == "thumbs_up"
    assert a["gen_ai.evaluation.explanation"] == "Great fox, thanks! Reply to [EMAIL]"
    assert a["llm.evaluation.annotator_kind"] == "HUMAN"
    assert record["resource"]["service.name"] == "llm-trace-demo"
    assert stat(stack, "cluster.llm_upstream.upstream_rq_total") == upstream_before, "feedback never goes upstream"
    # Queryable like latency: the score is a histogram sample under the call's own labels.
    wait_until(lambda: re.search(
        r'llm_quality_score_count\{provider="openai",model="gpt-4o-mini-2025-01-01",op="chat",'
        r'evaluation="user_feedback"\} [1-9]', stack.admin("/stats/prometheus")), 15, "the llm.quality_score sample")


def test_bad_feedback_gets_400_naming_the_field_and_nothing_is_exported(stack):
    _, trace_id, _ = traced_call(stack, "Describe a fox")
    records_before = len(feedback_records(stack))
    rejected_before = stat(stack, "llm_trace.feedback.rejected")
    upstream_before = stat(stack, "cluster.llm_upstream.upstream_rq_total")
    cases = [
        (b"not json", 400, "body: must be a JSON object"),
        ({"score": 1}, 400, "trace_id: required"),
        ({"trace_id": "xyz", "score": 1}, 400, "trace_id: must be 32 hex digits, not all zero"),
        ({"trace_id": trace_id, "score": 2}, 400, "score: must be a number from 0 to 1"),
        ({"trace_id": trace_id, "comment": "no score"}, 400, "score: `score` or `label` is required"),
        ({"trace_id": trace_id, "score": 1, "stars": 5}, 400, "stars: unknown field"),
        (b"{" + b" " * (17 << 10) + b"}", 413, "body: larger than 16384 bytes"),
    ]
    for body, status, error in cases:
        assert post(stack, body) == (status, {"error": error}), body[:40]
    assert post(stack, b"", method="GET") == (405, {"error": "method: only POST is allowed"})
    time.sleep(1.5)  # three flush ticks: anything queued would have left
    assert len(feedback_records(stack)) == records_before, "nothing exported"
    assert stat(stack, "llm_trace.feedback.rejected") == rejected_before + len(cases) + 1
    assert stat(stack, "cluster.llm_upstream.upstream_rq_total") == upstream_before, "nothing forwarded"


def test_the_judge_scores_sampled_calls_on_their_own_span(stack):
    _, trace_id, span_id = traced_call(stack, "Describe a fox for me, I am jane.doe@example.com")
    _, short_trace, short_span = traced_call(stack, "Describe a fox", max_tokens=5)
    record = wait_for_record(stack, lambda r: r["span_id"] == span_id
                             and r["attributes"]["gen_ai.evaluation.name"] == "llm_judge")
    assert record["trace_id"] == trace_id
    a = record["attributes"]
    assert (a["gen_ai.evaluation.score.value"], a["gen_ai.evaluation.score.label"]) == (1.0, "pass")
    assert a["gen_ai.evaluation.explanation"] == "The answer has 19 of the 19 words expected."
    assert a["llm.evaluation.annotator_kind"] == "LLM"
    assert a["llm.judge.model"] == "gpt-4o-mini-2025-01-01"
    assert a["llm.judge.usage.input_tokens"] > 0 and a["llm.judge.usage.output_tokens"] > 0
    assert a["llm.judge.usage.cost"] > 0
    assert a["gen_ai.response.id"].startswith("chatcmpl-mock-")
    short = wait_for_record(stack, lambda r: r["span_id"] == short_span
                            and r["attributes"]["gen_ai.evaluation.name"] == "llm_judge")
    assert short["trace_id"] == short_trace
    assert (short["attributes"]["gen_ai.evaluation.score.value"],
            short["attributes"]["gen_ai.evaluation.score.label"]) == (0.26, "fail")
    # The judge saw the redacted question only.
    with open(os.path.join(stack.workdir, "mock-llm.log")) as f:
        prompts = [json.loads(line.split("judge prompt: ", 1)[1]) for line in f if "judge prompt: " in line]
    mine = [p for p in prompts if "Describe a fox for me" in p]
    assert mine and "[EMAIL]" in mine[0] and "jane.doe@example.com" not in mine[0]


def test_judge_failures_are_counted_never_scored(stack):
    before = {name: stat(stack, f"llm_trace.judge.{name}") for name in ("calls", "unparsable", "failed")}
    spans = [traced_call(stack, f"Describe a fox judge:{marker}")[2] for marker in ("unparsable", "error", "slow")]
    wait_until(lambda: stat(stack, "llm_trace.judge.unparsable") == before["unparsable"] + 1
               and stat(stack, "llm_trace.judge.failed") == before["failed"] + 2, 15,
               "one unparsable answer, one error status and one timeout counted")
    assert stat(stack, "llm_trace.judge.calls") == before["calls"] + 3
    time.sleep(1)
    assert not [r for r in log_records(stack) if r["span_id"] in spans], "no score for a failed judgement"


def test_an_exhausted_judge_budget_is_counted():
    with open(os.path.join(ROOT, "envoy", "demo.yaml")) as f:
        config = f.read().replace('"calls_per_minute": 60', '"calls_per_minute": 2')
    assert '"calls_per_minute": 2' in config
    template = os.path.join(tempfile.mkdtemp(prefix="llm-trace-budget-"), "budget.yaml")
    with open(template, "w") as f:
        f.write(config)
    with running_stack(template=template) as stack:
        judged = [traced_call(stack, "Describe a fox")[2] for _ in range(4)]
        wait_until(lambda: stat(stack, "llm_trace.judge.skipped_budget") == 2, 10, "two calls over the budget")
        wait_until(lambda: stat(stack, "llm_trace.judge.scored") == 2, 10, "two calls judged")
        assert stat(stack, "llm_trace.judge.calls") == 2
        scored = lambda: {r["span_id"] for r in log_records(stack)  # noqa: E731
                          if r["attributes"]["gen_ai.evaluation.name"] == "llm_judge"}
        wait_until(lambda: scored() == set(judged[:2]), 10, "the first two calls of the minute judged")
        time.sleep(1)
        assert scored() == set(judged[:2]), "and only them"


def test_without_the_stop_iteration_setting_feedback_gets_408_instead_of_hanging():
    """Envoy hands a request body to a filter that stopped on the headers only with
    `allow_on_headers_stop_iteration`. Without it the body never comes; the root context answers the request from its
    tick once the 5 s deadline passes, and says which setting is missing."""
    with open(os.path.join(ROOT, "envoy", "demo.yaml")) as f:
        config = f.read().replace("allow_on_headers_stop_iteration: true", "allow_on_headers_stop_iteration: false")
    assert "allow_on_headers_stop_iteration: false" in config
    template = os.path.join(tempfile.mkdtemp(prefix="llm-trace-nostop-"), "nostop.yaml")
    with open(template, "w") as f:
        f.write(config)
    with running_stack(template=template) as stack:
        started = time.time()
        status, body = post(stack, {"trace_id": "ab" * 16, "score": 1})
        waited = time.time() - started
        assert (status, body) == (408, {"error": "body: did not arrive within 5 s"})
        assert 4.5 < waited < 8, waited
        assert stat(stack, "llm_trace.feedback.rejected") == 1
        assert stat(stack, "cluster.llm_upstream.upstream_rq_total") == 0, "nothing forwarded"
        with open(os.path.join(stack.workdir, "envoy.log")) as f:
            assert "allow_on_headers_stop_iteration" in f.read()
