"""A class's batch, as an instructor runs it: one gradebook, nothing lost, broken notebooks graded anyway.

One batch of ``elman`` submissions of every kind (tools/classes.py: correct, typical mistakes, blank, a loop, a
crash, notebooks with copied cells or a changed cell type). It is killed with SIGKILL part way, run again (which
must finish without regrading what was done), and must then hold the right score for every submission, in
grades.csv and in one nbgrader gradebook that ``nbgrader export`` reads, with one row per submission.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tools.classes import EXERCISE, build_class, export
from tests.helpers.grading import read_grades
from tests.helpers.notebooks import REPO

pytestmark = pytest.mark.slow


def grade_command(submitted, out, *extra):
    return [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--jobs", "2",
            "--cell-timeout", "10", "--call-timeout", "5", "--exercise", EXERCISE, *extra]


@pytest.fixture(scope="module")
def batch(release, tmp_path_factory):
    submitted, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("class-graded")
    expected = build_class(submitted, release, 20)
    first = subprocess.Popen(grade_command(submitted, out), cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 900
    while len(list(out.glob("work/*/*/result.json"))) < 4 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = len(list(out.glob("work/*/*/result.json")))
    second = subprocess.run(grade_command(submitted, out), cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return out, expected, done_before, second.stdout, submitted


def test_rerun_after_kill_keeps_what_was_graded(batch):
    out, expected, done_before, log, _ = batch
    assert done_before >= 4
    kept = int(log.split(" already graded")[0].rsplit("; ", 1)[-1]) if " already graded" in log else 0
    assert kept >= done_before - 2, log[:500]  # a result written after the kill was requested may be the extra one
    assert f"grading {len(expected) - kept} submission(s)" in log


def test_every_submission_has_its_right_score(batch):
    out, expected, _, _, _ = batch
    grades = read_grades(out)
    assert {student for student, _ in grades} == set(expected)
    wrong = {s: (grades[(s, EXERCISE)]["score"], want) for s, want in expected.items()
             if float(grades[(s, EXERCISE)]["score"]) != want}
    assert not wrong, wrong
    assert "copy of cell" in grades[("s018", EXERCISE)]["message"]
    assert "markdown" in grades[("s019", EXERCISE)]["message"] or "code cell again" in grades[("s019", EXERCISE)]["message"]


def test_nbgrader_export_reads_one_gradebook(batch, tmp_path):
    out, expected, _, _, _ = batch
    assert export(out, tmp_path / "export.csv") == expected


def test_summary_counts_named_mistakes(batch):
    out, *_ = batch
    summary = (out / "summary.md").read_text()
    assert "## Needs a human" in summary and "## Mistakes made" in summary
    assert " elman submissions: " in summary  # at least one named mistake counted
    assert (out / "summary.png").stat().st_size > 1000


def test_force_regrades_and_a_rerun_does_not(release, tmp_path):
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    build_class(submitted, release, 2)  # two correct submissions
    runs = [subprocess.run(grade_command(submitted, out, *extra), cwd=REPO, capture_output=True, text=True,
                           timeout=900) for extra in ((), (), ("--force",))]
    assert all(run.returncode == 0 for run in runs)
    assert "grading 2 submission(s)" in runs[0].stdout
    assert "grading 0 submission(s) with 2 worker(s); 2 already graded" in runs[1].stdout, runs[1].stdout
    assert "grading 2 submission(s)" in runs[2].stdout and "already graded" not in runs[2].stdout
