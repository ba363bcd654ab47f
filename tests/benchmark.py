"""Grading throughput, measured: ``python -m tests.benchmark [--students N] [--exercise EX]``.

Prints how long ``release`` takes, then grades N copies of the reference
answers of one exercise with 1 and with 2 workers and prints seconds per
submission. Figures, not assertions: run it on the machine you will grade on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from tests.grading import autograder, read_grades, write
from tests.notebooks import reference_answers, submission


def timed(*args: str) -> float:
    started = time.monotonic()
    done = autograder(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--exercise", default="elman")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        seconds = timed("release", "--out", str(tmp / "student"))
        print(f"release (every exercise): {seconds:.1f} s")
        student = nbformat.read(tmp / "student" / args.exercise / f"{args.exercise}.ipynb", as_version=4)
        solved = submission(student, reference_answers(args.exercise))
        for i in range(args.students):
            write(tmp / "submitted" / f"student{i:03d}", args.exercise, solved)
        print(f"grading {args.students} copies of the reference answers of {args.exercise!r}:")
        for jobs in (1, 2):
            out = tmp / f"graded-{jobs}"
            seconds = timed("grade", str(tmp / "submitted"), "--out", str(out), "--jobs", str(jobs))
            grades = read_grades(out)
            assert all(row["score"] == row["max_score"] for row in grades.values())
            per = [json.loads((out / "work" / s / args.exercise / "result.json").read_text()).get("timings", {})
                   for s, _ in grades]
            autograde = statistics.mean(p.get("autograde", 0) for p in per)
            feedback = statistics.mean(p.get("feedback", 0) for p in per)
            print(f"  --jobs {jobs}: {seconds:.1f} s in all, {seconds / args.students:.2f} s per submission "
                  f"(nbgrader autograde {autograde:.2f} s and feedback {feedback:.2f} s each, mean)")


if __name__ == "__main__":
    main()
