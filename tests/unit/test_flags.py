"""The static flags (autograder/flags.py): what raises them, which cells are read, and what a scan may cost."""

from __future__ import annotations

import re
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import flags
from tests.helpers.notebooks import REPO, reference_answers, source_notebook, submission
from tests.helpers.tricks import TRICKS

EXERCISES = sorted(p.name for p in (REPO / "exercises").iterdir() if (p / f"{p.name}.ipynb").exists())
HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
GENEROUS = 10.0  # seconds: only a catastrophic regression (quadratic work) takes this long

# One snippet for every flag, in the order of flags.PATTERNS.
RAISES = {
    "imports the grader or the reference solutions": "from solutions.elman import elman_step",
    "reaches into IPython (get_ipython)": "shell = get_ipython()",
    "changes how later cells run (IPython transformers, run_cell, events, set_custom_exc)":
        "shell.events.register('post_run_cell', hook)",
    "installs a trace or audit hook": "sys.settrace(tracer)",
    "replaces a NumPy function": "np.testing.assert_allclose = lambda *a, **k: None",
    "touches Python's builtins": "__builtins__['len'] = my_len",
    "redefines a builtin that tests rely on": "len = lambda x: 3",
    "defines an object that can lie in comparisons": "class Yes:\n    def __eq__(self, other):\n        return True",
    "subclasses ndarray": "class Liar(numpy.ndarray):\n    pass",
    "opens a file outside the notebook's folder": "text = open('/etc/passwd').read()",
    "runs commands, deletes files or uses low-level OS calls": "os.system('ls')",
    "names grading folders or files": "path = 'course/gradebook.db'",
}


def notebook_of(*cells) -> nbformat.NotebookNode:
    """A notebook of code cells: each argument is a source, or (source, nbgrader metadata)."""
    notebook = new_notebook()
    for cell in cells:
        source, meta = cell if isinstance(cell, tuple) else (cell, None)
        notebook.cells.append(new_code_cell(source, metadata={"nbgrader": meta} if meta else {}))
    return notebook


def answer(name: str) -> dict:
    return {"grade_id": name, "solution": True, "locked": False, "grade": False}


def read_only(name: str) -> dict:
    return {"grade_id": name, "solution": False, "locked": True, "grade": False}


def timed_scan(notebook, release=None) -> list[str]:
    started = time.perf_counter()
    found = flags.scan(notebook, release)
    seconds = time.perf_counter() - started
    print(f"scan: {seconds * 1000:.1f} ms")
    assert seconds < GENEROUS
    return found


# ---------------------------------------------------------------------- what raises a flag

def test_every_flag_has_a_snippet():
    assert list(RAISES) == [meaning for _, meaning in flags.PATTERNS]


@pytest.mark.parametrize("meaning", list(RAISES))
def test_each_flag_fires_on_its_snippet(meaning):
    assert flags.scan(notebook_of(RAISES[meaning])) == [meaning]


def test_flags_come_once_in_the_order_found():
    notebook = notebook_of(RAISES["subclasses ndarray"], RAISES["reaches into IPython (get_ipython)"],
                           RAISES["subclasses ndarray"])
    assert flags.scan(notebook) == ["subclasses ndarray", "reaches into IPython (get_ipython)"]


@pytest.mark.parametrize("code", ["np.allclose(a, b) == True", "if np.x == 1: pass", "x.shape[0] = 3",
                                  "length = len(x)", "if len(x) == 2: pass", "f = open('data.csv')",
                                  "class Box(object):\n    pass"])
def test_ordinary_code_raises_nothing(code):
    assert flags.scan(notebook_of(code)) == []


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solutions_raise_nothing(exercise):
    source = source_notebook(exercise)  # holds the same grader metadata as the released version
    assert flags.scan(submission(source, reference_answers(exercise)), release=source) == []


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solutions_raise_nothing_without_the_release(exercise):
    """Without a release every code cell is read, the released read-only cells too: they are clean."""
    student_version = source_notebook(exercise)
    for cell in student_version.cells:
        cell.source = HIDDEN_TESTS.sub("", cell.source)
    assert flags.scan(submission(student_version, reference_answers(exercise))) == []


@pytest.mark.parametrize("trick", sorted(set(TRICKS) - {"uses_torch", "floods_output"}))
def test_every_attack_trick_is_flagged(trick):
    assert flags.scan(notebook_of(TRICKS[trick])), trick


# ---------------------------------------------------------------------- which cells are read

MONKEYPATCH = "import numpy as np\nnp.allclose = lambda *a, **k: True"
RELEASE = notebook_of(("import numpy as np", read_only("imports")), ("pass", answer("elman_step")),
                      ("assert elman_step", read_only("test_elman_step")))


def test_read_only_cell_with_an_unknown_id_is_scanned():
    notebook = notebook_of(("import numpy as np", read_only("imports")), (MONKEYPATCH, read_only("made_up")))
    assert flags.scan(notebook, RELEASE) == ["replaces a NumPy function"]


def test_read_only_cell_with_a_released_id_is_not_scanned():
    """The grader runs the released source of such a cell, whatever the submission holds."""
    notebook = notebook_of((MONKEYPATCH, read_only("imports")), ("x = 1", answer("elman_step")))
    assert flags.scan(notebook, RELEASE) == []


def test_without_a_release_every_code_cell_is_scanned():
    assert flags.scan(notebook_of((MONKEYPATCH, read_only("imports")))) == ["replaces a NumPy function"]


def test_answer_cell_marked_read_only_by_the_student_is_scanned():
    assert flags.scan(notebook_of((MONKEYPATCH, read_only("elman_step"))), RELEASE) == ["replaces a NumPy function"]


def test_a_copy_of_a_read_only_cell_is_scanned():
    """Only the first cell of a grade_id takes its place; a copy runs as a plain cell."""
    notebook = notebook_of(("import numpy as np", read_only("imports")), (MONKEYPATCH, read_only("imports")))
    assert flags.scan(notebook, RELEASE) == ["replaces a NumPy function"]


def test_an_answer_turned_markdown_is_scanned():
    """The grader gives a cell its released type back, so this markdown runs as code."""
    notebook = notebook_of(("import numpy as np", read_only("imports")))
    notebook.cells.append(new_markdown_cell(MONKEYPATCH, metadata={"nbgrader": answer("elman_step")}))
    notebook.cells.append(new_markdown_cell("import autograder  # prose, never run"))
    assert flags.scan(notebook, RELEASE) == ["replaces a NumPy function"]


def test_malformed_metadata_and_list_sources_are_still_scanned():
    notebook = notebook_of("x = 1")
    notebook.cells[0].update(metadata={"nbgrader": "locked"}, source=["import numpy as np\n", "np.sum = max\n"])
    assert flags.scan(notebook, RELEASE) == ["replaces a NumPy function"]


# ---------------------------------------------------------------------- what a scan may cost

PATHOLOGICAL = {
    "dotted_names": "# np." + "a." * 2_000_000,
    "repeated_np": "# " + "np." * 1_400_000,
    "word_run": "# np." + "a" * 4_000_000,
    "equals": "# " + "=" * 4_000_000,
    "spaces_after_import": "import" + " " * 4_000_000,
    "class_heads": "# " + "class a (" * 450_000,
    "string_literal": "s = '" + "np.a" * 1_000_000 + "'",
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_a_huge_cell_is_scanned_promptly_and_flagged(name):
    source = PATHOLOGICAL[name]
    found = timed_scan(notebook_of(("x = 1", answer("elman_step")), source))
    assert found[-1] == f"is too large to scan fully ({len('x = 1' + source) // 1000} kB of code)"


def test_code_past_the_cell_limit_still_gets_a_look():
    found = flags.scan(notebook_of("#" * flags.MAX_CELL + "\n" + MONKEYPATCH))
    assert found == [f"is too large to scan fully ({(flags.MAX_CELL + 1 + len(MONKEYPATCH)) // 1000} kB of code)"]


def test_many_cells_are_scanned_promptly():
    found = timed_scan(notebook_of(*[f"x_{i} = np.sum([{i}, 1])" for i in range(10_000)], MONKEYPATCH))
    assert found == ["replaces a NumPy function"]


def test_a_notebook_past_its_limit_is_flagged():
    cell = "y = 1\n" + "#" * (flags.MAX_CELL - 10)
    found = timed_scan(notebook_of(*[cell] * 6, MONKEYPATCH))
    assert found == [f"is too large to scan fully ({(6 * len(cell) + len(MONKEYPATCH)) // 1000} kB of code)"]
