"""One session for the whole check: Phoenix on loopback; the demo's calls (official openai and anthropic SDKs, the
mock upstream) and the recorded exchanges of every provider (`captures.SELECTED`, replayed by a recording upstream)
through real Envoy with the filter exporting both dialects to Phoenix's OTLP/HTTP endpoint; then every span as
Phoenix's GraphQL API shows it, written to `<workdir>/phoenix-spans.json`."""
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import captures  # noqa: E402
from harness import running_stack, wait_until  # noqa: E402
from phoenix import project_spans, running_phoenix  # noqa: E402

PROJECT = "llm-trace-e2e"
FILTER_CONFIG = {
    "dialects": ["gen_ai", "openinference"],
    # Phoenix files spans under the project this resource attribute names ("default" without it).
    "resource_attributes": {"openinference.project.name": PROJECT},
    "exporter": {"flush_interval_ms": 200},
}


CONTROL_CAPTURES = [
    "openai--oll-openai-test_open_ai_function_calls_tools-0",
    "openai--oll-openai-test_chat_tool_calls-0",
    "anthropic--oll-anthropic-test_async_anthropic_thinking_legacy-0",
    "anthropic--oll-anthropic-test_with_asyncio_run_legacy-0",
]
_GEN_AI_ONLY = {**FILTER_CONFIG, "dialects": ["gen_ai"], "inject_stream_usage": False}
CONTROLS = {"gen_ai": _GEN_AI_ONLY, "latest": {**_GEN_AI_ONLY, "semconv": "latest"}}


@dataclass
class Run:
    phoenix: object
    spans: list = field(default_factory=list)
    workdir: str = ""

    def by_feature(self, feature: str) -> dict:
        """The span of the call sent with `x-feature: <feature>` (Phoenix keeps it as the attribute app.feature)."""
        matching = [s for s in self.spans if s["attributes"].get("app", {}).get("feature") == feature]
        assert len(matching) == 1, f"{len(matching)} spans for {feature}"
        return matching[0]


def exported(stack) -> int:
    for line in stack.admin("/stats?filter=llm_trace.spans_exported").splitlines():
        if line.strip().endswith(tuple("0123456789")) and "spans_exported:" in line:
            return int(line.rsplit(":", 1)[1])
    return 0


def demo_calls(base_url: str) -> int:
    import anthropic
    import openai

    c = openai.OpenAI(base_url=f"{base_url}/v1", api_key="demo", max_retries=0)
    user = [{"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Describe a quick fox. My email is jane.doe@example.com"}]
    tag = lambda name: {"x-feature": name}  # noqa: E731
    c.chat.completions.create(model="gpt-4o-mini", messages=user, extra_headers=tag("demo-chat"))
    list(c.chat.completions.create(model="gpt-4o", messages=user, stream=True,
                                   stream_options={"include_usage": True}, extra_headers=tag("demo-stream")))
    list(c.chat.completions.create(model="gpt-4.1-nano", messages=user, stream=True,
                                   extra_headers=tag("demo-stream-injected")))
    c.chat.completions.create(model="gpt-4o-mini", messages=user, extra_headers={
        **tag("demo-joined"), "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    c.chat.completions.create(model="gpt-4o-mini", messages=user, max_tokens=5, extra_headers=tag("demo-length"))
    with pytest.raises(openai.RateLimitError):
        c.chat.completions.create(model="gpt-4o-mini", messages=user,
                                  extra_headers={**tag("demo-429"), "x-mock-status": "429"})
    a = anthropic.Anthropic(base_url=base_url, api_key="demo", max_retries=0)
    a.messages.create(model="claude-3-5-haiku-latest", max_tokens=1024, system="Be brief.",
                      messages=[{"role": "user", "content": "Describe a fox"}], extra_headers=tag("demo-anthropic"))
    with a.messages.stream(model="claude-mock-stream", max_tokens=3, messages=[{"role": "user", "content": "Fox"}],
                           extra_headers=tag("demo-anthropic-stream")) as stream:
        "".join(stream.text_stream)
    return 8


@pytest.fixture(scope="session")
def run():
    workdir = os.environ.get("PHOENIX_E2E_WORKDIR") or tempfile.mkdtemp(prefix="llm-trace-phoenix-")
    os.makedirs(workdir, exist_ok=True)
    with running_phoenix(os.path.join(workdir, "phoenix")) as phoenix:
        ports = (phoenix.port, phoenix.port)  # both members of the collector cluster: Phoenix's OTLP/HTTP port
        sent = 0
        with running_stack(collector="external", collector_ports=ports, filter_config=FILTER_CONFIG,
                           chunk_interval_ms=10, workdir=os.path.join(workdir, "demo")) as stack:
            sent += demo_calls(stack.base_url)
            wait_until(lambda: exported(stack) >= sent, 20, f"{sent} spans exported")
        # The recorded responses answer the recorded requests: the filter must not ask for stream usage the
        # recording does not have.
        with captures.upstream() as upstream_port, running_stack(
                collector="external", collector_ports=ports,
                filter_config={**FILTER_CONFIG, "inject_stream_usage": False},
                upstream_port=upstream_port, workdir=os.path.join(workdir, "captures")) as stack:
            for name in captures.SELECTED:
                captures.send(stack.listen_port, name, {"x-feature": name})
            wait_until(lambda: exported(stack) >= len(captures.SELECTED), 20, "the captures' spans exported")
            sent += len(captures.SELECTED)
        # Controls: the same exchanges with the GenAI dialect alone (Phoenix then converts gen_ai.* itself), and with
        # `semconv: latest`; their spans are tagged `<capture>@<variant>`.
        for variant, config in CONTROLS.items():
            with captures.upstream() as upstream_port, running_stack(
                    collector="external", collector_ports=ports, filter_config=config,
                    upstream_port=upstream_port, workdir=os.path.join(workdir, variant)) as stack:
                for name in CONTROL_CAPTURES:
                    captures.send(stack.listen_port, name, {"x-feature": f"{name}@{variant}"})
                wait_until(lambda: exported(stack) >= len(CONTROL_CAPTURES), 20, f"the {variant} spans exported")
                sent += len(CONTROL_CAPTURES)
        run = Run(phoenix=phoenix, workdir=workdir)
        deadline = time.time() + 30
        while len(run.spans) < sent and time.time() < deadline:
            time.sleep(0.5)
            run.spans = project_spans(phoenix, PROJECT)
        with open(os.path.join(workdir, "phoenix-spans.json"), "w") as f:
            json.dump(run.spans, f, indent=1, sort_keys=True)
        print(f"\nPhoenix {phoenix.url} ({len(run.spans)} spans; {workdir}/phoenix-spans.json)")
        assert len(run.spans) == sent, f"Phoenix shows {len(run.spans)} of {sent} spans"
        yield run
        if os.environ.get("PHOENIX_SCREENSHOT"):
            from screenshot import screenshot

            screenshot(phoenix, run, os.environ["PHOENIX_SCREENSHOT"])
