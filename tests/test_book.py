"""The website: every chapter executes, figures have captions and alt text,
exercise links work, and the pages load nothing from outside this machine."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.notebooks import REPO

pytestmark = pytest.mark.slow
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
CHAPTERS = [entry["file"] for part in yaml.safe_load((REPO / "_toc.yml").read_text())["parts"]
            for entry in part["chapters"]]
EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Build the whole book once, as `make book` does, into a temporary folder."""
    for needed in ("_build/vendor/static/mathjax/tex-chtml.js", "_build/student"):
        assert (REPO / needed).exists(), f"{needed} is missing: run the tests with `make test`"
    out = tmp_path_factory.mktemp("book")
    started = time.monotonic()
    done = subprocess.run([JUPYTER_BOOK, "build", str(REPO), "--path-output", str(out), "--builder", "html", "-W",
                           "--keep-going"], capture_output=True, text=True, timeout=1800)
    print(f"book built in {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return out / "_build" / "html"


def page(site: Path, chapter: str) -> str:
    return (site / f"{chapter}.html").read_text()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executed_without_errors(site, chapter):
    html = page(site, chapter)
    assert 'class="cell_output' in html, "the chapter shows executed outputs"
    assert "Traceback (most recent call last)" not in html
    assert 'class="output traceback' not in html


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figures_have_captions_and_alt_text(site, chapter):
    html = page(site, chapter)
    for image in re.findall(r"<img [^>]*>", html):
        if "_images/" in image:
            assert re.search(r'alt="[^"]{10,}"', image), f"an image without alt text: {image}"
    figures = re.findall(r"<figure.*?</figure>", html, flags=re.S)
    for figure in figures:
        assert "<figcaption" in figure, "a figure without a caption"
    if chapter != "book/intro":
        assert figures, "every chapter draws at least one figure"


def test_decorators_chapter_draws_the_graph(site):
    assert "fig-decorators-graph" in page(site, "book/decorators")


@pytest.mark.parametrize("chapter,exercise", [("book/decorators", "decorators"), ("book/operations", "ops"),
                                              ("book/elman_rnn", "elman"), ("book/bptt", "bptt")])
def test_exercise_download_is_the_student_version(site, chapter, exercise):
    links = re.findall(rf'href="([^"]*_downloads/[^"]*{exercise}\.ipynb)"', page(site, chapter))
    assert links, f"{chapter} links to the {exercise} notebook"
    notebook = (site / chapter).parent / links[0]
    text = notebook.resolve().read_text()
    assert "raise NotImplementedError()" in text and "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text


def test_pages_reference_nothing_external_to_load(site):
    for html in site.rglob("*.html"):
        for match in EXTERNAL.finditer(html.read_text()):
            context = html.read_text()[max(0, match.start() - 80): match.end() + 80]
            # Plain links the reader may click are fine; things the browser loads by itself are not.
            assert not re.search(r"<(script|link|img|iframe)\b[^>]*$", context[:80 + 8]), (html.name, context)


def test_a_failing_cell_fails_the_build(tmp_path):
    """Jupyter Book only warns on cell errors by default; our _config.yml makes it fail."""
    shutil.copy(REPO / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (tmp_path / "index.md").write_text((REPO / "book" / "decorators.md").read_text().split("# Decorators")[0]
                                       + "# Broken\n\n```{code-cell} ipython3\n1 / 0\n```\n")
    (tmp_path / "_build" / "vendor" / "static").mkdir(parents=True)
    done = subprocess.run([JUPYTER_BOOK, "build", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode != 0
    assert "ZeroDivisionError" in done.stdout + done.stderr


def test_math_renders_offline_in_a_browser(site, tmp_path):
    """Headless Chromium loads a chapter; MathJax typesets; no request leaves localhost."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(chromium).exists(), "Debian's chromium is needed (apt-get install chromium); .ci/run installs it"
    from playwright.sync_api import sync_playwright

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    outside = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"])
            page_ = browser.new_page()

            def guard(route):
                if route.request.url.startswith(f"http://127.0.0.1:{server.server_port}/"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page_.route("**/*", guard)
            page_.goto(f"http://127.0.0.1:{server.server_port}/book/elman_rnn.html")
            page_.wait_for_selector("mjx-container", timeout=30000)
            typeset = page_.locator("mjx-container").count()
            page_.screenshot(path=str(tmp_path / "elman_rnn.png"), full_page=False)
            browser.close()
    finally:
        server.shutdown()
    assert typeset > 5, "MathJax typeset the chapter's math"
    assert outside == [], f"requests left the machine: {outside}"
