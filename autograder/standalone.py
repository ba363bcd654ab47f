"""A feedback page that stands alone: one HTML file that shows its math anywhere, offline, and runs nothing.

nbgrader's feedback page (nbconvert HTML) leaves its TeX for MathJax to typeset in the browser, loads
scripts and carries some 150 KB of notebook CSS. :func:`standalone_page` turns it into a page that needs
nothing beside it:

* **Math** is rendered now, into MathML, which browsers draw without a script. A formula is looked for
  only in the text of the page, never inside ``<pre>``, ``<code>``, ``<kbd>``, ``<samp>``, ``<script>``,
  ``<style>``, ``<textarea>`` or an element of class ``tex2jax_ignore`` (MathJax's own opt-out). The
  delimiters are MathJax's: ``$$…$$`` and ``\\[…\\]`` (display), ``$…$`` and ``\\(…\\)`` (inline), and ``\\$``
  is a dollar sign. A single ``$`` is read conservatively, by pandoc's rule, so that prices stay text: the
  opening ``$`` is followed by a non-space, the closing ``$`` is preceded by a non-space and not followed
  by a digit, and an inline formula does not cross a blank line nor contain an unescaped ``$``. Thus "it
  costs $5 and $10" is text, "$x_t$" is math. A formula split by markup (``$a <b>b</b>$``) is left alone:
  nbconvert's markdown keeps formulas whole, so this only happens to text that was never math.
* A formula that does not convert (malformed TeX, a command the converter does not know) is shown as its
  TeX source in a ``<code class="tex-unrendered">``, so the page still says what was meant.
* **Nothing runs and nothing loads.** Every ``<script>``, ``<style>``, ``<link>``, ``<meta>``, ``<base>``,
  frame, object and embed goes; so do event-handler attributes, ``style`` attributes that could fetch
  (``url(…)``, ``image-set``, CSS escapes), and every ``src``/``href``-like attribute except ``data:``
  images and in-page ``#anchors``. Links to the web (``<a href="https://…">``, ``mailto:``) stay links: a
  click is the reader's choice, not a load. The first element of ``<head>`` is a Content-Security-Policy
  that forbids scripts and every load but inline styles and ``data:`` images, should anything slip by.
* **Styles**: nbconvert's CSS (JupyterLab's theme variables, CodeMirror, Bootstrap for nbgrader) is
  replaced by :data:`STYLESHEET`, a short one of our own covering what a feedback page shows: text and
  tables, nbgrader's panels, code cells, outputs (errors in red) and math. Jupyter's ``In [n]:`` prompts
  are hidden. Syntax highlighting keeps a handful of Pygments classes (comments, keywords, strings,
  numbers, names of functions and builtins): enough to read a student's code at a glance. The spans of
  the other tokens (names, punctuation, operators, whitespace: most of them) are unwrapped into plain
  text, which halves the weight of a page of code.

Any HTML is accepted (a fragment without ``<body>`` too); the page is rebuilt from the parsed tree, so
what comes out is only markup that the tree holds, with its text escaped.
"""

from __future__ import annotations

import functools
import html as html_text
import re
import secrets

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction
from latex2mathml.converter import convert as tex_to_mathml

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

# Elements that are dropped with all they hold: they run, load, restyle, or (raw-text elements such as
# <noscript> and <xmp>) are parsed differently by a browser than by Python's parser.
DROPPED_ELEMENTS = frozenset({
    "script", "style", "link", "meta", "base", "title", "head", "iframe", "frame", "frameset", "object",
    "embed", "applet", "portal", "noscript", "noembed", "noframes", "xmp", "plaintext", "template",
    # SVG animation can rewrite an attribute (an href) after the page has been cleaned.
    "animate", "animatemotion", "animatetransform", "set",
})
# Wrappers that nbgrader's template nests inside the body: their content stays, the tags go.
UNWRAPPED_ELEMENTS = frozenset({"html", "body"})
URL_ATTRIBUTES = frozenset({
    "href", "src", "srcset", "xlink:href", "action", "formaction", "poster", "data", "background", "cite",
    "longdesc", "ping", "manifest", "codebase", "archive", "lowsrc", "dynsrc", "usemap", "profile",
})
LINK_SCHEMES = ("https:", "http:", "mailto:")
STYLE_THAT_LOADS = re.compile(r"url|image-set|@import|expression|\\", re.I)
# SVG paints, filters, masks and markers can point at another file too: fill="url(other.svg#g)".
URL_REFERENCE = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)", re.I)
NO_MATH_INSIDE = frozenset({"pre", "code", "kbd", "samp", "script", "style", "textarea", "math"})
NO_MATH_CLASSES = frozenset({"tex2jax_ignore", "mathjax_ignore"})

# Alternatives in order of precedence at one position; see the module docstring for the rules.
FORMULA = re.compile(r"""
      (?P<escaped_dollar>\\\$)
    | \$\$(?P<display_dollars>(?:[^$\\]|\\.)+?)\$\$
    | \\\[(?P<display_brackets>.+?)\\\]
    | \\\((?P<inline_parens>.+?)\\\)
    | \$(?![\s$])(?P<inline_dollars>(?:(?!\n[ \t]*\n)[^$\\]|\\.)+?)(?<!\s)\$(?!\d)
""", re.VERBOSE | re.DOTALL)
DISPLAY_GROUPS = ("display_dollars", "display_brackets")

# MathML that latex2mathml writes and Chromium draws; anything else in its output rejects the formula.
MATHML_ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mlabeledtr", "mstyle", "mpadded",
    "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts", "none", "semantics", "annotation",
})
MATHML_ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "separator", "form", "lspace", "rspace", "minsize",
    "maxsize", "symmetric", "largeop", "movablelimits", "accent", "accentunder", "width", "height", "depth",
    "linethickness", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines",
    "frame", "displaystyle", "scriptlevel", "notation", "mathcolor", "mathbackground", "mathsize",
    "linebreak", "encoding",
})
# The Pygments classes kept, with their colours; every other token's <span> is unwrapped into plain text.
PYGMENTS_COLOURS = {
    ("c", "c1", "cm", "ch", "cs", "sd"): "color: #6e7781; font-style: italic",  # comments, docstrings
    ("k", "kn", "kc", "kd", "kr", "ow"): "color: #8250df",  # keywords
    ("s", "s1", "s2", "sa", "sb", "se", "si", "sx"): "color: #0a3069",  # strings
    ("m", "mi", "mf", "mh", "mo"): "color: #0550ae",  # numbers
    ("nf", "nc", "fm"): "color: #6639ba",  # names of functions and classes being defined
    ("nb", "bp"): "color: #953800",  # builtins
    ("err",): "color: #cf222e",
}
PYGMENTS_KEPT = frozenset(name for names in PYGMENTS_COLOURS for name in names)
UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]")  # latex2mathml passes a command it does not know through as text

STYLESHEET = """
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 62rem; padding: 1.5rem 1rem 4rem; color: #1f2328; background: #fff;
       font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
h1, h2, h3, h4, h5 { line-height: 1.25; margin: 1.5em 0 .6em; }
h1 { font-size: 1.8em; }
h2 { font-size: 1.45em; padding-bottom: .25em; border-bottom: 1px solid #d8dee4; }
h3 { font-size: 1.2em; }
h4, h5 { font-size: 1.05em; }
p, ul, ol, dl, table, blockquote { margin: .7em 0; }
a { color: #0969da; }
a.anchor-link { display: none; }
img { max-width: 100%; height: auto; }
hr { border: 0; border-top: 1px solid #d8dee4; }
blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d8dee4; }

/* Tables: the grading summary at the top of the page is one. */
table { border-collapse: collapse; display: block; max-width: 100%; overflow-x: auto; }
th, td { padding: .35em .7em; border: 1px solid #d0d7de; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tbody tr:nth-child(even) { background: #fafbfc; }

/* Code, in text and in cells */
code, pre, kbd, samp { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
                       font-size: .875em; }
code { padding: .1em .3em; background: #eff1f3; border-radius: 4px; }
pre { margin: 0; padding: .6em .8em; overflow-x: auto; line-height: 1.45;
      background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; }
pre code, pre kbd, pre samp { padding: 0; background: none; font-size: 1em; }
code.tex-unrendered { color: #9a6700; }

/* Notebook cells: the prompts ("In [3]:") say nothing on a page of the graded notebook. */
.prompt, .jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser { display: none; }
.cell, .jp-Cell { margin: 1em 0; }
.output_area, .jp-OutputArea-child { margin-top: .4em; }
.output_subarea pre, .jp-OutputArea-output pre { background: #fff; border-width: 0 0 0 3px; border-radius: 0;
                                                 white-space: pre-wrap; overflow-wrap: anywhere; }
.output_error pre, .output_stderr pre,
[data-mime-type="application/vnd.jupyter.stderr"] pre { background: #fff5f5; border-left-color: #cf222e; }

/* Tracebacks are coloured with ANSI classes. */
.ansi-red-fg, .ansi-red-intense-fg { color: #cf222e; }
.ansi-green-fg, .ansi-green-intense-fg { color: #1a7f37; }
.ansi-yellow-fg, .ansi-yellow-intense-fg { color: #9a6700; }
.ansi-blue-fg, .ansi-blue-intense-fg { color: #0550ae; }
.ansi-cyan-fg, .ansi-cyan-intense-fg { color: #1b7c83; }
.ansi-magenta-fg, .ansi-magenta-intense-fg { color: #8250df; }
.ansi-bold { font-weight: 600; }

/* Syntax highlighting: the few Pygments classes of PYGMENTS_COLOURS */
PYGMENTS_RULES

/* nbgrader's panels: the page's own frame (panel-default) is flat, a graded cell is boxed. */
.panel { margin: 1em 0; border: 1px solid #d0d7de; border-radius: 6px; }
.panel-heading, .panel-footer { padding: .4em .8em; background: #f6f8fa; }
.panel-heading { border-bottom: 1px solid #d0d7de; }
.panel-heading::after { content: ""; display: block; clear: both; }
.panel-footer { border-top: 1px solid #d0d7de; }
.panel-body { padding: .6em .8em; }
.panel-primary { border-color: #54aeff; }
.panel-primary > .panel-heading { background: #ddf4ff; border-color: #54aeff; }
.panel-default { border: 0; }
.panel-default > .panel-heading, .panel-default > .panel-body { padding: 0; background: none; border: 0; }
.panel-heading h4 { margin: .2em 0; font-size: 1.3em; }
.pull-right { float: right; }
.nbgrader-label { font-weight: 600; }
.late-penalty { color: #cf222e; }

/* Math, as MathML */
math { font-family: "STIX Two Math", "Latin Modern Math", "Cambria Math", "DejaVu Math TeX Gyre", math;
       font-size: 1.1em; }
math[display="block"] { margin: .8em 0; overflow-x: auto; overflow-y: hidden; }

@media print {
  body { max-width: none; padding: 0; }
  pre { white-space: pre-wrap; }
  .cell, .jp-Cell, .panel { break-inside: avoid; }
}
""".strip().replace("PYGMENTS_RULES", "\n".join(f".highlight :is({', '.join('.' + name for name in names)}) {{ {rule}; }}"
                                                  for names, rule in PYGMENTS_COLOURS.items()))


def standalone_page(html: str, title: str | None = None, drop: str | None = None) -> str:
    """A feedback page (nbconvert or nbgrader HTML) as one self-contained HTML document.

    ``title`` replaces the page's ``<title>`` (kept when ``None``); the elements that the CSS
    selector ``drop`` matches are left out, with all they hold. What comes out has its math as
    MathML, no script, no reference to any other file or server, and :data:`STYLESHEET` as its only
    style; see the module docstring for the rules.
    """
    soup = BeautifulSoup(html, "html.parser")
    if title is None:
        title = soup.title.get_text() if soup.title else "Feedback"
    lang = soup.html.get("lang") if soup.html else None
    drop_markup_that_acts(soup)
    if drop:
        for tag in soup.select(drop):
            tag.decompose()
    body = soup.body or soup
    unwrap_nested_documents(body)
    for tag in body.find_all(True):
        clean_attributes(tag)
    plain_unstyled_tokens(body)
    slot_name = f"math-slot-{secrets.token_hex(6)}"
    formulas = render_math(soup, body, slot_name)
    content = fill_math_slots(body.decode_contents(), slot_name, formulas)
    return page(title, lang if isinstance(lang, str) and lang else "en", content)


def drop_markup_that_acts(soup: BeautifulSoup) -> None:
    """Remove, in place, every element of :data:`DROPPED_ELEMENTS`, comments and declarations."""
    doomed = [node for node in soup.descendants
              if isinstance(node, (Comment, Declaration, Doctype, ProcessingInstruction))
              or (isinstance(node, Tag) and node.name in DROPPED_ELEMENTS)]
    for node in doomed:
        node.extract()


def unwrap_nested_documents(body: Tag) -> None:
    """Replace, in place, each ``<html>`` or ``<body>`` inside ``body`` by its content (nbgrader nests one)."""
    for tag in body.find_all(UNWRAPPED_ELEMENTS):
        tag.unwrap()


def clean_attributes(tag: Tag) -> None:
    """Remove, in place, the attributes of ``tag`` that run script or load anything."""
    for name in list(tag.attrs):
        value = tag.attrs[name]
        value = " ".join(value) if isinstance(value, list) else str(value or "")
        if name.startswith("on") or (name == "style" and STYLE_THAT_LOADS.search(value)) \
                or URL_REFERENCE.search(value):
            del tag.attrs[name]
        elif name in URL_ATTRIBUTES and not allowed_url(tag.name, name, value):
            del tag.attrs[name]
    if tag.name == "a" and tag.get("href", "").startswith(LINK_SCHEMES):
        tag["rel"] = "noopener noreferrer"


def allowed_url(element: str, attribute: str, url: str) -> bool:
    """Whether ``attribute="url"`` on ``element`` may stay: an in-page anchor, an inline image,
    or a link to the web that only a click follows."""
    url = re.sub(r"[\x00-\x20]", "", url).lower()  # browsers ignore these inside a scheme ("java\tscript:")
    if url.startswith("#"):
        return attribute in ("href", "xlink:href")
    if element == "img" and attribute == "src":
        return url.startswith("data:image/")
    return element == "a" and attribute == "href" and url.startswith(LINK_SCHEMES)


def plain_unstyled_tokens(body: Tag) -> None:
    """Unwrap, in place, each Pygments token ``<span>`` whose class :data:`PYGMENTS_COLOURS` does not colour.

    Names, punctuation, operators and whitespace are most of the tokens of Python code; their spans
    would be half the weight of a page. Pygments writes its tokens as a flat run of spans in a ``<pre>``.
    """
    for block in body.find_all(class_="highlight"):
        for pre in block.find_all("pre"):
            pre_children = list(pre.children)
            pre.clear()
            pre.extend(merged_tokens(pre_children))


def merged_tokens(nodes: list) -> list:
    """``nodes`` with each unstyled token span, and each run of adjacent text, made one string."""
    merged, text = [], []
    for node in nodes:
        if isinstance(node, Tag) and (node.name != "span" or PYGMENTS_KEPT.intersection(node.get("class") or ())):
            if text:
                merged.append(NavigableString("".join(text)))
                text = []
            merged.append(node)
        else:
            text.append(node.get_text() if isinstance(node, Tag) else str(node))
    if text:
        merged.append(NavigableString("".join(text)))
    return merged


def render_math(soup: BeautifulSoup, root: Tag, slot_name: str) -> list[str]:
    """Replace, in place, each formula in the visible text under ``root`` by an empty ``<slot_name n=i>``
    element, or by its TeX in a ``<code>`` when it does not convert; return the MathML of slot ``i``."""
    formulas: list[str] = []
    for text in texts_that_may_hold_math(root):
        pieces = split_formulas(str(text))
        if pieces == [str(text)]:
            continue
        nodes = []
        for piece in pieces:
            if isinstance(piece, str):
                nodes.append(NavigableString(piece))
                continue
            tex, display, source = piece
            mathml = formula_as_mathml(tex, display)
            if mathml is None:
                nodes.append(soup.new_tag("code", attrs={"class": "tex-unrendered"}, string=source))
            else:
                nodes.append(soup.new_tag(slot_name, attrs={"n": str(len(formulas))}))
                formulas.append(mathml)
        text.replace_with(*nodes)
    return formulas


def texts_that_may_hold_math(root: Tag) -> list[NavigableString]:
    """The text nodes under ``root`` where a formula may be: not in code, scripts or ignored elements,
    and holding a ``$`` or a backslash. (A loop, not recursion: a student's markdown can nest deep.)"""
    found, todo = [], [root]
    while todo:
        for child in todo.pop().children:
            if isinstance(child, Tag):
                if child.name not in NO_MATH_INSIDE and not NO_MATH_CLASSES.intersection(child.get("class") or ()):
                    todo.append(child)
            elif type(child) is NavigableString and ("$" in child or "\\" in child):
                found.append(child)
    return found


def split_formulas(text: str) -> list[str | tuple[str, bool, str]]:
    """``text`` cut into plain strings and formulas ``(tex, display, source as written)``.

    ``\\$`` comes out as ``$``; a text without any formula comes out as ``[text]``.
    """
    pieces: list[str | tuple[str, bool, str]] = []
    plain, start = "", 0
    for match in FORMULA.finditer(text):
        plain += text[start:match.start()]
        start = match.end()
        kind = match.lastgroup
        tex = match.group(kind)
        if kind == "escaped_dollar":
            plain += "$"
        elif not tex.strip():
            plain += match.group()
        else:
            if plain:
                pieces.append(plain)
            pieces.append((tex.strip(), kind in DISPLAY_GROUPS, match.group()))
            plain = ""
    plain += text[start:]
    if plain or not pieces:
        pieces.append(plain)
    return pieces


@functools.lru_cache(maxsize=4096)
def formula_as_mathml(tex: str, display: bool) -> str | None:
    """The MathML of the TeX formula ``tex`` (block or inline), or ``None`` if it does not convert.

    latex2mathml copies the text of ``\\text{}`` into its output unescaped, so its output is parsed
    and kept only if it holds nothing but MathML (:data:`MATHML_ELEMENTS`); it is then written out
    again, escaped, with only :data:`MATHML_ATTRIBUTES`.
    """
    try:
        raw = tex_to_mathml(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - latex2mathml raises many kinds (its own, IndexError...) on bad TeX
        return None
    tree = BeautifulSoup(raw, "html.parser")
    tags = tree.find_all(True)
    if not tags or tags[0].name != "math" or any(tag.name not in MATHML_ELEMENTS for tag in tags):
        return None
    if any(UNKNOWN_COMMAND.search(text) for text in tree.find_all(string=True)):
        return None
    for tag in tags:
        tag.attrs = {name: value for name, value in tag.attrs.items()
                     if name in MATHML_ATTRIBUTES and not URL_REFERENCE.search(value)}
    return str(tags[0])


def fill_math_slots(content: str, slot_name: str, formulas: list[str]) -> str:
    """``content`` with each ``<slot_name n="i"></slot_name>`` replaced by ``formulas[i]``."""
    slot = re.compile(f'<{slot_name} n="(\\d+)"></{slot_name}>')
    return slot.sub(lambda m: formulas[int(m.group(1))], content)


def page(title: str, lang: str, content: str) -> str:
    """The whole document: the CSP first in ``<head>``, our stylesheet, and ``content`` as the body."""
    return (f'<!DOCTYPE html>\n<html lang="{html_text.escape(lang)}">\n<head>\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html_text.escape(title)}</title>\n"
            f"<style>\n{STYLESHEET}\n</style>\n"
            f"</head>\n<body>\n{content.strip()}\n</body>\n</html>\n")
