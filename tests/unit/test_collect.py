"""collect.py, unpack.py and roster.py: each LMS's layout found, files mapped to students, the latest kept, and
every other file listed with its reason; nothing read through a link or outside the export."""

from __future__ import annotations

import os
import stat
import zipfile
from datetime import datetime, timezone

import pytest
import yaml

from autograder.collect import CollectError, collect, detect_layout, parse_time, read_collected, read_times
from autograder.roster import Roster, RosterError, parse_roster
from autograder.unpack import Export, ExportError, checked_path

NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
ROSTER = ("Student,ID,SIS User ID,SIS Login ID,Section,Email\n"
          "    Points Possible,,,,,\n"
          '"Lovelace, Ada",101,S1,ada,A,ada@uni.example\n'
          '"Babbage, Charles",102,S2,charles,A,charles@uni.example\n'
          '"Hopper, Grace",103,S3,grace,B,grace@uni.example\n')


@pytest.fixture
def roster() -> Roster:
    return parse_roster(ROSTER)


def zip_of(path, members: dict[str, bytes], links: dict[str, str] = {}):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def by_source(rows):
    return {r["source"]: r for r in rows}


# ------------------------------------------------------------------ rosters


def test_roster_reads_canvas_moodle_and_gradescope_exports():
    canvas = parse_roster(ROSTER)
    assert [s.key for s in canvas.students] == ["ada", "charles", "grace"]
    assert canvas.find("lms_id", "102").name == "Babbage, Charles"
    assert canvas.find("name", "Charles Babbage").key == "charles"  # either order, punctuation ignored
    assert canvas.find("name", "babbagecharles").key == "charles"  # as Canvas writes it in file names
    assert "Points Possible" in canvas.skipped[0]
    moodle = parse_roster("\ufeffIdentifier,Full name,Email address,Status\nParticipant 731002,Jöhn Doe,jd@x.org,-\n")
    assert moodle.students[0].participant == "731002" and moodle.students[0].key == "jd"
    assert moodle.find("name", "John Doe").key == "jd"  # accents folded
    gradescope = parse_roster("First Name;Last Name;SID;Email\nGrace;Hopper;0042;gh@x.org\n")
    assert gradescope.students[0].name == "Grace Hopper" and gradescope.find("sis_id", "0042").key == "gh"


def test_roster_refuses_a_table_without_identifiers_and_flags_shared_names():
    with pytest.raises(RosterError, match="no column that identifies"):
        parse_roster("Name,Score\nAda,1\n")
    twins = parse_roster("id,name,login\n1,Sam Lee,sam1\n2,Sam Lee,sam2\n")
    assert twins.find("name", "Sam Lee") is None and twins.ambiguous("name", "Sam Lee")


# ------------------------------------------------------------------ reading exports safely


@pytest.mark.parametrize("name, why", [("../evil.ipynb", "'..'"), ("a/../../evil", "'..'"), ("/etc/passwd", "absolute"),
                                       ("C:\\x.ipynb", "absolute"), ("..\\..\\x", "'..'")])
def test_paths_that_leave_the_export_are_refused(name, why):
    path, refused = checked_path(name)
    assert path == "" and why in refused


def test_a_zip_member_that_is_a_link_is_listed_but_never_read(tmp_path):
    export = zip_of(tmp_path / "e.zip", {"ok.txt": b"x"}, links={"link.ipynb": "/etc/passwd"})
    with Export(export) as archive:
        entries = {e.path: e for e in archive.entries}
        assert "symbolic link" in entries["link.ipynb"].refused
        with pytest.raises(Exception, match="symbolic link"):
            archive.read(entries["link.ipynb"])
        assert archive.read(entries["ok.txt"]) == b"x"


def test_folder_links_are_not_followed(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "x.ipynb").write_bytes(NB)
    os.symlink(tmp_path / "secret", export / "linked_folder")
    os.symlink(tmp_path / "secret" / "x.ipynb", export / "linked.ipynb")
    (export / "real.txt").write_text("r")
    with Export(export) as archive:
        entries = {e.path: e.refused for e in archive.entries}
    assert entries == {"linked_folder": "a symbolic link to a folder; links are not followed",
                       "linked.ipynb": "a symbolic link; links are not followed", "real.txt": ""}
    os.symlink(export, tmp_path / "export-link")
    with pytest.raises(ExportError, match="symbolic link"):
        Export(tmp_path / "export-link")


def test_size_cap(tmp_path):
    export = zip_of(tmp_path / "e.zip", {"big.ipynb": b"x" * 5000})
    with Export(export, max_file_bytes=1000) as archive:
        assert "more than the" in archive.entries[0].refused


# ------------------------------------------------------------------ Canvas


def test_canvas_export_placed_late_resubmitted_and_every_other_file_listed(tmp_path, roster):
    export = zip_of(tmp_path / "canvas.zip", {
        "lovelaceada_101_5001_elman.ipynb": b'{"first": 1}',
        "lovelaceada_101_5301_elman-1.ipynb": NB,  # the resubmission wins
        "babbagecharles_late_102_5002_elman.ipynb": NB,
        "babbagecharles_late_102_5003_notes.pdf": b"%PDF",
        "hoppergrace_103_5004_Untitled.ipynb": NB,  # her only notebook, under another name
        "turingalan_199_5005_elman.ipynb": NB,  # not in the roster
        "lovelaceada_101_5006_ops.ipynb": NB,  # another exercise
        "../../escape_101_5007_elman.ipynb": NB,
        "readme.txt": b"?",
    }, links={"hoppergrace_103_5008_elman (2).ipynb": "/etc/passwd"})
    done = collect(export, "elman", roster, tmp_path / "submitted", exercises=["elman", "ops"])
    assert done.layout == "canvas"
    placed = {p.student: p for p in done.placed}
    assert set(placed) == {"ada", "charles", "grace"}
    assert placed["ada"].source.endswith("elman-1.ipynb")
    assert (tmp_path / "submitted/ada/elman/elman.ipynb").read_bytes() == NB
    assert placed["charles"].lms_late and not placed["ada"].lms_late
    assert "Untitled.ipynb, the only notebook" in placed["grace"].note
    assert not (tmp_path / "submitted/ada/elman/timestamp.txt").exists()  # Canvas's zip gives no time
    rows = by_source(done.unplaced)
    assert "unknown student" in rows["turingalan_199_5005_elman.ipynb"]["message"]
    assert "not a notebook" in rows["babbagecharles_late_102_5003_notes.pdf"]["message"]
    assert "exercise 'ops'" in rows["lovelaceada_101_5006_ops.ipynb"]["message"]
    assert "'..'" in rows["../../escape_101_5007_elman.ipynb"]["message"]
    assert "symbolic link" in rows["hoppergrace_103_5008_elman (2).ipynb"]["message"]
    assert "not named as Canvas" in rows["readme.txt"]["message"]
    assert [r["source"] for r in done.superseded] == ["lovelaceada_101_5001_elman.ipynb"]
    assert all(r["status"] == "unplaced" for r in done.unplaced)
    assert len(done.placed) + len(done.superseded) + len(done.unplaced) == 10  # every member accounted for
    written = read_collected(tmp_path / "submitted")
    assert len(written) == 10 and {r["status"] for r in written} == {"placed", "superseded", "unplaced"}
    assert not (tmp_path / "escape_101_5007_elman.ipynb").exists()


def test_canvas_times_give_timestamps(tmp_path, roster):
    export = zip_of(tmp_path / "canvas.zip", {"lovelaceada_101_5001_elman.ipynb": NB})
    (tmp_path / "times.csv").write_text("ID,submitted_at\n101,2026-12-01T23:00:00+01:00\n")
    collect(export, "elman", roster, tmp_path / "out", times=tmp_path / "times.csv", exercises=["elman"])
    assert (tmp_path / "out/ada/elman/timestamp.txt").read_text() == "2026-12-01T22:00:00+00:00\n"


# ------------------------------------------------------------------ Moodle


def test_moodle_folders_flat_files_and_the_grading_worksheet(tmp_path):
    worksheet = ("Identifier,Full name,Email address,Last modified (submission)\n"
                 "Participant 731001,Ada Lovelace,ada@uni.example,\"Tuesday, 1 December 2026, 11:00 PM\"\n"
                 "Participant 731002,Charles Babbage,charles@uni.example,-\n")
    (tmp_path / "worksheet.csv").write_text(worksheet)
    roster = parse_roster(worksheet)
    export = tmp_path / "moodle"
    for name, data in {
        "Ada Lovelace_731001_assignsubmission_file/elman.ipynb": b'{"old": 1}',
        "Ada Lovelace_731001_assignsubmission_file/elman (1).ipynb": NB,
        "Ada Lovelace_731001_assignsubmission_onlinetext/onlinetext.html": b"<p>hi</p>",
        "Charles Babbage_731002_assignsubmission_file_elman.ipynb": NB,  # without "download in folders"
        "Alan Turing_731009_assignsubmission_file_/elman.ipynb": NB,  # older Moodle: trailing underscore
    }.items():
        (export / name).parent.mkdir(parents=True, exist_ok=True)
        (export / name).write_bytes(data)
    done = collect(export, "elman", roster, tmp_path / "out", times=tmp_path / "worksheet.csv",
                   zone="Europe/Berlin", exercises=["elman"])
    assert done.layout == "moodle"
    assert {p.student: p.source.rsplit("/", 1)[-1] for p in done.placed} == {
        "ada": "elman (1).ipynb", "charles": "Charles Babbage_731002_assignsubmission_file_elman.ipynb"}
    assert (tmp_path / "out/ada/elman/timestamp.txt").read_text() == "2026-12-01T22:00:00+00:00\n"
    assert not (tmp_path / "out/charles/elman/timestamp.txt").exists()  # "-": no time
    messages = " | ".join(r["message"] for r in done.unplaced)
    assert "onlinetext.html: not a notebook" in messages and "unknown student" in messages


def test_moodle_by_name_when_the_roster_has_no_participant_numbers(tmp_path, roster):
    export = zip_of(tmp_path / "m.zip", {"Grace Hopper_5_assignsubmission_file/elman.ipynb": NB})
    done = collect(export, "elman", roster, tmp_path / "out", exercises=["elman"])
    assert [p.student for p in done.placed] == ["grace"]


# ------------------------------------------------------------------ Gradescope


def test_gradescope_metadata_names_submitters_and_times(tmp_path, roster):
    metadata = {
        "submission_1": {":submitters": [{":name": "Ada Lovelace", ":sid": "S1", ":email": "ada@uni.example"}],
                         ":created_at": datetime(2026, 12, 1, 20, tzinfo=timezone.utc)},
        "submission_2": {":submitters": [{":name": "Ada Lovelace", ":sid": "S1", ":email": "ADA@uni.example"}],
                         ":created_at": datetime(2026, 12, 1, 21, tzinfo=timezone.utc)},
        "submission_3": {":submitters": [{":name": "Charles Babbage", ":sid": "S2", ":email": "x@y"},
                                         {":name": "Grace Hopper", ":sid": "", ":email": "grace@uni.example"},
                                         {":name": "Alan Turing", ":sid": "S9", ":email": "at@y"}],
                         ":created_at": datetime(2026, 12, 1, 22, tzinfo=timezone.utc)},
    }
    export = zip_of(tmp_path / "g.zip", {
        "assignment_9_export/submission_metadata.yml": yaml.safe_dump(metadata).encode(),
        "assignment_9_export/submission_1/elman.ipynb": NB,
        "assignment_9_export/submission_2/elman.ipynb": b'{"second": 2}',
        "assignment_9_export/submission_3/work/elman.ipynb": NB,
        "assignment_9_export/submission_4/elman.ipynb": NB,
    })
    done = collect(export, "elman", roster, tmp_path / "out", exercises=["elman"])
    assert done.layout == "gradescope"
    placed = {p.student: p for p in done.placed}
    assert set(placed) == {"ada", "charles", "grace"}  # a group submission places it for each member
    assert placed["ada"].source.endswith("submission_2/elman.ipynb")  # the later one, by its time
    assert (tmp_path / "out/ada/elman/timestamp.txt").read_text() == "2026-12-01T21:00:00+00:00\n"
    messages = " | ".join(r["message"] for r in done.unplaced)
    assert "submission_4 is not in submission_metadata.yml" in messages
    assert "unknown student" in messages and "'at@y'" in messages
    assert len(done.superseded) == 1


def test_an_export_of_no_known_layout_is_refused(tmp_path, roster):
    export = zip_of(tmp_path / "x.zip", {"hello.txt": b"", "elman.ipynb": NB})
    with pytest.raises(CollectError, match="not a Canvas, Moodle or Gradescope export"):
        collect(export, "elman", roster, tmp_path / "out", exercises=["elman"])
    assert detect_layout([]) == ""


# ------------------------------------------------------------------ times


def test_times_in_iso_and_moodle_forms(tmp_path, roster):
    berlin = __import__("zoneinfo").ZoneInfo("Europe/Berlin")
    assert parse_time("Tuesday, 1 December 2026, 11:59 PM", berlin) == datetime(2026, 12, 1, 23, 59, tzinfo=berlin)
    assert parse_time("2026-12-01T22:59:00Z", berlin) == datetime(2026, 12, 1, 22, 59, tzinfo=timezone.utc)
    assert parse_time("-", berlin) is None
    (tmp_path / "t.csv").write_text("email,timestamp\nada@uni.example,2026-12-01 10:00\nnobody@x,2026-12-01 10:00\n"
                                    "charles@uni.example,yesterday\n")
    times, problems = read_times(tmp_path / "t.csv", roster)
    assert times == {"ada": datetime(2026, 12, 1, 10, tzinfo=timezone.utc)}
    assert len(problems) == 2 and "not a time" in problems[1]
