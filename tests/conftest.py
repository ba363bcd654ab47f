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
    from tests.helpers.grading import autograder

    out = tmp_path_factory.mktemp("student")
    done = autograder("release", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="session")
def uid_python():
    """An interpreter the uid sandbox can run as another user (Gradescope's /autograder/venv is one; ours may lie
    under /root, so ``reachable_python`` makes one of Debian's python3.11 and this venv's packages)."""
    import os
    import shutil

    from tests.helpers.sandboxed import reachable_python

    if os.geteuid() != 0:
        pytest.skip("the uid sandbox is root's (CI, Gradescope)")
    python = reachable_python()
    if python is None:
        pytest.skip("no interpreter an unprivileged user could run (needs Debian's python3.11)")
    yield python
    if python.startswith("/var/tmp/rnn-uid-python-"):
        shutil.rmtree(python.split("/venv/")[0], ignore_errors=True)
