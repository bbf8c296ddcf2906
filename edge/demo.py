#!/usr/bin/env python3
"""`make demo-edge`: the llm-trace wasi:http component between the official OpenAI SDK and a mock LLM upstream,
served by `edge-serve` (the embedding `wasmtime serve` uses, a fresh instance per request); sends a handful of
calls, then prints the traces the OTLP receiver got and the component's log, and stops everything it started."""
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from edge_harness import COMPONENT, ROOT, running_edge  # noqa: E402

# The calls and the table are the Envoy demo's: the same tracer, another host.
_spec = importlib.util.spec_from_file_location("envoy_demo", os.path.join(ROOT, "envoy", "demo.py"))
_demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_demo)


def main():
    with running_edge(chunk_interval_ms=10) as edge:
        size = os.path.getsize(COMPONENT)
        print(f"edge-serve {edge.base_url} runs {os.path.relpath(COMPONENT, ROOT)} ({size:,} bytes), a fresh instance "
              f"per request -> mock LLM; spans -> OTLP receiver (work dir {edge.workdir})")
        _demo.send_calls(edge.base_url)
        spans = edge.wait_for_spans(6, timeout=10)
        time.sleep(0.2)
        print()
        print(_demo.table(edge.spans()))
        print("\n* usage the component asked for on the client's behalf (and removed from the client's stream)")
        print("\nOne span in full (OTLP as the receiver decoded it):")
        example = next((s for s in spans if s["attributes"].get("gen_ai.request.stream")), spans[0])
        print(json.dumps({k: example[k] for k in ("name", "kind", "trace_id", "status", "attributes")}, indent=2))
        log = [line for line in edge.edge_stderr().splitlines() if line.strip()]
        print("\nThe component's stderr (it logs warnings only: configuration errors, failed exports, cut streams):")
        print("\n".join(log[:4]) if log else "  (nothing)")


if __name__ == "__main__":
    main()
