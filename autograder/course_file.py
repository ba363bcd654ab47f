"""A course file (``course.toml`` or ``course.json``): due dates, late policies, the roster and LMS assignment ids.

Everything is optional; command-line options (``--due``, ``--late``, ``--roster``) override the file::

    # course.toml
    timezone = "Europe/Berlin"        # for dates written without an offset (default UTC)
    roster = "roster.csv"             # the LMS's roster export, relative to this file

    [late]                            # the policy of every exercise (see autograder/late.py)
    method = "per_day"                # none | zero | per_hour | per_day
    deduct = "10%"                    # per started hour/day: points, or a percent of the maximum
    cap = "50%"                       # at most this much (points or percent)
    grace_minutes = 10

    [exercises.elman]
    due = 2026-12-01T23:59:00+01:00   # a TOML date-time, or a string in ISO 8601
    canvas_id = 123456                # the Canvas assignment's id: its gradebook column "elman (123456)"
    title = "RNN 3: Elman"            # the assignment's name in the LMS (default: the exercise's name)
    late = { method = "zero" }        # this exercise's own policy

A JSON file holds the same keys (dates as strings).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autograder.course import CourseError
from autograder.late import LatePolicy, PolicyError, parse_moment, parse_policy, policy_from_table


class CourseFileError(CourseError):
    """A course file (or --due/--late option) that cannot be read; the message says what to fix."""


@dataclass(frozen=True)
class ExerciseTerms:
    """One exercise's due date, late policy and LMS names."""

    due: datetime | None = None
    late: LatePolicy = LatePolicy()
    canvas_id: str = ""
    title: str = ""


@dataclass
class CourseFile:
    timezone: str = "UTC"
    roster: Path | None = None
    late: LatePolicy = LatePolicy()  # the default policy
    exercises: dict[str, ExerciseTerms] = field(default_factory=dict)

    def terms(self, exercise: str) -> ExerciseTerms:
        """The exercise's terms; an exercise the file does not name gets no due date and the default policy."""
        return self.exercises.get(exercise, ExerciseTerms(late=self.late))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def any_due(self) -> bool:
        return any(t.due for t in self.exercises.values())


def load_course_file(path: Path) -> CourseFile:
    """The course file at ``path`` (``.toml`` or ``.json``)."""
    path = Path(path)
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as error:
        raise CourseFileError(f"The course file {path} cannot be read: {error}") from None
    unknown = set(data) - {"timezone", "roster", "late", "exercises"}
    if unknown:
        raise CourseFileError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; the settings are "
                              "timezone, roster, [late] and [exercises.<name>].")
    try:
        course = CourseFile(timezone=str(data.get("timezone", "UTC")))
        course.zone  # noqa: B018 (an unknown zone fails here, with the file named)
        if data.get("roster"):
            course.roster = (path.parent / str(data["roster"])).resolve()
        course.late = policy_from_table(data.get("late", {}))
        for name, table in (data.get("exercises") or {}).items():
            extra = set(table) - {"due", "late", "canvas_id", "title"}
            if extra:
                raise CourseFileError(f"{path}: exercise {name}: unknown setting(s) {', '.join(sorted(extra))}; "
                                      "the settings are due, late, canvas_id, title.")
            late = course.late if "late" not in table else (
                parse_policy(table["late"]) if isinstance(table["late"], str) else policy_from_table(table["late"]))
            due = parse_moment(table["due"], course.zone) if table.get("due") else None
            course.exercises[name] = ExerciseTerms(due, late, str(table.get("canvas_id", "")),
                                                   str(table.get("title", "")))
    except (PolicyError, ZoneInfoNotFoundError, ValueError) as error:
        raise CourseFileError(f"{path}: {error}") from None
    return course


def with_options(course: CourseFile | None, exercises: list[str], due: list[str] | None = None,
                 late: str | None = None, roster: Path | None = None) -> CourseFile:
    """``course`` (or an empty one) with the command line's ``--due``, ``--late`` and ``--roster`` on top.

    ``--due`` is ``[EXERCISE=]DATETIME``: without an exercise it applies to every one of ``exercises``.
    """
    course = course or CourseFile()
    try:
        if late is not None:
            policy = parse_policy(late)
            course.late = policy
            course.exercises = {name: replace(t, late=policy) for name, t in course.exercises.items()}
        for item in due or []:
            name, sep, moment = item.partition("=")
            targets, when = ([name], moment) if sep and not name[:1].isdigit() else (exercises, item)
            for target in targets:
                terms = course.terms(target)
                course.exercises[target] = replace(terms, due=parse_moment(when, course.zone))
    except PolicyError as error:
        raise CourseFileError(str(error)) from None
    if roster is not None:
        course.roster = Path(roster)
    return course
