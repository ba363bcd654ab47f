"""The feedback page as a student reads it (autograder/feedback.py): each thing said once, the tests named.

Fast and in process: lists of TestResult and small notebooks, no grading run.
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder import feedback, flags, repair
from autograder.checks.compare import CheckFailure, expect_close, named
from autograder.course import exercise_names, hidden_checks
from autograder import records
from autograder.records import Result, Status
from tests.helpers.notebooks import MARKER, source_notebook

GENEROUS = 10.0  # seconds: only quadratic work takes this long
MISTAKE = "W_h is transposed (h_prev @ W_h.T): with row vectors the product is h_prev @ W_h"
DETAIL = "elman_step(x_t, h_prev, W_x, W_h, b) differs from the expected value on seed 0: largest error 0.888"
CRASH = "The hidden tests could not run your code: " + "the kernel died while running the cell elman_step " * 5


def failed(name: str, points: float, verdict: str, mistake: str = "") -> records.TestResult:
    return records.TestResult(name, 0.0, points, verdict=verdict, mistake=mistake)


def passed(name: str, points: float, checked: str) -> records.TestResult:
    return records.TestResult(name, points, points, verdict=f"passed: {checked}")


def a_students_tests() -> list[records.TestResult]:
    """Two tests failing on one named mistake, two on one unnamed crash, one passing."""
    return [
        failed("test_step_weights", 2, f"{DETAIL} at index (1, 2).{named(MISTAKE)}", MISTAKE),
        failed("test_step_bias", 1, f"{DETAIL} at index (4, 3).{named(MISTAKE)}", MISTAKE),
        failed("test_forward_values", 2, CRASH),
        failed("test_forward_h0", 1, CRASH),
        passed("test_forward_shape", 1, "The states come back as one (B, T, H) array."),
    ]


def release_notebook() -> nbformat.NotebookNode:
    """An exercise of two answer cells (elman_step, elman_forward), each followed by its test cell."""
    def answer(name):
        return new_code_cell(f"def {name}(x):\n    raise NotImplementedError()",
                             metadata={"nbgrader": {"grade_id": name, "solution": True, "grade": False}})

    def test(name, points):
        return new_code_cell(f"assert {name}", metadata={"nbgrader": {"grade_id": name, "grade": True,
                                                                      "solution": False, "locked": True,
                                                                      "points": points}})

    return new_notebook(cells=[
        new_code_cell("import numpy as np\ndef helper():\n    pass", metadata={"nbgrader": {
            "grade_id": "imports", "locked": True, "solution": False, "grade": False}}),
        answer("elman_step"), test("test_step_weights", 2), test("test_step_bias", 1),
        answer("elman_forward"), test("test_forward_values", 2), test("test_forward_h0", 1),
        test("test_forward_shape", 1),
    ])


def graded_notebook(step: str, forward: str = "def elman_forward(x):\n    return x",
                    errors: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """The release answered with ``step`` and ``forward``, executed: the test cells of ``errors`` raised."""
    notebook = release_notebook()
    for cell in notebook.cells:
        name = feedback.grade_id(cell)
        cell.source = {"elman_step": step, "elman_forward": forward}.get(name, cell.source)
        cell.outputs = [new_output("error", ename="AssertionError", evalue="differs", traceback=[])] \
            if name in errors else []
    return notebook


def annotated(notebook, tests) -> tuple[str, list[str]]:
    """(the summary, the text under each code cell) once ``feedback.annotate`` has run on ``notebook``."""
    feedback.annotate(notebook, tests, release_notebook(), "elman")
    under = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells if cell.cell_type == "code"]
    return notebook.cells[0].source, under


def table_rows(summary: str) -> list[str]:
    return [line for line in summary.splitlines() if line.startswith("| [")]


# ------------------------------------------------------------------ the summary


def test_the_summary_has_one_line_per_failed_test_with_its_points_lost_and_reason():
    summary = feedback.summary_markdown(a_students_tests(), exercise="elman")
    assert summary.startswith("## Grading summary: elman, 1 / 7 points")
    rows = table_rows(summary)
    assert [row.split(" | ")[0] for row in rows] == [
        "| [test_step_weights](#test_step_weights)", "| [test_step_bias](#test_step_bias)",
        "| [test_forward_values](#test_forward_values)", "| [test_forward_h0](#test_forward_h0)"]
    assert rows[0].split(" | ")[1] == "2 of 2" and rows[1].split(" | ")[1] == "1 of 1"
    assert named(MISTAKE).strip() in rows[0] and DETAIL not in rows[0], "the mistake named, the detail under the cell"
    assert CRASH in rows[2]
    assert "Passed: test_forward_shape." in summary


def test_a_reason_given_for_one_test_is_pointed_to_for_the_next():
    rows = table_rows(feedback.summary_markdown(a_students_tests()))
    assert rows[1].endswith("| as for test_step_weights, above |")
    assert rows[3].endswith("| as for test_forward_values, above |")


def test_every_test_passed_says_so_without_a_table():
    summary = feedback.summary_markdown([passed("test_a", 2, "fine")])
    assert "Every test passed." in summary and "|" not in summary


def test_a_reason_quoting_the_student_is_text_in_one_table_cell():
    summary = feedback.summary_markdown([failed("test_a", 1, "raised ValueError: <b>a|b</b>\n[x](javascript:y)")])
    row, = table_rows(summary)
    assert "<b>" not in row and "&lt;b&gt;" in row and "a\\|b" in row and "javascript:" not in row


# ------------------------------------------------------------------ under each cell


def test_under_a_failed_cell_the_detail_without_the_mistake_the_summary_names():
    line = feedback.cell_verdict(a_students_tests()[0])
    assert line.startswith("Hidden tests (FAILED): " + DETAIL) and MISTAKE not in line and "summary" in line


def test_under_a_cell_failed_without_a_named_mistake_only_a_pointer_to_the_summary():
    line = feedback.cell_verdict(a_students_tests()[2])
    assert line == "Hidden tests (FAILED): the summary at the top says why."


def test_under_a_passed_cell_what_was_checked_said_once():
    assert feedback.cell_verdict(a_students_tests()[4]) == \
        "Hidden tests (passed): The states come back as one (B, T, H) array."


def test_no_message_appears_twice_on_the_annotated_notebook():
    summary, under = annotated(graded_notebook("def elman_step(x):\n    return x"), a_students_tests())
    page = summary + "\n".join(under)
    assert page.count(CRASH) == 1 and page.count(MISTAKE) == 1
    assert page.count(DETAIL) == 2  # one per test, each with its own index: the detail is not a repeat
    assert sum("Hidden tests (" in text for text in under) == 5


# ------------------------------------------------------------------ notices at the top


def test_failing_visible_tests_are_named_at_the_top():
    notebook = graded_notebook("def elman_step(x):\n    return x", errors=("test_step_bias", "test_forward_h0"))
    summary, _ = annotated(notebook, a_students_tests())
    notice = "**Your visible tests fail as well** (test_step_bias, test_forward_h0): run them before you submit"
    assert notice in summary and summary.index(notice) < summary.index("| test |")


def test_no_visible_notice_when_the_visible_tests_ran_clean():
    summary, _ = annotated(graded_notebook("def elman_step(x):\n    return x"), a_students_tests())
    assert "visible tests fail" not in summary


def test_a_graded_function_defined_twice_in_a_cell_is_pointed_out_at_the_top_and_under_the_cell():
    step = "def elman_step(x):\n    return x\n\n\ndef elman_step(x):\n    return -x"
    summary, under = annotated(graded_notebook(step), a_students_tests())
    assert "**`elman_step` is defined 2 times** (all in one cell): only the last definition counts" in summary
    assert under[1] == ("Note: elman_step is defined 2 times in this notebook, here at lines 1 and 5: the last, "
                        "at line 5 of this cell, is the one that counts and that the hidden tests graded.\n")
    assert "elman_forward" not in summary.split("| test |")[0]


def test_a_graded_function_defined_again_in_a_later_cell_gets_a_note_under_both():
    notebook = graded_notebook("def elman_step(x):\n    return x")
    notebook.cells.append(new_code_cell("%timeit 1\nprint('scratch')\ndef elman_step(x):\n    return -x"))
    summary, under = annotated(notebook, a_students_tests())
    assert "(in 2 cells)" in summary
    assert "the last, in a later cell, is the one that counts" in under[1] and "not this one" in under[1]
    assert "here at line 3: the last, at line 3 of this cell, is the one that counts" in under[-1]


def test_helpers_and_nested_definitions_are_not_redefinitions():
    code = "def elman_step(x):\n    def elman_step(y):\n        return y\n    return elman_step(x)\ndef helper(): pass"
    notebook = new_notebook(cells=[new_code_cell(code), new_code_cell("def helper(): pass"), new_markdown_cell(code)])
    assert flags.redefinitions(notebook, ["elman_step"]) == {}


# ------------------------------------------------------------------ where definitions are found


def test_definitions_come_from_the_syntax_tree_or_else_from_the_lines():
    assert flags.definitions("import x\n@tensor_op\nclass exp(Op):\n    def forward(self): pass\nasync def f(): pass") \
        == [("exp", 3), ("f", 5)]
    assert flags.definitions("%%time\ndef f(:\n  pass\nclass g:\n  '''\ndef h(): in a string'''") \
        == [("f", 2), ("g", 4), ("h", 6)]
    assert flags.definitions("(" * 100_000) == [] and flags.definitions("x = 1\0") == []


@pytest.mark.parametrize("source", ["def f(x):\n    return x\n" * 20_000, "def f(:\n" * 40_000,
                                    "[" * 200_000, "def " * 50_000])
def test_reading_the_definitions_of_a_huge_cell_takes_linear_time(source):
    notebook = new_notebook(cells=[new_code_cell(source) for _ in range(10)])
    started = time.monotonic()
    found = flags.redefinitions(notebook, ["f"])
    assert time.monotonic() - started < GENEROUS
    assert bool(found) == source.startswith("def f")


def release_of(exercise: str) -> nbformat.NotebookNode:
    """The student version as nbgrader makes it: each solution region of an answer cell replaced by a stub."""
    notebook = source_notebook(exercise)
    for cell in notebook.cells:
        cell.source = re.sub(r"[ \t]*### BEGIN SOLUTION.*?### END SOLUTION", "    raise NotImplementedError()",
                             cell.source, flags=re.S)
        assert not MARKER.search(cell.source)
    return notebook


@pytest.mark.parametrize("exercise", exercise_names())
def test_the_graded_functions_are_those_the_hidden_tests_call(exercise):
    called = {name for check in hidden_checks(exercise).values() for name in check.args}
    assert set(repair.graded_functions(release_of(exercise))) == called


# ------------------------------------------------------------------ the page and the wording of a number


NBGRADER_PAGE = """<!DOCTYPE html><html><head><title>elman</title></head><body>
<a name="top"></a><div class="container"><div class="panel panel-default">
<div class="panel-heading"><h4>elman (Score: 4.0 / 10.0)</h4><div id="toc"><ol>
<li><a href="#test_step_weights">Test cell</a> (Score: 0.0 / 2.0)</li>
<li><a href="#test_step_bias">Test cell</a> (Score: 0.0 / 1.0)</li></ol></div></div>
<div class="panel-body"><h2>Grading summary: elman, 4 / 10 points</h2>
<a name="test_step_weights"></a><div class="panel-heading">Grade cell: <code>test_step_weights</code></div>
</div></div></body></html>"""


def test_the_page_leaves_out_nbgraders_unnamed_list_of_test_cells():
    result = Result("ada", "elman", 4, 10, Status.GRADED, "")
    page = feedback.feedback_page(result, NBGRADER_PAGE)
    assert "Test cell" not in page and "Score: 4.0" not in page and 'id="toc"' not in page
    assert "Grading summary: elman, 4 / 10 points" in page and "Grade cell: <code>test_step_weights</code>" in page
    assert '<a name="top"></a>' in page and "Content-Security-Policy" in page


def test_a_single_numbers_error_has_no_index():
    with pytest.raises(CheckFailure) as scalar:
        expect_close("masked_mean(token_losses, mask)", 0.5, 0.25, context="seed 0")
    assert str(scalar.value) == ("masked_mean(token_losses, mask) differs from the expected value on seed 0: "
                                 "error 0.25 (got 0.5, expected 0.25).")
    with pytest.raises(CheckFailure) as array:
        expect_close("H", [[0.0, 1.0]], [[0.0, 0.0]])
    assert "largest error 1 at index (0, 1) (got 1, expected 0)" in str(array.value)
