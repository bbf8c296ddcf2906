#!/usr/bin/env python3
"""`make bench` / `make bench-quick`: llm-trace's overhead inside the real Envoy, next to plain Envoy, a no-op Wasm
filter and Envoy's native token-usage filters, measured in one run with the variants interleaved in rounds.

Variants (same Envoy binary, same mock upstream, Envoy pinned to core 0 with one worker; the load generator, the
mock LLM and the OTLP receiver share core 1):
  V0 client -> mock upstream directly          V1 Envoy router only
  V2 no-op Wasm filter reading every chunk     V3 Envoy native: ai_protocol_manager token_usage
  V3b Envoy native: json_to_metadata + sse_to_metadata
  V4 llm-trace, content capture full + redaction + OTLP export     V5 llm-trace, content capture off

The LLM provider cannot run here, so the upstream is `mock-llm` (the project's one mock), speaking OpenAI's wire
format. Writes bench/results.json, bench/results.md and bench/*.png.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
WASM_DIR = os.path.join(ROOT, "target", "wasm32-wasip1", "release")
OUT = os.path.join(ROOT, "bench")
ENVOY_CORE, LOAD_CORE = "0", "1"

VARIANTS = {
    "V0": "client -> mock upstream (no proxy)",
    "V1": "Envoy router only",
    "V2": "no-op Wasm filter reading every body chunk",
    "V3": "Envoy native token usage (ai_protocol_manager)",
    "V3b": "Envoy native json_to_metadata + sse_to_metadata",
    "V4": "llm-trace: full capture, redaction, OTLP export",
    "V5": "llm-trace: content capture off",
    "V4r": "profile: V4 without redaction (chat_1k saturation only)",
    "V5s": "profile: V5 with every span sampled out, nothing encoded or exported (chat_1k saturation only)",
}


def envoy_binary() -> str:
    found = glob.glob(os.path.join(ROOT, ".venv", "lib", "python*", "site-packages", "envoy", "_bin", "envoy"))
    if not found:
        sys.exit("no Envoy in .venv: run `make venv`")
    return found[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------------
# Envoy configurations

LLM_TRACE_FULL = {
    "service_name": "llm-trace-bench",
    "exporter": {"cluster": "otel_collector", "flush_interval_ms": 200},
    "capture": {"content": "full", "max_content_bytes": 4096},
    "redaction": {"enabled": True},
}
# Profiling variants (chat_1k at saturation only): where V4's time goes.
LLM_TRACE_FULL_NO_REDACTION = {**LLM_TRACE_FULL, "redaction": {"enabled": False}}
LLM_TRACE_SAMPLED_OUT = {
    "service_name": "llm-trace-bench",
    "exporter": {"cluster": "otel_collector", "flush_interval_ms": 200},
    "capture": {"content": "off"},
    "sampling": {"ratio": 0.0},
}
PROFILE_VARIANTS = ("V4r", "V5s")
LLM_TRACE_NO_CONTENT = {
    "service_name": "llm-trace-bench",
    "exporter": {"cluster": "otel_collector", "flush_interval_ms": 200},
    "capture": {"content": "off"},
}


def wasm_filter(name: str, wasm: str, configuration: dict) -> str:
    config = json.dumps(json.dumps(configuration))
    return f"""
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: {name}
                root_id: {name}
                failure_policy: FAIL_OPEN
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: {config}
                vm_config:
                  vm_id: {name}
                  runtime: envoy.wasm.runtime.v8
                  code: {{ local: {{ filename: "{wasm}" }} }}"""


def native_filters(file: str) -> str:
    with open(os.path.join(OUT, file)) as f:
        return "\n" + "\n".join("          " + line if line.strip() else line for line in f.read().splitlines())


def filters_for(variant: str) -> str:
    if variant == "V1":
        return ""
    if variant == "V2":
        return wasm_filter("noop", os.path.join(WASM_DIR, "noop_filter.wasm"), {})
    if variant == "V3":
        return native_filters("native_token_usage.yaml")
    if variant == "V3b":
        return native_filters("native_json_sse_to_metadata.yaml")
    if variant == "V4":
        return wasm_filter("llm_trace", os.path.join(WASM_DIR, "llm_trace.wasm"), LLM_TRACE_FULL)
    if variant == "V5":
        return wasm_filter("llm_trace", os.path.join(WASM_DIR, "llm_trace.wasm"), LLM_TRACE_NO_CONTENT)
    if variant == "V4r":
        return wasm_filter("llm_trace", os.path.join(WASM_DIR, "llm_trace.wasm"), LLM_TRACE_FULL_NO_REDACTION)
    if variant == "V5s":
        return wasm_filter("llm_trace", os.path.join(WASM_DIR, "llm_trace.wasm"), LLM_TRACE_SAMPLED_OUT)
    raise ValueError(variant)


def bootstrap(variant: str, listen: int, admin: int, upstream: int, collector: int) -> str:
    return f"""
admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: {admin} }} }}
static_resources:
  listeners:
  - name: bench
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: {listen} }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          route_config:
            virtual_hosts:
            - name: llm
              domains: ["*"]
              routes:
              - match: {{ prefix: "/" }}
                route: {{ cluster: llm_upstream, timeout: 300s }}
          http_filters:{filters_for(variant)}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: llm_upstream
    type: STATIC
    connect_timeout: 2s
    load_assignment:
      cluster_name: llm_upstream
      endpoints:
      - lb_endpoints:
        - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {upstream} }} }} }}
  - name: otel_collector
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: otel_collector
      endpoints:
      - lb_endpoints:
        - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {collector} }} }} }}
"""


class Envoy:
    def __init__(self, variant: str, workdir: str, upstream: int, collector: int, concurrency: int = 1):
        self.variant = variant
        self.listen, self.admin_port = free_port(), free_port()
        path = os.path.join(workdir, f"{variant}-c{concurrency}.yaml")
        with open(path, "w") as f:
            f.write(bootstrap(variant, self.listen, self.admin_port, upstream, collector))
        self.log = open(os.path.join(workdir, f"{variant}-c{concurrency}.log"), "w")
        self.proc = subprocess.Popen(
            ["taskset", "-c", ENVOY_CORE, envoy_binary(), "-c", path, "--concurrency", str(concurrency),
             "--log-level", "warn", "--disable-hot-restart"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"Envoy {variant} exited; see {self.log.name}")
            try:
                if self.admin("/ready").strip() == "LIVE":
                    return
            except OSError:
                pass
            time.sleep(0.1)
        sys.exit(f"Envoy {variant} not ready after 30 s; see {self.log.name}")

    def admin(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as r:
            return r.read().decode()

    def stats(self) -> dict:
        return {s["name"]: s.get("value", 0) for s in json.loads(self.admin("/stats?format=json"))["stats"]
                if "value" in s}

    def cpu_ns(self) -> int:
        """CPU time of every Envoy thread, in ns (schedstat's on-CPU time, finer than utime/stime ticks)."""
        total = 0
        for task in glob.glob(f"/proc/{self.proc.pid}/task/*/schedstat"):
            try:
                with open(task) as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
        return total

    def rss_mib(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def start_server(binary: str, args: list, log_path: str) -> tuple:
    log = open(log_path, "w")
    proc = subprocess.Popen(["taskset", "-c", LOAD_CORE, os.path.join(BIN, binary), *args],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not match:
        sys.exit(f"{binary} did not start: {line!r}")
    # The receiver prints a line per span: keep reading, or a full pipe stalls it and exports time out.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, int(match.group(1))


# ---------------------------------------------------------------------------------------------------------------
# Workloads

FILLER = ("Summarise the incident timeline for the on-call review and list the follow-up actions with owners. "
          "The exporter queue filled at 02:14 and the collector recovered at 02:19. ")
PII = ("Customer jane.doe@example.com called from +1 415 555 0132 about card 4111 1111 1111 1111; "
       "their key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789 was rotated. ")


def chat_body(target_bytes: int, text: str, stream: bool) -> bytes:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "You are a helpful assistant."},
                                                  {"role": "user", "content": ""}]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    base = len(json.dumps(body))
    body["messages"][1]["content"] = (text * (target_bytes // len(text) + 1))[: max(0, target_bytes - base)]
    return json.dumps(body).encode()


# name -> (request body, mock headers, measurements, SSE events per response)
def workloads(quick: bool) -> dict:
    all_workloads = {
        "chat_1k": (chat_body(1024, FILLER, False), {"x-mock-words": "150"}, ["one_conn", "fixed_rate", "saturation"], 0),
        "chat_32k_pii": (chat_body(32768, PII, False), {"x-mock-words": "150"}, ["one_conn", "fixed_rate", "saturation"], 0),
        "sse_64": (chat_body(1024, FILLER, True), {"x-mock-words": "64"}, ["one_conn", "saturation"], 64),
        "sse_500": (chat_body(1024, FILLER, True), {"x-mock-words": "500"}, ["one_conn", "saturation"], 500),
        "sse_64_paced": (chat_body(1024, FILLER, True), {"x-mock-words": "64", "x-mock-interval-ms": "2"},
                         ["one_conn"], 64),
        "resp_1mib": (chat_body(1024, FILLER, False), {"x-mock-words": "190000"}, ["one_conn", "saturation"], 0),
    }
    if quick:
        keep = {"chat_1k": ["one_conn", "fixed_rate", "saturation"], "sse_500": ["saturation"]}
        return {k: (v[0], v[1], keep[k], v[3]) for k, v in all_workloads.items() if k in keep}
    return all_workloads


def loadgen(port: int, body_file: str, headers: dict, measurement: str, durations: dict, rate: int) -> dict:
    args = ["taskset", "-c", LOAD_CORE, os.path.join(BIN, "loadgen"), "--addr", f"127.0.0.1:{port}",
            "--path", "/v1/chat/completions", "--body-file", body_file]
    for k, v in headers.items():
        args += ["--header", f"{k}: {v}"]
    if measurement == "one_conn":
        args += ["--connections", "1", "--duration-s", str(durations["one_conn"])]
    elif measurement == "fixed_rate":
        args += ["--connections", "4", "--rps", str(rate), "--duration-s", str(durations["fixed_rate"])]
    else:
        args += ["--connections", "16", "--duration-s", str(durations["saturation"])]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        sys.exit(f"loadgen failed: {out.stderr}")
    return json.loads(out.stdout)


# ---------------------------------------------------------------------------------------------------------------
# Aggregation

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def aggregate(runs: list) -> dict:
    """Median over rounds of each figure of one (variant, workload, measurement)."""
    def pick(path):
        out = []
        for r in runs:
            v = r
            for p in path:
                v = v.get(p) if isinstance(v, dict) else None
            out.append(v)
        return median(out)
    return {
        "rounds": len(runs),
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "rps": pick(["rps"]),
        "latency_us": {q: pick(["latency_us", q]) for q in ("p50", "p90", "p99", "p999", "mean")},
        "ttft_us": {q: pick(["ttft_us", q]) for q in ("p50", "p99")},
        "cpu_us_per_request": pick(["cpu_us_per_request"]),
        "envoy_cpu_utilisation": pick(["envoy_cpu_utilisation"]),
        "body_bytes_per_request": pick(["body_bytes_per_request"]),
    }


def memory_figures(workdir: str, upstream: int, collector: int, body_files: dict, wl: dict) -> dict:
    """RSS of fresh Envoys after the same short load, at one and four workers: the marginal cost of one worker
    (its Wasm VM and the worker thread), net of the same figure for plain Envoy."""
    rss = {}
    for variant in ("V1", "V2", "V4"):
        for concurrency in (1, 4):
            envoy = Envoy(variant, workdir, upstream, collector, concurrency)
            try:
                for name in ("chat_1k", "sse_500", "chat_32k_pii", "resp_1mib"):
                    if name in wl:
                        loadgen(envoy.listen, body_files[name], wl[name][1], "saturation",
                                {"saturation": 0.5}, 0)
                time.sleep(0.3)
                rss[f"{variant}_c{concurrency}"] = envoy.rss_mib()
            finally:
                envoy.stop()
    per_worker = {v: (rss[f"{v}_c4"] - rss[f"{v}_c1"]) / 3 for v in ("V1", "V2", "V4")}
    return {
        "rss_mib": rss,
        "per_worker_mib": per_worker,
        "per_worker_vm_mib_v4": per_worker["V4"] - per_worker["V1"],
        "per_worker_vm_mib_v2": per_worker["V2"] - per_worker["V1"],
        "total_over_v1_mib_v4_one_worker": rss["V4_c1"] - rss["V1_c1"],
    }


def micro_benchmarks(workdir: str) -> dict:
    """Native hot paths (core/examples/hot_paths.rs) and per-callback Wasm cost under wasmtime (wasm-cost)."""
    out = {}
    native = os.path.join(workdir, "hot_paths.json")
    subprocess.run([os.path.join(BIN, "examples", "hot_paths"), native], check=True, capture_output=True)
    with open(native) as f:
        out["native"] = json.load(f)
    exchange = os.path.join(ROOT, "host-tests", "testdata", "exchanges", "openai-chat.json")
    for name, config in (("full", LLM_TRACE_FULL), ("off", LLM_TRACE_NO_CONTENT)):
        path = os.path.join(workdir, f"wasm-cost-{name}.json")
        with open(path, "w") as f:
            json.dump(config, f)
        result = subprocess.run([os.path.join(BIN, "wasm-cost"), "--config", path, "--iterations", "300", exchange],
                                check=True, capture_output=True, text=True)
        out[f"wasmtime_openai_chat_{name}"] = json.loads(result.stdout)
    return out


def wasm_cost_fixtures(iterations: int = 100) -> dict:
    """The fixed fixture set under wasmtime (`wasm-cost --fixtures`): fuel and host calls per callback and per call,
    plus a summary line per fixture (the figures issue 16's targets are stated in)."""
    result = subprocess.run([os.path.join(BIN, "wasm-cost"), "--fixtures", "--iterations", str(iterations)],
                            check=True, capture_output=True, text=True)
    doc = json.loads(result.stdout)
    summary = {}
    for key, f in doc["fixtures"].items():
        summary[key] = {
            "fuel_per_request": f["fuel_per_request"],
            "fuel_per_response_event": f["fuel_per_response_event"],
            "response_events": f["response_events"],
            "host_calls_per_request": f["host_calls_per_request"],
            "fuel_per_callback": {name.split(" ")[1]: c["fuel_per_call"] for name, c in f["callbacks"].items()},
            "host_calls_per_callback": {name.split(" ")[1]: c["host_calls_per_call"]
                                        for name, c in f["callbacks"].items()},
        }
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit,
        "llm_trace_wasm_bytes": os.path.getsize(os.path.join(WASM_DIR, "llm_trace.wasm")),
        "summary": summary,
        "fixtures": doc,
    }


def previous_wasm_cost() -> dict:
    """The labelled wasm-cost figures already in bench/results.json (before/after a change), kept by a full run."""
    try:
        with open(os.path.join(OUT, "results.json")) as f:
            return json.load(f).get("wasm_cost", {})
    except (OSError, ValueError):
        return {}


def fuel_only(label: str):
    """Re-measures only the deterministic wasm-cost figures and stores them under `wasm_cost.<label>` in
    bench/results.json, keeping the real-Envoy figures of the last full run."""
    path = os.path.join(OUT, "results.json")
    document = {}
    if os.path.exists(path):
        with open(path) as f:
            document = json.load(f)
    document.setdefault("wasm_cost", {})[label] = wasm_cost_fixtures()
    with open(path, "w") as f:
        json.dump(document, f, indent=2, sort_keys=False)
    print(json.dumps({k: v["fuel_per_request"] for k, v in document["wasm_cost"][label]["summary"].items()}, indent=2))


def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    mem_gib = 0.0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    envoy_version = subprocess.run([envoy_binary(), "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib, "kernel": platform.release(),
        "os": platform.platform(), "envoy": envoy_version.split("version:")[-1].strip(),
        "wasm_runtime": "envoy.wasm.runtime.v8",
        "llm_trace_wasm_bytes": os.path.getsize(os.path.join(WASM_DIR, "llm_trace.wasm")),
        "pinning": f"Envoy on core {ENVOY_CORE} with --concurrency 1; load generator, mock LLM and OTLP receiver on core {LOAD_CORE}",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--fuel-only", metavar="LABEL",
                        help="only re-measure the wasm-cost fixture set, stored under wasm_cost.LABEL")
    opts = parser.parse_args()
    if opts.fuel_only:
        fuel_only(opts.fuel_only)
        return
    quick = opts.quick
    rounds = opts.rounds or (1 if quick else 2)
    durations = ({"one_conn": 1.0, "fixed_rate": 1.0, "saturation": 1.0, "one_conn_paced": 1.0} if quick else
                 {"one_conn": 1.5, "fixed_rate": 1.5, "saturation": 1.5, "one_conn_paced": 2.0})
    rate = 1000
    wl = workloads(quick)
    workdir = tempfile.mkdtemp(prefix="llm-trace-bench-")
    body_files = {}
    for name, (body, *_rest) in wl.items():
        body_files[name] = os.path.join(workdir, f"{name}.json")
        with open(body_files[name], "wb") as f:
            f.write(body)

    procs = []
    envoys = {}
    try:
        mock, upstream = start_server("mock-llm", ["--listen", "127.0.0.1:0", "--chunk-interval-ms", "0"],
                                      os.path.join(workdir, "mock.log"))
        procs.append(mock)
        receiver, collector = start_server("otlp-receiver", ["--listen", "127.0.0.1:0", "--out", os.devnull, "--quiet"],
                                           os.path.join(workdir, "receiver.log"))
        procs.append(receiver)
        for variant in ("V1", "V2", "V3", "V3b", "V4", "V5", *PROFILE_VARIANTS):
            envoys[variant] = Envoy(variant, workdir, upstream, collector)
        ports = {"V0": upstream, **{v: e.listen for v, e in envoys.items()}}

        runs = {}  # (variant, workload, measurement) -> [run]
        started = time.time()
        for round_index in range(rounds):
            for name, (_body, headers, measurements, _events) in wl.items():
                for measurement in measurements:
                    order = list(ports)
                    random.Random(round_index * 7919 + hash(name + measurement) % 1000).shuffle(order)
                    for variant in order:
                        if variant == "V0" and measurement == "saturation":
                            continue  # the mock is not the system under test; no CPU figure without Envoy
                        if variant in PROFILE_VARIANTS and (name, measurement) != ("chat_1k", "saturation"):
                            continue
                        envoy = envoys.get(variant)
                        d = dict(durations)
                        if name.endswith("_paced"):
                            d["one_conn"] = durations["one_conn_paced"]
                        cpu_before = envoy.cpu_ns() if envoy else 0
                        wall_before = time.time()
                        result = loadgen(ports[variant], body_files[name], headers, measurement, d, rate)
                        wall = time.time() - wall_before
                        if envoy:
                            cpu = envoy.cpu_ns() - cpu_before
                            total_requests = max(1, result["requests"])
                            # Warm-up requests also cost CPU: scale by the measured share of the wall time.
                            measured_share = d[measurement] / max(wall, d[measurement])
                            result["cpu_us_per_request"] = cpu * measured_share / total_requests / 1000
                            result["envoy_cpu_utilisation"] = cpu / 1e9 / wall
                        runs.setdefault((variant, name, measurement), []).append(result)
                        print(f"round {round_index + 1}/{rounds} {name:13s} {measurement:10s} {variant}: "
                              f"{result['rps']:8.0f} req/s p50 {((result['latency_us'] or {}).get('p50') or 0):8.0f} us"
                              f" errors {result['errors']}", flush=True)
        envoy_stats = {v: e.stats() for v, e in envoys.items()}
        rss_after_load = {v: e.rss_mib() for v, e in envoys.items()}
        for e in envoys.values():
            e.stop()
        envoys = {}
        memory = memory_figures(workdir, upstream, collector, body_files, wl)
        elapsed = time.time() - started
    finally:
        for e in envoys.values():
            e.stop()
        for p in procs:
            p.terminate()

    results = {}
    for (variant, name, measurement), rs in runs.items():
        results.setdefault(name, {}).setdefault(measurement, {})[variant] = aggregate(rs)

    def fig(name, measurement, variant, *path):
        v = results.get(name, {}).get(measurement, {}).get(variant)
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        return v

    def ratio(a, b):
        return round(a / b, 4) if a is not None and b else None

    def diff(a, b):
        return round(a - b, 1) if a is not None and b is not None else None

    def otlp_bytes_per_span(stats):
        spans = sum(v for k, v in stats.items() if k.endswith("llm_trace.spans_exported"))
        sent = stats.get("cluster.otel_collector.upstream_cx_tx_bytes_total", 0)
        return round(sent / spans, 1) if spans else None

    sse_cpu_v4 = fig("sse_500", "saturation", "V4", "cpu_us_per_request")
    sse_cpu_v1 = fig("sse_500", "saturation", "V1", "cpu_us_per_request")
    ratios = {
        "rps_v4_over_v1": ratio(fig("chat_1k", "saturation", "V4", "rps"), fig("chat_1k", "saturation", "V1", "rps")),
        "rps_v4_over_v2": ratio(fig("chat_1k", "saturation", "V4", "rps"), fig("chat_1k", "saturation", "V2", "rps")),
        "rps_v2_over_v1": ratio(fig("chat_1k", "saturation", "V2", "rps"), fig("chat_1k", "saturation", "V1", "rps")),
        "rps_v5_over_v1": ratio(fig("chat_1k", "saturation", "V5", "rps"), fig("chat_1k", "saturation", "V1", "rps")),
        "p50_added_us_v4": diff(fig("chat_1k", "one_conn", "V4", "latency_us", "p50"),
                                fig("chat_1k", "one_conn", "V1", "latency_us", "p50")),
        "p99_added_us_v4": diff(fig("chat_1k", "one_conn", "V4", "latency_us", "p99"),
                                fig("chat_1k", "one_conn", "V1", "latency_us", "p99")),
        "p50_added_us_v4_fixed_rate": diff(fig("chat_1k", "fixed_rate", "V4", "latency_us", "p50"),
                                           fig("chat_1k", "fixed_rate", "V1", "latency_us", "p50")),
        "p99_added_us_v4_fixed_rate": diff(fig("chat_1k", "fixed_rate", "V4", "latency_us", "p99"),
                                           fig("chat_1k", "fixed_rate", "V1", "latency_us", "p99")),
        "p50_added_us_v2": diff(fig("chat_1k", "one_conn", "V2", "latency_us", "p50"),
                                fig("chat_1k", "one_conn", "V1", "latency_us", "p50")),
        "p99_added_us_v2": diff(fig("chat_1k", "one_conn", "V2", "latency_us", "p99"),
                                fig("chat_1k", "one_conn", "V1", "latency_us", "p99")),
        "cpu_per_request_v4_over_v3": ratio(fig("chat_1k", "saturation", "V4", "cpu_us_per_request"),
                                            fig("chat_1k", "saturation", "V3", "cpu_us_per_request")),
        "cpu_per_request_v4_over_v1": ratio(fig("chat_1k", "saturation", "V4", "cpu_us_per_request"),
                                            fig("chat_1k", "saturation", "V1", "cpu_us_per_request")),
        "cpu_us_per_sse_event_v4": (round((sse_cpu_v4 - sse_cpu_v1) / 500, 3)
                                    if sse_cpu_v4 is not None and sse_cpu_v1 is not None else None),
        "memory_mib_per_vm_v4": round(memory["per_worker_vm_mib_v4"], 2),
        "ttft_added_us_v4_paced_stream": diff(fig("sse_64_paced", "one_conn", "V4", "ttft_us", "p50"),
                                              fig("sse_64_paced", "one_conn", "V1", "ttft_us", "p50")),
        "otlp_bytes_per_span_v4": otlp_bytes_per_span(envoy_stats.get("V4", {})),
        "otlp_bytes_per_span_v5": otlp_bytes_per_span(envoy_stats.get("V5", {})),
    }
    targets = {
        "rps_v4_over_v2": (">=", 0.95), "rps_v4_over_v1": (">=", 0.85), "p50_added_us_v4": ("<=", 40),
        "p99_added_us_v4": ("<=", 120), "p50_added_us_v4_fixed_rate": ("<=", 40),
        "p99_added_us_v4_fixed_rate": ("<=", 120), "cpu_us_per_sse_event_v4": ("<=", 2.0),
        "memory_mib_per_vm_v4": ("<=", 10), "cpu_per_request_v4_over_v3": ("<=", 1.5),
    }
    target_report = {}
    for key, (op, bound) in targets.items():
        value = ratios.get(key)
        met = None if value is None else (value >= bound if op == ">=" else value <= bound)
        target_report[key] = {"target": f"{op} {bound}", "measured": value, "met": met}

    llm_stats = {v: {k: val for k, val in s.items() if "llm_trace." in k and val}
                 for v, s in envoy_stats.items() if v in ("V4", "V5")}
    native_stats = {k: val for k, val in envoy_stats.get("V3", {}).items()
                    if ("ai_protocol" in k or "token" in k or "metadata" in k) and val}
    document = {
        "machine": machine(),
        "mode": "quick" if quick else "full",
        "rounds": rounds,
        "elapsed_s": round(elapsed, 1),
        "variants": VARIANTS,
        "workloads": {name: {"request_bytes": len(body), "mock_headers": headers, "sse_events": events,
                             "measurements": measurements}
                      for name, (body, headers, measurements, events) in wl.items()},
        "method": {
            "one_conn": "1 keep-alive connection, closed loop; latency per request",
            "fixed_rate": f"open loop at {rate} req/s over 4 connections; latency from the scheduled send time",
            "saturation": "16 connections, closed loop; Envoy (1 worker) pinned to one core, load on the other",
            "cpu_us_per_request": "Envoy's on-CPU time (all threads, /proc schedstat) during the run / requests",
            "memory": "RSS after the same load, (--concurrency 4 minus 1) / 3 = one more worker and its Wasm VM, "
                      "minus the same figure for plain Envoy",
            "durations_s": durations,
        },
        "ratios": ratios,
        "targets": target_report,
        "results": results,
        "memory": memory,
        "rss_mib_after_load": rss_after_load,
        "llm_trace_stats": llm_stats,
        "native_filter_stats": native_stats,
    }
    document["micro"] = micro_benchmarks(workdir)
    document["wasm_cost"] = {**previous_wasm_cost(), "current": wasm_cost_fixtures()}
    cpu = lambda v: fig("chat_1k", "saturation", v, "cpu_us_per_request")
    if all(cpu(v) is not None for v in ("V1", "V2", "V4", "V4r", "V5", "V5s")):
        document["where_v4_time_goes_us_per_request"] = {
            "wasm_filter_baseline_V2_minus_V1": round(cpu("V2") - cpu("V1"), 1),
            "parse_attribute_metrics_V5s_minus_V2": round(cpu("V5s") - cpu("V2"), 1),
            "span_encode_queue_export_V5_minus_V5s": round(cpu("V5") - cpu("V5s"), 1),
            "content_capture_without_redaction_V4r_minus_V5": round(cpu("V4r") - cpu("V5"), 1),
            "redaction_V4_minus_V4r": round(cpu("V4") - cpu("V4r"), 1),
        }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(document, f, indent=2, sort_keys=False)
    write_markdown(document)
    plot(document)
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"ratios": ratios}, indent=2))


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def write_markdown(doc: dict):
    m = doc["machine"]
    lines = [f"# llm-trace benchmark ({doc['mode']}, {doc['rounds']} rounds, {m['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; Envoy {m['envoy']} "
             f"(V8). {m['pinning']}. The upstream is `mock-llm` (the provider cannot run here).", "",
             "## Targets", "", "| Figure | Target | Measured | Met |", "|---|---|---|---|"]
    for key, t in doc["targets"].items():
        met = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| `{key}` | {t['target']} | {fmt(t['measured'], 3 if 'rps' in key or 'cpu' in key else 1)} | {met} |")
    lines += ["", "Other ratios: " + ", ".join(f"`{k}` = {fmt(v, 3)}" for k, v in doc["ratios"].items()
                                                if k not in doc["targets"]), ""]
    for name, by_measurement in doc["results"].items():
        w = doc["workloads"][name]
        lines += [f"## {name}", "",
                  f"Request {w['request_bytes']:,} bytes; mock `{json.dumps(w['mock_headers'])}`.", "",
                  "| Variant | 1-conn p50 µs | 1-conn p99 µs | added p50/p99 vs V1 | fixed-rate p50/p99 µs | "
                  "TTFT p50 µs | saturation req/s | × V1 | Envoy CPU µs/req |",
                  "|---|---|---|---|---|---|---|---|---|"]
        v1_one = by_measurement.get("one_conn", {}).get("V1", {})
        v1_sat = by_measurement.get("saturation", {}).get("V1", {})
        for variant in VARIANTS:
            one = by_measurement.get("one_conn", {}).get(variant, {})
            fixed = by_measurement.get("fixed_rate", {}).get(variant, {})
            sat = by_measurement.get("saturation", {}).get(variant, {})
            if not (one or fixed or sat):
                continue
            ol, fl = one.get("latency_us", {}), fixed.get("latency_us", {})
            v1l = v1_one.get("latency_us", {})
            added = "–"
            if ol.get("p50") is not None and v1l.get("p50") is not None and variant not in ("V0", "V1"):
                added = f"{ol['p50'] - v1l['p50']:+.0f} / {ol['p99'] - v1l['p99']:+.0f}"
            x_v1 = (f"{sat['rps'] / v1_sat['rps']:.3f}" if sat.get("rps") and v1_sat.get("rps") else "–")
            lines.append(
                f"| {variant} | {fmt(ol.get('p50'))} | {fmt(ol.get('p99'))} | {added} | "
                f"{fmt(fl.get('p50'))} / {fmt(fl.get('p99'))} | {fmt((one.get('ttft_us') or {}).get('p50'))} | "
                f"{fmt(sat.get('rps'))} | {x_v1} | {fmt(sat.get('cpu_us_per_request'), 1)} |")
        lines.append("")
    mem = doc["memory"]
    lines += ["## Memory", "",
              f"Marginal RSS of one more worker (its Wasm VM and thread), net of plain Envoy: llm-trace "
              f"{mem['per_worker_vm_mib_v4']:.2f} MiB, no-op Wasm {mem['per_worker_vm_mib_v2']:.2f} MiB. "
              f"Whole Envoy with llm-trace at one worker: +{mem['total_over_v1_mib_v4_one_worker']:.1f} MiB over plain "
              f"Envoy (two VMs: the main thread's and the worker's). RSS MiB: "
              + ", ".join(f"{k} {v:.1f}" for k, v in mem["rss_mib"].items()) + ".", "",
              "![latency](latency.png)", "", "![throughput](throughput.png)", ""]
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write("\n".join(lines))


def plot(doc: dict):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plots", file=sys.stderr)
        return
    results = doc["results"]
    names = [n for n in results if "one_conn" in results[n]]
    variants = list(VARIANTS)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        one = results[name]["one_conn"]
        present = [v for v in variants if v in one]
        p50 = [one[v]["latency_us"]["p50"] or 0 for v in present]
        p99 = [one[v]["latency_us"]["p99"] or 0 for v in present]
        xs = range(len(present))
        ax.bar([x - 0.2 for x in xs], p50, width=0.4, label="p50")
        ax.bar([x + 0.2 for x in xs], p99, width=0.4, label="p99")
        ax.set_xticks(list(xs), present)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("µs (one connection)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Latency per request at one connection, by variant")
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "latency.png"), dpi=110)
    plt.close(fig)

    sat_names = [n for n in results if "saturation" in results[n]]
    fig, ax = plt.subplots(figsize=(2.2 * max(2, len(sat_names)) + 2, 3.6))
    width = 0.8 / 4
    for i, variant in enumerate(["V2", "V3", "V4", "V5"]):
        values = []
        for n in sat_names:
            sat = results[n]["saturation"]
            base = (sat.get("V1") or {}).get("rps")
            values.append((sat.get(variant) or {}).get("rps", 0) / base if base else 0)
        ax.bar([x + (i - 1.5) * width for x in range(len(sat_names))], values, width=width, label=variant)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.axhline(0.85, color="red", linewidth=0.8, linestyle="--", label="V4 target 0.85")
    ax.set_xticks(range(len(sat_names)), sat_names)
    ax.set_ylabel("requests/s ÷ V1 (Envoy on one core)")
    ax.set_ylim(0, 1.15)
    ax.legend(fontsize=8, ncol=3)
    ax.set_title("Throughput at saturation relative to plain Envoy")
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "throughput.png"), dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
