"""Broken submissions get a clear status and message, and never stop the batch."""

from __future__ import annotations

import nbformat
import pytest

from tests.helpers.grading import autograder, read_grades, results_of, write
from tests.helpers.notebooks import reference_answers, submission

pytestmark = pytest.mark.slow
EXERCISE = "decorators"

SABOTAGE = {
    # An infinite loop inside a graded function: each test that calls it is interrupted.
    "loops": ("count_calls", "def count_calls(fn):\n    while True:\n        pass\n"),
    # A loop that swallows the interrupt: only the whole-submission time limit stops it.
    "loops_stubbornly": ("register", "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n"
                                     "    except KeyboardInterrupt:\n        pass\n"),
    # Breaks the kernel itself: ipykernel cannot answer once isinstance lies, and no interrupt helps.
    "breaks_its_kernel": ("register", "import builtins\nbuiltins.isinstance = lambda obj, cls: False\n"),
    # Kills its own kernel.
    "crashes": ("register", "import os\nos._exit(3)\n"),
    # Kills its kernel only when a test calls it.
    "crashes_when_called": ("register", "def register(registry):\n    import os\n    os._exit(3)\n"),
    # Asks for far more memory than the limit.
    "hogs_memory": ("register", "hog = bytearray(20 * 1024**3)\n"),
}


@pytest.fixture(scope="module")
def sabotaged(release, tmp_path_factory):
    submitted = tmp_path_factory.mktemp("sabotaged")
    student_version = nbformat.read(release / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    write(submitted / "good", EXERCISE, submission(student_version, reference_answers(EXERCISE)))
    for student, (cell, code) in SABOTAGE.items():
        answers = reference_answers(EXERCISE)
        answers[cell] = code + ("\n" + answers[cell] if student not in ("loops", "crashes_when_called") else "")
        write(submitted / student, EXERCISE, submission(student_version, answers))
    tampered = nbformat.from_dict(student_version)  # blank answers, every test cell emptied
    for cell in tampered.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass"
    write(submitted / "tampered", EXERCISE, tampered)
    deleted = submission(student_version, reference_answers(EXERCISE))
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_register"]
    write(submitted / "deleted_a_test", EXERCISE, deleted)
    renamed = submitted / "renamed" / EXERCISE
    renamed.mkdir(parents=True)
    nbformat.write(submission(student_version, reference_answers(EXERCISE)), renamed / f"{EXERCISE} (1).ipynb")
    (submitted / "corrupt" / EXERCISE).mkdir(parents=True)
    (submitted / "corrupt" / EXERCISE / f"{EXERCISE}.ipynb").write_text('{"cells": [')
    (submitted / "empty_folder" / EXERCISE).mkdir(parents=True)
    out = tmp_path_factory.mktemp("sabotaged-out")
    done = autograder("grade", str(submitted), "--out", str(out), "--jobs", "2", "--timeout", "90",
                      "--cell-timeout", "4", "--call-timeout", "5", "--memory", "3000")
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_good_submission_unaffected(sabotaged):
    row = read_grades(sabotaged)[("good", EXERCISE)]
    assert row["status"] == "graded" and row["score"] == row["max_score"]


def test_infinite_loop_loses_only_the_tests_that_hit_it(sabotaged):
    row = read_grades(sabotaged)[("loops", EXERCISE)]
    tests = results_of(sabotaged, "loops", EXERCISE)
    assert row["status"] == "graded"
    assert tests["test_count_calls_result"]["score"] == 0
    assert "ran too long" in tests["test_count_calls_result"]["output"]
    for later in ("test_count_calls_counter", "test_count_calls_metadata"):  # its call timeout is spent once
        assert tests[later]["score"] == 0
        assert "`count_calls` did not return within 5 s when an earlier hidden test called it" in tests[later]["output"]
    assert tests["test_register"]["score"] == tests["test_register"]["max_score"]


def test_a_stubborn_loop_costs_only_its_own_cell(sabotaged):
    row = read_grades(sabotaged)[("loops_stubbornly", EXERCISE)]
    tests = results_of(sabotaged, "loops_stubbornly", EXERCISE)
    assert row["status"] == "graded" and "the cells after register, which did not stop when interrupted" in (
        row["message"])
    assert tests["test_register"]["score"] == 0
    assert float(row["score"]) == float(row["max_score"]) - tests["test_register"]["max_score"]


def test_a_broken_kernel_is_given_up_at_its_first_stuck_cell(sabotaged):
    """The kernel stops answering in the cell that broke it: the rest of the notebook is skipped, not waited
    for cell by cell; the judge, which does not need the kernel, gives the functions their points."""
    row = read_grades(sabotaged)[("breaks_its_kernel", EXERCISE)]
    assert row["status"] == "graded" and float(row["score"]) == float(row["max_score"])
    assert "the cells after register, which did not stop when interrupted" in row["message"]


def test_a_crashing_cell_costs_only_its_own_tests(sabotaged):
    row = read_grades(sabotaged)[("crashes", EXERCISE)]
    tests = results_of(sabotaged, "crashes", EXERCISE)
    assert row["status"] == "graded" and "register (crashed Python)" in row["message"]
    assert tests["test_register"]["score"] == 0
    assert float(row["score"]) == float(row["max_score"]) - tests["test_register"]["max_score"]


def test_a_crash_inside_a_test_costs_only_that_test(sabotaged):
    row = read_grades(sabotaged)[("crashes_when_called", EXERCISE)]
    tests = results_of(sabotaged, "crashes_when_called", EXERCISE)
    assert row["status"] == "graded"
    assert tests["test_register"]["score"] == 0 and "stopped" in tests["test_register"]["output"]
    assert float(row["score"]) == float(row["max_score"]) - tests["test_register"]["max_score"]
    assert "could not be run in Jupyter" in row["message"]  # so the feedback has no visible tests


def test_memory_hog_gets_a_memory_error_not_the_machine(sabotaged):
    row = read_grades(sabotaged)[("hogs_memory", EXERCISE)]
    tests = results_of(sabotaged, "hogs_memory", EXERCISE)
    assert row["status"] == "graded"
    assert tests["test_register"]["score"] == 0  # the cell that defines register failed
    assert tests["test_count_calls_result"]["score"] == 1  # the rest of the notebook still ran


def test_edited_test_cells_are_restored(sabotaged):
    row = read_grades(sabotaged)[("tampered", EXERCISE)]
    assert row["status"] == "graded" and float(row["score"]) == 0


def test_a_deleted_test_cell_is_put_back_and_graded(sabotaged):
    row = read_grades(sabotaged)[("deleted_a_test", EXERCISE)]
    assert row["score"] == row["max_score"]
    assert "restored for grading: test_register" in row["message"]


def test_a_renamed_notebook_is_graded_and_the_rename_noted(sabotaged):
    row = read_grades(sabotaged)[("renamed", EXERCISE)]
    assert row["score"] == row["max_score"] and f"{EXERCISE} (1).ipynb" in row["message"]


def test_score_table_has_a_row_per_student(sabotaged):
    lines = (sabotaged / "scores.csv").read_text().splitlines()
    assert lines[0] == f"student,{EXERCISE} (10),total (10)"
    assert "good,10,10" in lines and len(lines) == 1 + len({k[0] for k in read_grades(sabotaged)})


def test_corrupt_and_missing_notebooks_are_explained(sabotaged):
    grades = read_grades(sabotaged)
    assert grades[("corrupt", EXERCISE)]["status"] == "invalid"
    assert "not a valid Jupyter notebook" in grades[("corrupt", EXERCISE)]["message"]
    assert grades[("empty_folder", EXERCISE)]["status"] == "missing"
    for student in ("corrupt", "empty_folder"):
        assert (sabotaged / "feedback" / student / f"{EXERCISE}.html").is_file()


def test_cli_errors_are_sentences(tmp_path):
    done = autograder("grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "is not a folder" in done.stderr
    done = autograder("grade", str(tmp_path), "--out", str(tmp_path / "out"), "--exercise", "nope")
    assert done.returncode == 2 and "Unknown exercise" in done.stderr
