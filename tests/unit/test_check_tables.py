"""The check modules' test tables (autograder/checks/table.py) and the notebooks' hidden blocks never drift apart."""

from __future__ import annotations

import copy
import importlib
import inspect

import nbformat
import pytest

from autograder.checks import table
from autograder.course import EXERCISES, CourseError, exercise_names, hidden_checks, verify_hidden_blocks

NAMES = exercise_names()


def source(name: str):
    return nbformat.read(EXERCISES / name / f"{name}.ipynb", as_version=4)


def graded_cell(notebook, grade_id: str):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.parametrize("name", NAMES)
def test_every_test_cell_holds_the_block_its_table_row_writes(name):
    verify_hidden_blocks(name)  # raises CourseError on any disagreement
    graded = {c.metadata["nbgrader"]["grade_id"] for c in source(name).cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert graded and set(hidden_checks(name)) == graded


@pytest.mark.parametrize("name", NAMES)
def test_every_check_of_a_module_scores_exactly_one_test(name):
    module = importlib.import_module(f"autograder.checks.{name}")
    checks = {n for n, f in inspect.getmembers(module, inspect.isfunction)
              if n.startswith("check_") and f.__module__ == module.__name__}
    used = [test.check for test in module.TESTS.values()]
    assert sorted(used) == sorted(checks)
    for test in module.TESTS.values():
        assert test.module == name and getattr(module, test.check) is test.function
        required = [p for p in inspect.signature(test.function).parameters.values() if p.default is p.empty]
        assert len(required) <= len(test.args) <= len(inspect.signature(test.function).parameters)


def test_the_hidden_block_a_row_writes():
    from autograder.checks import elman

    assert table.Test(elman.check_elman_forward_h0, ("elman_forward", "elman_step")).hidden_block() == (
        "### BEGIN HIDDEN TESTS\n"
        "from autograder.checks import run, elman as hidden\n"
        "run(hidden.check_elman_forward_h0, elman_forward, elman_step)\n"
        "### END HIDDEN TESTS")


def test_a_changed_block_is_refused_naming_the_cell():
    notebook = copy.deepcopy(source("elman"))
    cell = graded_cell(notebook, "test_elman_step_bias")
    cell.source = cell.source.replace("check_elman_step_bias", "check_elman_step_weights")
    with pytest.raises(CourseError, match="'test_elman_step_bias' should hold this hidden block") as error:
        verify_hidden_blocks("elman", notebook)
    assert "run(hidden.check_elman_step_bias, elman_step)" in str(error.value)


def test_a_second_block_is_refused():
    notebook = copy.deepcopy(source("elman"))
    cell = graded_cell(notebook, "test_elman_step_bias")
    cell.source += "\n" + hidden_checks("elman")["test_elman_step_weights"].hidden_block()
    with pytest.raises(CourseError, match="test_elman_step_bias"):
        verify_hidden_blocks("elman", notebook)


def test_a_test_cell_without_a_row_and_a_row_without_a_cell_are_refused():
    notebook = copy.deepcopy(source("elman"))
    graded_cell(notebook, "test_elman_step_bias").metadata["nbgrader"]["grade_id"] = "test_renamed"
    with pytest.raises(CourseError) as error:
        verify_hidden_blocks("elman", notebook)
    assert "'test_renamed' has no row" in str(error.value)
    assert "row 'test_elman_step_bias', which is no test cell" in str(error.value)
