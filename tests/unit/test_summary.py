"""summary.py: scores per exercise and per test, who needs a human, and the named mistakes counted from each
test's ``mistake`` field (never from the wording of a message)."""

from __future__ import annotations

import pytest

from autograder import records, summary
from autograder.records import Result, Status


def graded(student, exercise, tests, flags=()):
    return Result(student, exercise, sum(t.score for t in tests), sum(t.max_score for t in tests), Status.GRADED,
                  "graded", list(tests), list(flags))


def elman(step, forward, step_mistake="", forward_mistake="", verdict=""):
    return [records.TestResult("test_step", step, 2.0, verdict=verdict, mistake=step_mistake),
            records.TestResult("test_forward", forward, 3.0, mistake=forward_mistake)]


@pytest.fixture
def figures(monkeypatch):
    drawn = []
    monkeypatch.setattr(summary, "_figure", lambda path, rates: drawn.append((path.name, dict(rates))))
    return drawn


@pytest.fixture
def batch():
    return [
        graded("ada", "elman", elman(2.0, 3.0)),
        graded("bob", "elman", elman(0.0, 0.0, "forgets tanh", "forgets tanh")),
        graded("cy", "elman", elman(0.0, 3.0, "forgets tanh")),
        graded("dee", "elman", elman(2.0, 0.0, forward_mistake="starts from zeros"), flags=["imports torch"]),
        # A message that quotes a mistake's words without the judge naming it: not counted.
        graded("eve", "elman", elman(0.0, 3.0, verdict="This is what happens when you forget tanh.")),
        Result.failed("fay", "elman", 5.0, Status.INVALID, "elman.ipynb is not a valid Jupyter notebook."),
        graded("ada", "ops", [records.TestResult("test_exp", 1.0, 1.0)]),
    ]


def test_mistakes_are_counted_from_the_field_per_submission(tmp_path, batch, figures):
    text = summary.report(tmp_path, batch)
    mistakes = text.split("## Mistakes made")[1].splitlines()[2:]
    assert [line for line in mistakes if line] == ["- 2 of 6 elman submissions: forgets tanh",
                                                   "- 1 of 6 elman submissions: starts from zeros"]


def test_scores_and_tests_tables(tmp_path, batch, figures):
    text = summary.report(tmp_path, batch)
    assert "| elman | 6 | 5 | 2.17 | 2.5 | 5 |" in text  # scores 5, 0, 3, 2, 3, 0
    assert "| ops | 1 | 1 | 1.00 | 1 | 1 |" in text
    assert "| elman | test_step | 2 | 2 of 5 | 0.80 |" in text
    assert "| elman | test_forward | 3 | 3 of 5 | 1.80 |" in text
    assert figures == [("summary.png", {("elman", "test_step"): 0.4, ("elman", "test_forward"): 0.6,
                                        ("ops", "test_exp"): 1.0})]


def test_who_needs_a_human(tmp_path, batch, figures):
    text = summary.report(tmp_path, batch)
    assert "## Needs a human (2)" in text
    assert "- dee/elman: graded; flags: imports torch. graded" in text
    assert "- fay/elman: invalid. elman.ipynb is not a valid Jupyter notebook." in text
    assert "ada/elman" not in text.split("## Needs a human")[1].split("##")[0]


def test_a_clean_batch_says_so(tmp_path, figures):
    text = summary.report(tmp_path, [graded("ada", "elman", elman(2.0, 3.0))])
    assert "Nobody: every submission was graded and none was flagged." in text
    assert "None of the known mistakes was made." in text


def test_the_text_is_written_and_returned(tmp_path, batch, figures):
    text = summary.report(tmp_path, batch)
    assert text.startswith("# Grading summary") and (tmp_path / "summary.md").read_text() == text


def test_no_tests_no_figure(tmp_path, figures):
    summary.report(tmp_path, [Result.failed("fay", "elman", 5.0, Status.MISSING, "No elman.ipynb.")])
    assert figures == [] and not (tmp_path / "summary.png").exists()


def test_the_figure_is_a_png(tmp_path):
    summary._figure(tmp_path / "summary.png", {("elman", "test_step"): 0.5, ("elman", "test_forward"): 1.0})
    assert (tmp_path / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
