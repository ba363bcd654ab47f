"""exports.py and lms.py: the Canvas and Moodle CSVs, read back as those LMSs read them; the penalty in grades.csv,
scores.csv, results and the feedback page; unplaced files in grades.csv; a second run changes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from autograder import lms
from autograder.course_file import with_options
from autograder.exports import Grade, canvas_csv, moodle_csv
from autograder.roster import parse_roster
from tests.helpers.lms_readers import read_as_canvas, read_as_moodle

ROSTER = parse_roster("Student,ID,SIS User ID,SIS Login ID,Section,Email\n"
                      '"Lovelace, Ada",101,S1,ada,A,ada@uni.example\n'
                      '"Babbage, Charles",102,,charles,A,charles@uni.example\n'
                      '"Hopper, Grace",103,S3,grace,B,grace@uni.example\n')
GRADES = [Grade("ada", "elman", 8.0, 10.0, "graded", 10.0, 2.0, "Submitted 1 day late: -2."),
          Grade("charles", "elman", 7.5, 10.0, "graded", 7.5),
          Grade("ada", "ops", 12.0, 12.0, "graded", 12.0),
          Grade("alan", "elman", 10.0, 10.0, "graded", 10.0)]


def test_canvas_csv_reads_back_by_user_id():
    course = with_options(None, ["elman"])
    course.exercises["elman"] = course.terms("elman").__class__(canvas_id="4412", title="RNN 3")
    text, problems = canvas_csv(GRADES, ROSTER, course)
    parsed = read_as_canvas(text)
    assert parsed["__points__"] == {"4412": "10", "ops": "12"}
    assert parsed["101"] == {"4412": "8", "ops": "12"}
    assert parsed["102"] == {"4412": "7.5", "ops": ""}  # no ops grade: blank, which changes nothing in Canvas
    assert parsed["103"] == {"4412": "", "ops": ""}
    assert text.splitlines()[0] == "Student,ID,SIS User ID,SIS Login ID,Section,RNN 3 (4412),ops"
    assert problems == ["alan/elman: not in the roster, so not in the LMS file (score 10)"]


def test_moodle_csv_reads_back_by_email_with_feedback():
    text, problems = moodle_csv(GRADES, ROSTER)
    parsed = read_as_moodle(text)
    assert parsed["ada@uni.example"]["elman"] == 8.0 and parsed["ada@uni.example"]["ops"] == 12.0
    assert parsed["ada@uni.example"]["Feedback: elman"] == "Submitted 1 day late: -2."
    assert parsed["charles@uni.example"]["ops"] is None and parsed["grace@uni.example"]["elman"] is None
    assert read_as_moodle(text, "Username")["charles"]["elman"] == 7.5
    assert len(problems) == 1


# ------------------------------------------------------------------ lms.finish on a graded batch


def graded_batch(tmp_path):
    """OUT and SUBMITTED as grade and collect leave them, for two students of elman."""
    out, submitted = tmp_path / "out", tmp_path / "submitted"
    (out / "feedback" / "ada").mkdir(parents=True)
    (out / "results" / "ada").mkdir(parents=True)
    (out / "grades.csv").write_text("student,exercise,score,max_score,status,flags,message\n"
                                    "ada,elman,10,10,graded,,6 of 6 tests passed.\n"
                                    "charles,elman,7,10,graded,,5 of 6 tests passed.\n")
    (out / "feedback/ada/elman.html").write_text("<!DOCTYPE html><html><head></head><body>\n<h1>Grading summary"
                                                 "</h1></body></html>")
    (out / "results/ada/elman.json").write_text(json.dumps({"score": 10.0, "output": "6 of 6 tests passed.",
                                                            "tests": []}))
    (out / "summary.md").write_text("# Grading summary\n\nall fine\n")
    for student, when in (("ada", "2026-12-04T10:00:00+00:00"), ("charles", "2026-11-30T10:00:00+00:00")):
        (submitted / student / "elman").mkdir(parents=True)
        (submitted / student / "elman" / "timestamp.txt").write_text(when)
    (submitted / "collected-elman.csv").write_text(
        "student,exercise,status,message,source,submitted_at,lms_late\n"
        "ada,elman,placed,,x.ipynb,,0\n"
        "turingalan,elman,unplaced,\"turingalan_199_5_elman.ipynb: unknown student: no roster student has the "
        "lms_id '199'\",turingalan_199_5_elman.ipynb,,\n")
    return out, submitted


def test_finish_applies_the_policy_everywhere_and_twice_is_once(tmp_path):
    out, submitted = graded_batch(tmp_path)
    course = with_options(None, ["elman"], due=["2026-12-01T23:59:00+01:00"], late="per_day 10% cap 50%")
    for _ in range(2):  # a second run starts from the raw score again
        finished = lms.finish(out, submitted, course, ROSTER, similarity=False)
    rows = {r["student"]: r for r in lms.read_grades_csv(out / "grades.csv")}
    assert (rows["ada"]["score"], rows["ada"]["raw_score"], rows["ada"]["late_penalty"]) == ("7", "10", "3")
    assert rows["ada"]["submitted_at"] == "2026-12-04T10:00:00+00:00"
    assert (rows["charles"]["score"], rows["charles"]["late_penalty"]) == ("7", "0")
    assert rows["turingalan"]["status"] == "unplaced" and "unknown student" in rows["turingalan"]["message"]
    assert len(rows) == 3
    assert "ada,7,7" in (out / "scores.csv").read_text()
    page = (out / "feedback/ada/elman.html").read_text()
    assert page.count("<!-- late-penalty -->") == 1 and "Late penalty: 3 points" in page and page.index("late-penalty") < page.index("Grading summary")
    result = json.loads((out / "results/ada/elman.json").read_text())
    assert result["score"] == 7 and result["output"].count("Late penalty") == 1
    summary = (out / "summary.md").read_text()
    assert summary.count("## Late work (1)") == 1 and "turingalan" in summary and "all fine" in summary
    assert read_as_canvas((out / "canvas.csv").read_text())["101"] == {"elman": "7"}
    assert read_as_moodle((out / "moodle.csv").read_text())["charles@uni.example"]["elman"] == 7.0
    assert [g.student for g in finished.grades] == ["ada", "charles"] and set(finished.late) == {("ada", "elman")}


def test_banner_escapes_and_replaces():
    from autograder.late import assess, parse_policy

    found = assess(5, 10, datetime(2026, 12, 5, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc),
                   parse_policy("per_day 1"))
    once = lms.with_banner("<html><body class=x>\n<p>page</p></body></html>", found)
    assert lms.with_banner(once, found) == once and "<body class=x>\n<!-- late-penalty -->" in once
    assert "<script" not in once and "4 days" in once
