"""inert.py: after ``inert``, nothing a submission brought or printed can run in a browser: only plain text and
raster images stay of its outputs, its markdown and raw cells show their HTML as text, and script links go."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from autograder.inert import escape_markdown_html, inert


def display(data, kind="display_data"):
    if kind == "execute_result":
        return new_output(kind, data=data, execution_count=1, metadata={"isolated": True})
    return new_output(kind, data=data, metadata={"isolated": True})


def notebook_with(*cells):
    notebook = new_notebook(cells=list(cells))
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return notebook


def test_outputs_keep_only_text_and_raster_images():
    code = new_code_cell("x", execution_count=3, outputs=[
        display({"text/html": "<script>alert(1)</script>", "text/plain": "<HTML object>"}),
        display({"application/javascript": "alert(1)", "image/svg+xml": "<svg onload=alert(1)/>"}),
        display({"image/png": "iVBORw0KGgo=", "text/markdown": "[x](javascript:alert(1))"}, "execute_result"),
        new_output("stream", name="stdout", text="<b>printed</b>"),
        new_output("error", ename="ValueError", evalue="<i>no</i>", traceback=["ValueError: <i>no</i>"]),
    ])
    notebook = notebook_with(code)
    inert(notebook)
    outputs = notebook.cells[0].outputs
    assert outputs[0]["data"] == {"text/plain": "<HTML object>"} and outputs[0]["metadata"] == {}
    assert outputs[1]["data"] == {
        "text/plain": "[output of type application/javascript, image/svg+xml not shown]"}
    assert outputs[2]["data"] == {"image/png": "iVBORw0KGgo=", "text/plain": "[output of type text/markdown not shown]"}
    assert outputs[2]["execution_count"] == 1
    assert outputs[3]["text"] == "<b>printed</b>" and outputs[4]["evalue"] == "<i>no</i>"  # escaped when rendered
    assert notebook.cells[0].execution_count == 3
    assert "widgets" not in notebook.metadata
    nbformat.validate(notebook)


def test_without_outputs_every_output_goes():
    notebook = notebook_with(new_code_cell("x", execution_count=3,
                                           outputs=[new_output("stream", name="stdout", text="old")]))
    inert(notebook, keep_outputs=False)
    assert notebook.cells[0].outputs == [] and notebook.cells[0].execution_count is None


def test_markdown_shows_its_html_as_text_unless_it_is_ours():
    theirs = new_markdown_cell("<img src=x onerror=alert(1)> and $a < b$ & [click](javascript:alert(1))")
    theirs.attachments = {"x.png": {"image/png": "iVBORw0KGgo="}}
    ours = new_markdown_cell("<details>hint</details>", metadata={"nbgrader": {"grade_id": "intro"}})
    forged = new_markdown_cell("<script>1</script>", metadata={"nbgrader": {"grade_id": "answer"}})
    notebook = notebook_with(theirs, ours, forged)
    inert(notebook, ours={"intro"})
    assert notebook.cells[0].source == ("&lt;img src=x onerror=alert(1)&gt; and $a &lt; b$ &amp; [click](#alert(1))")
    assert "attachments" not in notebook.cells[0]
    assert notebook.cells[1].source == "<details>hint</details>"
    assert notebook.cells[2].source == "&lt;script&gt;1&lt;/script&gt;"


def test_a_raw_cell_loses_its_mimetype_and_its_html():
    raw = new_raw_cell("<script>alert(1)</script>", metadata={"raw_mimetype": "text/html", "format": "text/html"})
    notebook = notebook_with(raw)
    inert(notebook)
    assert notebook.cells[0].metadata == {} and notebook.cells[0].source == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_script_links_are_defused_in_any_case_and_spacing():
    for link in ["[a](javascript:x)", "[a]( JavaScript :x)", "![a](data:text/html,x)", "[a](VBSCRIPT:x)"]:
        assert "(#" in escape_markdown_html(link) and ":x" not in escape_markdown_html(link).split("(#")[0], link
    assert escape_markdown_html("[a](https://example.org)") == "[a](https://example.org)"
