#!/usr/bin/env python3
"""Writes bedrock-converse-stream.json: a Bedrock ConverseStream exchange whose response body is binary
`application/vnd.amazon.eventstream` frames, stored as `body_base64` the way ../../../../shared/captures stores
the real Bedrock streams (e.g. aws.bedrock--oll-bedrock-test_meta_converse_stream-0.json).

Frame layout (all integers big-endian), as AWS event-stream encodes it:
    total_length u32 | headers_length u32 | prelude_crc32 u32 (CRC-32 of the first 8 bytes)
    | headers | payload | message_crc32 u32 (CRC-32 of every byte before it)
Each header is: name_len u8 | name | value_type u8 (7 = string) | value_len u16 | value.
Headers come in the order real Bedrock sends them: `:event-type`, `:content-type`, `:message-type`; payloads carry
Bedrock's random-length `"p"` padding field, keys sorted as Bedrock writes them.

Run from anywhere: python3 make_eventstream.py  (rewrites the fixture next to this script; deterministic output).
"""

import base64
import binascii
import json
import os
import struct

PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return struct.pack(">B", len(n)) + n + b"\x07" + struct.pack(">H", len(v)) + v


def frame(event_type: str, payload: dict) -> bytes:
    headers = (
        header(":event-type", event_type)
        + header(":content-type", "application/json")
        + header(":message-type", "event")
    )
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + headers + body
    return message + struct.pack(">I", binascii.crc32(message))


def pad(n: int) -> str:
    return PADDING[:n]


def decode(stream: bytes):
    """Parses the frames back, checking both CRCs: a self-test of the encoder."""
    out, i = [], 0
    while i < len(stream):
        total, hlen, pcrc = struct.unpack(">III", stream[i : i + 12])
        assert binascii.crc32(stream[i : i + 8]) == pcrc, "prelude crc"
        (mcrc,) = struct.unpack(">I", stream[i + total - 4 : i + total])
        assert binascii.crc32(stream[i : i + total - 4]) == mcrc, "message crc"
        payload = stream[i + 12 + hlen : i + total - 4]
        out.append(json.loads(payload))
        i += total
    return out


TEXT = [
    "Span",
    "s",
    " are",
    " the",
    " building",
    " blocks",
    " of",
    " a",
    " trace",
    ":",
    " each",
    " one",
    " records",
    " a",
    " single",
    " operation",
    ",",
    " its",
    " start",
    " and",
    " end",
    " time",
    ",",
    " attributes",
    " and",
    " its",
    " parent",
    ",",
    " so",
    " a",
    " request",
    " that",
]
PADS = [7, 53, 29, 12, 41, 5, 38, 19, 60, 24, 9, 47, 16, 33, 2, 55, 27, 14, 44, 8, 36, 21, 58, 11, 30, 49, 3, 40, 17, 26, 52, 6]


def main():
    frames = [frame("messageStart", {"p": pad(31), "role": "assistant"})]
    for text, n in zip(TEXT, PADS):
        frames.append(frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}, "p": pad(n)}))
    frames.append(frame("contentBlockStop", {"contentBlockIndex": 0, "p": pad(22)}))
    frames.append(frame("messageStop", {"p": pad(45), "stopReason": "max_tokens"}))
    frames.append(
        frame(
            "metadata",
            {
                "metrics": {"latencyMs": 1187},
                "p": pad(18),
                "usage": {"inputTokens": 21, "outputTokens": 32, "totalTokens": 53},
            },
        )
    )
    stream = b"".join(frames)
    decoded = decode(stream)
    assert decoded[-1]["usage"]["outputTokens"] == len(TEXT)

    request_body = json.dumps(
        {
            "messages": [{"role": "user", "content": [{"text": "What is a span in distributed tracing?"}]}],
            "system": [{"text": "Answer in two sentences."}],
            "inferenceConfig": {"maxTokens": 32, "temperature": 0.2},
        }
    )
    exchange = {
        "name": "fixture-bedrock-converse-stream",
        "source": "llm-trace fixture (make_eventstream.py), shaped after "
        "shared/captures/aws.bedrock--oll-bedrock-test_meta_converse_stream-0.json",
        "request": {
            "method": "POST",
            "url": "https://bedrock-runtime.us-west-2.amazonaws.com/model/"
            "us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream",
            "headers": {
                "content-length": str(len(request_body)),
                "content-type": "application/json",
                "user-agent": "Boto3/1.38.7 md/Botocore#1.38.7 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 "
                "md/pyimpl#CPython m/Z,b cfg/retry-mode#legacy Botocore/1.38.7",
                "x-amz-date": "20251014T091522Z",
                "amz-sdk-invocation-id": "3f0c1d52-7a4e-4b8e-9d1f-6c2a8e5b7f10",
                "amz-sdk-request": "attempt=1",
            },
            "body": request_body,
        },
        "response": {
            "status": 200,
            "headers": {
                "connection": "keep-alive",
                "content-type": "application/vnd.amazon.eventstream",
                "date": "Tue, 14 Oct 2025 09:15:23 GMT",
                "transfer-encoding": "chunked",
                "x-amzn-requestid": "8d6b2f4e-1c3a-4e5f-9a7b-2d4c6e8f0a1b",
            },
            "body_base64": base64.b64encode(stream).decode(),
        },
        "expect": {
            "provider": "aws.bedrock",
            "operation": "chat",
            "streaming": True,
            "request_model": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "response_model": None,
            "input_tokens": 21,
            "output_tokens": 32,
            "finish_reason": "max_tokens",
            "status": 200,
            "cache_read_tokens": None,
            "cache_write_tokens": None,
            "input_tokens_total": 21,
            "output_tokens_total": 32,
            "reasoning_tokens": None,
        },
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bedrock-converse-stream.json")
    with open(path, "w") as f:
        json.dump(exchange, f, indent=2)
        f.write("\n")
    print(f"wrote {path}: {len(frames)} frames, {len(stream)} bytes")


if __name__ == "__main__":
    main()
