"""discover.py: which submissions a folder holds (renamed notebooks, missing ones, links refused), a submission's
digest, and reading one (size cap, links and broken JSON refused with a message for the student)."""

from __future__ import annotations

import hashlib
import os

import nbformat
import pytest

from autograder import discover
from autograder.course import CourseError
from autograder.files import NotAccepted
from autograder.records import Status

EXERCISES = ["elman", "ops"]


def notebook_bytes() -> bytes:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    return nbformat.writes(notebook).encode()


def put(path, data: bytes = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(notebook_bytes() if data is None else data)
    return path


@pytest.fixture
def submitted(tmp_path):
    root = tmp_path / "submitted"
    put(root / "ada" / "elman" / "elman.ipynb")
    put(root / "ada" / "ops" / "ops.ipynb")
    put(root / "bob" / "elman" / "elman (1).ipynb")               # renamed by a second download
    put(root / "cy" / "elman" / "a.ipynb")                        # two notebooks, neither the right name
    put(root / "cy" / "elman" / "b.ipynb")
    (root / "dee" / "ops").mkdir(parents=True)                      # an empty exercise folder
    put(root / "eve" / "notes" / "notes.ipynb")                   # not an exercise
    put(root / ".trash" / "elman" / "elman.ipynb")                 # hidden: not a student
    outside = put(tmp_path / "elsewhere" / "elman" / "elman.ipynb")
    (root / "fay").symlink_to(outside.parent.parent)                # a linked student folder
    (root / "gus" / "elman").mkdir(parents=True)
    (root / "gus" / "elman" / "elman.ipynb").symlink_to(outside)    # a linked notebook
    return root


def test_finds_each_submission_and_reports_the_rest(submitted, capsys):
    found, rows = discover.find_submissions(submitted, EXERCISES)
    assert [(s, e, p.relative_to(submitted).as_posix()) for s, e, p, _ in found] == [
        ("ada", "elman", "ada/elman/elman.ipynb"), ("ada", "ops", "ada/ops/ops.ipynb"),
        ("bob", "elman", "bob/elman/elman (1).ipynb")]
    notes = {(s, e): note for s, e, _, note in found}
    assert notes[("ada", "elman")] == ""
    assert "elman (1).ipynb" in notes[("bob", "elman")] and "expected elman.ipynb" in notes[("bob", "elman")]
    by_key = {(r["student"], r["exercise"]): r for r in rows}
    assert set(by_key) == {("cy", "elman"), ("dee", "ops"), ("fay", "elman"), ("fay", "ops"), ("gus", "elman")}
    assert by_key[("cy", "elman")]["status"] == Status.MISSING
    assert "a.ipynb, b.ipynb" in by_key[("cy", "elman")]["message"]
    assert by_key[("dee", "ops")]["status"] == Status.MISSING and "nothing" in by_key[("dee", "ops")]["message"]
    for key in [("fay", "elman"), ("fay", "ops"), ("gus", "elman")]:
        assert by_key[key]["status"] == Status.INVALID and "symbolic link" in by_key[key]["message"], key
    assert "eve/notes is not an exercise" in capsys.readouterr().err


def test_a_renamed_notebook_that_is_a_link_is_refused(tmp_path):
    root = tmp_path / "submitted"
    outside = put(tmp_path / "x.ipynb")
    (root / "ada" / "elman").mkdir(parents=True)
    (root / "ada" / "elman" / "copy.ipynb").symlink_to(outside)
    found, rows = discover.find_submissions(root, EXERCISES)
    assert found == []
    assert rows[0]["status"] == Status.INVALID and rows[0]["message"].startswith("copy.ipynb is a symbolic link")


def test_a_linked_exercise_folder_is_refused(tmp_path):
    root = tmp_path / "submitted"
    put(tmp_path / "real" / "elman.ipynb")
    (root / "ada").mkdir(parents=True)
    (root / "ada" / "elman").symlink_to(tmp_path / "real")
    found, rows = discover.find_submissions(root, EXERCISES)
    assert found == [] and [(r["student"], r["exercise"], r["status"]) for r in rows] == [
        ("ada", "elman", Status.INVALID)]


def test_no_folder_or_no_students_is_a_course_error(tmp_path):
    with pytest.raises(CourseError, match="is not a folder"):
        discover.find_submissions(tmp_path / "absent", EXERCISES)
    (tmp_path / "empty" / ".git").mkdir(parents=True)
    with pytest.raises(CourseError, match="no student folders"):
        discover.find_submissions(tmp_path / "empty", EXERCISES)


def test_digest_is_the_files_sha256_and_empty_for_what_the_worker_refuses(tmp_path, monkeypatch):
    path = put(tmp_path / "elman.ipynb")
    assert discover.digest(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    put(tmp_path / "other.ipynb", path.read_bytes() + b" ")
    assert discover.digest(tmp_path / "other.ipynb") != discover.digest(path)
    (tmp_path / "link.ipynb").symlink_to(path)
    assert discover.digest(tmp_path / "link.ipynb") == ""
    assert discover.digest(tmp_path / "absent.ipynb") == ""
    monkeypatch.setattr(discover, "MAX_NOTEBOOK_BYTES", 10)
    assert discover.digest(path) == ""


def test_read_submission_gives_the_validated_notebook(tmp_path):
    notebook = discover.read_submission(put(tmp_path / "elman.ipynb"))
    assert notebook.nbformat == 4 and notebook.cells[0].source == "x = 1"


@pytest.mark.parametrize("data, why", [
    (b"{not json", "NotJSONError"),
    (b'{"cells": "none", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "ValidationError"),
    (b"\xff\xfe", "UnicodeDecodeError"),
])
def test_a_broken_notebook_is_a_value_error_for_the_student(tmp_path, data, why):
    with pytest.raises(ValueError) as raised:
        discover.read_submission(put(tmp_path / "elman.ipynb", data))
    message = str(raised.value)
    assert message.startswith("elman.ipynb is not a valid Jupyter notebook") and why in message
    assert "submit again" in message


def test_read_submission_refuses_links_folders_and_large_files(tmp_path, monkeypatch):
    path = put(tmp_path / "elman.ipynb")
    (tmp_path / "link.ipynb").symlink_to(path)
    with pytest.raises(NotAccepted, match="symbolic link"):
        discover.read_submission(tmp_path / "link.ipynb")
    (tmp_path / "dir.ipynb").mkdir()
    with pytest.raises(NotAccepted, match="not a regular file"):
        discover.read_submission(tmp_path / "dir.ipynb")
    monkeypatch.setattr(discover, "MAX_NOTEBOOK_BYTES", os.path.getsize(path) - 1)
    with pytest.raises(NotAccepted, match="accepted"):
        discover.read_submission(path)
