import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import running_stack  # noqa: E402


@pytest.fixture(scope="module")
def stack():
    # The collector cluster is two real OpenTelemetry collectors (rotel), each forwarding to an OTLP receiver.
    with running_stack(collector="rotel") as s:
        yield s
