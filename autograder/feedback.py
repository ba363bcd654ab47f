"""What a student reads: the summary at the top of the feedback page, the lines under its cells, and the page itself.

The graded notebook becomes the page (:func:`annotate`, then nbgrader's feedback and
:func:`feedback_page`). Each thing is said once: the summary gives one line per failed
test (its name, the points lost, the mistake named or else the verdict), the line under
a test's cell gives what the summary leaves out (the detail of what differs) or points
up to it. Above the table, notices say what concerns the whole notebook: visible tests
that fail too, a graded function defined more than once.

Every page is one self-contained file (``standalone.py``): formulas rendered
into MathML, no script, nothing loaded from anywhere. Whatever a message quotes
of the student's own text is shown as text.
"""

from __future__ import annotations

from html import escape

import nbformat

from autograder.checks.compare import named
from autograder.flags import redefinitions
from autograder.inert import escape_markdown_html
from autograder.records import Result, TestResult
from autograder.repair import graded_functions
from autograder.standalone import standalone_page

# nbgrader's page heading: the notebook's name, its score and a list of "Test cell (Score …)" links that
# name no test. The summary says all of it, naming the tests.
NBGRADER_HEADING = ".panel-heading:has(> #toc)"
PASSED = "passed: "  # how the judge starts the verdict of a test that passed


def annotate(graded, tests: list[TestResult], release, exercise: str = "") -> None:
    """Ready the graded notebook ``graded`` for its feedback page, in place.

    The summary goes on top; under each test cell goes its line (:func:`cell_verdict`);
    under each cell that defines a graded function of ``release`` that is defined more
    than once goes a note saying which definition counts.
    """
    by_name = {t.name: t for t in tests}
    for cell in graded.cells:
        test = by_name.get(grade_id(cell))
        if test is not None and cell.cell_type == "code":
            append_text(cell, cell_verdict(test))
    redefined = redefinitions(graded, graded_functions(release))
    for name, places in redefined.items():
        for index in dict.fromkeys(cell for cell, _ in places):
            append_text(graded.cells[index], redefinition_note(name, places, index))
    failing = failing_visible_tests(graded)
    notices = [visible_tests_notice(failing)] if failing else []
    notices += [redefinition_notice(name, places) for name, places in redefined.items()]
    graded.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(tests, notices, exercise)))


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def append_text(cell, line: str) -> None:
    """Add ``line`` to the outputs of the code cell ``cell``, as printed text."""
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=line + "\n"))


def failing_visible_tests(graded) -> list[str]:
    """The test cells of the executed notebook ``graded`` whose visible tests raised an error, in order."""
    return [grade_id(cell) for cell in graded.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
            and any(output.get("output_type") == "error" for output in cell.get("outputs", []))]


def summary_markdown(tests: list[TestResult], notices: list[str] = (), exercise: str = "") -> str:
    """The top of the feedback page: the score, the ``notices``, then one line per failed test.

    Each failed test's line holds its name (a link to its cell), the points it lost and
    why (:func:`summary_reasons`). A reason can quote the student's own text (an exception
    message): it is shown as text, its HTML escaped and its markdown links defused.
    """
    score, total = sum(t.score for t in tests), sum(t.max_score for t in tests)
    lines = [f"## Grading summary: {exercise + ', ' if exercise else ''}{score:g} / {total:g} points", ""]
    for notice in notices:
        lines += [notice, ""]
    failed = [t for t in tests if not t.passed]
    if not failed:
        lines.append("Every test passed.")
        return "\n".join(lines)
    lines += ["| test | points lost | why it failed |", "|---|---|---|"]
    for t, reason in zip(failed, summary_reasons(failed)):
        lines.append(f"| [{t.name}](#{t.name}) | {t.max_score - t.score:g} of {t.max_score:g} | {table_text(reason)} |")
    passed = [t.name for t in tests if t.passed]
    lines += ["", *([f"Passed: {', '.join(passed)}.", ""] if passed else []),
              "Under each failed test's cell below: what its hidden test found."]
    return "\n".join(lines)


def summary_reasons(failed: list[TestResult]) -> list[str]:
    """Why each test of ``failed`` failed: the mistake it makes if named, else its verdict.

    A reason already given for an earlier test is not repeated: the line points to that test.
    """
    reasons, first = [], {}
    for t in failed:
        reason = named(t.mistake).strip() if t.mistake else t.verdict
        reasons.append(f"as for {first[reason]}, above" if reason in first else reason)
        first.setdefault(reason, t.name)
    return reasons


def table_text(text: str) -> str:
    """``text`` as the content of one markdown table cell, shown as text."""
    return escape_markdown_html(text).replace("|", "\\|").replace("\n", " ")


def cell_verdict(test: TestResult) -> str:
    """The line under a test's cell: what was checked if it passed; if it failed, what the summary leaves out.

    For a named mistake that is the verdict without its naming sentence (the summary
    gives that); otherwise the summary holds the whole verdict, and the line points to it.
    """
    if test.passed:
        return f"Hidden tests (passed): {test.verdict.removeprefix(PASSED)}"
    sentence = named(test.mistake)
    if test.mistake and sentence in test.verdict:
        return (f"Hidden tests (FAILED): {test.verdict.replace(sentence, '')} "
                "The summary at the top names the mistake this matches.")
    return "Hidden tests (FAILED): the summary at the top says why."


def visible_tests_notice(names: list[str]) -> str:
    """The notice for visible tests (``names``) that failed when the notebook ran."""
    return (f"**Your visible tests fail as well** ({', '.join(names)}): run them before you submit; "
            "each shows its error under its cell.")


def redefinition_notice(name: str, places: list[tuple[int, int]]) -> str:
    """The notice for the graded function ``name`` defined at ``places`` ((cell, line), more than one)."""
    cells = len({cell for cell, _ in places})
    where = "all in one cell" if cells == 1 else f"in {cells} cells"
    return (f"**`{name}` is defined {len(places)} times** ({where}): only the last definition counts, and it is "
            "the one the hidden tests graded. A note under each of those cells says where; keep one definition.")


def redefinition_note(name: str, places: list[tuple[int, int]], cell: int) -> str:
    """The note under cell ``cell``, one of those defining ``name`` at ``places`` ((cell, line), in order)."""
    here = [str(line) for at, line in places if at == cell]
    last_cell, last_line = places[-1]
    counts = (f"the last, at line {last_line} of this cell, is the one that counts and that the hidden tests graded"
              if cell == last_cell else
              "the last, in a later cell, is the one that counts and that the hidden tests graded, not this one")
    return (f"Note: {name} is defined {len(places)} times in this notebook, here at line{'s' * (len(here) > 1)} "
            f"{' and '.join(here)}: {counts}.")


def problem_page(r: Result) -> str:
    """A short page for a submission that has no graded notebook (invalid, missing, timed out...)."""
    rows = "".join(f"<tr><td>{escape(t.name)}</td><td>{t.score:g} / {t.max_score:g}</td><td>{escape(t.output)}</td></tr>"
                   for t in r.tests)
    table = f"<table><tr><th>test</th><th>points</th><th>what was checked</th></tr>{rows}</table>" if rows else ""
    return (f"<!doctype html><meta charset='utf-8'><title>{escape(r.exercise)}: {escape(r.student)}</title>"
            f"<h1>Grading summary: {escape(r.exercise)}, {r.score:g} / {r.max_score:g} points</h1>"
            f"<p><strong>{escape(r.status.value)}</strong>: {escape(r.message)}</p>{table}")


def feedback_page(result: Result, nbgrader_page: str | None) -> str:
    """The page to return for ``result``: nbgrader's page of the graded notebook, or one of ours saying why not.

    nbgrader's page heading (:data:`NBGRADER_HEADING`) is left out: the summary on top says the same, naming the tests.
    """
    title = f"{result.exercise}: feedback for {result.student}"
    if nbgrader_page is None:
        return standalone_page(problem_page(result), title=title)
    return standalone_page(nbgrader_page, title=title, drop=NBGRADER_HEADING)
