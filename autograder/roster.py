"""A course's roster, read from the CSV a learning-management system exports, and looked up every way an LMS names a student.

Canvas (its gradebook export: ``Student, ID, SIS User ID, SIS Login ID, Section``), Moodle (a participants or
gradebook export: ``First name, Last name, ID number, Email address``, or an assignment's grading worksheet:
``Identifier, Full name, Email address``), Gradescope (``Name, SID, Email``) and a plain ``id,name,login,email``
are all read: headers are matched loosely (case, spaces and punctuation ignored; see ``HEADERS``), and rows that
name nobody (Canvas's ``Points Possible`` row, blank lines) are left out.

Each student's folder under ``SUBMITTED/`` is :attr:`Student.key`: the login (SIS Login ID, username), else the
part of the email before ``@``, else the SIS id, else the LMS id, made safe as a folder name.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import CourseError

MAX_ROSTER_BYTES = 16 * 1024 * 1024

# Our field: the headers that mean it, normalized (lower case, letters and digits only).
HEADERS = {
    "lms_id": ("id", "canvasid", "canvasuserid", "userid", "lmsid", "moodleid"),
    "name": ("name", "student", "studentname", "fullname", "displayname", "sortablename"),
    "first": ("firstname", "givenname", "first"),
    "last": ("lastname", "surname", "familyname", "last"),
    "login": ("login", "sisloginid", "loginid", "username", "user", "netid", "uni"),
    "email": ("email", "emailaddress", "mail", "email1", "emailaddr"),
    "sis_id": ("sisuserid", "sid", "idnumber", "studentnumber", "studentid", "matriculationnumber", "sisid"),
    "section": ("section", "sections", "group", "groups"),
    "participant": ("identifier", "participant", "participantid", "participantnumber"),
}
SAFE_KEY = re.compile(r"[^A-Za-z0-9._@-]+")


class RosterError(CourseError):
    """A roster that cannot be read; the message says why."""


def _norm_header(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.strip().lstrip("\ufeff").lower())


def normalize_name(text: str) -> str:
    """A name reduced to its lower-case letters and digits, accents removed: ``"Smith, Jöhn"`` -> ``"smithjohn"``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def safe_key(text: str) -> str:
    """``text`` as a folder name: letters, digits, ``._@-`` only, never empty or starting with a dot."""
    key = SAFE_KEY.sub("_", text.strip()).strip("_")
    key = key.lstrip(".") or "_"
    return key[:100]


@dataclass(frozen=True)
class Student:
    """One roster row. Every field but ``key`` and ``name`` may be empty."""

    key: str  # the folder name under SUBMITTED/
    name: str = ""  # as the roster writes it ("Smith, John" or "John Smith")
    lms_id: str = ""  # Canvas's user ID, Moodle's user id
    login: str = ""  # SIS Login ID, username
    email: str = ""
    sis_id: str = ""  # SIS User ID, SID, ID number
    section: str = ""
    participant: str = ""  # Moodle's participant number for one assignment (its grading worksheet's Identifier)

    def names(self) -> set[str]:
        """The normalized forms an LMS may write this student's name in: "first last" and "last first"."""
        found = {normalize_name(self.name)} if self.name else set()
        if "," in self.name:  # "Last, First" (Canvas's sortable name)
            last, first = self.name.split(",", 1)
            found.add(normalize_name(f"{first} {last}"))
        elif " " in self.name.strip():
            parts = self.name.split()
            found.add(normalize_name(" ".join(parts[-1:] + parts[:-1])))
        return {n for n in found if n}


@dataclass
class Roster:
    """The students, and lookups by every identifier; a name that two students share finds neither."""

    students: list[Student]
    skipped: list[str] = field(default_factory=list)  # rows that named nobody, and why

    def __post_init__(self):
        self._by: dict[str, dict[str, Student | None]] = {}
        for kind in ("lms_id", "login", "email", "sis_id", "participant", "key"):
            table: dict[str, Student | None] = {}
            for s in self.students:
                value = getattr(s, kind).strip().lower()
                if value:
                    table[value] = None if value in table and table[value] != s else s
            self._by[kind] = table
        names: dict[str, Student | None] = {}
        for s in self.students:
            for n in s.names():
                names[n] = None if n in names and names[n] != s else s
        self._by["name"] = names

    def find(self, kind: str, value: str) -> Student | None:
        """The one student whose ``kind`` (lms_id, login, email, sis_id, participant, key, name) is ``value``."""
        value = normalize_name(value) if kind == "name" else value.strip().lower()
        return self._by[kind].get(value) if value else None

    def ambiguous(self, kind: str, value: str) -> bool:
        value = normalize_name(value) if kind == "name" else value.strip().lower()
        return bool(value) and value in self._by[kind] and self._by[kind][value] is None

    def by_key(self) -> dict[str, Student]:
        return {s.key: s for s in self.students}


def read_roster(path: Path) -> Roster:
    """The roster in the CSV at ``path`` (UTF-8, with or without BOM; comma, semicolon or tab separated)."""
    from autograder.files import NotAccepted, read_regular

    try:
        data = read_regular(Path(path), MAX_ROSTER_BYTES)
    except (NotAccepted, OSError) as error:
        raise RosterError(f"The roster {path} cannot be read: {error}") from None
    return parse_roster(data.decode("utf-8-sig", errors="replace"), str(path))


def parse_roster(text: str, origin: str = "the roster") -> Roster:
    """The roster in CSV ``text``; see the module's docstring for the headers understood."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise RosterError(f"{origin} is empty.")
    columns: dict[str, int] = {}
    for index, header in enumerate(rows[0]):
        norm = _norm_header(header)
        for ours, names in HEADERS.items():
            if norm in names and ours not in columns:
                columns[ours] = index
    if not ({"lms_id", "login", "email", "sis_id", "participant"} & set(columns)):
        raise RosterError(f"{origin} has no column that identifies a student (an ID, login, username, email or "
                          f"SID); its header is {rows[0]!r}.")
    students, skipped, seen = [], [], set()
    for number, row in enumerate(rows[1:], start=2):
        get = lambda ours: row[columns[ours]].strip() if ours in columns and columns[ours] < len(row) else ""
        name = get("name") or " ".join(p for p in (get("first"), get("last")) if p)
        if "points possible" in (name or "").lower() or (row and "points possible" in row[0].lower()):
            skipped.append(f"row {number}: Canvas's Points Possible row")
            continue
        ids = {k: get(k) for k in ("lms_id", "login", "email", "sis_id", "participant")}
        ids["participant"] = re.sub(r"\D", "", ids["participant"])  # "Participant 123456" -> "123456"
        if not any(ids.values()):
            if any(cell.strip() for cell in row):
                skipped.append(f"row {number}: no identifier ({', '.join(c for c in row if c.strip())[:80]})")
            continue
        raw_key = ids["login"] or ids["email"].split("@")[0] or ids["sis_id"] or ids["lms_id"] or ids["participant"]
        key = safe_key(raw_key)
        if key in seen:
            skipped.append(f"row {number}: a second student with the folder name {key!r}")
            continue
        seen.add(key)
        students.append(Student(key=key, name=name, section=get("section"), **ids))
    if not students:
        raise RosterError(f"{origin} lists no student.")
    return Roster(students, skipped)
