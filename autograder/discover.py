"""Stage 1: which submissions a folder holds, and reading one.

Layout in: ``SUBMITTED/<student>/<exercise>/<exercise>.ipynb`` (a ``timestamp.txt``
beside a notebook is kept). Nothing is followed through a symbolic link, and a
notebook is read only as a regular file of at most ``MAX_NOTEBOOK_BYTES``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import nbformat

from autograder.course import CourseError
from autograder.files import NotAccepted, is_link_free, read_regular
from autograder.records import Status

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024  # a submission larger than this is refused, not read


def find_submissions(submitted: Path, exercises: list[str]) -> tuple[list[tuple[str, str, Path, str]], list[dict]]:
    """(student, exercise, notebook, note) for every submission; rows for those that cannot be graded.

    A folder whose notebook was renamed (``elman (1).ipynb``, as a second
    download names it) is graded if it holds exactly one notebook; the note
    says so. Folders that are not exercises are reported, not graded. Nothing
    is followed through a symbolic link: a linked folder or notebook gets a
    row of its own with status ``invalid``.
    """
    if not submitted.is_dir():
        raise CourseError(f"{submitted} is not a folder. Expected SUBMITTED/<student>/<exercise>/<exercise>.ipynb.")
    found, rows = [], []

    def refused(student, exercise, what):
        rows.append({"student": student, "exercise": exercise, "status": Status.INVALID,
                     "message": f"{what} is a symbolic link; links are not graded: submit the notebook file itself."})

    students = sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise CourseError(f"{submitted} holds no student folders. Expected SUBMITTED/<student>/<exercise>/<exercise>.ipynb.")
    for student in students:
        if not is_link_free(student):
            for exercise in exercises:
                refused(student.name, exercise, f"The folder {student.name}")
            continue
        for folder in sorted(p for p in student.iterdir() if p.is_dir() and p.name not in exercises):
            print(f"warning: {student.name}/{folder.name} is not an exercise "
                  f"({', '.join(exercises)}); it is not graded", file=sys.stderr)
        for exercise in exercises:
            folder = student / exercise
            if not folder.is_dir():
                continue
            if not is_link_free(folder):
                refused(student.name, exercise, f"The folder {student.name}/{exercise}")
                continue
            notebook = folder / f"{exercise}.ipynb"
            others = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
            if notebook.is_symlink() or (not notebook.exists() and len(others) == 1 and others[0].is_symlink()):
                refused(student.name, exercise, (notebook if notebook.is_symlink() else others[0]).name)
            elif notebook.is_file():
                found.append((student.name, exercise, notebook, ""))
            elif len(others) == 1:
                found.append((student.name, exercise, others[0],
                              f"Graded {others[0].name}, the only notebook submitted (expected {exercise}.ipynb)."))
            else:
                present = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
                rows.append({"student": student.name, "exercise": exercise, "status": Status.MISSING,
                             "message": f"No {exercise}.ipynb in the submission (it holds {present})."})
    return found, rows


def digest(path: Path) -> str:
    """The sha256 of a submitted notebook ("" for one the worker will refuse: a link, or too large)."""
    try:
        return hashlib.sha256(read_regular(path, MAX_NOTEBOOK_BYTES)).hexdigest()
    except (NotAccepted, OSError):
        return ""


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The submitted notebook at ``path``, validated.

    Raises:
        NotAccepted: a link, not a regular file, or too large (the message says which).
        ValueError: not a valid Jupyter notebook (the message says why, for the student).
    """
    try:
        notebook = nbformat.reads(read_regular(path, MAX_NOTEBOOK_BYTES).decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except NotAccepted:
        raise
    except Exception as error:
        raise ValueError(f"{path.name} is not a valid Jupyter notebook, so it could not be graded "
                         f"({type(error).__name__}: {str(error)[:300]}). Open it in Jupyter, save it, and "
                         "submit again.") from None
    return notebook
