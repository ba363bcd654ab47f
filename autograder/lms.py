"""After a batch is graded: late penalties, the files an LMS imports, unplaced files and similar submissions.

:func:`finish` works on what ``python -m autograder grade`` wrote in ``OUT`` (grades.csv, feedback/, results/)
and on ``SUBMITTED`` (each ``timestamp.txt``, and the ``collected-<exercise>.csv`` that collect.py wrote), so it
can run again at any time with the same result (it always starts from the score before any penalty):

* **late work**: each submission's penalty under its exercise's due date and policy (course_file.py, late.py).
  grades.csv gains the columns ``raw_score`` (before the penalty), ``late_penalty`` and ``submitted_at``, and its
  ``score`` becomes the score after the penalty, as do scores.csv and results/*.json; the feedback page gets the
  penalty and its reason at the top;
* **unplaced files**: every file of an LMS export that collect.py could not place becomes a grades.csv row with
  status ``unplaced`` and the reason (nothing is dropped silently);
* **the LMS's files**, with a roster: ``canvas.csv`` and ``moodle.csv`` (exports.py);
* **similar submissions**: ``similarity.html`` (similarity.py) and a section of summary.md. Scores never depend on it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from types import SimpleNamespace

from autograder import late
from autograder.collect import read_collected
from autograder.course_file import CourseFile
from autograder.exports import Grade, canvas_csv, moodle_csv
from autograder.files import is_link_free
from autograder.records import write_atomically
from autograder.roster import Roster, read_roster

GRADE_COLUMNS = ["student", "exercise", "score", "max_score", "status", "flags", "message"]
LATE_COLUMNS = ["raw_score", "late_penalty", "submitted_at"]
BANNER = re.compile(r"<!-- late-penalty -->.*?<!-- /late-penalty -->\n?", re.S)
SUMMARY_MARK = "<!-- written by autograder.lms.finish; regenerated on every run -->"


@dataclass
class Finished:
    grades: list[Grade]
    late: dict[tuple[str, str], late.Lateness]  # the late submissions only
    unplaced: list[dict]
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    similarity: list = field(default_factory=list)  # similarity.Report per exercise

    def report(self) -> str:
        """What was done, in a few lines for the terminal."""
        lines = [f"late: {sum(1 for l in self.late.values() if l.penalty)} submission(s) penalized, "
                 f"{len(self.late)} late in all"]
        if self.unplaced:
            lines.append(f"unplaced: {len(self.unplaced)} file(s) of the LMS export (rows in grades.csv)")
        for r in self.similarity:
            top = r.pairs[0] if r.pairs else None
            lines.append(f"similarity ({r.exercise}): {len(r.code)} compared in {r.seconds:g} s"
                         + (f"; most similar: {top.a} and {top.b} ({top.similarity:.0%})" if top else ""))
        lines += [f"wrote {p}" for p in self.written]
        lines += [f"warning: {p}" for p in self.problems]
        return "\n".join(lines)


def read_grades_csv(path: Path) -> list[dict]:
    with Path(path).open(newline="") as handle:
        return list(csv.DictReader(handle))


def finish(out: Path, submitted: Path, course: CourseFile | None = None, roster: Roster | None = None,
           similarity: bool = True) -> Finished:
    """Apply late policies, list unplaced files, write the LMS files and the similarity report, in ``out``.

    Args:
        out: the folder ``python -m autograder grade`` wrote (grades.csv must be there).
        submitted: the SUBMITTED folder that was graded.
        course: due dates, policies, roster path, Canvas ids (default: none, so no penalty).
        roster: the roster (default: the course file's, if it names one); without one, no LMS file is written.
        similarity: whether to write similarity.html.
    """
    out, submitted, course = Path(out), Path(submitted), course or CourseFile()
    if roster is None and course.roster is not None:
        roster = read_roster(course.roster)
    rows = read_grades_csv(out / "grades.csv")
    collected = read_collected(submitted)
    lms_late = {(r["student"], r["exercise"]) for r in collected if r.get("status") == "placed" and r.get("lms_late") == "1"}
    unplaced = [r for r in collected if r.get("status") == "unplaced"]
    maxima = {r["exercise"]: r["max_score"] for r in rows if r.get("status") != "unplaced"}

    grades, lateness, table_rows = [], {}, []
    for row in rows:
        if row.get("status") == "unplaced":
            continue  # written again below from collected-*.csv
        raw = float(row.get("raw_score") or row["score"])
        maximum = float(row["max_score"])
        key = (row["student"], row["exercise"])
        terms = course.terms(row["exercise"])
        folder = submitted / row["student"] / row["exercise"]
        # A linked folder is graded "invalid" and is not read here either.
        stamp = late.read_timestamp(folder) if is_link_free(folder.parent) and is_link_free(folder) else None
        found = late.assess(raw, maximum, stamp, terms.due, terms.late, lms_late=key in lms_late)
        if found.late:
            lateness[key] = found
        grades.append(Grade(row["student"], row["exercise"], found.final_score, maximum, row["status"], raw,
                            found.penalty, found.note))
        table_rows.append({**{c: row.get(c, "") for c in GRADE_COLUMNS}, "score": _number(found.final_score),
                           "raw_score": _number(raw), "late_penalty": _number(found.penalty),
                           "submitted_at": stamp.isoformat() if stamp else ""})
    for r in unplaced:
        table_rows.append({"student": r["student"], "exercise": r["exercise"], "score": "0",
                           "max_score": maxima.get(r["exercise"], ""), "status": "unplaced", "flags": "",
                           "message": r["message"], "raw_score": "0", "late_penalty": "0", "submitted_at": ""})
    finished = Finished(grades, lateness, unplaced)

    table = io.StringIO()
    writer = csv.DictWriter(table, GRADE_COLUMNS + LATE_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(table_rows)
    write_atomically(out / "grades.csv", table.getvalue())
    _write_scores(out, grades)
    for (student, exercise), found in lateness.items():
        _mark_feedback(out / "feedback" / student / f"{exercise}.html", found)
        _mark_result(out / "results" / student / f"{exercise}.json", found)

    if roster is not None:
        for name, make in (("canvas.csv", canvas_csv), ("moodle.csv", moodle_csv)):
            text, problems = make(grades, roster, course)
            write_atomically(out / name, text)
            finished.written.append(out / name)
            finished.problems += [p for p in problems if p not in finished.problems]
    if similarity:
        from autograder import similarity as similar

        try:
            exercises = sorted({g.exercise for g in grades})
            finished.similarity = [similar.report(submitted, exercise) for exercise in exercises]
            finished.written.append(similar.write_report(out, finished.similarity))
        except Exception as error:  # noqa: BLE001 - a report for a human must not cost the batch its grades
            finished.problems.append(f"the similarity report could not be made: {type(error).__name__}: {error}")
    _extend_summary(out, finished)
    return finished


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _write_scores(out: Path, grades: list[Grade]) -> None:
    from autograder.outputs import write_score_table

    write_score_table(out / "scores.csv", [SimpleNamespace(student=g.student, exercise=g.exercise, score=g.score,
                                                           max_score=g.max_score) for g in grades])


def with_banner(page: str, found: late.Lateness) -> str:
    """``page`` with the late penalty said at the top of its body (replacing one said before)."""
    banner = ("<!-- late-penalty -->\n<section class=\"late-penalty\" style=\"border: 2px solid #cf222e; "
              "border-radius: 6px; padding: .4em 1em; margin: 1em 0\">\n<h2>Late penalty: "
              f"{found.penalty:g} point{'s' if found.penalty != 1 else ''}</h2>\n<p>{escape(found.note)}</p>\n"
              "</section>\n<!-- /late-penalty -->\n")
    page = BANNER.sub("", page)
    body = re.search(r"<body[^>]*>\n?", page, re.I)
    return page[:body.end()] + banner + page[body.end():] if body else banner + page


def _mark_feedback(path: Path, found: late.Lateness) -> None:
    if path.is_file() and not path.is_symlink():
        write_atomically(path, with_banner(path.read_text(), found))


def _mark_result(path: Path, found: late.Lateness) -> None:
    if not path.is_file() or path.is_symlink():
        return
    try:
        result = json.loads(path.read_text())
    except ValueError:
        return
    result["score"] = found.final_score
    output = re.sub(r"^Submitted .*? after\.\n\n", "", str(result.get("output", "")), flags=re.S)
    result["output"] = f"{found.note}\n\n{output}" if found.note else output
    write_atomically(path, json.dumps(result, indent=2))


def _extend_summary(out: Path, finished: Finished) -> None:
    path = out / "summary.md"
    text = path.read_text() if path.is_file() else "# Grading summary\n"
    text = text.split(f"\n{SUMMARY_MARK}\n")[0].rstrip("\n") + "\n"
    lines = ["", SUMMARY_MARK, "", f"## Late work ({len(finished.late)})", ""]
    lines += [f"- {s}/{e}: {found.note}" for (s, e), found in sorted(finished.late.items())] or ["None."]
    lines += ["", f"## Files of the LMS export not placed ({len(finished.unplaced)})", ""]
    lines += [f"- {r['student'] or '(unknown)'}: {r['message']}" for r in finished.unplaced] or ["None."]
    if finished.problems:
        lines += ["", "## Not in the LMS files", ""] + [f"- {p}" for p in finished.problems]
    if finished.similarity:
        from autograder.similarity import summary_lines

        lines += [""] + summary_lines(finished.similarity)
    write_atomically(path, text + "\n".join(lines) + "\n")


def settings(course_path: Path | None, due: list[str] | None, late_policy: str | None, roster_path: Path | None,
             exercises: list[str]) -> tuple[CourseFile, Roster | None]:
    """The course file with the command line's options on top, and the roster: read before a batch is graded, so
    that a mistake in them stops it at once."""
    from autograder.course_file import load_course_file, with_options

    course = load_course_file(course_path) if course_path else None
    course = with_options(course, exercises, due, late_policy, roster_path)
    return course, read_roster(course.roster) if course.roster else None


def main(out: Path, submitted: Path, course: CourseFile, roster: Roster | None) -> int:
    """Run :func:`finish` after ``grade`` and print what it did; 0 on success."""
    finished = finish(out, submitted, course, roster)
    print(finished.report())
    return 0
