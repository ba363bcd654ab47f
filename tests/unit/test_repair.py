"""repair.py: copied cells and changed cell types undone, deleted read-only cells put back where they were, the
code the judge runs chosen, and the tests a release promises."""

from __future__ import annotations

import copy

import nbformat
import pytest

from autograder import repair
from autograder import records


def cell(kind: str, grade_id: str | None, source: str = "", **meta):
    made = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if grade_id is not None:
        made.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "locked": False, "solution": False,
                                     "schema_version": 3, **meta}
    return made


def release_notebook():
    return nbformat.v4.new_notebook(cells=[
        cell("markdown", "intro", "# Elman", locked=True),
        cell("code", "setup", "import numpy as np", locked=True),
        cell("code", "answer_step", "# YOUR CODE HERE", solution=True),
        cell("code", "test_step", "assert True", grade=True, locked=True, points=2),
        cell("markdown", "answer_prose", "YOUR ANSWER HERE", solution=True),
        cell("code", "answer_forward", "# YOUR CODE HERE", solution=True),
        cell("code", "test_forward", "assert True", grade=True, locked=True, points=3),
        cell("markdown", "graded_prose", "Explain.", grade=True, solution=True, points=1),
    ])


def ids(notebook):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]


@pytest.fixture
def release():
    return release_notebook()


@pytest.fixture
def submission():
    notebook = release_notebook()
    notebook.cells[2].source = "def elman_step(x): return x"
    notebook.cells[5].source = "def elman_forward(x): return x"
    return notebook


def test_an_untouched_submission_needs_no_repair(release, submission):
    before = copy.deepcopy(submission)
    assert repair.repair_structure(submission, release) == []
    assert repair.restore_deleted_cells(submission, release) == []
    assert submission == before


def test_a_copied_cell_becomes_a_plain_cell_and_the_first_keeps_its_id(release, submission):
    copied = copy.deepcopy(submission.cells[3])
    copied.outputs = [nbformat.v4.new_output("stream", text="old output")]
    copied.execution_count = 7
    submission.cells.append(copied)
    notes = repair.repair_structure(submission, release)
    assert notes == ["a copy of cell test_step was kept as a plain cell"]
    assert ids(submission).count("test_step") == 1 and ids(submission)[3] == "test_step"
    last = submission.cells[-1]
    assert "nbgrader" not in last.metadata and last.source == "assert True"
    assert last.outputs == [] and last.execution_count is None


def test_a_cell_the_exercise_never_had_loses_its_id(release, submission):
    submission.cells.append(cell("code", "test_bonus", "print(1)", grade=True, points=100))
    assert repair.repair_structure(submission, release) == [
        "cell test_bonus is not a cell of this exercise and was kept as a plain cell"]
    assert "nbgrader" not in submission.cells[-1].metadata and submission.cells[-1].source == "print(1)"


def test_a_changed_cell_type_is_put_back(release, submission):
    answer = submission.cells[2]
    submission.cells[2] = nbformat.v4.new_markdown_cell(answer.source, metadata=answer.metadata, id=answer.id)
    prose = submission.cells[4]
    submission.cells[4] = nbformat.v4.new_code_cell(prose.source, metadata=prose.metadata, id=prose.id)
    submission.cells[4].outputs = [nbformat.v4.new_output("stream", text="x")]
    notes = repair.repair_structure(submission, release)
    assert notes == ["cell answer_step was a code cell again", "cell answer_prose was a markdown cell again"]
    assert submission.cells[2].cell_type == "code" and submission.cells[2].source == "def elman_step(x): return x"
    assert submission.cells[2].outputs == [] and submission.cells[2].execution_count is None
    assert submission.cells[2].id == answer.id and submission.cells[2].metadata["nbgrader"]["grade_id"] == "answer_step"
    assert submission.cells[4].cell_type == "markdown" and "outputs" not in submission.cells[4]
    nbformat.validate(submission)


def test_deleted_read_only_cells_come_back_after_their_neighbour(release, submission):
    del submission.cells[6]  # test_forward
    del submission.cells[3]  # test_step
    del submission.cells[0]  # the intro, the first cell
    assert repair.restore_deleted_cells(submission, release) == ["intro", "test_step", "test_forward"]
    assert ids(submission) == ids(release)
    assert submission.cells[3].source == "assert True"


def test_deleted_answer_cells_are_not_restored(release, submission):
    del submission.cells[5]  # answer_forward: the student's own to delete
    assert repair.restore_deleted_cells(submission, release) == []
    assert "answer_forward" not in ids(submission)


def test_a_test_cell_moved_earlier_stays_where_the_student_put_it(release, submission):
    moved = submission.cells.pop(6)
    submission.cells.insert(1, moved)
    del submission.cells[4]  # test_step, now after answer_step at index 4
    assert repair.restore_deleted_cells(submission, release) == ["test_step"]
    assert ids(submission).index("test_step") == ids(submission).index("answer_step") + 1
    assert ids(submission).index("test_forward") == 1


def test_released_locked_ids_are_the_read_only_cells(release):
    assert repair.released_locked_ids(release) == {"intro", "setup", "test_step", "test_forward"}


def test_grading_cells_are_answers_as_submitted_and_setup_as_released(release, submission):
    submission.cells[1].source = "np = None  # the student's edit of a read-only cell"
    submission.cells.insert(3, nbformat.v4.new_code_cell("helper = 1"))
    got = repair.grading_cells(submission, release)
    assert got == [
        {"id": "setup", "source": "import numpy as np", "student": False},
        {"id": "answer_step", "source": "def elman_step(x): return x", "student": True},
        {"id": "cell 4", "source": "helper = 1", "student": True},
        {"id": "answer_forward", "source": "def elman_forward(x): return x", "student": True},
    ]


def test_expected_tests_are_the_code_test_cells_with_their_points(release):
    assert repair.expected_tests(release) == [records.TestResult("test_step", 0.0, 2.0),
                                             records.TestResult("test_forward", 0.0, 3.0)]


def test_expected_tests_of_a_real_exercise_sum_to_its_points():
    from autograder.course import EXERCISES

    release = nbformat.read(EXERCISES / "elman" / "elman.ipynb", as_version=4)
    tests = repair.expected_tests(release)
    assert len(tests) == len({t.name for t in tests}) > 1
    assert all(t.name.startswith("test_") and t.score == 0.0 and t.max_score > 0 for t in tests)
