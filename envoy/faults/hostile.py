#!/usr/bin/env python3
"""Hostile servers for the fault matrix (`make e2e-faults`): an LLM upstream that misbehaves on request and an OTLP
collector whose behaviour the test switches at run time. Standard library only; loopback only.

    hostile.py upstream  --listen 127.0.0.1:0
    hostile.py collector --listen 127.0.0.1:0 --log FILE

Both print `hostile-<role> listening on ADDR` once ready (like the project's Rust servers).

Upstream: the `x-hostile` request header picks the answer (see `UPSTREAM_MODES`); every answer carries
`x-received-sha256` (of the request body as received) and `x-received-content-length` (`absent` when the request
came chunked), so a test can tell what the filter changed on the way. Gzip bombs are built once, in memory.

Collector: `POST /_control` with `{"mode": ..., ...}` switches the answer to OTLP exports (see `COLLECTOR_MODES`);
every export is logged to `--log` (one JSON line, flushed before the answer is written, so the count survives a
kill): mode, status, spans, the encoded size of each span, and whether the answer was a timely 2xx. `GET /_stats`
sums the log.
"""
import hashlib
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

ANSWER = "The quick brown fox jumps over the lazy dog and keeps running through the quiet forest until night falls"


# ---------------------------------------------------------------------------------------------------------------
# Minimal HTTP/1.1 (keep-alive, content-length or chunked request bodies): the hostile modes need byte control
# (resets, no length, huge single writes) that http.server does not give.


class Closed(Exception):
    pass


def read_request(conn: socket.socket, buf: bytearray):
    """One request from `conn` (leftover bytes stay in `buf`): (method, path, headers, body), or raises Closed."""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            raise Closed()
        buf += data
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    del buf[:]
    buf += rest
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()

    def take(n):
        while len(buf) < n:
            data = conn.recv(max(65536, n - len(buf)))
            if not data:
                raise Closed()
            buf.extend(data)
        out = bytes(buf[:n])
        del buf[:n]
        return out

    def line():
        while b"\r\n" not in buf:
            data = conn.recv(65536)
            if not data:
                raise Closed()
            buf.extend(data)
        i = buf.index(b"\r\n")
        out = bytes(buf[:i])
        del buf[: i + 2]
        return out

    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int(line().split(b";")[0], 16)
            if size == 0:
                while line():
                    pass
                break
            body += take(size)
            take(2)
        body = bytes(body)
    else:
        body = take(int(headers.get("content-length", "0")))
    return method, path, headers, body


REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 411: "Length Required", 429: "Too Many Requests",
           503: "Service Unavailable"}


def head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send_fixed(conn, status, headers, body: bytes):
    conn.sendall(head(status, headers + [("content-length", str(len(body)))]) + body)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def reset(conn: socket.socket):
    """Closes with a TCP reset (SO_LINGER 0), the way a crashed upstream goes away."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


def serve(role: str, listen: str, handle):
    host, port = listen.rsplit(":", 1)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            conn = self.request
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = bytearray()
            try:
                while True:
                    request = read_request(conn, buf)
                    if handle(conn, *request) == "closed":
                        return
            except (Closed, ConnectionError, OSError):
                return

    server = Server((host, int(port)), Handler)
    print(f"hostile-{role} listening on {host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


# ---------------------------------------------------------------------------------------------------------------
# Upstream


def gzip_zeros(size: int) -> bytes:
    """A gzip member of `size` zero bytes, about 1000:1, built from one compressed MiB repeated: each MiB is
    deflated then full-flushed (byte-aligned, history reset), so every later MiB compresses to the same bytes."""
    mib = 1 << 20
    assert size % mib == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(mib)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    second = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(size // mib):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return b"".join([header, first, second * (size // mib - 1), tail, struct.pack("<II", crc, size & 0xFFFFFFFF)])


BOMBS: dict[str, bytes] = {}
BOMB_SIZES = {"100m": 100 << 20, "1g": 1 << 30}
BOMB_LOCK = threading.Lock()


def bomb(name: str) -> bytes:
    with BOMB_LOCK:
        if name not in BOMBS:
            BOMBS[name] = gzip_zeros(BOMB_SIZES[name])
        return BOMBS[name]


def chat_json(model: str) -> bytes:
    return json.dumps({
        "id": "chatcmpl-hostile", "object": "chat.completion", "created": 1_750_000_000, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 20, "total_tokens": 23}}).encode()


def sse_event(obj) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def chat_chunk(model: str, content=None, finish=None, usage=None) -> dict:
    delta = {} if content is None else {"content": content}
    c = {"id": "chatcmpl-hostile", "object": "chat.completion.chunk", "created": 1_750_000_000, "model": model,
         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        c["choices"], c["usage"] = [], usage
    return c


def chat_stream(model: str, include_usage: bool) -> list[bytes]:
    events = [sse_event(chat_chunk(model, ""))]
    events += [sse_event(chat_chunk(model, (" " if i else "") + w)) for i, w in enumerate(ANSWER.split())]
    events.append(sse_event(chat_chunk(model, finish="stop")))
    if include_usage:
        events.append(sse_event(chat_chunk(model, usage={"prompt_tokens": 3, "completion_tokens": 20,
                                                         "total_tokens": 23})))
    events.append(b"data: [DONE]\n\n")
    return events


SSE = [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
JSON = [("content-type", "application/json")]


def upstream_handle(conn, method, path, headers, body):
    if method == "GET" and path == "/healthz":
        send_fixed(conn, 200, [("content-type", "text/plain")], b"ok")
        return
    mode = headers.get("x-hostile", "ok")
    echo = [("x-received-sha256", hashlib.sha256(body).hexdigest()),
            ("x-received-content-length", headers.get("content-length", "absent"))]
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        request = {}
    model = request.get("model", "hostile") if isinstance(request, dict) else "hostile"
    stream = isinstance(request, dict) and request.get("stream") is True
    options = request.get("stream_options") if isinstance(request, dict) else None
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    return UPSTREAM_MODES[mode](conn, headers, body, request, model, stream, include_usage, echo)


def up_ok(conn, headers, body, request, model, stream, include_usage, echo):
    if not stream:
        send_fixed(conn, 200, JSON + echo, chat_json(model))
        return
    conn.sendall(head(200, SSE + echo + [("transfer-encoding", "chunked")]))
    for event in chat_stream(model, include_usage):
        conn.sendall(chunk(event))
    conn.sendall(b"0\r\n\r\n")


def up_strict_stream_options(conn, headers, body, request, model, stream, include_usage, echo):
    """A strict OpenAI-compatible server: unknown fields are an error (here `stream_options`)."""
    if isinstance(request, dict) and "stream_options" in request:
        send_fixed(conn, 400, JSON + echo, json.dumps({"error": {"message": "Unrecognized request argument "
                   "supplied: stream_options", "type": "invalid_request_error", "code": None}}).encode())
        return
    return up_ok(conn, headers, body, request, model, stream, include_usage, echo)


def up_require_content_length(conn, headers, body, request, model, stream, include_usage, echo):
    if "content-length" not in headers:
        send_fixed(conn, 411, JSON + echo,
                   b'{"error":{"message":"content-length required","type":"invalid_request_error"}}')
        return
    return up_ok(conn, headers, body, request, model, stream, include_usage, echo)


def up_malformed_json(conn, headers, body, request, model, stream, include_usage, echo):
    send_fixed(conn, 200, JSON + echo, b'{"id": "chatcmpl-x", "choices": [{"message": {"content": "unterminated')


def up_malformed_sse(conn, headers, body, request, model, stream, include_usage, echo):
    events = [b"data: {not json at all\n\n", b"event: weird\ndata: \x00\x01\x02\n\n", b"data:" + b"{" * 5000 + b"\n\n",
              b"data: {\"choices\": 7, \"usage\": \"many\"}\n\n", b":comment only\n\n",
              b"data: [DONE]\n\ndata: after done\n\n", b"no-colon-line\r\n\r\n",
              b"data: {\"choices\":[{\"delta\":{\"content\":12}}]}\n", b"\n\n\n\n\n"]
    conn.sendall(head(200, SSE + echo + [("transfer-encoding", "chunked")]))
    for e in events:
        conn.sendall(chunk(e))
    conn.sendall(b"0\r\n\r\n")


def up_huge_sse(conn, headers, body, request, model, stream, include_usage, echo):
    """A 3 MiB event (over `limits.max_sse_event_bytes`) between ordinary ones, written in 64 KiB pieces."""
    huge = sse_event(chat_chunk(model, "x" * (3 << 20)))
    events = chat_stream(model, include_usage)
    conn.sendall(head(200, SSE + echo + [("transfer-encoding", "chunked")]))
    conn.sendall(chunk(events[0]))
    for i in range(0, len(huge), 65536):
        conn.sendall(chunk(huge[i:i + 65536]))
    for e in events[1:]:
        conn.sendall(chunk(e))
    conn.sendall(b"0\r\n\r\n")


def up_invalid_utf8(conn, headers, body, request, model, stream, include_usage, echo):
    bad = b"caf\xc3 \xff\xfe \xed\xa0\x80 surrogate \xc0\xaf overlong"
    if not stream:
        send_fixed(conn, 200, JSON + echo, chat_json(model).replace(ANSWER.encode(), bad))
        return
    conn.sendall(head(200, SSE + echo + [("transfer-encoding", "chunked")]))
    for e in chat_stream(model, include_usage):
        conn.sendall(chunk(e.replace(b'"content": " fox"', b'"content": "' + bad + b'"')))
    conn.sendall(b"0\r\n\r\n")


def up_body_100mib(conn, headers, body, request, model, stream, include_usage, echo):
    """A 100 MiB JSON answer (one huge content string), content-length framed, in 1 MiB writes."""
    size = 100 << 20
    prefix = b'{"id":"chatcmpl-big","object":"chat.completion","model":"' + model.encode() + \
        b'","choices":[{"index":0,"message":{"role":"assistant","content":"'
    suffix = b'"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":9,"total_tokens":12}}'
    filler = size - len(prefix) - len(suffix)
    conn.sendall(head(200, JSON + echo + [("content-length", str(size))]) + prefix)
    block = b"a" * (1 << 20)
    while filler > 0:
        n = min(filler, len(block))
        conn.sendall(block[:n])
        filler -= n
    conn.sendall(suffix)


def up_reset_mid_body(conn, headers, body, request, model, stream, include_usage, echo):
    """Announces 1 MiB, sends half, then resets the connection."""
    start = b'{"id":"chatcmpl-cut","choices":[{"message":{"content":"'
    conn.sendall(head(200, JSON + echo + [("content-length", str(1 << 20))]) + start + b"a" * (512 << 10))
    time.sleep(0.05)
    reset(conn)
    return "closed"


def up_reset_mid_stream(conn, headers, body, request, model, stream, include_usage, echo):
    conn.sendall(head(200, SSE + echo + [("transfer-encoding", "chunked")]))
    for e in chat_stream(model, include_usage)[:5]:
        conn.sendall(chunk(e))
    time.sleep(0.05)
    reset(conn)
    return "closed"


def up_gzip_bomb(conn, headers, body, request, model, stream, include_usage, echo):
    """`x-bomb: 100m|1g` of gzipped zeros as a JSON answer, written in one go (how the filter gets it in chunks is
    the Envoy route's choice, see faults.yaml)."""
    data = bomb(headers.get("x-bomb", "100m"))
    conn.sendall(head(200, JSON + echo + [("content-encoding", "gzip"), ("content-length", str(len(data))),
                                          ("x-body-sha256", hashlib.sha256(data).hexdigest())]) + data)


def up_slow_reader_stream(conn, headers, body, request, model, stream, include_usage, echo):
    """A 1 MiB stream of ordinary chat chunks (for slow readers); the upstream writes as fast as it is let."""
    events = chat_stream(model, include_usage)
    filler = [sse_event(chat_chunk(model, "y" * 1000)) for _ in range(1024)]
    conn.sendall(head(200, SSE + echo + [("transfer-encoding", "chunked")]))
    for e in [events[0]] + filler + events[1:]:
        conn.sendall(chunk(e))
    conn.sendall(b"0\r\n\r\n")


UPSTREAM_MODES = {
    "ok": up_ok,
    "strict_stream_options": up_strict_stream_options,
    "require_content_length": up_require_content_length,
    "malformed_json": up_malformed_json,
    "malformed_sse": up_malformed_sse,
    "huge_sse": up_huge_sse,
    "invalid_utf8": up_invalid_utf8,
    "body_100mib": up_body_100mib,
    "reset_mid_body": up_reset_mid_body,
    "reset_mid_stream": up_reset_mid_stream,
    "gzip_bomb": up_gzip_bomb,
    "slow_reader_stream": up_slow_reader_stream,
}


# ---------------------------------------------------------------------------------------------------------------
# Collector


def varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(data: bytes):
    """(field number, wire type, value) of one protobuf message; length-delimited values are bytes."""
    i = 0
    while i < len(data):
        key, i = varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        elif wire == 2:
            n, i = varint(data, i)
            value, i = data[i:i + n], i + n
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def any_value(data: bytes):
    for number, _, value in fields(data):
        if number == 1:
            return value.decode("utf-8", "replace")
        if number == 2:
            return bool(value)
        if number == 3:
            return value - (1 << 64) if value >= 1 << 63 else value
        if number == 4:
            return struct.unpack("<d", value)[0]
    return None


def spans_of(export: bytes) -> list[dict]:
    """The spans of an ExportTraceServiceRequest: name, attributes (scalars), and the encoded Span's size."""
    out = []
    for n1, _, resource_spans in fields(export):
        if n1 != 1:
            continue
        for n2, _, scope_spans in fields(resource_spans):
            if n2 != 2:
                continue
            for n3, _, span in fields(scope_spans):
                if n3 != 2:
                    continue
                record = {"bytes": len(span), "attributes": {}}
                for n4, _, value in fields(span):
                    if n4 == 5:
                        record["name"] = value.decode("utf-8", "replace")
                    elif n4 == 9:
                        kv = dict((n, v) for n, _, v in fields(value))
                        record["attributes"][kv.get(1, b"").decode("utf-8", "replace")] = any_value(kv.get(2, b""))
                out.append(record)
    return out


def partial_success(rejected: int, message: bytes) -> bytes:
    """ExportTraceServiceResponse { partial_success = 1: { rejected_spans = 1; error_message = 2 } }."""
    def ld(number, payload):
        return bytes([number << 3 | 2]) + encode_varint(len(payload)) + payload
    inner = bytes([1 << 3]) + encode_varint(rejected) + ld(2, message)
    return ld(1, inner)


def encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Collector:
    def __init__(self, log_path: str):
        self.log = open(log_path, "a")
        self.lock = threading.Lock()
        self.mode = {"mode": "ok"}

    def record(self, **entry):
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()

    def handle(self, conn, method, path, headers, body):
        if path == "/_control" and method == "POST":
            self.mode = json.loads(body)
            send_fixed(conn, 200, JSON, b"{}")
            return
        if path.startswith("/_stats"):
            send_fixed(conn, 200, JSON, json.dumps(self.stats()).encode())
            return
        if method == "GET" and path == "/healthz":
            send_fixed(conn, 200, [("content-type", "text/plain")], b"ok")
            return
        if method != "POST" or path != "/v1/traces":
            send_fixed(conn, 404, [], b"")
            return
        if headers.get("content-encoding") == "gzip":
            body = zlib.decompress(body, 31)
        spans = spans_of(body)
        mode = dict(self.mode)
        kind = mode.get("mode", "ok")
        entry = {"t": time.time(), "mode": kind, "spans": len(spans), "span_bytes": [s["bytes"] for s in spans],
                 "models": sorted({str(s["attributes"].get("gen_ai.request.model")) for s in spans}),
                 # Strings the test is watching for (secrets that must never be exported).
                 "found": [n for n in mode.get("watch", []) if n.encode() in body]}
        if kind == "blackhole":
            self.record(status=None, accepted=False, **entry)
            # Never answers; holds the connection until the peer gives up.
            while conn.recv(65536):
                pass
            return "closed"
        if kind == "slow":
            self.record(status=200, accepted=False, late=True, **entry)
            time.sleep(float(mode.get("delay_s", 10)))
            send_fixed(conn, 200, [("content-type", "application/x-protobuf")], b"")
            return
        if kind == "status":
            status = int(mode["status"])
            extra = [("retry-after", str(mode["retry_after"]))] if "retry_after" in mode else []
            self.record(status=status, accepted=False, **entry)
            send_fixed(conn, status, [("content-type", "application/json")] + extra, b'{"code":8,"message":"no"}')
            return
        if kind == "garbage":
            self.record(status=200, accepted=True, **entry)
            send_fixed(conn, 200, [("content-type", "application/x-protobuf")], os.urandom(4096))
            return
        if kind == "huge":
            # A valid ExportTraceServiceResponse: partial success with 0 rejected and a 64 MiB warning message.
            self.record(status=200, accepted=True, **entry)
            send_fixed(conn, 200, [("content-type", "application/x-protobuf")], partial_success(0, b"w" * (64 << 20)))
            return
        if kind == "partial":
            rejected = min(int(mode.get("rejected", 1)), len(spans))
            self.record(status=200, accepted=True, rejected=rejected, **entry)
            send_fixed(conn, 200, [("content-type", "application/x-protobuf")],
                       partial_success(rejected, b"span rejected by policy"))
            return
        self.record(status=200, accepted=True, **entry)
        send_fixed(conn, 200, [("content-type", "application/x-protobuf")], b"")

    def stats(self) -> dict:
        with self.lock:
            self.log.flush()
            with open(self.log.name) as f:
                entries = [json.loads(line) for line in f if line.strip()]
        accepted = [e for e in entries if e.get("accepted")]
        return {
            "exports": len(entries),
            "accepted_exports": len(accepted),
            "accepted_spans": sum(e["spans"] for e in accepted),
            "rejected_spans": sum(e.get("rejected", 0) for e in accepted),
            "late_spans": sum(e["spans"] for e in entries if e.get("late")),
            "found": sorted({n for e in entries for n in e.get("found", [])}),
            "by_status": {str(s): sum(1 for e in entries if e["status"] == s) for s in {e["status"] for e in entries}},
            "entries": entries,
        }


def main():
    role = sys.argv[1]
    args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    listen = args.get("--listen", "127.0.0.1:0")
    if role == "upstream":
        if args.get("--prebuild-bombs") == "1":
            threading.Thread(target=lambda: [bomb(b) for b in BOMB_SIZES], daemon=True).start()
        serve("upstream", listen, upstream_handle)
    elif role == "collector":
        serve("collector", listen, Collector(args["--log"]).handle)
    else:
        raise SystemExit(f"unknown role {role}")


if __name__ == "__main__":
    main()
