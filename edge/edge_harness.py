"""Starts the edge stack on free loopback ports: the mock LLM upstream, the OTLP receiver, and the llm-trace
wasi:http component served by `edge-serve` (the embedding `wasmtime serve` uses, a fresh instance per request),
configured through the environment as `wasmtime serve --env` would. Stops everything it started, whatever happens.
Shared by `demo.py` and the end-to-end tests."""
import contextlib
import importlib.util
import json
import os
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The Envoy harness's process helpers (our servers print `listening on ADDR`), loaded under their own name.
_spec = importlib.util.spec_from_file_location("envoy_harness", os.path.join(ROOT, "envoy", "harness.py"))
_envoy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_envoy)
BIN, start_server, wait_until = _envoy.BIN, _envoy.start_server, _envoy.wait_until

COMPONENT = os.path.join(ROOT, "target", "wasm32-wasip2", "release", "llm_trace_component.wasm")


class EdgeStack:
    """The running stack: ports, processes, and the spans the receiver got."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.procs = []
        self.spans_path = os.path.join(workdir, "spans.jsonl")
        self.edge_log = os.path.join(workdir, "edge-serve.log")

    def spans(self) -> list[dict]:
        if not os.path.exists(self.spans_path):
            return []
        with open(self.spans_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[dict]:
        wait_until(lambda: len(self.spans()) >= count, timeout, f"{count} span(s) at the OTLP receiver")
        return self.spans()

    def log_records(self) -> list[dict]:
        """The log records (evaluation events) the OTLP receiver got."""
        path = self.spans_path.replace(".jsonl", ".logs.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def edge_stderr(self) -> str:
        with open(self.edge_log) as f:
            return f.read()

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


def component_config(collector_port: int) -> dict:
    """The filter's configuration schema, with the collector's URL instead of an Envoy cluster."""
    return {
        "service_name": "llm-trace-edge",
        "exporter": {"endpoint": f"http://127.0.0.1:{collector_port}/v1/traces", "timeout_ms": 2000},
        "capture": {"content": "full", "max_content_bytes": 4096},
        "quality": {"feedback": {"enabled": True}},
    }


@contextlib.contextmanager
def running_edge(chunk_interval_ms: int = 20, workdir: str | None = None):
    if not os.path.exists(COMPONENT):
        raise SystemExit(f"{COMPONENT} is missing: run `make component` first")
    if not os.path.exists(os.path.join(BIN, "edge-serve")):
        raise SystemExit("edge-serve is missing: run `make bins` first")
    workdir = workdir or tempfile.mkdtemp(prefix="llm-trace-edge-")
    stack = EdgeStack(workdir)
    try:
        mock, upstream_port = start_server("mock-llm", "--chunk-interval-ms", str(chunk_interval_ms),
                                           log_path=os.path.join(workdir, "mock-llm.log"))
        stack.procs.append(mock)
        receiver, stack.collector_port = start_server("otlp-receiver", "--out", stack.spans_path,
                                                      log_path=os.path.join(workdir, "otlp-receiver.log"))
        stack.procs.append(receiver)
        config = json.dumps(component_config(stack.collector_port))
        edge, stack.listen_port = start_server(
            "edge-serve", "--component", COMPONENT,
            "--env", f"LLM_TRACE_UPSTREAM=http://127.0.0.1:{upstream_port}",
            "--env", f"LLM_TRACE_CONFIG={config}",
            log_path=stack.edge_log)
        stack.procs.append(edge)
        yield stack
    finally:
        stack.stop()
