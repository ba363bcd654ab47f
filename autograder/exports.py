"""Grades out, in the import format of each LMS, keyed with the roster.

* **Canvas** (*Grades > Import*), as Canvas's own importer reads it (``GradebookImporter``): a header row
  ``Student, ID, SIS User ID, SIS Login ID, Section, <assignment> (<assignment id>)...``, then the
  ``Points Possible`` row, then a row per student. Canvas finds the student by ``ID`` (its user id), then SIS User
  ID, then SIS Login ID, then name; the assignment by the id in parentheses, else by its title (a new title makes a
  new assignment). A blank cell changes nothing. Every other column would become an assignment, so the penalty is
  not a column here: the score is the score after it (grades.csv keeps both).
* **Moodle** (*Grades > Import > CSV file*): a header row and a row per student, identified by ``Email address``
  (or ``Username``, ``ID number``: chosen when importing, as "Map from"); a grade column per exercise (``-`` or
  blank: no grade) and a ``Feedback`` column per exercise, which Moodle imports as the grade's feedback when mapped
  to it: the late penalty is said there.

Students of the roster without a row get a blank cell; a row whose student is not in the roster cannot be keyed,
and is returned as a problem (so the caller can say so), never written under another name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from autograder.course_file import CourseFile
from autograder.roster import Roster


@dataclass(frozen=True)
class Grade:
    """One submission's grade after the late policy."""

    student: str  # the roster key (the folder name under SUBMITTED/)
    exercise: str
    score: float  # after the penalty
    max_score: float
    status: str
    raw_score: float  # before the penalty
    penalty: float = 0.0
    late_note: str = ""


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _exercises(grades: list[Grade]) -> list[str]:
    return sorted({g.exercise for g in grades})


def _unkeyed(grades: list[Grade], roster: Roster) -> list[str]:
    known = roster.by_key()
    return [f"{g.student}/{g.exercise}: not in the roster, so not in the LMS file (score {_number(g.score)})"
            for g in grades if g.student not in known]


def canvas_csv(grades: list[Grade], roster: Roster, course: CourseFile | None = None) -> tuple[str, list[str]]:
    """(Canvas's gradebook import CSV for ``grades``, problems)."""
    course = course or CourseFile()
    exercises = _exercises(grades)
    maxima = {g.exercise: g.max_score for g in grades}
    scores = {(g.student, g.exercise): g.score for g in grades}
    titles = []
    for exercise in exercises:
        terms = course.terms(exercise)
        title = terms.title or exercise
        titles.append(f"{title} ({terms.canvas_id})" if terms.canvas_id else title)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles])
    writer.writerow(["    Points Possible", "", "", "", "", *(_number(maxima[e]) for e in exercises)])
    for s in sorted(roster.students, key=lambda s: (s.name.lower(), s.key)):
        cells = [_number(scores[(s.key, e)]) if (s.key, e) in scores else "" for e in exercises]
        writer.writerow([s.name, s.lms_id, s.sis_id, s.login, s.section, *cells])
    return table.getvalue(), _unkeyed(grades, roster)


def moodle_csv(grades: list[Grade], roster: Roster, course: CourseFile | None = None) -> tuple[str, list[str]]:
    """(Moodle's grade import CSV for ``grades``, problems)."""
    course = course or CourseFile()
    exercises = _exercises(grades)
    by_key = {(g.student, g.exercise): g for g in grades}
    table = io.StringIO()
    writer = csv.writer(table)
    header = ["Full name", "Email address", "Username", "ID number"]
    for exercise in exercises:
        title = course.terms(exercise).title or exercise
        header += [title, f"Feedback: {title}"]
    writer.writerow(header)
    for s in sorted(roster.students, key=lambda s: (s.name.lower(), s.key)):
        cells = []
        for exercise in exercises:
            g = by_key.get((s.key, exercise))
            cells += [_number(g.score), g.late_note] if g else ["-", ""]
        writer.writerow([s.name, s.email, s.login, s.sis_id, *cells])
    return table.getvalue(), _unkeyed(grades, roster)
