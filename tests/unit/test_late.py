"""late.py and course_file.py: the penalty is a pure function of score, times and policy; policies and due dates
read from text, a course file (TOML or JSON) and the command line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from autograder.course_file import CourseFileError, load_course_file, with_options
from autograder.late import LatePolicy, PolicyError, apply_policy, assess, parse_policy, read_timestamp

DUE = datetime(2026, 12, 1, 23, 59, tzinfo=ZoneInfo("Europe/Berlin"))


def late_by(**delta) -> datetime:
    return DUE + timedelta(**delta)


@pytest.mark.parametrize("policy, submitted, want", [
    (LatePolicy(), late_by(days=3), (0, 8)),  # none: nbgrader's default
    (LatePolicy("zero"), late_by(seconds=1), (8, 0)),
    (LatePolicy("zero"), late_by(seconds=0), (0, 8)),  # on the dot is on time
    (LatePolicy("zero"), late_by(hours=-1), (0, 8)),
    (parse_policy("per_hour 1"), late_by(minutes=61), (2, 6)),  # every started hour counts
    (parse_policy("per_day 10%"), late_by(hours=25), (2, 6)),  # 10% of 10 points, 2 days
    (parse_policy("per_day 10% cap 15%"), late_by(days=5), (1.5, 6.5)),
    (parse_policy("per_day 3"), late_by(days=4), (8, 0)),  # never below 0
    (parse_policy("per_hour 1 grace 15"), late_by(minutes=14), (0, 8)),
    (parse_policy("per_hour 1 grace 15"), late_by(minutes=16), (1, 7)),  # past the grace: late from the due date
])
def test_penalty(policy, submitted, want):
    assert apply_policy(8.0, 10.0, submitted, DUE, policy) == pytest.approx(want)


def test_no_due_date_or_no_time_is_on_time_unless_the_lms_said_late():
    policy = parse_policy("per_day 2")
    assert apply_policy(8, 10, late_by(days=9), None, policy) == (0, 8)
    assert apply_policy(8, 10, None, DUE, policy) == (0, 8)
    found = assess(8, 10, None, DUE, policy, lms_late=True)
    assert (found.penalty, found.final_score) == (2, 6) and "counts as one day late" in found.note
    assert assess(8, 10, None, DUE, LatePolicy("zero"), lms_late=True).final_score == 0


def test_the_note_says_how_late_and_both_scores():
    found = assess(9, 10, late_by(hours=26, minutes=30), DUE, parse_policy("per_day 1 cap 5"))
    assert found.late and found.penalty == 2 and found.raw_score == 9
    assert "1 day 2 hours 30 minutes after the due date" in found.note
    assert "1 point per started day late, at most 5 points, 2 days" in found.note
    assert "score 9 before the penalty, 7 of 10 after" in found.note
    assert assess(9, 10, late_by(hours=-2), DUE, LatePolicy("zero")).note == ""


@pytest.mark.parametrize("text, want", [
    ("none", LatePolicy()), ("zero", LatePolicy("zero")),
    ("per_day 10% cap 50%", LatePolicy("per_day", 10, True, 50, True)),
    ("per-hour:0.5:cap=3:grace=10", LatePolicy("per_hour", 0.5, False, 3, False, 10)),
])
def test_policies_from_text(text, want):
    assert parse_policy(text) == want


@pytest.mark.parametrize("text", ["sometimes", "per_day lots", "per_day 1 2", "per_day -1"])
def test_bad_policies_say_what_is_expected(text):
    with pytest.raises(PolicyError):
        parse_policy(text)


def test_course_file_toml(tmp_path):
    (tmp_path / "course.toml").write_text(
        'timezone = "Europe/Berlin"\nroster = "people.csv"\n\n[late]\nmethod = "per_day"\ndeduct = "10%"\n'
        'cap = "50%"\n\n[exercises.elman]\ndue = 2026-12-01T23:59:00\ncanvas_id = 77\ntitle = "RNN 3"\n\n'
        '[exercises.bptt]\ndue = "2026-12-08T23:59:00+00:00"\nlate = { method = "zero" }\n')
    course = load_course_file(tmp_path / "course.toml")
    assert course.roster == tmp_path / "people.csv"
    elman = course.terms("elman")
    assert elman.due == DUE and elman.canvas_id == "77" and elman.title == "RNN 3"  # local time, in the course's zone
    assert elman.late == parse_policy("per_day 10% cap 50%")
    assert course.terms("bptt").late == LatePolicy("zero")
    assert course.terms("ops").due is None and course.terms("ops").late == elman.late


def test_course_file_json_and_command_line_options(tmp_path):
    (tmp_path / "course.json").write_text(json.dumps({"exercises": {"elman": {"due": "2026-12-01T22:59:00Z"}}}))
    course = load_course_file(tmp_path / "course.json")
    assert course.terms("elman").due == DUE
    course = with_options(course, ["elman", "ops"], due=["ops=2026-12-02T10:00:00+00:00"], late="zero")
    assert course.terms("ops").due == datetime(2026, 12, 2, 10, tzinfo=timezone.utc)
    assert course.terms("elman").late == LatePolicy("zero") == course.terms("ops").late
    everyone = with_options(None, ["elman", "ops"], due=["2026-12-01T23:59:00+01:00"])
    assert everyone.terms("elman").due == everyone.terms("ops").due == DUE


@pytest.mark.parametrize("text, match", [
    ('colour = "red"\n', "unknown setting"), ('[exercises.elman]\ndue = "soon"\n', "ISO 8601"),
    ('timezone = "Mars/Olympus"\n', "Mars"), ('[late]\nmethod = "per_week"\n', "per_week"),
    ('[exercises.elman]\npoints = 3\n', "unknown setting"),
])
def test_course_file_mistakes_are_named(tmp_path, text, match):
    (tmp_path / "course.toml").write_text(text)
    with pytest.raises(CourseFileError, match=match):
        load_course_file(tmp_path / "course.toml")


@pytest.mark.parametrize("text, want", [
    ("2026-12-01T22:59:00+00:00\n", DUE),
    ("2026-12-01 22:59:00.000000 UTC", DUE),
    ("2026-12-01 23:59:00 Europe/Berlin", DUE),  # nbgrader's own form
    ("2026-12-01T22:59:00", DUE),  # no offset: UTC
    ("not a time", None),
])
def test_timestamp_files(tmp_path, text, want):
    (tmp_path / "timestamp.txt").write_text(text)
    assert read_timestamp(tmp_path) == want


def test_a_linked_timestamp_is_not_read(tmp_path):
    (tmp_path / "real.txt").write_text("2026-12-01T22:59:00+00:00")
    (tmp_path / "timestamp.txt").symlink_to(tmp_path / "real.txt")
    assert read_timestamp(tmp_path) is None
