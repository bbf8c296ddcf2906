#!/usr/bin/env python3
"""Worker-stall probe: `probe.py PORT OUT` sends `GET /healthz` (not an LLM call: the filter sees it and lets it
go, so it makes no span) through the traced listener every 20 ms on one keep-alive connection, and appends
`start_unix_s latency_s status` per probe to OUT. A stalled Envoy worker (or a stalled Wasm VM on it) shows as a
probe latency. Runs as its own process so the test's own threads cannot delay it. A probe that gets no answer
within 10 s is written as a 10 s latency with status 0."""
import http.client
import sys
import time


def main():
    port, out_path = int(sys.argv[1]), sys.argv[2]
    out = open(out_path, "a", buffering=1)
    conn = None
    while True:
        start = time.time()
        t0 = time.perf_counter()
        status = 0
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/healthz", headers={"host": "probe"})
            response = conn.getresponse()
            response.read()
            status = response.status
        except Exception:
            if conn is not None:
                conn.close()
            conn = None
        latency = min(time.perf_counter() - t0, 10.0)
        out.write(f"{start:.6f} {latency:.6f} {status}\n")
        time.sleep(max(0.0, 0.02 - latency))


if __name__ == "__main__":
    main()
