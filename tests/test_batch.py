"""A class's batch, as an instructor runs it: one gradebook, nothing lost, broken notebooks graded anyway.

One batch of ``elman`` submissions of every kind (correct, typical mistakes,
blank, a loop, a crash, notebooks with copied cells or a changed cell type).
It is killed with SIGKILL part way, run again (which must finish without
regrading what was done), and must then hold the right score for every
submission, in grades.csv and in one nbgrader gradebook that ``nbgrader
export`` reads, with one row per submission.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from tests.grading import read_grades, write
from tests.judged import judge_exercise
from tests.mutants import MUTANTS
from tests.notebooks import REPO, reference_answers, submission

pytestmark = pytest.mark.slow
EXERCISE = "elman"


def points(exercise, answers) -> float:
    """What these answers earn, by the judge alone (no nbgrader): the expected score."""
    from autograder.course import EXERCISES

    notebook = nbformat.read(EXERCISES / exercise / f"{exercise}.ipynb", as_version=4)
    worth = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in notebook.cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    return sum(worth[name] for name, verdict in judge_exercise(exercise, answers).items() if verdict.passed)


@pytest.fixture(scope="module")
def batch(release, tmp_path_factory):
    submitted, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("class-graded")
    student_version = nbformat.read(release / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    expected = {}

    def add(student, answers, score, notebook=None):
        write(submitted / student, EXERCISE, notebook or submission(student_version, answers))
        expected[student] = score

    reference = reference_answers(EXERCISE)
    for k in range(6):
        add(f"correct-{k}", reference, 10)
    for mutant in MUTANTS[EXERCISE][::4]:
        answers = mutant.answers(EXERCISE)
        add(f"mistake-{mutant.name}", answers, points(EXERCISE, answers))
    add("blank", None, 0)
    add("loops", {**reference, "elman_forward": "def elman_forward(X, h0, W_x, W_h, b):\n    while True:\n        pass\n"}, 6)
    add("crashes", {**reference, "params_from_torch": "import os\nos._exit(1)\n"}, 7)
    copied = submission(student_version, reference)
    test_cell = next(c for c in copied.cells if c.metadata.get("nbgrader", {}).get("grade"))
    copied.cells.append(nbformat.from_dict(test_cell))  # a student copied a test cell (same nbgrader id)
    add("copied-test-cell", None, 10, copied)
    retyped = submission(student_version, reference)
    answer = next(c for c in retyped.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "elman_step")
    retyped.cells.insert(retyped.cells.index(answer) + 1, nbformat.from_dict(answer))  # copied answer cell
    intro = next(c for c in retyped.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "imports")
    intro.cell_type = "markdown"  # a read-only code cell turned into markdown
    intro.pop("outputs", None)
    intro.pop("execution_count", None)
    add("copied-and-retyped", None, 10, retyped)

    command = [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--jobs", "2",
               "--cell-timeout", "10", "--exercise", EXERCISE]
    first = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True, text=True)
    deadline = time.monotonic() + 900
    while len(list(out.glob("work/*/*/result.json"))) < 4 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = len(list(out.glob("work/*/*/result.json")))
    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return out, expected, done_before, second.stdout, submitted


def test_rerun_after_kill_keeps_what_was_graded(batch):
    out, expected, done_before, log, _ = batch
    assert done_before >= 4
    assert f"{done_before} already graded" in log or f"{done_before - 1} already graded" in log, log[:500]


def test_every_submission_has_its_right_score(batch):
    out, expected, _, _, _ = batch
    grades = read_grades(out)
    assert {student for student, _ in grades} == set(expected)
    wrong = {s: (grades[(s, EXERCISE)]["score"], want) for s, want in expected.items()
             if float(grades[(s, EXERCISE)]["score"]) != want}
    assert not wrong, wrong
    assert "copied" in grades[("copied-test-cell", EXERCISE)]["message"]


def test_nbgrader_export_reads_one_gradebook(batch, tmp_path):
    out, expected, _, _, _ = batch
    target = tmp_path / "export.csv"
    done = subprocess.run([str(REPO / ".venv" / "bin" / "nbgrader"), "export", "--to", str(target)], cwd=out,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with target.open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["assignment"] == EXERCISE]
    assert len(rows) == len(expected), "one row per submission, none twice"
    assert {row["student_id"]: float(row["score"]) for row in rows} == {s: float(v) for s, v in expected.items()}


def test_force_regrades(batch):
    out, expected, _, _, submitted = batch
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
                           "--exercise", EXERCISE, "--force", "--jobs", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0
    assert f"grading {len(expected)} submission(s)" in done.stdout


def test_summary_counts_named_mistakes(batch):
    out, _, _, _, _ = batch
    summary = (out / "summary.md").read_text()
    assert "## Needs a human" in summary and "## Mistakes made" in summary
    assert "submissions:" in summary  # at least one named mistake counted
    assert (out / "summary.png").stat().st_size > 1000
