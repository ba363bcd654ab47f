"""Stage 2: undo what breaks nbgrader but not the answers, and read what the release promises.

Plain functions of notebooks (nbformat NotebookNodes): a submission as the
student saved it, and the released student version it must be graded against.
"""

from __future__ import annotations

from autograder.records import TestResult


def repair_structure(notebook, release) -> list[str]:
    """Undo what breaks nbgrader but not the answers: copied cells and changed cell types.

    A student who copies a cell copies its nbgrader id, and nbgrader then
    refuses the whole notebook. The first cell with an id keeps it; a later copy
    becomes an ordinary code cell (its code still runs where the student put it).
    A read-only or answer cell whose type was changed (code to markdown) gets
    its released type back. Returns one note per repair.
    """
    released = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in release.cells}
    seen, notes = set(), []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id")
        if name is None:
            continue
        if name not in released:  # an id the exercise never had: its code runs as the student's own
            del cell.metadata["nbgrader"]
            notes.append(f"cell {name} is not a cell of this exercise and was kept as a plain cell")
            continue
        if name in seen:
            del cell.metadata["nbgrader"]
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            notes.append(f"a copy of cell {name} was kept as a plain cell")
            continue
        seen.add(name)
        original = released.get(name)
        if original is not None and cell.cell_type != original.cell_type:
            keep = {k: v for k, v in cell.items() if k in ("id", "metadata", "source")}
            cell.clear()
            cell.update(keep, cell_type=original.cell_type)
            if original.cell_type == "code":
                cell.update(outputs=[], execution_count=None)
            else:
                cell.pop("outputs", None)
            notes.append(f"cell {name} was a {original.cell_type} cell again")
    return notes


def restore_deleted_cells(notebook, release) -> list[str]:
    """Put back the read-only cells (tests, setup) that a student deleted.

    nbgrader restores the content of locked cells but scores a deleted test cell 0;
    a deleted test should not cost points its answer would have earned. Each
    missing cell goes back after the nearest earlier cell that is still there;
    nbgrader then restores its full source, hidden tests included, from the gradebook.
    Returns the grade_ids of the restored cells.
    """
    def grade_id(cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id")

    present = {grade_id(cell) for cell in notebook.cells} - {None}
    restored, position = [], 0
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if grade_id(cell) in present:
            position = next(i for i, c in enumerate(notebook.cells) if grade_id(c) == grade_id(cell)) + 1
        elif meta.get("locked") and not meta.get("solution"):
            notebook.cells.insert(position, cell)
            restored.append(grade_id(cell))
            present.add(grade_id(cell))
            position += 1
    return restored


def released_locked_ids(release) -> set[str]:
    """The grade_ids of the release's read-only cells (tests and setup): nbgrader restores their source."""
    ids = set()
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") and not meta.get("solution") and meta.get("grade_id"):
            ids.add(meta["grade_id"])
    return ids


def grading_cells(notebook, release) -> list[dict]:
    """The code the judge runs in the student's process: answer cells as submitted, setup cells as released.

    Test cells are left out (the judge runs the hidden checks itself); read-only
    setup cells come from the released notebook, whatever the submission holds.
    """
    released = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in release.cells}
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id") or f"cell {index + 1}"
        if meta.get("grade"):
            continue
        ours = bool(meta.get("locked") and not meta.get("solution"))
        if ours:
            cell = released.get(meta.get("grade_id"), cell)
        cells.append({"id": name, "source": cell.source, "student": not ours})
    return cells


def expected_tests(release) -> list[TestResult]:
    """Every test cell of the exercise with its points, not yet scored (from the released notebook)."""
    tests = []
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            tests.append(TestResult(meta["grade_id"], 0.0, float(meta.get("points", 0))))
    return tests


def graded_functions(release) -> list[str]:
    """The names of the functions (or classes) the student writes: those the release's answer cells define, in order."""
    from autograder.flags import definitions, text

    names = []
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            names += [name for name, _ in definitions(text(cell.source)) if name not in names]
    return names
