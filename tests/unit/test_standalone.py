"""``autograder.standalone``: a feedback page made self-contained (math as MathML, no script, nothing loaded).

Fast: one small notebook rendered once by nbconvert's lab template, and hand-written HTML for the edge cases.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert import HTMLExporter

from autograder.standalone import CSP, formula_as_mathml, split_formulas, standalone_page
from tests.helpers.notebooks import REPO

PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
       "60e6kgAAAABJRU5ErkJggg==")


class Elements(HTMLParser):
    """Every start tag of a document, in order, as (name, {attribute: value})."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def loads(html: str) -> list[str]:
    """Each attribute of ``html`` that points outside the page: anything but a data: image, an
    in-page #anchor, and a link to the web that only a click follows."""
    found = []
    for tag, attrs in Elements(html).tags:
        for name, value in attrs.items():
            if name in ("src", "href", "srcset", "xlink:href", "action", "poster", "data", "background"):
                if value.startswith("#") or (tag == "img" and value.startswith("data:image/")):
                    continue
                if tag == "a" and name == "href" and value.startswith(("https://", "http://")):
                    continue
                found.append(f"<{tag} {name}={value!r}>")
    return found


def body(page: str) -> str:
    return page[page.index("<body>") + len("<body>"):page.index("</body>")].strip()


@pytest.fixture(scope="module")
def notebook_html() -> str:
    """A page as nbconvert's lab template makes it: markdown with math, code with an output and an error."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "## Grading summary: 3 / 5 points\n\n| test | points | why it failed |\n|---|---|---|\n"
            "| test_step | 0 / 2 | shape of $h_t$ is wrong |\n"),
        nbformat.v4.new_markdown_cell(
            "One step: $h_t = \\tanh(x_t W_x + h_{t-1} W_h + b)$, "
            "with \\\\(W_x \\in \\mathbb{R}^{D \\times H}\\\\).\n\n"
            "$$\n\\frac{\\partial L}{\\partial a_t} = \\frac{\\partial L}{\\partial h_t} \\odot (1 - h_t^2)\n$$\n\n"
            "and \\\\[y = W^\\top x\\\\]. The code `x = $y$` keeps its dollars; a coffee costs $5 and a book $10."),
        nbformat.v4.new_code_cell("print('$x$ in output')\n1 / 0", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="$x$ in output\n"),
            nbformat.v4.new_output("display_data", data={"image/png": PNG.split(",", 1)[1], "text/plain": "<Figure>"}),
            nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                   traceback=["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"]),
        ]),
    ]
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return html


@pytest.fixture(scope="module")
def notebook_page(notebook_html) -> str:
    return standalone_page(notebook_html, title="elman: student 1")


# --- Math ---------------------------------------------------------------------------------------------------


def test_the_math_of_a_notebook_page_is_mathml(notebook_html, notebook_page):
    assert "$h_t" in notebook_html and "<math" not in notebook_html
    text = body(notebook_page)
    assert text.count("<math") == 5
    assert text.count('<math display="block"') == 2
    assert "$h_t" not in text and "\\(" not in text and "\\[" not in text and "$$" not in text
    assert "ℝ" in text and "⊙" in text and "⊤" in text  # \mathbb{R}, \odot, \top


@pytest.mark.parametrize("written, display", [
    ("$a_1$", False), ("\\(a_1\\)", False), ("$$a_1$$", True), ("\\[a_1\\]", True),
    ("$$\na_1\n$$", True), ("\\[\na_1\n\\]", True),
])
def test_each_delimiter_makes_a_formula(written, display):
    page = body(standalone_page(f"<p>see {written} here</p>"))
    block = ' display="block"' if display else ' display="inline"'
    assert page == f"<p>see <math{block}><mrow><msub><mi>a</mi><mn>1</mn></msub></mrow></math> here</p>"


def test_code_pre_and_ignored_elements_keep_their_dollars(notebook_page):
    html = ("<pre>$x$ \\(y\\)</pre><p><code>$z$</code> and $w$</p><kbd>$k$</kbd><textarea>$t$</textarea>"
            '<div class="tex2jax_ignore"><p>$i$</p></div>'
            '<div class="highlight"><pre><span class="n">cost</span> <span class="o">=</span> '
            '<span class="s2">"$5"</span>'
            "</pre></div>")
    page = body(standalone_page(html))
    assert "<pre>$x$ \\(y\\)</pre>" in page
    assert "<code>$z$</code> and <math" in page
    assert "<kbd>$k$</kbd>" in page and "<textarea>$t$</textarea>" in page and "<p>$i$</p>" in page
    assert page.count("<math") == 1
    assert '<pre>cost = <span class="s2">"$5"</span></pre>' in page  # unstyled tokens unwrapped, strings kept
    assert "<code>x = $y$</code>" in notebook_page
    assert "<pre>$x$ in output\n</pre>" in notebook_page


@pytest.mark.parametrize("text", [
    "a coffee costs $5 and a book $10",
    "from $5 to $10",
    "$5-$10",
    "a lone $ sign",
    "$ x$ and $x $: a space inside the dollars",
    "$a\n\nb$: a blank line between",
    "$$ $$",
])
def test_prices_and_lone_dollars_are_text(text):
    assert split_formulas(text) == [text]
    assert "<math" not in standalone_page(f"<p>{text}</p>")


def test_an_escaped_dollar_is_a_dollar():
    assert split_formulas("\\$x\\$ costs \\$5, $y$") == ["$x$ costs $5, ", ("y", False, "$y$")]
    assert body(standalone_page("<p>\\$x\\$ is not math</p>")) == "<p>$x$ is not math</p>"


def test_split_formulas_keeps_the_text_around_formulas():
    assert split_formulas("$a$, then $$b$$.") == [("a", False, "$a$"), ", then ", ("b", True, "$$b$$"), "."]
    assert split_formulas("$\\$5$") == [("\\$5", False, "$\\$5$")]  # an escaped dollar inside a formula


@pytest.mark.parametrize("tex", ["\\left( x", "x^", "\\begin{bmatrix} 1", "\\frobnicate x"])
def test_a_formula_that_does_not_convert_stays_as_text(tex):
    assert formula_as_mathml(tex, False) is None
    page = body(standalone_page(f"<p>before ${tex}$ after &amp; $y$</p>"))
    assert page.startswith(f'<p>before <code class="tex-unrendered">${tex}$</code> after &amp; <math')


def test_tex_cannot_smuggle_markup_into_the_mathml():
    # latex2mathml copies \text{} into its output unescaped; the page escapes it (markdown did too).
    html = ("<p>$\\text{&lt;img src=x onerror=alert(1)&gt;}$ and "
            "$\\text{&lt;/math&gt;&lt;script&gt;alert(1)&lt;/script&gt;}$ and $\\href{https://example.org}{x}$</p>")
    page = body(standalone_page(html))
    tags = Elements(page).tags
    assert [tag for tag, _ in tags if tag not in ("p", "code")] == ["math", "mrow", "mrow", "mrow", "mi"]
    assert all(list(attrs) in ([], ["class"], ["display"]) for _, attrs in tags)  # no href, no handler
    assert '<code class="tex-unrendered">$\\text{&lt;img src=x onerror=alert(1)&gt;}$</code>' in page


def formulas_of_the_exercises() -> list[tuple[str, bool]]:
    formulas = set()
    for path in sorted(REPO.glob("exercises/*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                formulas |= {(p[0], p[1]) for p in split_formulas(cell.source) if isinstance(p, tuple)}
    return sorted(formulas)


def test_every_formula_of_the_exercises_converts():
    formulas = formulas_of_the_exercises()
    assert len(formulas) > 50
    failed = [tex for tex, display in formulas if formula_as_mathml(tex, display) is None]
    assert failed == []


@pytest.mark.parametrize("tex, shows", [
    ("x \\in \\mathbb{R}^{n}", "ℝ"), ("a \\odot b", "⊙"), ("W^\\top", "⊤"), ("\\tanh(a_t)", "tanh"),
    ("\\frac{\\partial L}{\\partial h}", "<mfrac>"), ("\\partial", "∂"), ("x_t^{(l)}", "<msubsup>"),
    ("h_{t-1}", "<msub>"), ("e^{x}", "<msup>"), ("\\text{mask}", "<mtext>mask</mtext>"), ("\\mathbf{x}", "𝐱"),
    ("\\overrightarrow{h}_t", "<mover>"), ("\\sum_{k=1}^{D} e^{x_k}", "∑"), ("\\ell_b", "ℓ"),
    ("\\begin{bmatrix} 1 & 0 \\\\ 0 & 1 \\end{bmatrix}", "<mtable>"), ("\\texttt{lengths[b]}", "lengths[b]"),
    ("a \\qquad b", "<mspace"), ("\\left(x\\right)", "<mo"),
])
def test_the_tex_of_the_course_converts(tex, shows):
    mathml = formula_as_mathml(tex, False)
    assert mathml is not None and shows in mathml


# --- Nothing runs, nothing loads ------------------------------------------------------------------------------


def test_no_script_survives(notebook_html, notebook_page):
    assert "<script" in notebook_html
    html = ('<html><head><script>var a = 1;</script><SCRIPT SRC="https://cdn.example/x.js"></SCRIPT></head>'
            "<body><p>text</p><script type='text/x-mathjax-config'>MathJax.Hub.Config({})</script>"
            "<ScRiPt>alert(1)</sCrIpT><svg><script>alert(2)</script></svg>"
            '<img src="x.png" onerror="alert(3)"><a href="javascript:alert(4)">click</a>'
            '<a href=" JaVa\tScRiPt:alert(5)">click</a>'
            "<noscript><p title=\"</noscript><img src=x onerror=alert(6)>\"></p></noscript>"
            '<iframe srcdoc="<script>alert(7)</script>"></iframe><object data="x.swf"></object>'
            '<svg><a xlink:href="javascript:alert(8)"><text>t</text></a><animate attributeName="href" to="x"/></svg>'
            '<meta http-equiv="refresh" content="0;url=https://example.org"></body></html>')
    for page in (notebook_page, standalone_page(html)):
        lowered = page.lower()
        assert "<script" not in lowered and "javascript" not in lowered and "alert" not in lowered
        assert not any(name.startswith("on") for _, attrs in Elements(page).tags for name in attrs)
        assert not any(tag in ("iframe", "object", "embed", "noscript", "animate") for tag, _ in Elements(page).tags)
        assert "refresh" not in lowered


def test_nothing_outside_the_page_is_referenced(notebook_html, notebook_page):
    assert loads(notebook_html) or "<link" in notebook_html or "src=" in notebook_html
    html = ('<html><head><link rel="stylesheet" href="custom.css"><link rel="icon" href="https://x.org/i.ico">'
            '<base href="https://x.org/"><style>@import url(https://x.org/a.css);</style></head><body>'
            '<img src="figure.png" alt="a figure"><img src="https://x.org/track.gif"><img src="' + PNG + '">'
            '<img srcset="a.png 2x"><video poster="p.png" src="v.mp4"></video><audio src="//x.org/a.mp3"></audio>'
            '<a href="other.html">a file beside</a><a href="#top">top</a><a href="https://example.org/doc">doc</a>'
            '<form action="https://x.org/post"><button formaction="https://x.org">go</button></form>'
            '<div style="background: url(bg.png)">bg</div><div style="color: red">red</div>'
            '<svg><image href="i.png"/><use xlink:href="#shape"/></svg></body></html>')
    page = standalone_page(html)
    assert loads(page) == []
    assert loads(notebook_page) == []
    assert "<link" not in page and "@import" not in page and "url(" not in body(page)
    assert '<a href="#top">top</a>' in page
    assert '<a href="https://example.org/doc" rel="noopener noreferrer">doc</a>' in page
    assert f'<img src="{PNG}"/>' in page and '<img alt="a figure"/>' in page
    assert '<div style="color: red">red</div>' in page and "<div>bg</div>" in page
    assert "<use xlink:href=\"#shape\">" in page
    assert 'src="data:image/png;base64,' in notebook_page  # the notebook's figure stays, inline


def test_the_csp_is_the_first_element_of_head(notebook_page):
    head = re.search(r"<head>(.*?)</head>", notebook_page, re.S).group(1)
    first = Elements(head).tags[0]
    assert first[0] == "meta" and first[1]["http-equiv"] == "Content-Security-Policy"
    directives = [d.strip() for d in first[1]["content"].split(";")]
    assert first[1]["content"] == CSP
    assert {"default-src 'none'", "style-src 'unsafe-inline'", "img-src data:"} <= set(directives)
    assert [tag for tag, _ in Elements(head).tags] == ["meta", "meta", "meta", "title", "style"]


# --- The page as a whole --------------------------------------------------------------------------------------


def test_the_page_is_small_and_keeps_its_content(notebook_html, notebook_page):
    assert len(notebook_page.encode()) < 100_000 < len(notebook_html.encode())
    assert "<title>elman: student 1</title>" in notebook_page
    text = body(notebook_page)
    assert "Grading summary: 3 / 5 points" in text and "<th>why it failed</th>" in text
    assert "ZeroDivisionError" in text and 'class="ansi-red-fg"' in text
    assert "jp-OutputArea-output" in text and "jp-InputArea" in text
    assert "--jp-" not in notebook_page  # JupyterLab's theme variables are gone
    assert notebook_page.count("<style>") == 1


def test_a_title_is_kept_or_given():
    assert "<title>elman &amp; co</title>" in standalone_page("<title>elman &amp; co</title><p>x</p>")
    assert "<title>&lt;b&gt;</title>" in standalone_page("<title>t</title>", title="<b>")
    assert "<title>Feedback</title>" in standalone_page("<p>x</p>")


def test_nbgraders_nested_body_is_flattened():
    html = ('<!DOCTYPE html><html><head><title>t</title></head><body><a name="top"></a><div class="container">'
            "<body><main><p>$x$</p></main></body></div></body></html>")
    page = standalone_page(html)
    assert page.count("<body") == 1 and page.count("<html") == 1 and page.count("<!DOCTYPE") == 1
    assert body(page) == '<a name="top"></a><div class="container"><main><p><math display="inline"><mrow><mi>x</mi>' \
                         "</mrow></math></p></main></div>"


def test_a_fragment_without_body_becomes_a_page():
    html = ("<!doctype html><meta charset='utf-8'><title>ops: s1</title>"
            "<h1>Grading summary: ops</h1><p>$a$ &lt;b&gt;</p>")
    page = standalone_page(html)
    assert "<title>ops: s1</title>" in page
    assert body(page) == ('<h1>Grading summary: ops</h1><p><math display="inline"><mrow><mi>a</mi></mrow></math> '
                          "&lt;b&gt;</p>")


def test_a_page_with_a_math_slot_lookalike_keeps_it_inert():
    page = standalone_page('<p><math-slot n="0"></math-slot> $x$</p>')
    assert body(page).count("<math ") == 1 and '<math-slot n="0"></math-slot>' in page


def test_svg_references_stay_inside_the_page():
    page = standalone_page('<svg><rect fill="url(#g)"/>'
                           '<rect fill="url( \'other.svg#g\')" filter="URL(https://x.org/f)"/><circle r="1"/></svg>')
    assert '<rect fill="url(#g)">' in page and "<rect></rect>" in page and "other.svg" not in page
    assert loads(page) == []


def test_a_deeply_nested_page_is_handled():
    depth = 5000  # a student's markdown can nest quotes or lists this deep; no recursion limit is hit
    page = standalone_page("<div>" * depth + "$x$" + "</div>" * depth)
    assert page.count("<div>") == depth and page.count("<math") == 1
