"""A course's round trip: an LMS's download in, grades in the LMS's import format out.

The same class of 20 ``decorators`` notebooks (tests/helpers/lms_class.py: two resubmissions, three late, two files of
people not in the roster, a pair that copied) is exported as Canvas, Moodle and Gradescope write it. Each export,
collected with ``python -m autograder collect``, must give the same layout as the one made by hand; the collected
layout is graded once with ``python -m autograder grade`` (due date and late policy from a course file) and must get
the scores the answers earn; the Canvas and Moodle files, read back as those LMSs read them, carry the scores after
the penalties; the similarity report puts the copied pair first.
"""

from __future__ import annotations

import csv
import filecmp
import os
from pathlib import Path

import nbformat
import pytest

from autograder import lms
from autograder.course_file import load_course_file
from autograder.roster import parse_roster
from autograder.similarity import report
from tests.helpers import lms_class as cls
from tests.helpers.grading import autograder, read_grades
from tests.helpers.lms_readers import read_as_canvas, read_as_moodle

pytestmark = pytest.mark.slow
LMSS = ("canvas", "moodle", "gradescope")


@pytest.fixture(scope="module")
def trip(release, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("round-trip")
    student_version = nbformat.read(release / cls.EXERCISE / f"{cls.EXERCISE}.ipynb", as_version=4)
    students = cls.build_class(student_version)
    cls.hand_made(tmp / "hand-made", students, student_version)
    (tmp / "canvas-roster.csv").write_text(cls.canvas_roster(students))
    (tmp / "canvas-times.csv").write_text(cls.canvas_times(students))
    (tmp / "moodle-worksheet.csv").write_text(cls.moodle_worksheet(students))
    (tmp / "gradescope-roster.csv").write_text(cls.gradescope_roster(students))
    cls.course_toml(tmp / "course.toml")
    cls.canvas_export(tmp / "canvas.zip", students, student_version)
    cls.moodle_export(tmp / "moodle.zip", students, student_version)
    cls.gradescope_export(tmp / "gradescope.zip", students, student_version)
    options = {"canvas": ["--roster", "canvas-roster.csv", "--times", "canvas-times.csv"],
               "moodle": ["--roster", "moodle-worksheet.csv", "--times", "moodle-worksheet.csv",
                          "--timezone", "Europe/Berlin"],
               "gradescope": ["--roster", "gradescope-roster.csv"]}
    logs = {}
    for name in LMSS:
        done = autograder("collect", str(tmp / f"{name}.zip"), "--exercise", cls.EXERCISE, "--out",
                          str(tmp / f"from-{name}"), *[str(tmp / o) if o.endswith(".csv") else o for o in options[name]])
        assert done.returncode == 0, done.stdout + done.stderr
        logs[name] = done.stdout
    graded = autograder("grade", str(tmp / "from-canvas"), "--out", str(tmp / "graded"), "--exercise", cls.EXERCISE,
                        "--jobs", "2", "--cell-timeout", "10", "--call-timeout", "5", "--course",
                        str(tmp / "course.toml"), "--roster", str(tmp / "canvas-roster.csv"), timeout=900)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    return tmp, students, logs, graded.stdout


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
                  and not p.name.startswith("collected-"))


def collected(folder: Path) -> list[dict]:
    with (folder / f"collected-{cls.EXERCISE}.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", LMSS)
def test_each_export_collects_to_the_hand_made_layout(trip, name):
    tmp, students, logs, _ = trip
    hand, got = tmp / "hand-made", tmp / f"from-{name}"
    assert tree(got) == tree(hand) and len(tree(hand)) == 40  # a notebook and a timestamp.txt per student
    different = [f for f in tree(hand) if not filecmp.cmp(hand / f, got / f, shallow=False)]
    assert not different, different
    assert f"found a {name.capitalize() if name != 'gradescope' else 'Gradescope'} export: 20 submission(s)" in logs[name]


@pytest.mark.parametrize("name", LMSS)
def test_every_file_not_placed_is_listed_with_its_reason(trip, name):
    tmp, *_ = trip
    rows = collected(tmp / f"from-{name}")
    by_status = {status: [r for r in rows if r["status"] == status] for status in ("placed", "superseded", "unplaced")}
    assert len(by_status["placed"]) == 20 and len(rows) == 24
    assert sorted(r["student"] for r in by_status["superseded"]) == sorted(cls.RESUBMITTED)
    assert len(by_status["unplaced"]) == 2
    assert all("unknown student" in r["message"] for r in by_status["unplaced"])


def test_grading_the_collected_layout_gives_what_the_answers_earn(trip):
    tmp, students, _, log = trip
    grades = read_grades(tmp / "graded")
    expected = cls.expected_scores(students)
    raw = {s: float(grades[(s, cls.EXERCISE)]["raw_score"]) for s in expected}
    assert raw == expected
    unplaced = [row for key, row in grades.items() if row["status"] == "unplaced"]
    assert len(unplaced) == 2 and len(grades) == 22
    assert "late: 3 submission(s) penalized" in log


def test_the_lms_files_carry_the_scores_after_the_penalties(trip):
    tmp, students, _, _ = trip
    out = tmp / "graded"
    grades = read_grades(out)
    penalties = {s: float(grades[(s, cls.EXERCISE)]["late_penalty"]) for s in (st.key for st in students)}
    assert {s: p for s, p in penalties.items() if p} == {"s005": 1.0, "s010": 2.0, "s017": 5.0}  # 1 day, 2, capped
    final = {s: float(grades[(s, cls.EXERCISE)]["raw_score"]) - penalties[s] for s in penalties}
    assert all(float(grades[(s, cls.EXERCISE)]["score"]) == final[s] for s in final)

    canvas = read_as_canvas((out / "canvas.csv").read_text())
    assert canvas["__points__"] == {"4412": "10"}
    assert {st.key: float(canvas[str(st.canvas_id)]["4412"]) for st in students} == final
    assert "47999" in canvas and canvas["47999"]["4412"] == ""  # Canvas's test student: in the roster, no grade

    # The Moodle file, keyed with Moodle's roster (its grading worksheet), from the Moodle-collected layout.
    course = load_course_file(tmp / "course.toml")
    worksheet = parse_roster((tmp / "moodle-worksheet.csv").read_text())
    lms.finish(out, tmp / "from-moodle", course, worksheet)
    moodle = read_as_moodle((out / "moodle.csv").read_text())
    assert {st.key: moodle[st.email]["Decorators"] for st in students} == final
    assert "Late penalty: 5 points" in moodle["s017@uni.example"]["Feedback: Decorators"]
    assert moodle["s000@uni.example"]["Feedback: Decorators"] == ""
    page = (out / "feedback" / "s010" / f"{cls.EXERCISE}.html").read_text()
    assert "Late penalty: 2 points" in page and page.count("<!-- late-penalty -->") == 1


def test_the_copied_pair_ranks_first_and_honest_answers_do_not(trip):
    tmp, *_ = trip
    found = report(tmp / "from-canvas", cls.EXERCISE)
    first, *rest = found.pairs
    assert (first.a, first.b) == cls.COPY_PAIR and first.similarity > 0.9
    assert all(p.similarity < 0.85 for p in rest)
    assert set(found.skipped) == set(cls.BLANK)
    page = (tmp / "graded" / "similarity.html").read_text()
    assert page.index("s016 and s017") < page.index("<h3")  # first row of the ranking
    assert "s016 and s017 (100%)" in (tmp / "graded" / "summary.md").read_text()
    assert not any(name.startswith("similarity") for name in os.listdir(tmp / "from-canvas"))
