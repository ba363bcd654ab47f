"""Reading a grades file back as Canvas and Moodle read an upload (used by the export and round-trip tests)."""

from __future__ import annotations

import csv
import io
import re


def read_as_canvas(text: str) -> dict[str, dict[str, str]]:
    """{user id: {assignment id or title: grade}}, as Canvas's GradebookImporter reads an upload.

    Its rules: the header's first cells match /Student/ and /ID/; the third is SIS Login ID, or SIS User ID then
    SIS Login ID; the last student column matches /Section/; a first cell matching /Points Possible/ is the points
    row; every other column is an assignment, "Title (id)" or a title; the student is found by ID first.
    """
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert re.search("Student", header[0]) and re.search("ID", header[1]) and len(header) > 3
    columns = 3
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        columns += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        columns += 2
    assert re.search("Section", header[columns - 1]), "not a Canvas gradebook: no Section column"
    assignments = []
    for title in header[columns:]:
        match = re.fullmatch(r"(.*)\s+\((\d+)\)", title)
        assignments.append(match[2] if match else title)
    grades, points = {}, None
    for row in rows[1:]:
        if re.search("Points Possible", row[0]):
            points = dict(zip(assignments, row[columns:]))
            continue
        grades[row[1]] = dict(zip(assignments, row[columns:]))
    grades["__points__"] = points
    return grades


def read_as_moodle(text: str, identify_by: str = "Email address") -> dict[str, dict[str, float | None]]:
    """{email: {column: grade}}, as Moodle's CSV grade import maps a column to a user field (useremail) and reads
    a grade: '' or '-' is no grade, anything else a number (unformat_float)."""
    rows = list(csv.reader(io.StringIO(text)))
    header, found = rows[0], {}
    key = header.index(identify_by)
    for row in rows[1:]:
        if not row[key]:
            continue  # Moodle skips a row whose user field is blank
        values = {}
        for name, value in zip(header, row):
            if name in ("Full name", "Email address", "Username", "ID number") or name.startswith("Feedback"):
                values[name] = value
            else:
                values[name] = None if value in ("", "-") else float(value.replace(",", "."))
        found[row[key].lower()] = values
    return found
