"""The website: every chapter executes, figures have captions and alt text, exercise links give the student
versions, the exercises page states the points the grader gives, every chapter downloads as a notebook that runs
on its own, every internal link resolves, and the pages load nothing from outside this machine and log no error in
a browser. Also: the execution cache re-executes exactly what changed, and a failing cell fails the build.

``BOOK_TOC=/path/to/toc.yml`` builds the site with another table of contents (a partial book, while chapters are
being written); by default the tests build the book of `_toc.yml`. ``BOOK_SITE=/path/to/_build/html`` tests a site
built before instead of building one (to iterate on these tests; `make test` always builds).
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from tests.helpers.browser import ARGS as BROWSER_ARGS
from tests.helpers.browser import chromium as browser_path
from tests.helpers.browser import keep_local
from tests.helpers.notebooks import REPO

pytestmark = pytest.mark.slow
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
TOC = Path(os.environ.get("BOOK_TOC", REPO / "_toc.yml")).resolve()
_toc = yaml.safe_load(TOC.read_text())
CHAPTERS = [entry["file"] for part in _toc["parts"] for entry in part["chapters"]]
PAGES = [_toc["root"]] + CHAPTERS
# Pages that are notebooks (code cells executed at build time), as opposed to plain pages (intro, exercises).
NOTEBOOKS = [p for p in PAGES if (REPO / f"{p}.md").read_text().startswith("---\njupytext:")]
EXERCISES = [("book/decorators", "decorators"), ("book/operations", "ops"), ("book/elman_rnn", "elman"),
             ("book/bptt", "bptt"), ("book/deep_bidirectional", "deep_bidirectional"), ("book/masking", "masking")]
EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")
LINK = re.compile(r"""<(a|link|script|img|source|iframe)\b[^>]*?\b(href|src)=["']([^"']*)["']""")


def build(source: Path, *options: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([JUPYTER_BOOK, "build", str(source), "--builder", "html", *options],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Build the whole book once, as `make book` does (no execution cache yet), into a temporary folder."""
    if os.environ.get("BOOK_SITE"):
        return Path(os.environ["BOOK_SITE"]).resolve()
    for needed in ("_build/vendor/static/mathjax/tex-chtml.js", "_build/student"):
        assert (REPO / needed).exists(), f"{needed} is missing: run the tests with `make test`"
    out = tmp_path_factory.mktemp("book")
    started = time.monotonic()
    done = build(REPO, "--path-output", str(out), "-W", "--keep-going", "--toc", str(TOC))
    print(f"book built in {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def served(site) -> str:
    """The site on a local HTTP server, as a student's browser gets it; yields the base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def page(site: Path, chapter: str) -> str:
    return (site / f"{chapter}.html").read_text()


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_chapter_executed_without_errors(site, chapter):
    html = page(site, chapter)
    assert 'class="cell_output' in html, "the chapter shows executed outputs"
    assert "Traceback (most recent call last)" not in html
    assert 'class="output traceback' not in html


@pytest.mark.parametrize("chapter", PAGES)
def test_figures_have_captions_and_alt_text(site, chapter):
    html = page(site, chapter)
    for image in re.findall(r"<img [^>]*>", html):
        if "_images/" in image:
            assert re.search(r'alt="[^"]{10,}"', image), f"an image without alt text: {image}"
    figures = re.findall(r"<figure.*?</figure>", html, flags=re.S)
    for figure in figures:
        assert "<figcaption" in figure, "a figure without a caption"
    if chapter in NOTEBOOKS:
        assert figures, "every chapter draws at least one figure"


def test_decorators_chapter_draws_the_graph(site):
    assert "fig-decorators-graph" in page(site, "book/decorators")


def student_notebook_linked(site: Path, chapter: str, exercise: str) -> nbformat.NotebookNode:
    links = re.findall(rf'href="([^"]*_downloads/[^"]*/{exercise}\.ipynb)"', page(site, chapter))
    assert links, f"{chapter} links to the {exercise} notebook"
    return nbformat.read((site / chapter).parent / links[0], as_version=4)


@pytest.mark.parametrize("chapter,exercise", EXERCISES)
def test_exercise_download_is_the_student_version(site, chapter, exercise):
    text = nbformat.writes(student_notebook_linked(site, chapter, exercise))
    assert "raise NotImplementedError()" in text and "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text


@pytest.mark.parametrize("chapter,exercise", EXERCISES)
def test_exercises_page_states_the_points_the_grader_gives(site, chapter, exercise):
    """The points on the exercises page are those in the nbgrader metadata of the notebook it serves."""
    html = page(site, "book/exercises")
    row = next(r for r in re.findall(r"<tr.*?</tr>", html, flags=re.S) if f'/{exercise}.ipynb"' in r)
    shown = re.search(r'class="exercise-points">([0-9.]+)<', row).group(1)
    notebook = student_notebook_linked(site, "book/exercises", exercise)
    graded = [c.metadata["nbgrader"] for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded, f"{exercise}: the student notebook has graded cells"
    assert float(shown) == sum(float(meta["points"]) for meta in graded)
    assert f'href="{Path(chapter).name}.html"' in row, f"the row of {exercise} links to {chapter}"


def test_requirements_download_is_the_student_requirements(site):
    for chapter in ("book/intro", "book/exercises"):
        links = re.findall(r'href="([^"]*_downloads/[^"]*/requirements-student\.txt)"', page(site, chapter))
        assert links, f"{chapter} links to the student requirements"
        served = ((site / chapter).parent / links[0]).resolve().read_text()
        assert served == (REPO / "book" / "requirements-student.txt").read_text()


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_chapter_download_runs_as_downloaded(site, served, chapter, tmp_path):
    """Fetch the chapter's zip from the site into an empty folder, unpack it, and run the notebook in a fresh
    kernel there: the download holds all the support code the chapter needs."""
    name = Path(chapter).name
    assert f'href="{name}.zip"' in page(site, chapter), f"{chapter} links to {name}.zip"
    with urllib.request.urlopen(f"{served}/{chapter}.zip") as response:
        zipfile.ZipFile(io.BytesIO(response.read())).extractall(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [name], "the zip unpacks into one folder"
    notebook = nbformat.read(tmp_path / name / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert not any(cell.get("outputs") for cell in notebook.cells), "the download is the notebook to run"
    env_path = os.environ.pop("PYTHONPATH", None)  # the kernel must not see this repository
    try:
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path / name)}}).execute()
    finally:
        if env_path is not None:
            os.environ["PYTHONPATH"] = env_path


def test_pages_reference_nothing_external_to_load(site):
    for html in site.rglob("*.html"):
        for match in EXTERNAL.finditer(html.read_text()):
            context = html.read_text()[max(0, match.start() - 80): match.end() + 80]
            # Plain links the reader may click are fine; things the browser loads by itself are not.
            assert not re.search(r"<(script|link|img|iframe)\b[^>]*$", context[:80 + 8]), (html.name, context)


def test_every_internal_link_resolves(site):
    """Every href and src of every page that stays on the site names a file that exists (and an anchor that
    exists, for a link into one of our pages)."""
    ids: dict[Path, set[str]] = {}
    broken = []
    pages = [html for html in sorted(site.rglob("*.html")) if "_static" not in html.relative_to(site).parts]
    for html in pages:  # (_static/ holds the theme's template macros, not pages)
        for _, _, target in LINK.findall(html.read_text()):
            if re.match(r"^([a-z][a-z0-9+.-]*:|//)", target, flags=re.I) or target in ("", "#"):
                continue  # outside the site (http:, mailto:, javascript:, data:), or nowhere
            path, _, anchor = target.partition("#")
            path = path.split("?")[0]
            file = (html.parent / path).resolve() if path else html
            if not file.is_file():
                broken.append(f"{html.relative_to(site)}: {target}")
            elif anchor and file.suffix == ".html":
                if file not in ids:
                    ids[file] = set(re.findall(r"""\bid=["']([^"']+)["']""", file.read_text()))
                if anchor not in ids[file]:
                    broken.append(f"{html.relative_to(site)}: {target} (no such anchor)")
    assert not broken, "\n".join(broken)


def test_pages_log_no_error_in_a_browser(site, served, tmp_path):
    """Headless Chromium loads every page: no console error, no uncaught exception, no request leaves
    localhost, and MathJax typesets the math."""
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path(), args=BROWSER_ARGS)
        try:
            tab = browser.new_page()
            outside = keep_local(tab, served)
            current = {}
            tab.on("console", lambda m: m.type == "error" and errors.append(f"{current['page']}: {m.text}"))
            tab.on("pageerror", lambda e: errors.append(f"{current['page']}: uncaught {e}"))
            for chapter in PAGES:
                current["page"] = chapter
                tab.goto(f"{served}/{chapter}.html", wait_until="load")
                tab.wait_for_load_state("networkidle")  # let the page's deferred scripts run (and fail) too
            current["page"] = "book/elman_rnn"
            tab.goto(f"{served}/book/elman_rnn.html", wait_until="load")
            tab.wait_for_selector("mjx-container", timeout=30000)
            typeset = tab.locator("mjx-container").count()
            tab.screenshot(path=str(tmp_path / "elman_rnn.png"), full_page=False)
        finally:
            browser.close()
    assert errors == [], "pages logged errors:\n" + "\n".join(errors)
    assert outside == [], f"requests left the machine: {outside}"
    assert typeset > 5, "MathJax typeset the chapter's math"


# --- Building: what the execution cache re-executes, and failing cells -------------------------------------------

HEADER = (REPO / "book" / "decorators.md").read_text().split("\n---\n")[0] + "\n---\n"


def small_book(root: Path, chapters: dict[str, str], lib: dict[str, str] | None = None) -> Path:
    """A book with our _config.yml and extensions, whose chapters are {name: code of one cell}."""
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    shutil.copytree(REPO / "book" / "_ext", root / "book" / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "_build" / "vendor" / "static").mkdir(parents=True)
    names = list(chapters)
    toc = {"format": "jb-book", "root": f"book/{names[0]}"}
    if names[1:]:
        toc["chapters"] = [{"file": f"book/{name}"} for name in names[1:]]
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))
    for name, code in chapters.items():
        write_chapter(root, name, code)
    # Every chapter links to the introduction's section on setting up Python; here the first chapter has it.
    with (root / "book" / f"{names[0]}.md").open("a") as first:
        first.write("\n(student-setup)=\n## Setting up Python\n\nAs the introduction says.\n")
    for module, code in (lib or {}).items():
        (root / "book" / "lib").mkdir(exist_ok=True)
        (root / "book" / "lib" / f"{module}.py").write_text(code)
    return root


def write_chapter(root: Path, name: str, code: str) -> None:
    (root / "book" / f"{name}.md").write_text(f"{HEADER}# Chapter {name}\n\n```{{code-cell}} ipython3\n{code}\n```\n")


def executed(done: subprocess.CompletedProcess) -> int:
    """How many notebooks the build executed (myst-nb says so once per notebook it runs)."""
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return (done.stdout + done.stderr).count("Executing notebook using")


def test_the_cache_reexecutes_exactly_what_changed(tmp_path):
    """A rebuild executes nothing; an edited chapter, or a lib/ module a chapter imports (even indirectly), makes
    that chapter, and only it, execute again, with the new outputs on its page."""
    book = small_book(tmp_path, {"one": "from lib.value import VALUE\nprint('value is', VALUE)",
                                 "two": "print('two is', 1 + 1)"},
                      lib={"__init__": "", "base": "BASE = 40\n",
                           "value": "from lib.base import BASE\nVALUE = BASE + 1\n"})
    html = book / "_build" / "html" / "book"
    assert executed(build(book, "-W")) == 2
    assert "value is 41" in (html / "one.html").read_text()
    assert executed(build(book, "-W")) == 0, "a rebuild without a change executes nothing"

    (book / "book" / "lib" / "base.py").write_text("BASE = 50\n")
    assert executed(build(book, "-W")) == 1, "a changed lib module re-executes the chapter that imports it"
    assert "value is 51" in (html / "one.html").read_text()

    write_chapter(book, "two", "print('two is', 2 + 2)")
    assert executed(build(book, "-W")) == 1, "an edited chapter re-executes, the others come from the cache"
    assert "two is 4" in (html / "two.html").read_text()

    with zipfile.ZipFile(html / "one.zip") as archive:
        assert sorted(archive.namelist()) == ["one/lib/__init__.py", "one/lib/base.py", "one/lib/value.py",
                                              "one/one.ipynb"]
        assert archive.read("one/lib/base.py") == b"BASE = 50\n"
    with zipfile.ZipFile(html / "two.zip") as archive:
        assert archive.namelist() == ["two/two.ipynb"]


def test_a_failing_cell_fails_the_build(tmp_path):
    """Jupyter Book only warns on cell errors by default; our _config.yml makes it fail, and since a failed
    notebook is never cached, the next build fails too."""
    book = small_book(tmp_path, {"index": "1 / 0"})
    for attempt in ("first build", "rebuild"):
        done = build(book, timeout=600)
        assert done.returncode != 0, attempt
        assert "ZeroDivisionError" in done.stdout + done.stderr, attempt
