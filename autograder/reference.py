"""``python -m autograder reference``: write ``solutions/<ex>.py`` from the exercise notebooks.

Each exercise has one source, its nbgrader notebook: the reference answers
are its solution regions. The ``solutions`` package, which the tests import
to compare the reference with torch, is generated from them: the answer
cells in order (markers stripped), with the imports they use from the
notebook's setup cells (torch never: the answers are NumPy and edugrad).
A test fails when a generated file is out of date.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from autograder.course import EXERCISES, REPO, exercise_names

SOLUTIONS = REPO / "solutions"
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def generate(exercise: str) -> str:
    """The text of ``solutions/<exercise>.py``."""
    import nbformat

    notebook = nbformat.read(EXERCISES / exercise / f"{exercise}.ipynb", as_version=4)
    title, imports, answers = exercise, [], []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("grade_id") == "intro":
            title = cell.source.splitlines()[0].removeprefix("# Exercise:").strip()
        elif cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            answers.append("\n".join(line for line in cell.source.splitlines() if not MARKER.match(line)).strip())
        elif cell.cell_type == "code" and not meta.get("grade"):
            imports += [node for node in ast.parse(cell.source).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    used = _names(ast.parse("\n\n".join(answers)))
    lines = []
    for node in imports:
        kept = [a for a in node.names if (a.asname or a.name).split(".")[0] in used and a.name.split(".")[0] != "torch"]
        if kept and getattr(node, "module", None) != "torch":
            node.names = kept
            lines.append(ast.unparse(node))
    header = (f'"""Exercise ``{exercise}``: {title}.\n\nGenerated from exercises/{exercise}/{exercise}.ipynb by '
              f"`python -m autograder reference`:\nedit the notebook's solution regions, not this file.\n\"\"\"\n")
    return header + "\n" + "\n".join(dict.fromkeys(lines)) + "\n\n\n" + "\n\n\n".join(answers) + "\n"


def _names(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def stale() -> list[str]:
    """The exercises whose ``solutions/<ex>.py`` is not what the notebook generates."""
    return [e for e in exercise_names() if not (SOLUTIONS / f"{e}.py").is_file()
            or (SOLUTIONS / f"{e}.py").read_text() != generate(e)]


def main() -> int:
    for exercise in exercise_names():
        path: Path = SOLUTIONS / f"{exercise}.py"
        path.write_text(generate(exercise))
        print(f"wrote {path.relative_to(REPO)}")
    return 0
