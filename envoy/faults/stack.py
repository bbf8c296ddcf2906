"""The fault matrix's stack and measurements: real Envoy with the real `llm_trace.wasm` (FAIL_OPEN, V8), the
project's mock-llm for legitimate calls, the hostile upstream and collector of `hostile.py`, and the stall probe.

A case runs inside `stack.case(...)`, which measures around it:
- client failures: answers through the traced listener that differ from the reference (the same request through
  the plain listener, or the expected answer), counted by the case with `m.fail(...)`;
- span accounting at quiescence, from Envoy's `/stats`: after the case, waits until every call made a span and
  created = exported + rejected + dropped (queue full, export failed) + sampled out, which leaves nothing queued or
  in flight (the queue's own invariant: offered = settled + queued + in flight); then the collector side must
  have accepted exactly exported + rejected spans;
- RSS: Envoy's peak RSS during the case (VmHWM, reset before the case through /proc/PID/clear_refs) and what it
  kept afterwards, both over its RSS before;
- worker stall: the largest latency of the probe (a non-LLM request through the traced listener every 20 ms, from
  its own process) over the case.
"""
import contextlib
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from harness import WASM, envoy_binary, free_port, start_server, wait_until  # noqa: E402
from render import render  # noqa: E402

MIB = 1 << 20

# The filter configuration of the matrix: the demo's, with full capture (every hostile byte goes through decoding,
# redaction and truncation), and export timings short enough for collector faults to play out in seconds.
BASE_CONFIG = {
    "service_name": "llm-trace-faults",
    "exporter": {"cluster": "otel_collector", "authority": "otel-collector", "flush_interval_ms": 200,
                 "timeout_ms": 2000, "retry": {"max_attempts": 6, "initial_backoff_ms": 200, "max_backoff_ms": 1000}},
    "capture": {"content": "full", "max_content_bytes": 4096},
    # With Envoy's `allow_on_headers_stop_iteration` (faults.yaml): rewritten requests keep a correct length.
    "hold_request_headers": True,
}

COUNTERS = ["requests", "spans_created", "spans_exported", "spans_rejected", "spans_sampled_out",
            "spans_dropped_queue_full", "spans_dropped_export_failed", "export_requests", "export_failures",
            "export_retries", "partial_exchanges", "unreadable_bodies", "oversized_sse_events"]


def python_server(role: str, *args: str, log_path: str, port: int = 0) -> tuple[subprocess.Popen, int]:
    log = open(log_path, "a")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "hostile.py"), role, "--listen",
                             f"127.0.0.1:{port}", *args], stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"hostile {role} did not start: {line!r}")
    return proc, int(line.strip().rsplit(":", 1)[1])


def write_envoy_config(path: str, filter_config: dict, ports: dict | None = None):
    """The matrix's bootstrap (faults.yaml) with this filter configuration; ports default to placeholders (for
    `--mode validate` or a start that must fail)."""
    values = {"ADMIN_PORT": "0", "TRACED_PORT": "0", "PLAIN_PORT": "0", "UPSTREAM_PORT": "1", "HOSTILE_PORT": "1",
              "COLLECTOR_PORT": "1", "HOLD_HEADERS": "true", **(ports or {})}
    with open(os.path.join(HERE, "faults.yaml")) as f:
        text = render(f.read(), {**values, "WASM": WASM, "FILTER_CONFIG": json.dumps(json.dumps(filter_config))})
    with open(path, "w") as f:
        f.write(text)


@dataclass
class Answer:
    """What a client got: status, body bytes, and how the exchange ended (`ok`, or the error's kind)."""
    status: int
    body: bytes
    end: str
    headers: dict = field(default_factory=dict)
    seconds: float = 0.0

    def key(self) -> tuple:
        return (self.status, hashlib.sha256(self.body).hexdigest() if self.end == "ok" else "-", self.end)


def request(port: int, body: bytes | dict | None = None, headers: dict | None = None, path="/v1/chat/completions",
            method="POST", timeout=60.0, read_chunk: int = 0, read_pause: float = 0.0) -> Answer:
    """One HTTP/1.1 request on a new connection; the body is read whole (gzip stays gzip). `read_chunk` and
    `read_pause` make a slow reader."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    hdrs = {"host": "api.openai.com", "content-type": "application/json", **(headers or {})}
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    status, data, end, got = 0, b"", "ok", {}
    try:
        if read_chunk:
            conn.connect()
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        conn.request(method, path, body=body, headers=hdrs)
        response = conn.getresponse()
        status, got = response.status, {k.lower(): v for k, v in response.getheaders()}
        if read_chunk:
            parts = []
            while True:
                part = response.read1(read_chunk)
                if not part:
                    break
                parts.append(part)
                time.sleep(read_pause)
            data = b"".join(parts)
        else:
            data = response.read()
    except http.client.IncompleteRead as e:
        data, end = e.partial, "incomplete"
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        end = type(e).__name__
    finally:
        conn.close()
    return Answer(status, data, end, got, time.perf_counter() - t0)


def chat(model="gpt-4o-mini", stream=False, words=None, **extra) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": "Tell me about foxes, my email is a@b.co"}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


ANSWER = "The quick brown fox jumps over the lazy dog and keeps running through the quiet forest until night falls"


def answer_text(a: Answer) -> str:
    """The assistant text a mock-llm (or hostile `ok`) answer carries, JSON or SSE; '' when unreadable."""
    try:
        if a.body.startswith(b"{"):
            return json.loads(a.body)["choices"][0]["message"]["content"]
        text = []
        for line in a.body.decode().splitlines():
            if line.startswith("data: {"):
                c = json.loads(line[6:])
                if c.get("choices"):
                    text.append(c["choices"][0]["delta"].get("content") or "")
        return "".join(text)
    except (ValueError, KeyError, IndexError, UnicodeDecodeError):
        return ""


@dataclass
class Measurement:
    name: str
    calls: int = 0
    failures: list = field(default_factory=list)
    stats_before: dict = field(default_factory=dict)
    stats_after: dict = field(default_factory=dict)
    collector_before: dict = field(default_factory=dict)
    collector_after: dict = field(default_factory=dict)
    accounted: bool | None = None
    accounting: str = ""
    rss_before_mib: float = 0.0
    rss_peak_growth_mib: float = 0.0
    rss_kept_growth_mib: float = 0.0
    probe_max_ms: float = 0.0
    probe_failures: int = 0
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    def fail(self, what: str):
        self.failures.append(what)

    def __post_init__(self):
        self._lock = threading.Lock()

    def compare(self, traced: Answer, reference: Answer, what: str = ""):
        """One call through the filter against the same call without it."""
        self.expect(traced.key() == reference.key(), f"{what}: traced {traced.key()} != plain {reference.key()}")

    def expect(self, ok: bool, what: str):
        with self._lock:
            self.calls += 1
            if not ok:
                self.fail(what)

    def delta(self, name: str) -> int:
        return self.stats_after.get(name, 0) - self.stats_before.get(name, 0)


class FaultStack:
    def __init__(self, config: dict | None = None, concurrency: int = 1, prebuild_bombs: bool = False,
                 label: str = "", hold_headers: bool = True):
        self.config = config or BASE_CONFIG
        self.concurrency = concurrency
        # Envoy's `allow_on_headers_stop_iteration` on the Wasm filter.
        self.hold_headers = hold_headers
        self.prebuild_bombs = prebuild_bombs
        self.label = label
        self.workdir = tempfile.mkdtemp(prefix="llm-trace-faults-")
        self.procs: list[subprocess.Popen] = []
        self.collector = None
        self.collector_port = 0
        self.collector_log = os.path.join(self.workdir, "collector.jsonl")
        self.envoy = None

    # ---- lifecycle
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if not os.path.exists(WASM):
            raise SystemExit(f"{WASM} is missing: run `make wasm` first")
        mock, self.upstream_port = start_server("mock-llm", "--chunk-interval-ms", "20",
                                                log_path=os.path.join(self.workdir, "mock-llm.log"))
        self.procs.append(mock)
        hostile, self.hostile_port = python_server(
            "upstream", "--prebuild-bombs", "1" if self.prebuild_bombs else "0",
            log_path=os.path.join(self.workdir, "hostile-upstream.log"))
        self.procs.append(hostile)
        self.start_collector()
        self.admin_port, self.traced_port, self.plain_port = free_port(), free_port(), free_port()
        self.envoy_log = os.path.join(self.workdir, "envoy.log")
        config_path = os.path.join(self.workdir, "envoy.yaml")
        write_envoy_config(config_path, self.config, {
            "ADMIN_PORT": str(self.admin_port), "TRACED_PORT": str(self.traced_port),
            "PLAIN_PORT": str(self.plain_port), "UPSTREAM_PORT": str(self.upstream_port),
            "HOSTILE_PORT": str(self.hostile_port), "COLLECTOR_PORT": str(self.collector_port),
            "HOLD_HEADERS": "true" if self.hold_headers else "false"})
        self.envoy = subprocess.Popen(
            [envoy_binary(), "-c", config_path, "--concurrency", str(self.concurrency), "--log-level", "warn",
             "--base-id", str(self.admin_port)], stdout=open(self.envoy_log, "w"), stderr=subprocess.STDOUT)
        self.procs.append(self.envoy)
        wait_until(lambda: self.admin("/ready").strip() == "LIVE", 30, "Envoy to be ready")
        self.probe_path = os.path.join(self.workdir, "probe.txt")
        self.procs.append(subprocess.Popen([sys.executable, os.path.join(HERE, "probe.py"), str(self.traced_port),
                                            self.probe_path]))
        wait_until(lambda: os.path.getsize(self.probe_path) > 0, 10, "the probe's first answer")

    def stop(self):
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            with contextlib.suppress(Exception):
                proc.kill()

    # ---- collector
    def start_collector(self):
        self.collector, self.collector_port = python_server(
            "collector", "--log", self.collector_log, port=self.collector_port,
            log_path=os.path.join(self.workdir, "hostile-collector.log"))
        self.procs.append(self.collector)

    def kill_collector(self):
        self.collector.kill()
        self.collector.wait(timeout=5)

    def collector_mode(self, mode: str, **params):
        body = json.dumps({"mode": mode, **params}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.collector_port}/_control", data=body, method="POST")
        urllib.request.urlopen(req, timeout=5).read()

    def collector_stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.collector_port}/_stats", timeout=5) as r:
            return json.loads(r.read())

    # ---- Envoy
    def admin(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as r:
            return r.read().decode()

    def stats(self) -> dict:
        """Every `llm_trace.*` stat (counters summed over workers by Envoy; the queue gauge as Envoy holds it)."""
        out = {}
        for line in self.admin("/stats?filter=%5Ewasmcustom%5C.llm_trace%5C.").splitlines():
            name, _, value = line.partition(": ")
            with contextlib.suppress(ValueError):
                out[name.removeprefix("wasmcustom.llm_trace.")] = int(value)
        return out

    def prometheus(self) -> str:
        return self.admin("/stats/prometheus")

    def alive(self) -> bool:
        return self.envoy.poll() is None

    def proc_status(self, key: str) -> float:
        with open(f"/proc/{self.envoy.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def reset_peak_rss(self):
        """Resets VmHWM (Linux >= 4.0); where that is refused the peak is the process's lifetime peak."""
        with contextlib.suppress(OSError), open(f"/proc/{self.envoy.pid}/clear_refs", "w") as f:
            f.write("5")

    def probe_max_ms(self, t0: float, t1: float) -> tuple[float, int]:
        """Largest latency (ms) and failures of the probes started in [t0, t1]; waits for the one in flight."""
        def rows():
            with open(self.probe_path) as f:
                return [tuple(map(float, line.split())) for line in f if line.count(" ") == 2]
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: rows() and rows()[-1][0] >= t1, 12, "the probe to pass the case's end")
        window = [r for r in rows() if t0 <= r[0] <= t1 + 0.1]
        if not window:
            return 0.0, 0
        return max(r[1] for r in window) * 1000, sum(1 for r in window if r[2] != 200)

    def accounting(self, s: dict) -> tuple[int, int]:
        settled = (s.get("spans_exported", 0) + s.get("spans_rejected", 0) + s.get("spans_dropped_queue_full", 0)
                   + s.get("spans_dropped_export_failed", 0) + s.get("spans_sampled_out", 0))
        return s.get("spans_created", 0), settled

    @contextlib.contextmanager
    def case(self, name: str, calls: int | None = None, quiesce_timeout: float = 20.0, at_least_once=False):
        """Measures one case (see the module's doc). `calls`: the LLM calls the case makes (default: as counted
        by `m.compare`/`m.expect`); every one must end as exactly one span. `at_least_once`: the collector may
        get a batch more than once (a call that failed after the collector took it), so it must get at least
        exported + rejected spans."""
        m = Measurement(name)
        m.stats_before = self.stats()
        m.collector_before = self.collector_stats()
        m.rss_before_mib = self.proc_status("VmRSS")
        self.reset_peak_rss()
        t0 = time.time()
        try:
            yield m
        finally:
            t1 = time.time()
            expected = m.calls if calls is None else calls
            m.probe_max_ms, m.probe_failures = self.probe_max_ms(t0, t1)
            if self.alive():
                m.rss_peak_growth_mib = self.proc_status("VmHWM") - m.rss_before_mib
                self.settle(m, expected, quiesce_timeout, at_least_once)
                m.rss_kept_growth_mib = self.proc_status("VmRSS") - m.rss_before_mib
            else:
                m.accounted = False
                m.accounting = "Envoy exited"
            m.seconds = time.time() - t0

    def settle(self, m: Measurement, expected: int, timeout: float, at_least_once: bool = False):
        before = m.stats_before.get("spans_created", 0)

        idle_since = [None]

        def quiet():
            s = self.stats()
            created, settled = self.accounting(s)
            m.stats_after = s
            if created - before >= expected and created == settled:
                return True
            # Nothing queued or in flight and no new span for 2 s: the missing spans will never come.
            if created == settled:
                idle_since[0] = idle_since[0] or time.time()
                return time.time() - idle_since[0] > 2.0
            idle_since[0] = None
            return False

        try:
            wait_until(quiet, timeout, "span accounting to settle")
            time.sleep(0.3)  # a straggler span would break the equality or the count below
            quiet()
        except TimeoutError:
            pass
        m.collector_after = self.collector_stats()
        s = m.stats_after
        created, settled = self.accounting(s)
        made = m.delta("spans_created")
        got = (m.collector_after["accepted_spans"] - m.collector_before["accepted_spans"])
        sent = m.delta("spans_exported") + m.delta("spans_rejected")
        m.accounted = created == settled and made == expected and (got >= sent if at_least_once else got == sent)
        if got > sent:
            m.notes.append(f"collector got {got - sent} span(s) twice")
        dropped = m.delta("spans_dropped_queue_full") + m.delta("spans_dropped_export_failed")
        m.accounting = (f"{made}/{expected} created = {m.delta('spans_exported')} exp + {m.delta('spans_rejected')}"
                        f" rej + {dropped} drop + {m.delta('spans_sampled_out')} samp; collector {got}")
        if created != settled:
            m.accounting += f"; UNSETTLED {created - settled}"
