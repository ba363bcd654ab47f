"""Tricks a student might try for points without the work, graded through ``python -m autograder grade``.

Every trick is added to the same honest partial answer of ``elman`` (a right
``elman_step``, a zero-filled ``elman_forward`` and ``params_from_torch`` of
the right shapes). Graded in one batch with that honest answer, each trick
must earn exactly what the honest answer earns, be flagged, and leave the
grader's files and the other submissions' results alone.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from tests.helpers.grading import autograder, read_grades, results_of, write
from tests.helpers.notebooks import REPO, reference_answers, submission
from tests.helpers.tricks import TRICKS

pytestmark = pytest.mark.slow
EXERCISE = "elman"

ZERO_FORWARD = """def elman_forward(X, h0, W_x, W_h, b):
    return np.zeros((np.shape(X)[0], np.shape(X)[1], np.shape(W_h)[0]))
"""
ZERO_PARAMS = """def params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh):
    return np.zeros(np.shape(weight_ih)[::-1]), np.zeros(np.shape(weight_hh)), np.zeros(np.shape(bias_ih))
"""

@pytest.fixture(scope="module")
def attacked(release, tmp_path_factory):
    submitted = tmp_path_factory.mktemp("attacks")
    out = tmp_path_factory.mktemp("attacks-graded")
    student_version = nbformat.read(release / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    honest = reference_answers(EXERCISE)
    honest.update(elman_forward=ZERO_FORWARD, params_from_torch=ZERO_PARAMS)
    write(submitted / "honest", EXERCISE, submission(student_version, honest))
    write(submitted / "solved", EXERCISE, submission(student_version, reference_answers(EXERCISE)))
    # An answer that needs torch earns nothing for its part: the honest part is then elman_step alone.
    write(submitted / "honest_step_only", EXERCISE, submission(student_version, {**honest, "elman_forward": "pass"}))
    for name, trick in TRICKS.items():
        answers = dict(honest)
        trick = trick.replace("{out}", str(out)).replace("{{", "{").replace("}}", "}")
        if name in ("lying_arrays", "uses_torch"):
            answers["elman_forward"] += trick
        else:
            answers["elman_step"] = trick + "\n" + answers["elman_step"]
        write(submitted / name, EXERCISE, submission(student_version, answers))
    done = autograder("grade", str(submitted), "--out", str(out), "--jobs", "2", "--exercise", EXERCISE,
                      "--cell-timeout", "10", "--call-timeout", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout, done.stderr)
    return out


def test_honest_partial_answer_earns_its_part(attacked):
    grades = read_grades(attacked)
    assert float(grades[("honest", EXERCISE)]["score"]) == 4  # elman_step (3) and the shape of elman_forward (1)
    assert float(grades[("solved", EXERCISE)]["score"]) == 10
    assert float(grades[("honest_step_only", EXERCISE)]["score"]) == 3
    assert grades[("honest", EXERCISE)]["flags"] == "" and grades[("solved", EXERCISE)]["flags"] == ""


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_trick_earns_only_the_honest_part_and_is_flagged(attacked, trick):
    grades = read_grades(attacked)
    row = grades[(trick, EXERCISE)]
    assert row["status"] == "graded", row
    honest = "honest_step_only" if trick == "uses_torch" else "honest"
    assert float(row["score"]) == float(grades[(honest, EXERCISE)]["score"]), row
    if trick not in ("uses_torch", "floods_output"):  # honest code, on which the judge alone decides
        assert row["flags"], f"{trick} is not flagged"


def test_a_fork_bomb_costs_only_its_own_submission(attacked):
    """It earns its honest part (above), and every other submission of the batch is graded as usual."""
    grades = read_grades(attacked)
    assert all(row["status"] == "graded" for row in grades.values()), {k: r["message"] for k, r in grades.items()
                                                                       if r["status"] != "graded"}


def test_torch_in_a_numpy_answer_is_explained(attacked):
    tests = results_of(attacked, "uses_torch", EXERCISE)
    assert "PyTorch is not available" in tests["test_elman_forward_values"]["output"]


def test_written_files_are_the_graders(attacked):
    grades = read_grades(attacked)
    assert float(grades[("solved", EXERCISE)]["score"]) == 10
    for path in (attacked / "results").rglob("*.json"):
        assert "tests" in json.loads(path.read_text()), path


def test_feedback_shows_no_hidden_code(attacked):
    for page in (attacked / "feedback").glob("*/*.html"):
        html = page.read_text()
        own = page.parent.name in ("redefines_comparisons", "writes_grader_files", "reads_the_reference")
        for secret in ("HIDDEN TESTS", "autograder.checks", "from autograder", "check_elman", "/checks/",
                       "rnn-grade-", "compare.py"):
            if own and secret in ("autograder.checks", "from autograder", "rnn-grade-"):
                continue  # the student's own code names these; what matters is that we add none
            assert secret not in html, (page, secret)
        assert "Grading summary" in html
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html), "the page loads from outside"
        assert "<script" not in html.lower() and "Content-Security-Policy" in html, "the page runs nothing"
        if "Hidden tests (" in html:  # nbgrader's page of the notebook (not the short page of one Jupyter could not run)
            assert "<math" in html, "math is rendered into MathML at grading time"
