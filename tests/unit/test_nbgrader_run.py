"""The notebook surgery of nbgrader_run.py, in process: a looping function replaced after its definitions, and
the names a cell defines."""

from __future__ import annotations

import nbformat

from autograder.nbgrader_run import defined_names, stub_looped


def notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_defined_names_are_the_top_level_functions_classes_and_assignments():
    source = "def f(x):\n    g = 1\nclass C: pass\na = b = 2\nn: int = 3\nx.y = 4\nfor i in []: pass\n"
    assert defined_names(source) == {"f", "C", "a", "b", "n"}
    assert defined_names("def broken(:\n") == set()


def test_a_looped_function_is_replaced_after_its_last_definition_and_raises():
    original = notebook("def f():\n    while True: pass", "f = f", "print('uses f')", "def g(): return 1")
    stubbed = stub_looped(original, ["f"], call_timeout=7)
    assert [c.source.splitlines()[0] for c in stubbed.cells] == [
        "def f():", "f = f", stubbed.cells[2].source.splitlines()[0], "print('uses f')", "def g(): return 1"]
    assert len(original.cells) == 4, "the submission itself is not changed"
    namespace = {}
    exec(stubbed.cells[2].source, namespace)
    try:
        namespace["f"](1, key=2)
    except RuntimeError as error:
        assert "did not return within 7 s" in str(error)
    else:
        raise AssertionError("the stub must raise")


def test_a_function_defined_nowhere_visible_gets_no_stub():
    original = notebook("exec('def f(): pass')")
    assert stub_looped(original, ["f"], call_timeout=7).cells == original.cells
