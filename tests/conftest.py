import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# The repository root is the import root for `solutions`, `autograder` and `tests`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def release(tmp_path_factory) -> Path:
    """The student version of every exercise, made by `python -m autograder release`."""
    from tests.grading import autograder

    out = tmp_path_factory.mktemp("student")
    done = autograder("release", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out
