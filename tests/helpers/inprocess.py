"""Run an exercise notebook's cells in this process: a fast stand-in for nbgrader.

The answer cells are executed as given, then every test cell (hidden tests
included) runs in the same namespace; a test cell passes if it raises nothing.
The end-to-end tests check that nbgrader agrees.
"""

from __future__ import annotations

import contextlib
import io
import warnings

from tests.helpers.notebooks import grade_id, is_answer, source_notebook, strip_markers

HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def run_exercise(exercise: str, answers: dict[str, str]) -> dict[str, tuple[bool, str]]:
    """{test grade_id: (passed, output)} for the exercise with these answers."""
    namespace: dict = {"__name__": "__main__"}
    results = {}
    for cell in source_notebook(exercise).cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if is_answer(cell):
            source = answers[grade_id(cell)]
        else:
            source = "\n".join(line for line in strip_markers(cell.source).splitlines() if line.strip() not in HIDDEN)
        out = io.StringIO()
        try:
            # A mistake may overflow on purpose (e.g. log_softmax without the max): no warning noise.
            with contextlib.redirect_stdout(out), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                exec(compile(source, f"<cell {grade_id(cell)}>", "exec"), namespace)
        except Exception as error:  # a failing cell, as in a notebook
            if not meta.get("grade"):
                if is_answer(cell):
                    continue  # a broken answer: its tests will fail on their own
                raise
            results[grade_id(cell)] = (False, f"{out.getvalue()}{type(error).__name__}: {error}")
        else:
            if meta.get("grade"):
                results[grade_id(cell)] = (True, out.getvalue())
    return results
