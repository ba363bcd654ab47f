"""Stage 6: what a batch leaves behind: grades.csv, scores.csv, results, feedback pages, graded notebooks, gradebook.

Runs in the batch's own process, after every job; reads each job's folder with
no trust in what is there (regular files only, see ``files.py``).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from autograder.course import COURSE_ID, REPO, open_gradebook
from autograder.feedback import feedback_page
from autograder.files import NotAccepted, copy_regular_tree, read_regular
from autograder.records import Result, write_atomically

MAX_PAGE_BYTES = 20 * 1024 * 1024  # nbgrader's page of one notebook (images included)
PAGE = "page.html"  # in a job's folder: the feedback page the worker made for its result


def write_outputs(out: Path, results: list[Result]) -> None:
    """Every file a batch hands out, from ``results`` and the jobs' folders under ``out/work``."""
    results.sort(key=lambda r: (r.student, r.exercise))
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["student", "exercise", "score", "max_score", "status", "flags", "message"])
    for r in results:
        writer.writerow([r.student, r.exercise, f"{r.score:g}", f"{r.max_score:g}", r.status.value,
                         "; ".join(r.flags), r.message])
    write_atomically(out / "grades.csv", table.getvalue())
    write_score_table(out / "scores.csv", results)
    for r in results:
        write_atomically(out / "results" / r.student / f"{r.exercise}.json", json.dumps(r.gradescope(), indent=2))
        work = out / "work" / r.student / r.exercise
        try:  # made by the worker, beside its result (see worker.py); else made now
            page = read_regular(work / PAGE, MAX_PAGE_BYTES).decode()
        except (NotAccepted, OSError, UnicodeDecodeError):
            page = page_for(r, work)
        write_atomically(out / "feedback" / r.student / f"{r.exercise}.html", page)
        graded = work / "course" / "autograded" / r.student / r.exercise
        if graded.is_dir() and not graded.is_symlink():
            copy_regular_tree(graded, out / "autograded" / r.student / r.exercise)


def page_for(result: Result, work: Path) -> str:
    """The feedback page for ``result``, from nbgrader's page of the graded notebook in the job's folder ``work``."""
    try:
        nbgrader_page = read_regular(work / "feedback.html", MAX_PAGE_BYTES).decode()
    except (NotAccepted, OSError, UnicodeDecodeError):
        nbgrader_page = None  # no notebook feedback could be made: our page says why
    return feedback_page(result, nbgrader_page)


def write_score_table(path: Path, results: list[Result]) -> None:
    """One row per student, one column per exercise, and the total: for a learning-management system."""
    exercises = sorted({r.exercise for r in results})
    scores: dict[str, dict[str, float]] = {}
    for r in results:
        scores.setdefault(r.student, {})[r.exercise] = r.score
    maxima = {r.exercise: r.max_score for r in results}
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["student", *(f"{e} ({maxima[e]:g})" for e in exercises), f"total ({sum(maxima.values()):g})"])
    for student in sorted(scores):
        row = scores[student]
        writer.writerow([student, *(f"{row[e]:g}" if e in row else "" for e in exercises), f"{sum(row.values()):g}"])
    write_atomically(path, table.getvalue())


def merge_gradebook(out: Path, batch: Path, results: list[Result], db_url: str | None) -> None:
    """Every result into one nbgrader gradebook: the assignments, the students, each test's score.

    Updating in place (never adding twice), so a rerun leaves one row per
    submission; what an instructor changed by hand (manual scores, extra
    credit) stays.
    """
    import warnings

    from nbgrader.api import MissingEntry

    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy's autoflush notes about nbgrader's own models
    url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    if db_url is None and not (out / "gradebook.db").exists():
        shutil.copy(batch / "gradebook.db", out / "gradebook.db")
    with open_gradebook(f"sqlite:///{batch / 'gradebook.db'}") as source, open_gradebook(url) as gradebook:
        for assignment in source.assignments:
            try:
                gradebook.find_assignment(assignment.name)
            except MissingEntry:
                _copy_assignment(source, gradebook, assignment.name)
        for r in results:
            gradebook.update_or_create_student(r.student)
            try:
                submission = gradebook.find_submission(r.exercise, r.student)
            except MissingEntry:
                submission = gradebook.add_submission(r.exercise, r.student)
            scores = {t.name: t.score for t in r.tests}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell_type == "code" and grade.name in scores:
                        grade.auto_score = scores[grade.name]
                    elif grade.cell_type == "code":
                        grade.auto_score = 0.0  # not graded (invalid, missing, timeout): nothing earned
        gradebook.db.commit()
    config = (f"c = get_config()  # noqa: F821\n# Written by `python -m autograder grade`: run nbgrader here "
              f"(formgrader, export) on this batch.\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
              f"c.CourseDirectory.root = {str(out)!r}\nc.CourseDirectory.source_directory = "
              f"{str(REPO / 'exercises')!r}\nc.CourseDirectory.db_url = {url!r}\n")
    write_atomically(out / "nbgrader_config.py", config)


def _copy_assignment(source, gradebook, name: str) -> None:
    """An assignment, its notebooks and its cells, from one gradebook into another."""
    assignment = source.find_assignment(name)
    gradebook.update_or_create_assignment(name)
    for notebook in assignment.notebooks:
        gradebook.update_or_create_notebook(notebook.name, name)
        for cell in notebook.grade_cells:
            gradebook.update_or_create_grade_cell(cell.name, notebook.name, name, max_score=cell.max_score,
                                                  cell_type=cell.cell_type)
        for cell in notebook.solution_cells:
            gradebook.update_or_create_solution_cell(cell.name, notebook.name, name)
        for cell in notebook.source_cells:
            gradebook.update_or_create_source_cell(cell.name, notebook.name, name, cell_type=cell.cell_type,
                                                   locked=cell.locked, source=cell.source, checksum=cell.checksum)
