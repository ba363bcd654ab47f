"""From an LMS's download of one assignment to ``SUBMITTED/<student>/<exercise>/<exercise>.ipynb``.

:func:`collect` reads the export (a .zip or the folder it was unpacked into; see unpack.py for what is refused),
says which layout it found, maps every file to a roster student, keeps each student's latest submission and writes
it in the grader's layout with a ``timestamp.txt`` (ISO 8601, UTC) when the time is known. Every other file gets a
row that says why it was not placed: nothing is dropped silently. The layouts, as each LMS documents or writes them:

* **Canvas** (*Download Submissions*): flat files ``<sortable name>[_late]_<user id>_<file id>_<original name>``,
  the name lower-cased without punctuation, ``late`` when Canvas counted the submission late; a file whose name
  was taken in the student's files is renamed ``name-1.ipynb``, ``name-2.ipynb``. The user id is Canvas's ``ID``
  column. The zip holds no times: give them with ``times`` (else only the ``late`` mark is known).
* **Moodle** (*Download all submissions*): ``<Full Name>_<participant>_assignsubmission_file/<original name>``
  (older versions end the folder with ``_``; without *Download submissions in folders*, flat files
  ``<Full Name>_<participant>_assignsubmission_file_<original name>``). The number is the assignment's
  participant identifier, not the user id: a roster taken from the grading worksheet (``Identifier``) matches it,
  any other is matched by full name. Times come from ``times`` (the grading worksheet's *Last modified
  (submission)* column).
* **Gradescope** (*Export Submissions*): ``submission_<id>/`` folders beside ``submission_metadata.yml``, which
  names each submission's ``:submitters:`` (``:name:``, ``:sid:``, ``:email:``) and its ``:created_at:``.

A student's latest file is the one with the latest time (metadata or ``times``), then the highest resubmission
number (``-N`` or `` (N)`` before ``.ipynb``), then the highest LMS file id. A notebook is this exercise's when its
name, without that suffix, is ``<exercise>.ipynb``; a student with none but exactly one other notebook (not named
after another exercise) has that one placed, with a note.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from autograder.course import CourseError
from autograder.files import NotAccepted, write_fresh
from autograder.roster import HEADERS, Roster, Student, _norm_header, read_roster
from autograder.unpack import Entry, Export, ExportError

CANVAS = re.compile(r"^(?:(?P<name>.*?)_)??(?:(?P<late>late)_)?(?P<user>\d+)_(?P<file>\d+)_(?P<original>.+)$", re.I)
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)"
                    r"(?:_?/(?P<inner>.+)|_(?P<flat>[^/]+))$", re.S)
GRADESCOPE_FOLDER = re.compile(r"^submission_(?P<id>\d+)$")
GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_METADATA_BYTES = 32 * 1024 * 1024
NOTEBOOK = re.compile(r"^(?P<stem>.+?)(?:-(?P<dash>\d+))?(?: ?\((?P<paren>\d+)\))?\.ipynb$", re.I)
TIME_HEADERS = ("submittedat", "lastmodifiedsubmission", "submitted", "submissiontime", "submissiondate",
                "timestamp", "time", "createdat", "date")
MOODLE_DATES = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p", "%d %B %Y, %H:%M")


class CollectError(CourseError):
    """An export that cannot be collected (unreadable, or no layout recognized); the message says why."""


@dataclass
class Candidate:
    """A file of the export that may be a student's submission."""

    entry: Entry
    student: Student | None
    who: str  # how the LMS names the submitter, for messages
    original: str  # the file's own name
    submitted_at: datetime | None = None
    lms_late: bool = False
    file_id: int = 0
    problem: str = ""  # why it cannot be placed, if it cannot

    @property
    def resubmission(self) -> int:
        match = NOTEBOOK.match(self.original)
        return int(match.group("dash") or match.group("paren") or 0) if match else 0

    def order(self) -> tuple:
        stamp = self.submitted_at.timestamp() if self.submitted_at else float("-inf")
        return (stamp, self.resubmission, self.file_id)


@dataclass
class Placed:
    """A submission written to the grader's layout."""

    student: str
    exercise: str
    notebook: Path
    source: str  # its path in the export
    submitted_at: datetime | None
    lms_late: bool
    note: str = ""


@dataclass
class Collection:
    """What :func:`collect` did: the layout found, the submissions placed, and a row for every other file."""

    layout: str  # "canvas", "moodle" or "gradescope"
    exercise: str
    placed: list[Placed] = field(default_factory=list)
    superseded: list[dict] = field(default_factory=list)  # earlier submissions of a placed student
    unplaced: list[dict] = field(default_factory=list)  # {"student", "exercise", "status": "unplaced", "message"}

    def rows(self) -> list[dict]:
        """Every file of the export, one row each (placed, superseded or unplaced): what ``collected-<exercise>.csv`` holds."""
        placed = [{"student": p.student, "exercise": p.exercise, "status": "placed", "message": p.note,
                   "source": p.source, "submitted_at": iso(p.submitted_at), "lms_late": int(p.lms_late)}
                  for p in self.placed]
        return placed + self.superseded + self.unplaced


def iso(moment: datetime | None) -> str:
    """``moment`` in ISO 8601, UTC ("" for None)."""
    return moment.astimezone(timezone.utc).isoformat() if moment else ""


def _unplaced(exercise: str, who: str, path: str, why: str, status: str = "unplaced") -> dict:
    return {"student": who, "exercise": exercise, "status": status, "message": f"{path}: {why}", "source": path,
            "submitted_at": "", "lms_late": ""}


# ---------------------------------------------------------------------- times


def parse_time(text: str, zone: tzinfo) -> datetime | None:
    """An ISO 8601 time, or Moodle's English ``Friday, 4 December 2026, 11:59 PM``; naive times are in ``zone``."""
    text = text.strip()
    if not text or text in ("-", "0"):
        return None
    moment = None
    try:
        moment = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        for form in MOODLE_DATES:
            try:
                moment = datetime.strptime(text, form)
                break
            except ValueError:
                continue
    if moment is None:
        raise ValueError(f"{text!r} is not a time (ISO 8601, or Moodle's 'Friday, 4 December 2026, 11:59 PM')")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def read_times(path: Path, roster: Roster, zone: tzinfo = timezone.utc) -> tuple[dict[str, datetime], list[str]]:
    """({student key: submission time}, problems) from a CSV with a student column and a time column.

    The student column is any the roster understands (Identifier, ID, login, email, SID, name); the time column is
    one of ``submitted_at``, ``Last modified (submission)`` (Moodle's grading worksheet), ``timestamp``, ``time``.
    """
    from autograder.files import read_regular

    text = read_regular(Path(path), 16 * 1024 * 1024).decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return {}, [f"{path} is empty"]
    header = [_norm_header(h) for h in rows[0]]
    time_column = next((header.index(h) for h in TIME_HEADERS if h in header), None)
    if time_column is None:
        raise CollectError(f"{path} has no time column (submitted_at, Last modified (submission), timestamp).")
    kinds = [(kind, header.index(h)) for kind in ("participant", "lms_id", "login", "email", "sis_id", "name")
             for h in HEADERS[kind] if h in header and header.index(h) != time_column]
    times, problems = {}, []
    for number, row in enumerate(rows[1:], start=2):
        student = None
        for kind, column in kinds:
            value = row[column] if column < len(row) else ""
            if kind == "participant":
                value = re.sub(r"\D", "", value)
            student = roster.find(kind, value) if value else None
            if student:
                break
        if student is None:
            if any(c.strip() for c in row):
                problems.append(f"{path} row {number}: no roster student matches it")
            continue
        try:
            moment = parse_time(row[time_column] if time_column < len(row) else "", zone)
        except ValueError as error:
            problems.append(f"{path} row {number}: {error}")
            continue
        if moment is not None:
            times[student.key] = moment
    return times, problems


# -------------------------------------------------------------------- layouts


def detect_layout(entries: list[Entry]) -> str:
    """The layout most of ``entries`` follow: "gradescope", "moodle" or "canvas"; "" if none."""
    if any(e.name == GRADESCOPE_METADATA for e in entries):
        return "gradescope"
    stripped = _strip_wrapper([e.path for e in entries])
    moodle = sum(bool(MOODLE.match(p)) for p in stripped)
    canvas = sum(bool(CANVAS.match(p)) and "/" not in p for p in stripped)
    if not moodle and not canvas:
        return ""
    return "moodle" if moodle >= canvas else "canvas"


def _strip_wrapper(paths: list[str]) -> list[str]:
    """``paths`` without the one folder they are all in, if they are (an export unpacked into its own folder)."""
    firsts = {p.split("/", 1)[0] for p in paths}
    if len(firsts) == 1 and all("/" in p for p in paths) and not MOODLE.match(paths[0]):
        return [p.split("/", 1)[1] for p in paths]
    return paths


def _by_roster(roster: Roster, pairs: list[tuple[str, str]]) -> tuple[Student | None, str]:
    """The student found by the first (kind, value) that finds one, or (None, why not)."""
    for kind, value in pairs:
        student = roster.find(kind, value) if value else None
        if student:
            return student, ""
    ambiguous = [f"{kind} {value!r}" for kind, value in pairs if value and roster.ambiguous(kind, value)]
    if ambiguous:
        return None, f"more than one roster student has the {ambiguous[0]}"
    named = ", ".join(f"{kind} {value!r}" for kind, value in pairs if value)
    return None, f"no roster student has the {named}" if named else "the LMS names nobody"


def canvas_candidates(entries: list[Entry], roster: Roster, times: dict[str, datetime], exercise: str):
    candidates, rows = [], []
    wrapped = _strip_wrapper([e.path for e in entries])
    for entry, path in zip(entries, wrapped):
        match = CANVAS.match(path) if "/" not in path else None
        if not match:
            rows.append(_unplaced(exercise, "", entry.path, entry.refused or "not named as Canvas names a "
                                  "submission (<name>[_late]_<user id>_<file id>_<file>)"))
            continue
        student, why = _by_roster(roster, [("lms_id", match["user"]), ("name", match["name"] or "")])
        candidates.append(Candidate(entry, student, match["name"] or f"user {match['user']}", match["original"],
                                    times.get(student.key) if student else None, bool(match["late"]),
                                    int(match["file"]), problem="" if student else why))
    return candidates, rows


def moodle_candidates(entries: list[Entry], roster: Roster, times: dict[str, datetime], exercise: str):
    candidates, rows = [], []
    wrapped = _strip_wrapper([e.path for e in entries])
    for entry, path in zip(entries, wrapped):
        match = MOODLE.match(path)
        if not match:
            rows.append(_unplaced(exercise, "", entry.path, entry.refused or "not named as Moodle names a "
                                  "submission (<Full Name>_<participant>_assignsubmission_<plugin>/<file>)"))
            continue
        name = match["name"]
        pairs = [("participant", match["participant"])]
        if name.lower() != "participant":  # blind marking hides the name
            pairs.append(("name", name))
        student, why = _by_roster(roster, pairs)
        original = PurePosixPath(match["inner"] or match["flat"]).name
        candidates.append(Candidate(entry, student, name, original, times.get(student.key) if student else None,
                                    problem="" if student else why))
    return candidates, rows


def gradescope_candidates(entries: list[Entry], roster: Roster, times: dict[str, datetime], exercise: str,
                          export: Export):
    import yaml

    candidates, rows = [], []
    metadata_entries = [e for e in entries if e.name == GRADESCOPE_METADATA and not e.refused]
    if len(metadata_entries) != 1:
        raise CollectError(f"A Gradescope export has one {GRADESCOPE_METADATA}; this one has "
                           f"{len(metadata_entries)} readable.")
    meta_entry = metadata_entries[0]
    root = str(PurePosixPath(meta_entry.path).parent)
    root = "" if root == "." else root + "/"
    try:
        metadata = yaml.safe_load(export.read(meta_entry)) if meta_entry.size <= MAX_METADATA_BYTES else None
    except (yaml.YAMLError, NotAccepted) as error:
        raise CollectError(f"{meta_entry.path} cannot be read: {error}") from None
    if not isinstance(metadata, dict):
        raise CollectError(f"{meta_entry.path} does not map submissions to their submitters.")
    for entry in entries:
        if entry is meta_entry:
            continue
        inside = entry.path[len(root):] if entry.path.startswith(root) else None
        folder = inside.split("/", 1)[0] if inside and "/" in inside else None
        if folder is None or not GRADESCOPE_FOLDER.match(folder):
            rows.append(_unplaced(exercise, "", entry.path, entry.refused or "not in a submission_<id>/ folder "
                                  "of the export"))
            continue
        record = metadata.get(folder)
        if not isinstance(record, dict):
            rows.append(_unplaced(exercise, "", entry.path, f"{folder} is not in {GRADESCOPE_METADATA}"))
            continue
        created = record.get(":created_at")
        created = created if isinstance(created, datetime) else None
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        submitters = [s for s in record.get(":submitters") or [] if isinstance(s, dict)]
        if not submitters:
            rows.append(_unplaced(exercise, "", entry.path, f"{folder} has no submitters in {GRADESCOPE_METADATA}"))
        for submitter in submitters:
            email, sid, name = (str(submitter.get(k) or "") for k in (":email", ":sid", ":name"))
            student, why = _by_roster(roster, [("email", email), ("sis_id", sid), ("login", sid), ("name", name)])
            moment = created or (times.get(student.key) if student else None)
            candidates.append(Candidate(entry, student, name or email or sid, entry.name, moment,
                                        file_id=int(GRADESCOPE_FOLDER.match(folder)["id"]),
                                        problem="" if student else why))
    return candidates, rows


# -------------------------------------------------------------------- choosing


def _exercise_of(original: str) -> str | None:
    """The stem a notebook's name gives (resubmission suffix removed), lower case; None if not a notebook."""
    match = NOTEBOOK.match(original)
    return match["stem"].strip().lower() if match else None


def choose(candidates: list[Candidate], exercise: str, others: set[str]) -> tuple[list[tuple[Candidate, str]], list[dict]]:
    """([(the candidate placed for each student, its note)], rows for every other candidate)."""
    rows: list[dict] = []
    by_student: dict[str, list[Candidate]] = {}
    for c in candidates:
        if c.entry.refused:
            rows.append(_unplaced(exercise, c.student.key if c.student else c.who, c.entry.path, c.entry.refused))
        elif c.student is None:
            rows.append(_unplaced(exercise, c.who, c.entry.path, f"unknown student: {c.problem}"))
        elif _exercise_of(c.original) is None:
            rows.append(_unplaced(exercise, c.student.key, c.entry.path, f"not a notebook ({c.original})"))
        else:
            by_student.setdefault(c.student.key, []).append(c)
    chosen = []
    for key, files in sorted(by_student.items()):
        exact = [c for c in files if (_exercise_of(c.original) == exercise.lower()
                                      or c.original.lower() == f"{exercise.lower()}.ipynb")]
        note = ""
        if not exact:
            spare = [c for c in files if _exercise_of(c.original) not in others]
            if len(spare) == 1:
                exact, note = spare, f"Placed {spare[0].original}, the only notebook submitted (expected {exercise}.ipynb)."
        exact.sort(key=Candidate.order)
        latest = exact[-1] if exact else None
        if latest is not None:
            chosen.append((latest, note))
        for c in exact[:-1]:
            rows.append(_unplaced(exercise, key, c.entry.path, f"an earlier submission, superseded by "
                                  f"{latest.entry.path}", status="superseded"))
        for c in files:
            if c in exact:
                continue
            stem = _exercise_of(c.original)
            why = (f"a notebook of the exercise {stem!r}, not {exercise!r}" if stem in others else
                   f"named {c.original}, not {exercise}.ipynb")
            why += f"; {latest.entry.path} was placed" if latest else " (and not this student's only notebook)"
            rows.append(_unplaced(exercise, key, c.entry.path, why))
    return chosen, rows


# -------------------------------------------------------------------- collect


def collect(export: Path, exercise: str, roster: Path | Roster, dest: Path, times: Path | None = None,
            zone: str | tzinfo = "UTC", exercises: list[str] | None = None, max_file_bytes: int | None = None
            ) -> Collection:
    """Collect one exercise from an LMS export into ``dest/<student>/<exercise>/<exercise>.ipynb``.

    Args:
        export: the LMS's zip, or the folder it was unpacked into.
        exercise: the exercise these submissions are for (e.g. ``elman``).
        roster: the roster CSV (see roster.py), or a Roster.
        dest: the SUBMITTED folder (created; a placed student's ``<exercise>/`` folder is replaced).
        times: a CSV of submission times (see :func:`read_times`), for Canvas and Moodle.
        zone: the time zone of times written without one (default UTC).
        exercises: every exercise of the course, to tell a wrong exercise's notebook (default: the course's).
        max_file_bytes: the largest file read (default unpack.MAX_FILE_BYTES).

    Returns:
        the Collection; ``dest/collected-<exercise>.csv`` holds :meth:`Collection.rows`.

    Raises:
        CollectError: the export cannot be read, or follows none of the layouts.
    """
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    roster = roster if isinstance(roster, Roster) else read_roster(Path(roster))
    if exercises is None:
        try:
            from autograder.course import exercise_names
            exercises = exercise_names()
        except Exception:  # a course without exercises/ (collect used alone)
            exercises = []
    others = {e.lower() for e in exercises} - {exercise.lower()}
    found_times, time_problems = read_times(Path(times), roster, zone) if times else ({}, [])
    limits = {"max_file_bytes": max_file_bytes} if max_file_bytes else {}
    try:
        with Export(Path(export), **limits) as archive:
            entries = archive.entries
            layout = detect_layout(entries)
            if layout == "gradescope":
                candidates, rows = gradescope_candidates(entries, roster, found_times, exercise, archive)
            elif layout == "moodle":
                candidates, rows = moodle_candidates(entries, roster, found_times, exercise)
            elif layout == "canvas":
                candidates, rows = canvas_candidates(entries, roster, found_times, exercise)
            else:
                raise CollectError(f"{export} is not a Canvas, Moodle or Gradescope export: none of its "
                                   f"{len(entries)} files is named as they name submissions (see autograder/collect.py).")
            chosen, more = choose(candidates, exercise, others)
            rows += more
            collection = Collection(layout, exercise)
            dest = Path(dest)
            dest.mkdir(parents=True, exist_ok=True)
            for candidate, note in chosen:
                try:
                    data = archive.read(candidate.entry)
                except NotAccepted as refused:
                    rows.append(_unplaced(exercise, candidate.student.key, candidate.entry.path, str(refused)))
                    continue
                collection.placed.append(_place(dest, exercise, candidate, data, note))
    except ExportError as error:
        raise CollectError(str(error)) from None
    for problem in time_problems:
        rows.append({"student": "", "exercise": exercise, "status": "unplaced", "message": problem,
                     "source": str(times), "submitted_at": "", "lms_late": ""})
    collection.superseded = [r for r in rows if r["status"] == "superseded"]
    collection.unplaced = [r for r in rows if r["status"] != "superseded"]
    write_rows(dest / f"collected-{exercise}.csv", collection.rows())
    return collection


def _place(dest: Path, exercise: str, candidate: Candidate, data: bytes, note: str) -> Placed:
    folder = dest / candidate.student.key / exercise
    for path in (dest / candidate.student.key, folder):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    notebook = folder / f"{exercise}.ipynb"
    write_fresh(notebook, data)
    if candidate.submitted_at is not None:
        write_fresh(folder / "timestamp.txt", iso(candidate.submitted_at) + "\n")
    return Placed(candidate.student.key, exercise, notebook, candidate.entry.path, candidate.submitted_at,
                  candidate.lms_late, note)


def write_rows(path: Path, rows: list[dict]) -> None:
    columns = ["student", "exercise", "status", "message", "source", "submitted_at", "lms_late"]
    table = io.StringIO()
    writer = csv.DictWriter(table, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_fresh(path, table.getvalue())


def read_collected(submitted: Path) -> list[dict]:
    """Every row of every ``collected-<exercise>.csv`` in ``submitted`` (none if it was not collected)."""
    rows = []
    for path in sorted(Path(submitted).glob("collected-*.csv")):
        if path.is_file() and not path.is_symlink():
            with path.open(newline="") as handle:
                rows += list(csv.DictReader(handle))
    return rows


def summary(collection: Collection) -> str:
    """A few lines for the terminal: the layout found, what was placed, and each unplaced file."""
    names = {"canvas": "a Canvas export", "moodle": "a Moodle export", "gradescope": "a Gradescope export"}
    lines = [f"found {names[collection.layout]}: {len(collection.placed)} submission(s) of {collection.exercise} "
             f"placed, {len(collection.superseded)} earlier one(s) superseded, {len(collection.unplaced)} file(s) "
             "not placed"]
    lines += [f"  not placed: {r['message']}" for r in collection.unplaced]
    lines += [f"  note: {p.student}: {p.note}" for p in collection.placed if p.note]
    return "\n".join(lines)


def main(export: Path, exercise: str, roster: Path, dest: Path, times: Path | None, zone: str) -> int:
    """``python -m autograder collect``: prints :func:`summary`; 0 when the export was read."""
    try:
        collection = collect(export, exercise, roster, dest, times, zone)
    except CollectError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary(collection))
    print(f"Every file is accounted for in {Path(dest) / f'collected-{exercise}.csv'}.")
    return 0
