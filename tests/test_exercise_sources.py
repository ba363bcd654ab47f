"""The nbgrader sources are well-formed, and their answers are `solutions/`."""

import ast
import importlib
import inspect

import pytest

from autograder.course import exercise_names
from tests.notebooks import grade_id, is_answer, source_notebook, strip_markers

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


def definitions(source: str) -> dict[str, str]:
    """{name: normalized AST} of the top-level functions and classes in `source`."""
    return {node.name: ast.dump(node, include_attributes=False)
            for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_solution_regions_are_the_solutions_package(exercise):
    module = importlib.import_module(f"solutions.{exercise}")
    reference = definitions(inspect.getsource(module))
    notebook_defs = {}
    for cell in source_notebook(exercise).cells:
        if is_answer(cell):
            notebook_defs.update(definitions(strip_markers(cell.source)))
    assert notebook_defs, "the notebook defines the graded functions"
    for name, tree in notebook_defs.items():
        assert name in reference, f"{name} is in the notebook but not in solutions/{exercise}.py"
        assert tree == reference[name], f"{name} differs between the notebook and solutions/{exercise}.py"
