"""No chapter defines a function or class under the name of a graded one.

The chapters teach in another form than the exercises (one sequence, column vectors, torch's transposed weights), so
a chapter function that had a graded function's name would invite a student to copy it into the exercise, where it
fails. Fast: reads the chapters' code and the solution regions of the source notebooks, builds nothing.
"""

from __future__ import annotations

import ast
import sys

import nbformat
import pytest

from autograder.course import exercise_names
from tests.helpers.notebooks import REPO

sys.path.insert(0, str(REPO / "book" / "_ext"))
from lib_imports import notebook_code  # noqa: E402

BOOK = REPO / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if p.read_text().startswith("---\njupytext:"))


def graded_names() -> dict[str, str]:
    """{name: exercise} of every function and class defined in an answer cell of a source notebook."""
    names = {}
    for exercise in exercise_names():
        notebook = nbformat.read(REPO / "exercises" / exercise / f"{exercise}.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                source = "\n".join(line for line in cell.source.splitlines() if "### " not in line)
                for node in ast.parse(source).body:
                    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                        names[node.name] = exercise
    return names


def defined_names(code: str) -> set[str]:
    """Names of the functions and classes that `code` defines, at any depth."""
    return {node.name for node in ast.walk(ast.parse(code)) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def test_graded_names_are_found():
    names = graded_names()
    assert {"elman_layer", "masked_elman_forward", "tensor_op", "numerical_gradient"} <= set(names)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_defines_a_graded_name(chapter):
    graded = graded_names()
    clashes = {name: graded[name] for name in defined_names(notebook_code(chapter)) if name in graded}
    assert not clashes, (f"{chapter.name} defines {sorted(clashes)}, the name of a graded function of "
                         f"{sorted(set(clashes.values()))}: give the chapter's version a name of its own")
