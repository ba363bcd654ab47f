"""The Gradescope bundle: built by ``python -m autograder gradescope``, run as Gradescope would run it.

The zip is unpacked into a simulated ``/autograder`` (a temporary folder,
passed as AUTOGRADER_ROOT), a submission is put in ``submission/``, and the
bundle's own ``run_autograder`` grades it with this machine's Python (Gradescope
would use the venv its ``setup.sh`` made). The results.json must follow
Gradescope's schema and hold the right score.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import nbformat
import pytest

from tests.helpers.grading import autograder
from tests.helpers.notebooks import reference_answers, submission

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    done = autograder("gradescope", "elman", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_bundle_holds_what_gradescope_runs(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        requirements = archive.read("requirements.txt").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "EXERCISE", "exercises/elman/elman.ipynb",
            "autograder/judge.py", "autograder/checks/elman.py"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert "torch==2.13.0" in requirements and "nbgrader==" in requirements and "jupyter-book" not in requirements
    assert not any(name.startswith("solutions/") for name in names), "the bundle needs no reference solutions"


def run_in_simulated_gradescope(bundle, tmp_path, notebook, python=sys.executable, sandbox="auto"):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    (root / "submission").mkdir(parents=True)
    if notebook is not None:
        nbformat.write(notebook, root / "submission" / "elman.ipynb")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python, "AUTOGRADER_SANDBOX": sandbox}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.parametrize("solved", [True, False])
def test_run_autograder_writes_gradescope_results(bundle, release, tmp_path, solved):
    student_version = nbformat.read(release / "elman" / "elman.ipynb", as_version=4)
    notebook = submission(student_version, reference_answers("elman") if solved else None)
    results = run_in_simulated_gradescope(bundle, tmp_path, notebook)
    assert isinstance(results["score"], (int, float)) and results["score"] == (10 if solved else 0)
    assert len(results["tests"]) == 7
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output"}
        assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"]
    assert sum(t["max_score"] for t in results["tests"]) == 10


def test_run_autograder_without_a_notebook_says_so(bundle, tmp_path):
    results = run_in_simulated_gradescope(bundle, tmp_path, None)
    assert results["score"] == 0 and "No notebook" in results["output"]


@pytest.mark.parametrize("solved", [True, False])
def test_uid_fallback_grades_like_bubblewrap(bundle, release, tmp_path, uid_python, solved):
    """Where bubblewrap cannot start (most containers), the uid sandbox grades a correct notebook 10 and a blank 0."""
    student_version = nbformat.read(release / "elman" / "elman.ipynb", as_version=4)
    notebook = submission(student_version, reference_answers("elman") if solved else None)
    results = run_in_simulated_gradescope(bundle, tmp_path, notebook, python=uid_python, sandbox="uid")
    assert results["score"] == (10 if solved else 0), results["output"]
    assert (tmp_path / "autograder" / "source").stat().st_mode & 0o077 == 0, "the source is closed to student code"


def test_a_linked_submission_is_refused(bundle, tmp_path):
    """A submission that is only a link to the bundle's source notebook (which holds the solutions) earns nothing."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "elman.ipynb").symlink_to(root / "source" / "exercises" / "elman" / "elman.ipynb")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "link" in results["output"], results
