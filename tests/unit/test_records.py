"""records.py: every default in Limits and a Job built by keyword with the same defaults; a Result made only by its
factories (score, message, digest); results saved and loaded back unchanged, unreadable ones as None."""

from __future__ import annotations

import dataclasses
import json

import pytest

from autograder import records
from autograder.records import Job, Limits, Result, Status


def job(**changes) -> Job:
    fields = dict(student="ada", exercise="elman", notebook="/s/ada/elman/elman.ipynb", workdir="/w/ada/elman",
                  batch="/batch", max_score=5.0, digest="abc123", sandbox="none", stage_root="/stages")
    return Job(**{**fields, **changes})


def scored(name, score, max_score, **more):
    return records.TestResult(name, score, max_score, **more)


def test_limits_hold_every_default():
    limits = Limits()
    assert (limits.timeout, limits.cell_timeout, limits.memory_mb, limits.call_timeout, limits.sandbox) == (
        600, 60, 4096, 20, "auto")
    assert limits.jobs >= 1


def test_a_job_is_built_by_keyword_with_the_limits_defaults():
    with pytest.raises(TypeError):
        Job("ada", "elman", "nb", "work", "batch", 5.0, "digest", "none", "stages")  # noqa: the point of the test
    made = job()
    assert (made.cell_timeout, made.call_timeout, made.memory_mb) == (
        Limits.cell_timeout, Limits.call_timeout, Limits.memory_mb)
    assert made.note == ""
    assert str(made.release) == "/batch/release/elman/elman.ipynb"
    assert str(made.gradebook) == "/batch/gradebook.db"


def test_a_test_passes_only_with_all_its_points():
    assert scored("t", 2.0, 2.0).passed and scored("t", 2.0, 2.0).status == "passed"
    assert not scored("t", 1.0, 2.0).passed and scored("t", 0.0, 2.0).status == "failed"


def test_graded_sums_the_tests_and_counts_them_in_the_message():
    tests = [scored("a", 2.0, 2.0), scored("b", 0.0, 3.0, mistake="forgets tanh"), scored("c", 1.0, 1.0)]
    flags = ["redefines numpy.allclose"]
    timings = {"judge": 1.5}
    result = Result.graded(job(), tests, ["Graded elman (1).ipynb.", "", "A cell raised."], flags, timings)
    assert (result.student, result.exercise, result.status, result.digest) == ("ada", "elman", Status.GRADED, "abc123")
    assert (result.score, result.max_score) == (3.0, 6.0)
    assert result.message == "2 of 3 tests passed. Graded elman (1).ipynb. A cell raised."
    assert result.tests == tests and result.tests is not tests
    flags.append("later")
    timings["judge"] = 99
    assert result.flags == ["redefines numpy.allclose"] and result.timings == {"judge": 1.5}


def test_graded_with_no_notes_or_flags():
    result = Result.graded(job(), [scored("a", 0.0, 2.0)], [])
    assert result.message == "0 of 1 tests passed." and result.flags == [] and result.timings == {}


def test_failed_earns_nothing_and_says_why():
    result = Result.failed("bob", "ops", 12.0, Status.TIMEOUT, "Ran out of time.")
    assert (result.score, result.max_score, result.status, result.message, result.tests, result.digest) == (
        0.0, 12.0, Status.TIMEOUT, "Ran out of time.", [], "")
    from_job = Result.failed_job(job(), Status.CRASHED, "Python died.")
    assert (from_job.student, from_job.exercise, from_job.max_score, from_job.digest, from_job.score) == (
        "ada", "elman", 5.0, "abc123", 0.0)
    assert from_job.status is Status.CRASHED


def test_a_result_saved_loads_back_equal(tmp_path):
    result = Result.graded(job(), [scored("a", 2.0, 2.0, output="ok", verdict="passed: a"),
                                   scored("b", 0.0, 3.0, verdict="wrong", mistake="forgets tanh")],
                           ["note"], ["flag"], {"judge": 0.25})
    path = tmp_path / "deep" / "result.json"
    records.save(result, path)
    assert records.load(path) == result
    data = json.loads(path.read_text())
    assert data["status"] == "graded" and data["tests"][1]["mistake"] == "forgets tanh"
    assert [p.name for p in path.parent.iterdir()] == ["result.json"], "no temporary file is left behind"


@pytest.mark.parametrize("text", ["", "{not json", "[]", '{"student": "ada"}',
                                  '{"student": "a", "exercise": "e", "score": 0, "max_score": 1, "status": "odd",'
                                  ' "message": ""}'])
def test_an_unreadable_result_loads_as_none(tmp_path, text):
    (tmp_path / "result.json").write_text(text)
    assert records.load(tmp_path / "result.json") is None
    assert records.load(tmp_path / "absent.json") is None


def test_write_atomically_replaces_the_whole_file(tmp_path):
    path = tmp_path / "grades.csv"
    records.write_atomically(path, "old, and longer than the new text\n")
    records.write_atomically(path, "new\n")
    assert path.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv"]


def test_gradescope_format():
    result = Result.graded(job(), [scored("a", 2.0, 2.0, output="fine"), scored("b", 0.0, 3.0, output="no")], [])
    assert result.gradescope() == {"score": 2.0, "output": "1 of 2 tests passed.", "tests": [
        {"name": "a", "score": 2.0, "max_score": 2.0, "status": "passed", "output": "fine"},
        {"name": "b", "score": 0.0, "max_score": 3.0, "status": "failed", "output": "no"}]}


def test_every_result_field_survives_to_dict():
    names = {f.name for f in dataclasses.fields(Result)}
    assert set(Result.failed("a", "e", 1.0, Status.MISSING, "m").to_dict()) == names
