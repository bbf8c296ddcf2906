"""Fixtures and the results table of the fault matrix.

Each test names the Envoy it needs (`@pytest.mark.stack("main")` or the `workers` parameter); tests are run
grouped by stack, and one stack runs at a time (started on first use, stopped when the next one is needed), so
an Envoy is shared by every case with the same configuration. The table of every case (outcome, client failures,
spans accounted, RSS growth, largest probe latency, time) is written to `target/e2e-faults.md` and printed."""
import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from stack import BASE_CONFIG, FaultStack  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(ROOT, "target", "e2e-faults.md")


def config(**overrides) -> dict:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE_CONFIG.items()}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


# Every stack the matrix uses, in the order they run.
STACKS = {
    "main": dict(),
    "bombs": dict(prebuild_bombs=True),
    "2 workers": dict(concurrency=2),
    # Envoy without `allow_on_headers_stop_iteration` while the filter asks to hold request headers.
    "no header hold": dict(hold_headers=False),
    "cardinality": dict(config=config(capture={"content": "off"})),
    "regex": dict(config=config(capture={"content": "full", "max_content_bytes": 16384},
                                redaction={"custom": [{"name": "long_word", "regex": "[a-z]{1000}x"}]})),
    "request.headers": dict(config=config(attribution={"properties": {"user.id": ["request", "headers"]}})),
    "own": None,  # configuration checks: each starts (or validates with) its own Envoy
}
ORDER = list(STACKS)


def stack_of(item) -> str:
    marker = item.get_closest_marker("stack")
    if marker:
        return marker.args[0]
    callspec = getattr(item, "callspec", None)
    if callspec and "workers" in callspec.params:
        return "main" if callspec.params["workers"] == 1 else "2 workers"
    return "own"


def pytest_configure(config):
    config.addinivalue_line("markers", "stack(name): the Envoy stack (conftest.STACKS) the case runs on")


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: ORDER.index(stack_of(item)))


class Stacks:
    def __init__(self):
        self.name = None
        self.current = None

    def get(self, name: str) -> FaultStack:
        if name != self.name:
            self.close()
            self.current = FaultStack(label=name, **STACKS[name]).__enter__()
            self.name = name
        return self.current

    def close(self):
        if self.current is not None:
            self.current.__exit__(None, None, None)
        self.current, self.name = None, None


@pytest.fixture(scope="session")
def stacks():
    s = Stacks()
    yield s
    s.close()


@pytest.fixture
def stack(request, stacks):
    return stacks.get(stack_of(request.node))


ROWS = []


@pytest.fixture
def record(request):
    """`record(m)`: the case's Measurement goes into the results table (with the test's outcome)."""
    def put(m):
        request.node.measurement = m
        return m
    return put


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "setup" and report.outcome != "passed" or report.when == "call":
        if report.when == "call" and hasattr(report, "wasxfail"):
            result = "xfail" if report.outcome == "skipped" else "XPASS"
        elif report.when == "call" and str(report.longrepr).startswith("[XPASS(strict)]"):
            result = "XPASS(strict)"
        else:
            result = {"passed": "pass", "failed": "FAIL", "skipped": "skip"}[report.outcome]
        ROWS.append((item, result, getattr(item, "measurement", None), report.duration))


def case_name(item) -> str:
    name = item.name.removeprefix("test_")
    return name.replace("_", " ")


def table() -> str:
    lines = ["| stack | case | outcome | client failures | spans accounted | RSS peak / kept MiB | max probe ms | s "
             "| notes |", "|---|---|---|---|---|---|---|---|---|"]
    for item, result, m, duration in ROWS:
        xfail = item.get_closest_marker("xfail")
        if xfail and result.startswith(("xfail", "XPASS")):
            result += f" ({xfail.kwargs.get('reason', '').split(':')[0]})"
        if m is None:
            lines.append(f"| {stack_of(item)} | {case_name(item)} | {result} | | | | | {duration:.1f} | |")
            continue
        failures = f"{len(m.failures)}/{m.calls}"
        accounted = ("yes: " if m.accounted else "NO: " if m.accounted is False else "") + m.accounting
        rss = f"+{m.rss_peak_growth_mib:.0f} / +{m.rss_kept_growth_mib:.0f}" if m.rss_before_mib else ""
        probe = f"{m.probe_max_ms:.0f}" + (f" ({m.probe_failures} failed)" if m.probe_failures else "")
        if m.rss_before_mib == 0:
            probe = ""
        lines.append(f"| {stack_of(item)} | {case_name(item)} | {result} | {failures} | {accounted} | {rss} | "
                     f"{probe} | {duration:.1f} | {'; '.join(m.notes)} |")
    return "\n".join(lines)


def pytest_sessionstart(session):
    session.started = time.time()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not ROWS:
        return
    elapsed = time.time() - getattr(terminalreporter._session, "started", time.time())
    text = table()
    header = (f"# llm-trace fault matrix (`make e2e-faults`)\n\nReal Envoy 1.40 (V8, FAIL_OPEN) with the real "
              f"`llm_trace.wasm`; {len(ROWS)} cases in {elapsed:.0f} s, {time.strftime('%Y-%m-%d %H:%M')}.\n"
              "Client failures: calls through the filter whose answer differs from the same call without it "
              "(or from the expected answer). Spans: created = exported + rejected + dropped + sampled out at "
              "quiescence, and the collector got exactly exported + rejected. RSS: Envoy's peak during the case "
              "and what it kept, over its RSS before (a Wasm VM's memory never shrinks, so a case shows only growth "
              "beyond earlier cases on the same Envoy). Probe: a non-LLM request through the traced listener every "
              "20 ms (with 2 workers it sees one worker).\n\n")
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(header + text + "\n")
    terminalreporter.write_line("")
    terminalreporter.write_line(text)
    terminalreporter.write_line(f"(written to {os.path.relpath(RESULTS, ROOT)})")
