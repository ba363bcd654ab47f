"""No page of the book refers to a chapter that does not exist.

Fast (no book build): reads the prose of every page in `_toc.yml`, leaving out code cells and other code blocks,
and checks the ways one chapter refers to another:

- a Markdown link `[text](x.md)` or a `{doc}` role must name a page in `_toc.yml`;
- "the chapter on X", "a later chapter", "the coming chapters" (and "earlier", "remaining", "subsequent") must be part
  of such a link, or be followed by one in the same sentence, so that a reader can follow it and a renamed or missing
  chapter shows up here;
- "the next chapter" and "the previous chapter" need no link, but the page must have such a neighbour in `_toc.yml`,
  and a link that follows them in the same sentence must name that neighbour;
- "chapter N" is always wrong: the book's chapters are not numbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*(.*)$")
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
INLINE = re.compile(r"(\{[\w:.-]+\})?(`+)(?!`)(.+?)(?<!`)\2(?!`)")   # inline code, or a role such as {doc}`x`
MD_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DOC_ROLE = re.compile(r"\{doc\}`([^`]*)`")

NEEDS_LINK = re.compile(
    r"\bthe\s+chapters?\s+(?:on|about)\b"
    r"|\b(?:later|earlier|coming|remaining|subsequent)\s+chapters?\b"
    r"|\bthe\s+following\s+chapters\b", re.I)
NEIGHBOUR = re.compile(r"\bthe\s+(next|following|previous|preceding)\s+chapter\b(?!s)", re.I)
NUMBERED = re.compile(r"\bchapters?\s+(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b",
                      re.I)

BLOCK_BREAK = re.compile(r"\n[ \t]*\n|\n[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|\||>|`{3}|~{3}|:{3}|\$\$)")
SENTENCE_END = re.compile(r"[.!?](?=[\"'*_)\]]*\s)")
ABBREVIATIONS = {"e.g", "i.e", "al", "cf", "vs", "fig", "figs", "eq", "eqs", "sec", "resp", "etc"}


@dataclass(frozen=True)
class Problem:
    line: int
    text: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text!r}: {self.message}"


def toc_pages(toc_file: Path = REPO / "_toc.yml") -> list[str]:
    """The pages of the book in reading order, as paths without suffix ("book/bptt")."""
    toc = yaml.safe_load(toc_file.read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        walk(part["chapters"])
    return [str(PurePosixPath(p).with_suffix("")) if p.endswith(".md") else p for p in pages]


def prose(text: str) -> str:
    """The text with front matter, code cells, code blocks, comments and inline code blanked out.

    Blanked characters become spaces and newlines stay, so offsets and line numbers are those of the file.
    Directive blocks such as ```{note} keep their content, which is prose.
    """
    def blank(match: re.Match) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    text = FRONT_MATTER.sub(blank, text)
    text = HTML_COMMENT.sub(blank, text)
    lines, fences = text.split("\n"), []           # fences: stack of (marker, is code)
    for i, line in enumerate(lines):
        fence = FENCE.match(line)
        if fence and fences and fence.group(1)[0] == fences[-1][0][0] and len(fence.group(1)) >= len(fences[-1][0]) \
                and not fence.group(2):
            fences.pop()
            lines[i] = ""
        elif fence and not (fences and fences[-1][1]):
            info = fence.group(2)
            fences.append((fence.group(1), not info.startswith("{") or info.startswith("{code-cell}")))
            lines[i] = ""
        elif fences and fences[-1][1]:
            lines[i] = " " * len(line)
    return INLINE.sub(lambda m: m.group(0) if m.group(1) else blank(m), "\n".join(lines))


def page_of(target: str, page: str) -> str:
    """The page ("book/x") that a link target written on `page` names, without suffix or anchor."""
    path = target.split("#")[0]
    if path.startswith("/"):
        resolved = PurePosixPath(path.lstrip("/"))
    else:
        parts = []
        for part in (PurePosixPath(page).parent / path).parts:
            if part == "..":
                if parts:
                    parts.pop()
                else:
                    parts.append(part)
            elif part != ".":
                parts.append(part)
        resolved = PurePosixPath(*parts)
    return str(resolved.with_suffix("")) if resolved.suffix == ".md" else str(resolved)


def page_links(text: str, page: str) -> list[tuple[int, int, str, str]]:
    """(start, end, written target, page) of every Markdown link to a .md file and every {doc} role in `text`."""
    links = []
    for m in MD_LINK.finditer(text):
        target = m.group(2)
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
            continue                                   # a web address, a project: link or an anchor on this page
        if target.split("#")[0].endswith(".md"):
            links.append((m.start(), m.end(), target, page_of(target, page)))
    for m in DOC_ROLE.finditer(text):
        inner = m.group(1)
        target = re.search(r"<([^<>]+)>\s*$", inner)
        target = (target.group(1) if target else inner).strip()
        links.append((m.start(), m.end(), target, page_of(target, page)))
    return sorted(links)


def sentence_end(text: str, start: int) -> int:
    """The offset where the sentence containing `start` ends: at . ! ? (not after an abbreviation) or a block break."""
    block = BLOCK_BREAK.search(text, start)
    limit = block.start() if block else len(text)
    for m in SENTENCE_END.finditer(text, start, limit):
        word = re.search(r"([A-Za-z.]*)$", text[max(0, m.start() - 6):m.start()]).group(1).lower().lstrip(".")
        if word not in ABBREVIATIONS:
            return m.start()
    return limit


def scan(text: str, page: str, pages: list[str]) -> list[Problem]:
    """Every broken reference to a chapter in the prose of `text`, the source of `page` (one of `pages`)."""
    body = prose(text)

    def line_of(offset: int) -> int:
        return body.count("\n", 0, offset) + 1

    def quote(m: re.Match) -> str:
        return " ".join(m.group(0).split())

    links = page_links(body, page)
    problems = []
    for start, _, target, linked in links:
        if linked not in pages:
            problems.append(Problem(line_of(start), target, f"links to {linked}, which is not a page in _toc.yml"))

    def link_for(m: re.Match) -> tuple[int, int, str, str] | None:
        """The link that contains the phrase, or else the first link after it in the same sentence."""
        end = sentence_end(body, m.end())
        for link in links:
            if link[0] <= m.start() and m.end() <= link[1] or m.end() <= link[0] < end:
                return link
        return None

    for m in NEEDS_LINK.finditer(body):
        if link_for(m) is None:
            problems.append(Problem(line_of(m.start()), quote(m),
                                    "names no chapter: make it part of a link to the chapter, or follow it with one "
                                    "in the same sentence"))
    here = pages.index(page)
    for m in NEIGHBOUR.finditer(body):
        step = 1 if m.group(1).lower() in ("next", "following") else -1
        if not 0 <= here + step < len(pages):
            problems.append(Problem(line_of(m.start()), quote(m), "there is no such chapter in _toc.yml"))
            continue
        link = link_for(m)
        if link is not None and link[3] != pages[here + step]:
            problems.append(Problem(line_of(m.start()), quote(m),
                                    f"the link {link[2]} is not the {m.group(1).lower()} page, {pages[here + step]}"))
    for m in NUMBERED.finditer(body):
        problems.append(Problem(line_of(m.start()), quote(m),
                                "the chapters are not numbered: name the chapter and link it"))
    return sorted(problems, key=lambda p: p.line)


PAGES = toc_pages()


def test_every_page_in_the_toc_exists():
    missing = [page for page in PAGES if not (REPO / f"{page}.md").exists()]
    assert not missing, f"pages listed in _toc.yml without a file: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_references_to_chapters_resolve(page):
    source = REPO / f"{page}.md"
    if not source.exists():
        pytest.skip(f"{source.name} does not exist yet (test_every_page_in_the_toc_exists fails for it)")
    problems = scan(source.read_text(), page, PAGES)
    assert not problems, f"{page}.md:\n" + "\n".join(map(str, problems))


# The scanner itself, on small made-up pages.

TOY_PAGES = ["book/intro", "book/rnn", "book/bptt", "book/masking"]
CODE_CELL = "```{code-cell} ipython3\n# the chapter on nothing, see [x](nowhere.md)\nprint('chapter 3')\n```\n"


def test_scanner_accepts_good_references():
    text = ("---\njupytext: {}\n---\n# Title\n\n"
            "Padding is the subject of [the chapter on masking](masking.md). The chapter on training\n"
            "([Backpropagation through time](bptt.md)) sums gradients, e.g. over a later chapter's batches, "
            "as {doc}`the masking chapter <masking>` shows.\n\n"
            "The next chapter, [BPTT](./bptt.md#summary), follows. The previous chapter needs no link.\n\n"
            + CODE_CELL + "\nA [web page](https://example.org/README.md) and `[code](nowhere.md)` are not chapters.\n")
    assert scan(text, "book/rnn", TOY_PAGES) == []


def test_scanner_flags_bad_references():
    text = ("# Title\n\n"
            "The chapter on deep RNNs stacks them.\n"
            "Masking comes in a later chapter. See [Masking](masking.md).\n\n"
            "- the coming chapters take these in turn\n"
            "- [a link to nowhere](deep.md) and {doc}`../book/gone`\n\n"
            "The next chapter, [Masking](masking.md), is not next. Chapter 3 does not exist.\n\n" + CODE_CELL)
    problems = scan(text, "book/rnn", TOY_PAGES)
    assert [(p.line, p.text) for p in problems] == [
        (3, "The chapter on"), (4, "later chapter"), (6, "coming chapters"), (7, "deep.md"),
        (7, "../book/gone"), (9, "The next chapter"), (9, "Chapter 3")]
    assert "not the next page, book/bptt" in problems[5].message


def test_scanner_knows_the_ends_of_the_book():
    assert scan("The previous chapter.", "book/intro", TOY_PAGES)[0].message == "there is no such chapter in _toc.yml"
    assert scan("The next chapter.", "book/masking", TOY_PAGES)[0].message == "there is no such chapter in _toc.yml"
    assert scan("The next chapter.", "book/bptt", TOY_PAGES) == []
