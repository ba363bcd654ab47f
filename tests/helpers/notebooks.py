"""Making student submissions from the exercise sources, for end-to-end tests.

A submission is the released student notebook with its answer cells filled in:
with the reference solution (``solved``), left blank (``blank``), or with the
reference solution changed by a typical mistake (``mutated``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def source_notebook(exercise: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "exercises" / exercise / f"{exercise}.ipynb", as_version=4)


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_answer(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("solution")) and not meta.get("grade")


def strip_markers(source: str) -> str:
    """The reference answer as a student would write it: the solution markers removed."""
    return "\n".join(line for line in source.splitlines() if not MARKER.match(line))


def reference_answers(exercise: str) -> dict[str, str]:
    """{grade_id: reference answer code} for every answer cell of an exercise."""
    return {grade_id(c): strip_markers(c.source) for c in source_notebook(exercise).cells if is_answer(c)}


@dataclass
class Mutant:
    """A typical mistake: in answer cell ``cell``, ``old`` becomes ``new``.

    ``fails`` maps the test cells that must lose their points to a phrase that
    their feedback must contain (the mistake named); "" only requires the loss.
    """

    name: str
    cell: str
    old: str
    new: str
    fails: dict[str, str] = field(default_factory=dict)

    def answers(self, exercise: str) -> dict[str, str]:
        answers = reference_answers(exercise)
        source = answers[self.cell]
        assert source.count(self.old) >= 1, f"mutant {self.name}: {self.old!r} not in cell {self.cell}"
        answers[self.cell] = source.replace(self.old, self.new)
        return answers


def submission(release: nbformat.NotebookNode, answers: dict[str, str] | None) -> nbformat.NotebookNode:
    """The student notebook ``release`` with its answer cells replaced by ``answers``."""
    notebook = nbformat.from_dict(release)
    for cell in notebook.cells:
        if answers is not None and is_answer(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return notebook
