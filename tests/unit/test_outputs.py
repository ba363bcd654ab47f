"""outputs.py: grades.csv, scores.csv, results and feedback pages from the results; graded notebooks copied without
links; every result merged into one nbgrader gradebook, a rerun adding no row and keeping a manual score."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from autograder import outputs, records
from autograder.course import COURSE_ID
from autograder.records import Result, Status


def result(student, exercise, scores, status=Status.GRADED, flags=(), message="graded"):
    tests = [records.TestResult(name, score, top, output=f"{name} output") for name, score, top in scores]
    return Result(student, exercise, sum(t.score for t in tests), sum(t.max_score for t in tests), status, message,
                  tests, list(flags))


ELMAN = [("test_step", 2.0, 2.0), ("test_forward", 0.5, 3.0)]


def rows(path):
    return list(csv.reader(io.StringIO(path.read_text())))


def test_score_table_has_a_row_per_student_and_a_total(tmp_path):
    results = [result("bob", "elman", ELMAN), result("ada", "ops", [("test_exp", 4.0, 12.0)]),
               result("ada", "elman", [("test_step", 0.0, 2.0), ("test_forward", 3.0, 3.0)])]
    outputs.write_score_table(tmp_path / "scores.csv", results)
    assert rows(tmp_path / "scores.csv") == [["student", "elman (5)", "ops (12)", "total (17)"],
                                             ["ada", "3", "4", "7"],
                                             ["bob", "2.5", "", "2.5"]]


def test_write_outputs_writes_every_file(tmp_path):
    results = [result("bob", "elman", ELMAN, flags=["imports torch", "reads files"]),
               Result.failed("ada", "elman", 5.0, Status.INVALID, "elman.ipynb is not a <valid> notebook.")]
    outputs.write_outputs(tmp_path, results)
    assert [r.student for r in results] == ["ada", "bob"], "sorted by student, then exercise"
    assert rows(tmp_path / "grades.csv") == [
        ["student", "exercise", "score", "max_score", "status", "flags", "message"],
        ["ada", "elman", "0", "5", "invalid", "", "elman.ipynb is not a <valid> notebook."],
        ["bob", "elman", "2.5", "5", "graded", "imports torch; reads files", "graded"]]
    assert (tmp_path / "scores.csv").exists()
    assert json.loads((tmp_path / "results" / "bob" / "elman.json").read_text()) == results[1].gradescope()
    page = (tmp_path / "feedback" / "ada" / "elman.html").read_text()
    assert "elman.ipynb is not a &lt;valid&gt; notebook." in page and "<valid>" not in page
    assert not (tmp_path / "autograded").exists()


def test_nbgraders_page_is_used_only_as_a_regular_file(tmp_path):
    work = tmp_path / "work"
    (work / "ada" / "elman").mkdir(parents=True)
    (work / "ada" / "elman" / "feedback.html").write_text("<html><body><p>NBGRADER PAGE of ada</p></body></html>")
    secret = tmp_path / "secret.html"
    secret.write_text("<html><body><p>SECRET</p></body></html>")
    (work / "bob" / "elman").mkdir(parents=True)
    (work / "bob" / "elman" / "feedback.html").symlink_to(secret)
    outputs.write_outputs(tmp_path, [result("ada", "elman", ELMAN), result("bob", "elman", ELMAN)])
    assert "NBGRADER PAGE of ada" in (tmp_path / "feedback" / "ada" / "elman.html").read_text()
    bob = (tmp_path / "feedback" / "bob" / "elman.html").read_text()
    assert "SECRET" not in bob and "Grading summary" in bob


def test_graded_notebooks_are_copied_without_links(tmp_path):
    graded = tmp_path / "work" / "ada" / "elman" / "course" / "autograded" / "ada" / "elman"
    graded.mkdir(parents=True)
    (graded / "elman.ipynb").write_text("{}")
    (graded / "stolen").symlink_to(tmp_path / "work")
    outputs.write_outputs(tmp_path, [result("ada", "elman", ELMAN)])
    copied = tmp_path / "autograded" / "ada" / "elman"
    assert sorted(p.name for p in copied.iterdir()) == ["elman.ipynb"]
    assert (copied / "elman.ipynb").read_text() == "{}"


# ------------------------------------------------------------------ the gradebook


@pytest.fixture
def alembic_in_process(monkeypatch):
    """nbgrader stamps a new gradebook with alembic's head by running the ``alembic`` command: read it here instead."""
    from alembic.script import ScriptDirectory
    from nbgrader import api, dbutil

    head = ScriptDirectory(dbutil.ALEMBIC_DIR).get_current_head()
    monkeypatch.setattr(api, "get_alembic_version", lambda: head)


@pytest.fixture
def batch(tmp_path, alembic_in_process):
    """A batch folder whose gradebook knows the assignment ``elman`` (as release leaves it)."""
    from nbgrader.api import Gradebook

    folder = tmp_path / "batch"
    folder.mkdir()
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}", COURSE_ID) as gradebook:
        gradebook.add_assignment("elman")
        gradebook.add_notebook("elman", "elman")
        for name, _, points in ELMAN:
            gradebook.add_grade_cell(name, "elman", "elman", max_score=points, cell_type="code")
            gradebook.add_source_cell(name, "elman", "elman", cell_type="code", locked=True, source="assert True",
                                      checksum="x")
        gradebook.add_solution_cell("answer_step", "elman", "elman")
    return folder


def grades(out):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", COURSE_ID) as gradebook:
        found = {}
        for submission in gradebook.assignment_submissions("elman"):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    found[(submission.student.id, grade.name)] = (grade.auto_score, grade.manual_score)
        return found


def test_merge_gradebook_adds_each_result_once_and_keeps_manual_scores(tmp_path, batch):
    from nbgrader.api import Gradebook

    out = tmp_path / "out"
    out.mkdir()
    results = [result("ada", "elman", ELMAN),
               Result.failed("bob", "elman", 5.0, Status.TIMEOUT, "Ran out of time.")]
    outputs.merge_gradebook(out, batch, results, None)
    assert grades(out) == {("ada", "test_step"): (2.0, None), ("ada", "test_forward"): (0.5, None),
                           ("bob", "test_step"): (0.0, None), ("bob", "test_forward"): (0.0, None)}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", COURSE_ID) as gradebook:
        gradebook.find_grade("test_forward", "elman", "elman", "ada").manual_score = 3.0
        gradebook.db.commit()
    regraded = [result("ada", "elman", [("test_step", 0.0, 2.0), ("test_forward", 1.0, 3.0)])]
    outputs.merge_gradebook(out, batch, regraded, None)
    merged = grades(out)
    assert len(merged) == 4, "a rerun adds no row"
    assert merged[("ada", "test_step")] == (0.0, None) and merged[("ada", "test_forward")] == (1.0, 3.0)
    config = (out / "nbgrader_config.py").read_text()
    assert f"c.CourseDirectory.root = {str(out)!r}" in config
    assert f"c.CourseDirectory.db_url = 'sqlite:///{out / 'gradebook.db'}'" in config


def test_merge_gradebook_into_another_database_copies_the_assignment(tmp_path, batch):
    out = tmp_path / "out"
    out.mkdir()
    url = f"sqlite:///{tmp_path / 'course.db'}"
    outputs.merge_gradebook(out, batch, [result("ada", "elman", ELMAN)], url)
    assert not (out / "gradebook.db").exists()
    os.replace(tmp_path / "course.db", out / "gradebook.db")
    assert grades(out) == {("ada", "test_step"): (2.0, None), ("ada", "test_forward"): (0.5, None)}
