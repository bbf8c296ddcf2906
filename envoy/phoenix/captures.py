"""Replays recorded real provider exchanges (`../shared/captures/*.json`) through real Envoy: an upstream that
answers each request with its recorded response (streams in small pieces, a few milliseconds apart, so time to first
token is real), and a client that sends the recorded request with the provider's host."""
import base64
import contextlib
import http.client
import http.server
import json
import os
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.environ.get("LLM_TRACE_CAPTURES", os.path.join(os.path.dirname(ROOT), "shared", "captures"))
HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive", "host"}

# One or more of every provider and of each kind of content Phoenix shows.
SELECTED = [
    "openai--oll-openai-test_open_ai_function_calls_tools-0",  # tool definitions, a tool call answered
    "openai--oll-openai-test_chat_tools_streaming-0",  # a streamed tool call
    "openai--oll-openai-test_chat_tool_calls-0",  # a tool result in the request
    "openai--oll-openai-test_chat_completion_metrics-4",  # a system prompt
    "openai--oll-openai-test_openai_prompt_caching_async-1",  # cached input tokens
    "openai--oll-openai-test_responses-0",  # Responses API
    "openai--oll-openai-test_completion-0",  # Completions
    "openai--oll-openai-test_embeddings-1",  # Embeddings
    "openai--aigw-chat-bad-request-0",  # a provider error (400)
    "anthropic--oll-anthropic-test_anthropic_message_streaming_legacy-0",
    "anthropic--oll-anthropic-test_async_anthropic_thinking_legacy-0",  # thinking
    "anthropic--oll-anthropic-test_with_asyncio_run_legacy-0",  # a system prompt
    "aws.bedrock--oll-bedrock-test_nova_converse-0",
    "aws.bedrock--oll-bedrock-test_meta_converse_stream-0",
    "gcp.gemini--oll-google-generativeai-test_client_spans-0",
]


def load(name: str) -> dict:
    with open(os.path.join(CAPTURES, name + ".json")) as f:
        return json.load(f)


def response_body(capture: dict) -> bytes:
    response = capture["response"]
    if "body_base64" in response:
        return base64.b64decode(response["body_base64"])
    return response.get("body", "").encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            body = b""
            while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()  # the CRLF after the chunk
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers, up to the blank line
            return body
        return self.rfile.read(int(self.headers.get("content-length", 0)))

    def do_POST(self):
        self.read_body()
        name = self.headers.get("x-capture")
        try:
            capture = load(name)
        except (OSError, TypeError):
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        response = capture["response"]
        body = response_body(capture)
        self.send_response(response["status"])
        for key, value in response["headers"].items():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        streamed = "event-stream" in response["headers"].get("content-type", "") and \
            response["headers"].get("content-encoding") is None
        step = 64 if streamed else len(body) or 1
        for i in range(0, len(body), step):
            self.wfile.write(body[i:i + step])
            self.wfile.flush()
            if streamed:
                time.sleep(0.005)

    do_GET = do_POST


@contextlib.contextmanager
def upstream():
    """Yields the port of a server answering every request with the recorded response its `x-capture` names."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def send(listen_port: int, name: str, headers: dict | None = None) -> int:
    """Sends the recorded request through Envoy, with the provider's host, and reads the whole answer."""
    capture = load(name)
    request = capture["request"]
    url = urllib.parse.urlsplit(request["url"])
    body = request.get("body", "").encode() if "body" in request else base64.b64decode(request.get("body_base64", ""))
    out = {k: v for k, v in request["headers"].items() if k.lower() not in HOP_BY_HOP}
    out.update({"host": url.netloc, "x-capture": name, **(headers or {})})
    connection = http.client.HTTPConnection("127.0.0.1", listen_port, timeout=30)
    try:
        path = url.path + (f"?{url.query}" if url.query else "")
        connection.request(request["method"], path, body=body, headers=out)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
