"""A synthetic class of ``elman`` submissions of every kind, with the score each must get.

Used by tests/e2e/test_batch.py (a small class, in CI) and ``python -m tools.classes N`` (a class of N, timed, with
the scores checked and the gradebook exported by nbgrader: the figures for an instructor's night).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from tests.exercises.mutants import MUTANTS
from tests.helpers.grading import autograder, read_grades, write
from tests.helpers.judged import judge_exercise
from tests.helpers.notebooks import REPO, reference_answers, submission

EXERCISE = "elman"
LOOP = "def elman_forward(X, h0, W_x, W_h, b):\n    while True:\n        pass\n"


def points(answers) -> float:
    """What these answers earn by the judge alone (no nbgrader): the expected score."""
    from autograder.course import EXERCISES

    notebook = nbformat.read(EXERCISES / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    worth = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in notebook.cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    return sum(worth[name] for name, verdict in judge_exercise(EXERCISE, answers).items() if verdict.passed)


def broken_structure(student_version, kind: int):
    """The reference answers in a notebook a student broke: a copied test cell, or a copied answer cell and a
    read-only code cell turned into markdown."""
    notebook = submission(student_version, reference_answers(EXERCISE))
    if kind == 0:
        test_cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade"))
        notebook.cells.append(nbformat.from_dict(test_cell))
    else:
        answer = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "elman_step")
        notebook.cells.insert(notebook.cells.index(answer) + 1, nbformat.from_dict(answer))
        setup = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "imports")
        setup.cell_type = "markdown"
        setup.pop("outputs", None)
        setup.pop("execution_count", None)
    return notebook


def build_class(submitted: Path, release: Path, size: int) -> dict[str, float]:
    """Write ``size`` submissions into ``submitted``; returns {student: expected score}.

    In every 20: 8 correct, 6 typical mistakes (cycling through all of them), 2 blank, 1 loop, 1 crash, 2 broken
    structure.
    """
    student_version = nbformat.read(release / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    reference, mutants, expected = reference_answers(EXERCISE), MUTANTS[EXERCISE], {}
    scores: dict[str, float] = {}
    for k in range(size):
        slot, student = k % 20, f"s{k:03d}"
        if slot < 8:
            notebook, score = submission(student_version, reference), 10.0
        elif slot < 14:
            mutant = mutants[(k // 20 * 6 + slot - 8) % len(mutants)]
            if mutant.name not in scores:
                scores[mutant.name] = points(mutant.answers(EXERCISE))
            notebook, score = submission(student_version, mutant.answers(EXERCISE)), scores[mutant.name]
            student += f"-{mutant.name}"
        elif slot < 16:
            notebook, score = submission(student_version, None), 0.0
        elif slot == 16:
            notebook, score = submission(student_version, {**reference, "elman_forward": LOOP}), 6.0
        elif slot == 17:
            notebook, score = submission(student_version, {**reference, "params_from_torch": "import os\nos._exit(1)\n"}), 7.0
        else:
            notebook, score = broken_structure(student_version, slot - 18), 10.0
        write(submitted / student, EXERCISE, notebook)
        expected[student] = score
    return expected


def export(out: Path, target: Path) -> dict[str, float]:
    """{student: score} as ``nbgrader export`` reads them from the batch's gradebook."""
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export", "--to", str(target)], cwd=out,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    with target.open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["assignment"] == EXERCISE]
    assert len(rows) == len({row["student_id"] for row in rows}), "a submission is in the gradebook twice"
    return {row["student_id"]: float(row["score"]) for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("size", type=int, nargs="?", default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        assert autograder("release", "--out", str(tmp / "student"), "--exercise", EXERCISE).returncode == 0
        expected = build_class(tmp / "submitted", tmp / "student", args.size)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp / "submitted"), "--out",
                               str(tmp / "out"), "--exercise", EXERCISE, "--cell-timeout", "10"], cwd=REPO,
                              capture_output=True, text=True)
        seconds = time.monotonic() - started
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        grades = {s: float(row["score"]) for (s, _), row in read_grades(tmp / "out").items()}
        exported = export(tmp / "out", tmp / "export.csv")
        wrong = {s: (grades.get(s), want) for s, want in expected.items() if grades.get(s) != want}
        print(f"{args.size} submissions graded in {seconds:.0f} s ({seconds / args.size:.2f} s each); "
              f"{args.size - len(wrong)} with the expected score{'; wrong: ' + str(wrong) if wrong else ''}; "
              f"nbgrader export reads {len(exported)} rows, {sum(exported[s] == grades[s] for s in exported)} "
              "equal to grades.csv")
        print(done.stdout[done.stdout.find("## Needs a human"):][:3000])


if __name__ == "__main__":
    main()
