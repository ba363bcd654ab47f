"""What a student downloads works on its own: with correct answers, the student
version runs top to bottom in a plain kernel (no grader code on the path), and
every visible test passes; as released, its first test fails on NotImplementedError."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.course import exercise_names
from tests.helpers.notebooks import reference_answers, submission

pytestmark = pytest.mark.slow


def execute(notebook, folder):
    env_path = os.environ.pop("PYTHONPATH", None)  # the kernel must not see this repository
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        if env_path is not None:
            os.environ["PYTHONPATH"] = env_path


@pytest.mark.parametrize("exercise", exercise_names())
def test_visible_tests_pass_with_correct_answers(release, exercise, tmp_path):
    student = nbformat.read(release / exercise / f"{exercise}.ipynb", as_version=4)
    execute(submission(student, reference_answers(exercise)), tmp_path)


@pytest.mark.parametrize("exercise", exercise_names())
def test_released_notebook_stops_at_the_first_unanswered_part(release, exercise, tmp_path):
    student = nbformat.read(release / exercise / f"{exercise}.ipynb", as_version=4)
    with pytest.raises(CellExecutionError, match="NotImplementedError"):
        execute(student, tmp_path)
