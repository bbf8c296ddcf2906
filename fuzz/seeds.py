#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the project's own material: the recorded exchanges of
host-tests/testdata/exchanges/ become `exchange` inputs (see fuzz_targets/exchange.rs for the layout) and feed the
framing and decoding targets their bodies; the configurations of docs/configuration.md and envoy/ seed `config`.
Writes fuzz/corpus/<target>/seed-* (not committed), and leaves what fuzzing added there alone."""
import base64
import glob
import gzip
import json
import os
import re
import struct
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def write(target: str, name: str, data: bytes):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"seed-{name}"), "wb") as f:
        f.write(data)


def body(part: dict) -> bytes:
    if part.get("body_base64") is not None:
        return base64.b64decode(part["body_base64"])
    return (part.get("body") or "").encode()


def part(data: bytes) -> bytes:
    data = data[:0xFFFF]
    return struct.pack("<H", len(data)) + data


def headers(pairs) -> bytes:
    return "".join(f"{k}: {v}\n" for k, v in pairs).encode()


def main():
    for path in sorted(glob.glob(os.path.join(ROOT, "host-tests", "testdata", "exchanges", "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            x = json.load(f)
        request, response = x["request"], x["response"]
        url = urllib.parse.urlsplit(request["url"])
        path_q = url.path + (f"?{url.query}" if url.query else "")
        req_body, resp_body = body(request), body(response)
        req_head = [(":method", request.get("method", "POST")), (":path", path_q), (":authority", url.netloc),
                    (":scheme", url.scheme), ("content-length", str(len(req_body)))]
        req_head += [(k, v) for k, v in request.get("headers", {}).items() if k.lower() != "content-length"]
        resp_head = [(":status", str(response.get("status", 200)))] + list(response.get("headers", {}).items())
        for config in range(4):
            write("exchange", f"{name}-{config}", bytes([config, 7]) + part(headers(req_head)) + part(req_body)
                  + part(headers(resp_head)) + resp_body)
        content_type = str(dict((k.lower(), v) for k, v in response.get("headers", {}).items())
                           .get("content-type", ""))
        target = ("sse" if "event-stream" in content_type else "event_stream" if "eventstream" in content_type
                  else "json_array")
        write(target, name, bytes([255, 13]) + resp_body)
        for mode, packed in ((0, gzip.compress(resp_body)), (1, zlib.compress(resp_body))):
            write("content_decoding", f"{name}-{mode}", bytes([mode, 255, 5]) + packed)
        write("content_decoding", f"{name}-2", bytes([2, 40, 5]) + resp_body[:4096])
        write("redactor", name, req_body)
    configs = []
    with open(os.path.join(ROOT, "docs", "configuration.md")) as f:
        configs += re.findall(r"```json\n(.*?)```", f.read(), re.S)
    for yaml in glob.glob(os.path.join(ROOT, "envoy", "*.yaml")) + glob.glob(os.path.join(ROOT, "envoy", "*", "*.yaml")):
        with open(yaml) as f:
            configs += re.findall(r"value: \|\n((?:\s{20,}.*\n)+)", f.read())
    for i, config in enumerate(configs):
        write("config", str(i), config.strip().encode())
    write("redactor", "pii", b"mail jane.doe@example.com, call +1 415 555 0100, card 4111 1111 1111 1111, "
          b"key sk-proj-abcdefghijklmnopqrstuvwxyz012345, TICKET-12345 about Bluebird")


if __name__ == "__main__":
    main()
