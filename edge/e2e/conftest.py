import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from edge_harness import running_edge  # noqa: E402


@pytest.fixture(scope="module")
def edge():
    with running_edge() as s:
        yield s
