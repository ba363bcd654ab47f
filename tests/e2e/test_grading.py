"""End to end through ``python -m autograder``: release, then grade a class.

One batch holds, for every exercise, the reference answers, the untouched
student version and a sample of the typical mistakes of tests/exercises/mutants.py
(every eighth: the judge's verdict on every one of them is tested, without
nbgrader, in tests/exercises/test_judge.py), each as its own student.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from autograder.course import exercise_names
from tests.exercises.mutants import MUTANTS
from tests.helpers.grading import autograder, read_grades, results_of, write
from tests.helpers.notebooks import reference_answers, source_notebook, submission

pytestmark = pytest.mark.slow
EXERCISES = exercise_names()
SAMPLE = {exercise: MUTANTS.get(exercise, [])[::8] for exercise in EXERCISES}


@pytest.fixture(scope="session")
def class_graded(release, tmp_path_factory) -> Path:
    submitted = tmp_path_factory.mktemp("submitted")
    for exercise in EXERCISES:
        student_version = nbformat.read(release / exercise / f"{exercise}.ipynb", as_version=4)
        write(submitted / f"{exercise}-solved", exercise, submission(student_version, reference_answers(exercise)))
        write(submitted / f"{exercise}-blank", exercise, student_version)
        for mutant in SAMPLE[exercise]:
            write(submitted / f"{exercise}-{mutant.name}", exercise,
                  submission(student_version, mutant.answers(exercise)))
    out = tmp_path_factory.mktemp("graded")
    done = autograder("grade", str(submitted), "--out", str(out), "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout)
    return out


@pytest.mark.parametrize("exercise", EXERCISES)
def test_release_has_no_solutions_or_hidden_tests(release, exercise):
    text = (release / exercise / f"{exercise}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "autograder.checks"):
        assert marker not in text
    notebook = nbformat.read(release / exercise / f"{exercise}.ipynb", as_version=4)
    nbformat.validate(notebook)
    solution_lines = {line.strip() for line in solution_regions(exercise) if len(line.strip()) > 12}
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            assert "raise NotImplementedError()" in cell.source
            leaked = [line for line in cell.source.splitlines() if line.strip() in solution_lines]
            assert not leaked, f"solution lines in the student version: {leaked}"


def solution_regions(exercise: str) -> list[str]:
    """Every line between the solution markers of the source notebook."""
    lines, inside = [], False
    for cell in source_notebook(exercise).cells:
        for line in cell.source.splitlines():
            if line.strip() == "### BEGIN SOLUTION":
                inside = True
            elif line.strip() == "### END SOLUTION":
                inside = False
            elif inside:
                lines.append(line)
    return lines


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_scores_full_marks(class_graded, exercise):
    row = read_grades(class_graded)[(f"{exercise}-solved", exercise)]
    assert row["status"] == "graded", row["message"]
    assert float(row["score"]) == float(row["max_score"]) > 0, results_of(class_graded, f"{exercise}-solved", exercise)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_student_version_scores_zero(class_graded, exercise):
    row = read_grades(class_graded)[(f"{exercise}-blank", exercise)]
    assert row["status"] == "graded" and float(row["score"]) == 0.0
    assert (class_graded / "feedback" / f"{exercise}-blank" / f"{exercise}.html").is_file()


CASES = [(e, m) for e in EXERCISES for m in SAMPLE[e]]


@pytest.mark.parametrize("exercise,mutant", CASES, ids=[f"{e}-{m.name}" for e, m in CASES])
def test_mistake_loses_points_with_its_message(class_graded, exercise, mutant):
    student = f"{exercise}-{mutant.name}"
    row = read_grades(class_graded)[(student, exercise)]
    assert row["status"] == "graded"
    assert float(row["score"]) < float(row["max_score"])
    tests = results_of(class_graded, student, exercise)
    for name, phrase in mutant.fails.items():
        assert tests[name]["score"] == 0, f"{mutant.name} keeps the points of {name}"
        assert phrase in tests[name]["output"], tests[name]["output"]
    feedback = (class_graded / "feedback" / student / f"{exercise}.html").read_text()
    assert all(phrase.split("`")[0] in feedback for phrase in mutant.fails.values())
    assert all(feedback.count(f'<a href="#{name}">') == 1 for name in mutant.fails)  # one summary line per test
    assert "Test cell" not in feedback and "at index ()" not in feedback  # nbgrader's unnamed list; a number's index


def test_grades_csv_has_one_row_per_submission(class_graded):
    grades = read_grades(class_graded)
    expected = sum(2 + len(SAMPLE[e]) for e in EXERCISES)
    assert len(grades) == expected
    with (class_graded / "grades.csv").open() as handle:
        assert next(csv.reader(handle))[:4] == ["student", "exercise", "score", "max_score"]
