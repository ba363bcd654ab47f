"""The gradebook in a real PostgreSQL (``--db postgresql://...``): a batch killed with SIGKILL and resumed, run
again without a duplicate row, and read back by ``nbgrader export`` from the course folder grade wrote."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from tests.exercises.mutants import MUTANTS
from tests.helpers.grading import write
from tests.helpers.notebooks import REPO, reference_answers, submission
from tests.helpers.postgres import postgres  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow
EXERCISE = "decorators"


def grade(submitted, out, url, jobs="2"):
    return [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--exercise", EXERCISE,
            "--jobs", jobs, "--cell-timeout", "10", "--call-timeout", "5", "--db", url]


def points(answers) -> float:
    from tests.helpers.lms_class import expected_scores

    return next(iter(expected_scores([type("S", (), {"key": "x", "answers": answers})()]).values()))


def test_a_batch_into_postgresql_killed_resumed_and_exported(postgres, release, tmp_path):  # noqa: F811
    import psycopg

    student_version = nbformat.read(release / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    mistake = MUTANTS[EXERCISE][0].answers(EXERCISE)
    answers = {"p000": reference_answers(EXERCISE), "p001": mistake, "p002": None}
    for student, given in answers.items():
        write(tmp_path / "submitted" / student, EXERCISE, submission(student_version, given))
    expected = {"p000": 10.0, "p001": points(mistake), "p002": 0.0}
    out = tmp_path / "out"

    first = subprocess.Popen(grade(tmp_path / "submitted", out, postgres.url, jobs="1"), cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while not list(out.glob("work/*/*/result.json")) and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = len(list(out.glob("work/*/*/result.json")))
    assert 1 <= done_before < 3, "the batch was not killed mid-way"

    second = subprocess.run(grade(tmp_path / "submitted", out, postgres.url), cwd=REPO, capture_output=True,
                            text=True, timeout=900)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert f"{done_before} already graded" in second.stdout
    assert f"@127.0.0.1:{postgres.port}/gradebook" in second.stdout  # the server's gradebook was written
    third = subprocess.run(grade(tmp_path / "submitted", out, postgres.url), cwd=REPO, capture_output=True,
                           text=True, timeout=900)
    assert third.returncode == 0 and "grading 0 submission(s)" in third.stdout, third.stdout[-2000:]
    assert not (out / "gradebook.db").exists()  # the gradebook is the server's

    export = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "export", "--to",
                             str(tmp_path / "export.csv")], cwd=out, capture_output=True, text=True, timeout=300)
    assert export.returncode == 0, export.stdout + export.stderr
    with (tmp_path / "export.csv").open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["assignment"] == EXERCISE]
    assert len(rows) == 3, rows
    assert {row["student_id"]: float(row["score"]) for row in rows} == expected

    with psycopg.connect(postgres.url) as connection:
        assert connection.execute("SELECT count(*) FROM submitted_assignment").fetchone()[0] == 3
