import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import running_stack  # noqa: E402


@pytest.fixture(scope="module")
def stack():
    with running_stack() as s:
        yield s
