"""A standalone feedback page in a browser: opened alone from a file, it draws its math (MathML), logs no error
and requests nothing but itself.

The page holds the first markdown cells of every exercise (the course's real TeX), the grading summary table,
and a code cell with an output and an error; it is rendered by nbconvert's lab template and by nbgrader's
feedback template (what ``generate_feedback`` writes), then made standalone by ``autograder.standalone``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from traitlets.config import Config

from autograder.standalone import split_formulas, standalone_page
from tests.helpers.browser import ARGS as CHROMIUM_ARGS
from tests.helpers.browser import chromium as browser_path
from tests.helpers.notebooks import REPO

pytestmark = pytest.mark.slow
FIRST_MARKDOWN_CELLS = 4
# The text of the page without code: what a formula left as TeX would show up in.
VISIBLE_TEXT = """() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll('pre, code').forEach(e => e.remove());
    document.body.after(copy);
    const text = copy.innerText;
    copy.remove();
    return text;
}"""
MATH_SIZES = """() => [...document.querySelectorAll('math')]
    .map(m => m.getBoundingClientRect()).map(r => [r.width, r.height])"""


def course_notebook() -> nbformat.NotebookNode:
    """A graded-looking notebook: the summary, the first markdown cells of each exercise, a failing code cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(
        "## Grading summary: 7 / 10 points\n\n| test | points | why it failed |\n|---|---|---|\n"
        "| test_elman_forward_values | 0 / 2 | $h_t$ differs from torch.nn.RNN's by 0.5 |\n\n"
        "The details of each test follow below, under its cell."))
    for path in sorted(REPO.glob("exercises/*/*.ipynb")):
        markdown = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
        nb.cells += [nbformat.v4.new_markdown_cell(c.source) for c in markdown[:FIRST_MARKDOWN_CELLS]]
    nb.cells.append(nbformat.v4.new_code_cell("print('costs $5')\nelman_forward(X, h0, W_x, W_h, b)", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="costs $5\n"),
        nbformat.v4.new_output("error", ename="ValueError", evalue="shapes (2,3) and (4,5) not aligned",
                               traceback=["\x1b[0;31m---------\x1b[0m",
                                          "\x1b[0;31mValueError\x1b[0m: shapes not aligned"]),
    ]))
    return nb


def formulas_in(nb: nbformat.NotebookNode) -> list[str]:
    """Each formula of the markdown cells of ``nb``, as written."""
    return [piece[2] for cell in nb.cells if cell.cell_type == "markdown"
            for piece in split_formulas(cell.source) if isinstance(piece, tuple)]


def nbconvert_page(nb: nbformat.NotebookNode, template: str) -> str:
    """``nb`` as HTML: nbconvert's lab template, or nbgrader's feedback template set up as nbgrader does."""
    if template == "lab":
        return HTMLExporter(template_name="lab").from_notebook_node(nb)[0]
    import nbgrader

    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [str(formgrader / "templates")]
    bootstrap = formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css"
    config.HTMLExporter.extra_template_paths = [str(bootstrap)]
    resources = {"nbgrader": {"notebook": "course", "score": 7, "max_score": 10, "late_penalty": 0}}
    return HTMLExporter(config=config).from_notebook_node(nb, resources=resources)[0]


@pytest.fixture(scope="module")
def browser():
    chromium = browser_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("template", ["lab", "feedback"])
def test_a_page_alone_draws_its_math_and_loads_nothing(template, browser, tmp_path):
    nb = course_notebook()
    formulas = formulas_in(nb)
    html = nbconvert_page(nb, template)
    page = standalone_page(html, title="course: student 1")
    print(f"{template}: nbconvert's page {len(html.encode()) / 1024:.0f} KB, standalone "
          f"{len(page.encode()) / 1024:.0f} KB, {len(formulas)} formulas")
    assert len(page.encode()) < 100_000
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "feedback.html").write_text(page, encoding="utf-8")
    url = (alone / "feedback.html").as_uri()

    requests, errors = [], []
    tab = browser.new_page()
    try:
        tab.on("request", lambda r: requests.append(r.url))
        tab.on("console", lambda m: m.type in ("error", "warning") and errors.append(f"console {m.type}: {m.text}"))
        tab.on("pageerror", lambda e: errors.append(f"uncaught {e}"))
        tab.goto(url, wait_until="load")
        visible = tab.evaluate(VISIBLE_TEXT)
        everything = tab.evaluate("document.body.innerText")
        sizes = tab.evaluate(MATH_SIZES)
        scripts = tab.evaluate("document.scripts.length")
        tab.screenshot(path=str(tmp_path / f"{template}.png"), full_page=True)
    finally:
        tab.close()

    assert errors == []
    assert requests == [url]
    assert scripts == 0
    assert len(formulas) > 20 and len(sizes) == len(formulas)
    assert all(width > 0 and height > 0 for width, height in sizes), sizes
    left_as_tex = [piece for piece in split_formulas(visible) if isinstance(piece, tuple)]
    assert left_as_tex == [] and not [f for f in formulas if f in visible]
    assert "Grading summary: 7 / 10 points" in visible and "ValueError: shapes not aligned" in everything
