"""feedback.py, what stays true whatever its wording: a failed test appears with its points and reason, a passed
one is not listed as failed, what a message quotes of the student is shown as text, and a page made for a
submission without a graded notebook says why and carries no script and no hidden code."""

from __future__ import annotations

import re

from autograder import records
from autograder.feedback import feedback_page, summary_markdown
from autograder.records import Result, Status


def scored(name, score, max_score, verdict=""):
    return records.TestResult(name, score, max_score, verdict=verdict)


def test_a_failed_test_appears_with_its_points_and_reason():
    text = summary_markdown([scored("test_elman_step", 2.0, 2.0, "passed: step"),
                             scored("test_elman_forward", 0.0, 3.0, "the states start from zeros")])
    assert "2 / 5" in text
    failed = [line for line in text.splitlines() if "test_elman_forward" in line]
    assert len(failed) == 1 and "3 of 3" in failed[0] and "the states start from zeros" in failed[0]
    assert [line for line in text.splitlines() if "test_elman_step" in line] == ["Passed: test_elman_step."]


def test_every_test_passed():
    text = summary_markdown([scored("test_a", 1.0, 1.0)])
    assert "1 / 1" in text and "test_a" not in text


def test_a_reason_quoting_the_student_is_text():
    reason = "ValueError: <script>alert(1)</script> | [x](javascript:alert(1))\nsecond line"
    text = summary_markdown([scored("test_a", 0.0, 1.0, reason)])
    row = next(line for line in text.splitlines() if "test_a" in line)
    assert "<script>" not in text and "&lt;script&gt;" in row
    assert "javascript:" not in text and "second line" in row, "one row: the newline does not break the table"
    assert len(re.split(r"(?<!\\)\|", row)) == 5, "the student's pipe does not add a column: three cells"


def test_a_page_without_a_graded_notebook_says_why_and_runs_nothing():
    result = Result.failed("<b>ada</b>", "elman", 5.0, Status.INVALID,
                           "elman.ipynb is not a valid notebook (<img src=x onerror=alert(1)>).")
    result.tests = [scored("test_elman_step", 0.0, 2.0)]
    page = feedback_page(result, None)
    assert "invalid" in page and "elman.ipynb is not a valid notebook" in page
    assert "<script" not in page.lower() and "<img src=x" not in page and "<b>ada</b>" not in page
    assert "BEGIN HIDDEN TESTS" not in page and "autograder.checks" not in page


def test_nbgraders_page_is_the_base_of_the_page():
    page = feedback_page(Result.failed("ada", "elman", 5.0, Status.GRADED, "1 of 2 tests passed."),
                         "<!doctype html><html><head><title>x</title><script>alert(1)</script></head>"
                         "<body><p>NBGRADER PAGE</p></body></html>")
    assert "NBGRADER PAGE" in page and "<script" not in page.lower()
