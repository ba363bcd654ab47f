"""The nbgrader sources are well-formed, and their answers are `solutions/`."""

import ast
import importlib

import pytest

from autograder.course import exercise_names
from tests.helpers.notebooks import grade_id, is_answer, source_notebook, strip_markers

EXERCISES = exercise_names()


@pytest.mark.parametrize("exercise", EXERCISES)
def test_outputs_cleared_and_metadata_valid(exercise):
    notebook = source_notebook(exercise)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    ids = [grade_id(cell) for cell in notebook.cells]
    assert all(ids), "every cell has nbgrader metadata with a grade_id"
    assert len(ids) == len(set(ids)), "grade_ids are unique"
    for cell in notebook.cells:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{grade_id(cell)} has outputs"
        if is_answer(cell):
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        if meta.get("grade"):
            assert meta["locked"] and meta["points"] > 0, f"{grade_id(cell)}: a test cell is locked and has points"
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{grade_id(cell)} has no hidden tests"
            assert "run(hidden." in cell.source, f"{grade_id(cell)}: the hidden block runs a check"


def test_solutions_package_is_generated_from_the_notebooks():
    """One source per exercise: solutions/<ex>.py is what `python -m autograder reference` writes."""
    from autograder.reference import stale

    assert stale() == [], "run `python -m autograder reference` after changing a notebook's solution regions"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_generated_reference_defines_every_graded_function(exercise):
    module = importlib.import_module(f"solutions.{exercise}")
    for cell in source_notebook(exercise).cells:
        if is_answer(cell):
            for node in ast.parse(strip_markers(cell.source)).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    assert hasattr(module, node.name), f"solutions/{exercise}.py lacks {node.name}"
