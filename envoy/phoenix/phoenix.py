"""Arize Phoenix on loopback for the opt-in `make e2e-phoenix`: starts `phoenix serve` from its own venv
(`.venv-phoenix`, pinned in the Makefile) with a throwaway working directory, no telemetry and no requests to the
internet, and reads back what it shows through its GraphQL API (the one its UI uses) and its REST API.

Phoenix binds its OTLP/gRPC port on every interface (`[::]`, not configurable in 20.x): `run.sh` runs the whole
check in a network namespace of its own that has only loopback."""
import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOENIX = os.environ.get("PHOENIX_BIN", os.path.join(ROOT, ".venv-phoenix", "bin", "phoenix"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Phoenix:
    def __init__(self, port: int, grpc_port: int, workdir: str, proc: subprocess.Popen):
        self.port, self.grpc_port, self.workdir, self.proc = port, grpc_port, workdir, proc

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read())

    def graphql(self, query: str, **variables) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(self.url + "/graphql", data=body, method="POST",
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = json.loads(r.read())
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]


@contextlib.contextmanager
def running_phoenix(workdir: str | None = None, startup_timeout: float = 180):
    workdir = workdir or tempfile.mkdtemp(prefix="phoenix-")
    os.makedirs(workdir, exist_ok=True)
    port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_WORKING_DIR": os.path.join(workdir, "phoenix"),  # its SQLite database lives here
        "PHOENIX_TELEMETRY_ENABLED": "false",  # no FullStory / Scarf pixels
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",  # no web fonts, telemetry or downloads of its own
        "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
    }
    log = open(os.path.join(workdir, "phoenix.log"), "w")
    proc = subprocess.Popen([PHOENIX, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    phoenix = Phoenix(port, grpc_port, workdir, proc)
    try:
        deadline = time.time() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"phoenix exited with {proc.returncode}: see {log.name}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(phoenix.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            if time.time() > deadline:
                raise TimeoutError(f"phoenix not ready after {startup_timeout}s: see {log.name}")
            time.sleep(0.5)
        yield phoenix
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# What a user sees of a span, in one query: the fields Phoenix's trace view renders.
SPAN_FIELDS = """
  id name spanKind statusCode statusMessage startTime endTime latencyMs parentId
  context { traceId spanId }
  tokenCountTotal tokenCountPrompt tokenCountCompletion
  tokenPromptDetails { cacheRead cacheWrite audio }
  input { value mimeType } output { value mimeType }
  events { name timestamp message attributes }
  attributes
  costSummary { prompt { cost tokens } completion { cost tokens } total { cost tokens } }
  costDetailSummaryEntries { tokenType isPrompt value { cost tokens } }
"""

PROJECT_SPANS = """
query ($name: String!, $first: Int!) {
  getProjectByName(name: $name) {
    id name
    spans(first: $first, sort: {col: startTime, dir: asc}) { edges { node { %s } } }
  }
}
""" % SPAN_FIELDS


def project_spans(phoenix: Phoenix, project: str, first: int = 500) -> list[dict]:
    data = phoenix.graphql(PROJECT_SPANS, name=project, first=first)
    project_node = data.get("getProjectByName")
    if not project_node:
        return []
    spans = [edge["node"] for edge in project_node["spans"]["edges"]]
    for span in spans:
        span["attributes"] = json.loads(span["attributes"]) if isinstance(span["attributes"], str) else span["attributes"]
        span["project_id"] = project_node["id"]
    return spans
