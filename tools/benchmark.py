"""Grading throughput, side by side with plain nbgrader: ``python -m tools.benchmark [--students N]``.

Makes N submissions of one exercise (default 40 of ``elman``: half the
reference answers, half typical mistakes), then grades them twice, in one run:

* plain nbgrader, as shipped: ``nbgrader autograde`` then ``nbgrader
  generate_feedback``, in a course directory whose source is ``exercises/``
  (the hidden tests run in the student's kernel, as nbgrader does);
* ``python -m autograder grade`` with its defaults (one worker more than
  cores, the judge in a separate process, kernels forked by each worker's
  zygote, the student's code sandboxed). Neither clock counts making the
  assignment: plain nbgrader's generate_assignment, and our release for
  grading (cached by a batch of one submission first).

It checks that every score agrees, then prints both times, the ratio, where a
worker's time goes, and the cost of executing one reference notebook alone.
Figures, not assertions about speed: run it on the machine you will grade on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.course import COURSE_ID, EXERCISES
from autograder.records import Limits
from tests.helpers.grading import autograder, read_grades, write
from tests.exercises.mutants import MUTANTS
from tests.helpers.notebooks import REPO, reference_answers, submission

NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def make_submissions(folder: Path, exercise: str, count: int, release: Path) -> None:
    student_version = nbformat.read(release / exercise / f"{exercise}.ipynb", as_version=4)
    mutants = MUTANTS.get(exercise, [])
    for k in range(count):
        answers = reference_answers(exercise) if k % 2 == 0 or not mutants else mutants[k // 2 % len(mutants)].answers(exercise)
        write(folder / f"student{k:03d}", exercise, submission(student_version, answers))


def plain_nbgrader(course: Path, submitted: Path, exercise: str) -> tuple[float, dict[str, float]]:
    """nbgrader as shipped: autograde, then generate_feedback. Returns (seconds, {student: score})."""
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.source_directory = {str(EXERCISES)!r}\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n")
    shutil.copytree(submitted, course / "submitted")
    # The hidden tests import autograder.checks in the kernel; nbgrader runs `alembic` from the environment.
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": f"{Path(NBGRADER).parent}{os.pathsep}{os.environ['PATH']}"}
    run = lambda *args: subprocess.run([NBGRADER, *args], cwd=course, env=env, capture_output=True, text=True,
                                       check=True)
    run("generate_assignment", exercise, "--force")
    started = time.monotonic()
    run("autograde", exercise, "--force")
    run("generate_feedback", exercise, "--force")
    seconds = time.monotonic() - started
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute(
            "SELECT student.id, SUM(COALESCE(grade.manual_score, grade.auto_score, 0)) FROM grade "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id").fetchall()
    return seconds, {student: float(score) for student, score in rows}


PARTS = {"judge": "judge (the student's process for the hidden tests, and the checks)",
         "kernel start": "kernel start", "cells": "cells", "nbgrader": "nbgrader's bookkeeping",
         "feedback": "nbgrader's feedback page", "page": "our standalone page"}


def print_parts(results: list[dict], batch_seconds: float, count: int) -> None:
    """Where a worker's time goes per submission (means over the batch), and what the batch adds around them."""
    mean = lambda part: statistics.mean(r.get("timings", {}).get(part, 0.0) for r in results)
    parts = {part: mean(part) for part in PARTS}
    parts["nbgrader"] = mean("autograde") - parts["kernel start"] - parts["cells"]
    worker = statistics.mean(r["seconds"] for r in results)
    print("    per submission, inside a worker (means): " + ", ".join(
        f"{PARTS[part]} {sec:.2f} s" for part, sec in parts.items())
        + f"; {worker:.2f} s in all, {Limits.jobs} workers sharing {os.cpu_count()} cores")
    busy = worker * count / min(Limits.jobs, count)
    print(f"    the batch around its jobs (start, release, outputs, summary, similarity): about "
          f"{max(batch_seconds - busy, 0):.1f} s of {batch_seconds:.1f} s")


def notebook_alone(path: Path, runs: int = 3) -> float:
    """Median seconds to execute the notebook at ``path`` in a new local kernel, as a student's "Run all" does."""
    from nbclient import NotebookClient

    times = []
    for _ in range(runs):
        notebook = nbformat.read(path, as_version=4)
        started = time.monotonic()
        NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        times.append(time.monotonic() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--exercise", default="elman")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        done = autograder("release", "--out", str(tmp / "student"), "--exercise", args.exercise)
        assert done.returncode == 0, done.stderr
        make_submissions(tmp / "submitted", args.exercise, args.students, tmp / "student")
        print(f"{args.students} submissions of {args.exercise!r} (half correct, half typical mistakes), "
              f"{os.cpu_count()} cores")

        plain_seconds, plain = plain_nbgrader(tmp / "plain", tmp / "submitted", args.exercise)
        print(f"  plain nbgrader (autograde + generate_feedback): {plain_seconds:7.1f} s "
              f"({plain_seconds / args.students:.2f} s per submission)")

        # As plain nbgrader's generate_assignment runs before its clock starts, our release for grading is made
        # (and cached, see course.cached_student_versions) by a batch of one submission before ours starts.
        one = tmp / "one" / "student000"
        shutil.copytree(tmp / "submitted" / "student000", one)
        done = autograder("grade", str(one.parent), "--out", str(tmp / "one-out"), "--exercise", args.exercise)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        started = time.monotonic()
        done = autograder("grade", str(tmp / "submitted"), "--out", str(tmp / "ours"), "--exercise", args.exercise)
        ours_seconds = time.monotonic() - started
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        ours = {student: float(row["score"]) for (student, _), row in read_grades(tmp / "ours").items()}
        print(f"  python -m autograder grade (everything):       {ours_seconds:7.1f} s "
              f"({ours_seconds / args.students:.2f} s per submission)")
        results = [json.loads(path.read_text()) for path in (tmp / "ours" / "work").glob(f"*/{args.exercise}/result.json")]
        print_parts(results, ours_seconds, args.students)
        alone = notebook_alone(tmp / "submitted" / "student000" / args.exercise / f"{args.exercise}.ipynb")
        worker_seconds = statistics.mean(r["seconds"] for r in results)
        print(f"  one reference notebook executed alone in a new kernel (nbclient, no sandbox): {alone:.2f} s; "
              f"ours per submission in a worker {worker_seconds:.2f} s = {worker_seconds / alone:.2f}x of it")
        differ = {s: (plain.get(s), ours.get(s)) for s in set(plain) | set(ours) if plain.get(s) != ours.get(s)}
        print(f"  scores agree on {args.students - len(differ)} of {args.students} submissions"
              + (f"; they differ on {differ}" if differ else ""))
        print(f"  speed-up: {plain_seconds / ours_seconds:.2f}x")


if __name__ == "__main__":
    main()
