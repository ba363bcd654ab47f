"""The role ``{exercise-points}`<ex>``: an exercise's total points, read from its nbgrader source at build time.

The total is the sum of ``points`` over the graded cells of `exercises/<ex>/<ex>.ipynb`, the same metadata that
nbgrader keeps in the student version and grades with; so the exercises page cannot promise other points than
the grader gives. The notebook is noted as a dependency of the page: changing the points rebuilds it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.application import Sphinx


def exercise_points(notebook: nbformat.NotebookNode) -> tuple[int | float, int]:
    """(total points, number of graded cells) of an nbgrader notebook."""
    graded = [cell.metadata["nbgrader"] for cell in notebook.cells
              if cell.metadata.get("nbgrader", {}).get("grade")]
    total = sum(meta.get("points", 0) for meta in graded)
    return (int(total) if float(total).is_integer() else total), len(graded)


def points_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    env = inliner.document.settings.env
    exercise = text.strip()
    path = Path(env.srcdir) / "exercises" / exercise / f"{exercise}.ipynb"
    if not path.is_file():
        message = inliner.reporter.error(f"exercise-points: no nbgrader source notebook {path}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    env.note_dependency(str(path))
    total, _ = exercise_points(nbformat.read(path, as_version=4))
    return [nodes.inline(rawtext, str(total), classes=["exercise-points"])], []


def setup(app: Sphinx) -> dict:
    app.add_role("exercise-points", points_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
