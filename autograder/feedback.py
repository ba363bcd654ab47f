"""What a student reads: the summary at the top of the feedback page, and the page itself.

Every page is one self-contained file (``standalone.py``): formulas rendered
into MathML, no script, nothing loaded from anywhere. Whatever a message quotes
of the student's own text is shown as text.
"""

from __future__ import annotations

from html import escape

from autograder.inert import escape_markdown_html
from autograder.records import Result, TestResult
from autograder.standalone import standalone_page


def summary_markdown(tests: list[TestResult]) -> str:
    """The top of the feedback page: one line per failed test (name, points, reason).

    A reason can quote the student's own text (an exception message): it is shown as
    text, its HTML escaped and its markdown links defused.
    """
    score, total = sum(t.score for t in tests), sum(t.max_score for t in tests)
    lines = [f"## Grading summary: {score:g} / {total:g} points", ""]
    failed = [t for t in tests if not t.passed]
    if not failed:
        lines.append("Every test passed.")
    else:
        lines += ["| test | points | why it failed |", "|---|---|---|"]
        for t in failed:
            reason = escape_markdown_html(t.verdict).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {t.name} | {t.score:g} / {t.max_score:g} | {reason} |")
    lines += ["", "The details of each test follow below, under its cell."]
    return "\n".join(lines)


def problem_page(r: Result) -> str:
    """A short page for a submission that has no graded notebook (invalid, missing, timed out...)."""
    rows = "".join(f"<tr><td>{escape(t.name)}</td><td>{t.score:g} / {t.max_score:g}</td><td>{escape(t.output)}</td></tr>"
                   for t in r.tests)
    table = f"<table><tr><th>test</th><th>points</th><th>what was checked</th></tr>{rows}</table>" if rows else ""
    return (f"<!doctype html><meta charset='utf-8'><title>{escape(r.exercise)}: {escape(r.student)}</title>"
            f"<h1>Grading summary: {escape(r.exercise)}, {r.score:g} / {r.max_score:g} points</h1>"
            f"<p><strong>{escape(r.status.value)}</strong>: {escape(r.message)}</p>{table}")


def feedback_page(result: Result, nbgrader_page: str | None) -> str:
    """The page to return for ``result``: nbgrader's page of the graded notebook, or one of ours saying why not."""
    title = f"{result.exercise}: feedback for {result.student}"
    return standalone_page(nbgrader_page if nbgrader_page is not None else problem_page(result), title=title)
