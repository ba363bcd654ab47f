"""Similar submissions, for a human to look at: ranked pairs and their shared passages, side by side.

Only what a student wrote is compared: the answer cells (nbgrader solution cells that are not tests), without the
lines every student received in the release (a line identical, up to indentation, to one of the released cell:
the signature, the docstring, ``# YOUR CODE HERE``). The comparison is copydetect's (winnowed fingerprints of the
code after Pygments tokenization, with names, strings and comments abstracted away, as MOSS does), so renamed
variables and changed comments do not hide a copy; the released answer cells are also given to it as boilerplate.

A pair's similarity is the mean of the two shares of each student's code found in the other. Honest answers to a
short exercise can share the obvious solution: the report ranks and shows, a human judges. It never changes a
score. ``similarity.html`` is one self-contained page (no script, nothing loaded), every student's code escaped.
"""

from __future__ import annotations

import html
import io
import itertools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

K = 25  # copydetect's noise threshold: matches shorter than this many characters of filtered code are ignored
GUARANTEE = 30  # and its guarantee threshold: matches this long are always found
WINDOW = GUARANTEE - K + 1
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


@dataclass
class Pair:
    """Two students' answers and what they share."""

    a: str
    b: str
    similarity_a: float  # share of a's code found in b
    similarity_b: float
    shared: int  # characters of filtered code in common
    slices_a: list[tuple[int, int]] = field(default_factory=list)  # shared passages, offsets in a's code
    slices_b: list[tuple[int, int]] = field(default_factory=list)

    @property
    def similarity(self) -> float:
        return (self.similarity_a + self.similarity_b) / 2


@dataclass
class Report:
    """One exercise's comparison: each student's compared code and the ranked pairs."""

    exercise: str
    code: dict[str, str]
    pairs: list[Pair]
    skipped: dict[str, str]  # student: why not compared
    seconds: float = 0.0


# ---------------------------------------------------------------- what is compared


def released_lines(exercise: str, release: Path | None = None) -> dict[str, set[str]]:
    """{answer cell id: the stripped lines every student received in it}.

    From the released notebook ``release`` if given, else from the exercise's source (the lines outside its
    solution regions, and nbgrader's stub).
    """
    import json

    from autograder.course import CODE_STUB, EXERCISES

    source = Path(release) if release else EXERCISES / exercise / f"{exercise}.ipynb"
    notebook = json.loads(source.read_text())  # our own notebook (nbformat v4 JSON); json is faster to load
    lines = {}
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("solution") or meta.get("grade"):
            continue
        kept, inside = set(), False
        for line in _text(cell.get("source", "")).splitlines():
            if MARKER.match(line):
                inside = line.strip().startswith("### BEGIN")
            elif not inside and line.strip():
                kept.add(line.strip())
        if not release:
            kept |= {line.strip() for line in CODE_STUB.splitlines()}
        lines[meta["grade_id"]] = kept
    return lines


def _text(source) -> str:
    """A cell's source, which nbformat's JSON writes as a string or a list of lines."""
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def answer_code(notebook, released: dict[str, set[str]]) -> str:
    """The code a student wrote in ``notebook``'s answer cells, released lines left out, a comment heading each cell."""
    parts = []
    for cell in notebook.get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("cell_type") != "code" or grade_id not in released:
            continue
        lines = [line.rstrip() for line in _text(cell.get("source", "")).splitlines()
                 if line.strip() and line.strip() not in released[grade_id]]
        if lines:
            parts.append(f"# {grade_id}\n" + "\n".join(lines))
    return "\n\n".join(parts) + ("\n" if parts else "")


def read_answers(submitted: Path, exercise: str, released: dict[str, set[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """({student: answer code}, {student: why skipped}) for ``submitted/<student>/<exercise>/``, links not followed."""
    import json

    from autograder.files import NotAccepted, is_link_free, read_regular

    code, skipped = {}, {}
    for folder in sorted(Path(submitted).glob(f"*/{exercise}")):
        student = folder.parent.name
        if student.startswith(".") or not is_link_free(folder.parent) or not is_link_free(folder):
            continue
        notebook = folder / f"{exercise}.ipynb"
        if not notebook.exists():
            others = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
            notebook = others[0] if len(others) == 1 else notebook
        try:
            parsed = json.loads(read_regular(notebook, MAX_NOTEBOOK_BYTES))
        except FileNotFoundError:
            skipped[student] = "no notebook"
            continue
        except (NotAccepted, OSError, ValueError) as error:
            skipped[student] = f"not read ({str(error)[:120]})"
            continue
        text = answer_code(parsed if isinstance(parsed, dict) else {}, released)
        if len(text) < K:
            skipped[student] = "wrote too little to compare"
        else:
            code[student] = text
    return code, skipped


# ---------------------------------------------------------------- comparing


def stable_kgram_hashes(text: str, k: int):
    """The 64-bit hashes of every k-character substring of ``text``, the same in every process.

    copydetect hashes with Python's ``hash()``, which is salted per process: a report would change from run to
    run. This replaces it (``copydetect.utils.hashed_kgrams``) so that the same batch gives the same report.
    """
    import hashlib

    import numpy as np

    return np.array([int.from_bytes(hashlib.blake2b(text[i:i + k].encode(), digest_size=8).digest(), "little",
                                    signed=True) for i in range(len(text) - k + 1)], dtype=np.int64)


def compare(code: dict[str, str], boilerplate: str = "") -> list[Pair]:
    """Every pair of ``code`` that shares a passage, most similar first (copydetect's fingerprints)."""
    import copydetect.utils
    from copydetect import CodeFingerprint, compare_files

    copydetect.utils.hashed_kgrams = stable_kgram_hashes

    boiler = (CodeFingerprint("release.py", K, WINDOW, filter=True, language="python",
                              fp=io.StringIO(boilerplate)).hashes if boilerplate.strip() else set())
    prints = {}
    for student, text in code.items():
        prints[student] = CodeFingerprint(f"{student}.py", K, WINDOW, boilerplate=list(boiler), filter=True,
                                          language="python", fp=io.StringIO(text))
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        if not prints[a].hashes & prints[b].hashes:
            continue
        shared, (sim_a, sim_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        if not shared:
            continue
        pairs.append(Pair(a, b, float(sim_a), float(sim_b), int(shared),
                          _slices(slices_a, len(code[a])), _slices(slices_b, len(code[b]))))
    pairs.sort(key=lambda p: (-p.similarity, -p.shared, p.a, p.b))
    return pairs


def _slices(array, length: int) -> list[tuple[int, int]]:
    """copydetect's 2xN slice array as sorted, merged (start, end) offsets within ``length``."""
    spans = sorted((max(0, int(s)), min(length, int(e))) for s, e in zip(array[0], array[1]))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def report(submitted: Path, exercise: str, release: Path | None = None) -> Report:
    """The similarity :class:`Report` of one exercise's submissions in ``submitted``."""
    started = time.monotonic()
    released = released_lines(exercise, release)
    code, skipped = read_answers(submitted, exercise, released)
    boilerplate = "\n".join(sorted({line for lines in released.values() for line in lines}))
    pairs = compare(code, boilerplate)
    return Report(exercise, code, pairs, skipped, round(time.monotonic() - started, 2))


# ---------------------------------------------------------------- the page

STYLE = """
body { margin: 0 auto; max-width: 90rem; padding: 1.5rem 1rem 4rem; color: #1f2328;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
table { border-collapse: collapse; margin: .7em 0; }
th, td { padding: .3em .6em; border: 1px solid #d0d7de; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.side { width: 100%; table-layout: fixed; }
pre { margin: 0; font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap;
      overflow-wrap: anywhere; }
mark { background: #ffe58f; }
.gap { color: #8c959f; }
.note { color: #59636e; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _marked(code: str, spans: list[tuple[int, int]], context: int = 1) -> str:
    """``code`` escaped, line by line, shared passages in <mark>; lines more than ``context`` away from a passage
    are elided (all are shown when the code is short)."""
    lines, offset = [], 0
    for line in code.split("\n"):
        lines.append((offset, line))
        offset += len(line) + 1
    near = set()
    for number, (start, line) in enumerate(lines):
        if any(s < start + len(line) + 1 and e > start for s, e in spans):
            near.update(range(number - context, number + context + 1))
    out, elided = [], False
    for number, (start, line) in enumerate(lines):
        if spans and number not in near and len(lines) > 12:
            if not elided:
                out.append('<span class="gap">…</span>')
            elided = True
            continue
        elided, pieces, position = False, [], 0
        for s, e in spans:
            s, e = max(s - start, position), min(e - start, len(line))
            if e > s:
                pieces += [html.escape(line[position:s]), f"<mark>{html.escape(line[s:e])}</mark>"]
                position = e
        pieces.append(html.escape(line[position:]))
        out.append("".join(pieces))
    return "\n".join(out)


def html_page(reports: list[Report], detail: int = 30, listed: int = 300, threshold: float = 0.0) -> str:
    """The self-contained page: per exercise, a table of ranked pairs, then the top ``detail`` side by side."""
    e = html.escape
    body = ["<h1>Similar submissions</h1>",
            "<p class=note>For a human to look at: pairs of students whose answer cells share passages, most similar "
            "first (the released code left out; names, strings and comments abstracted, so renamed variables still "
            "match). Short exercises have obvious solutions that honest students share. Scores are not changed.</p>"]
    for r in reports:
        shown = [p for p in r.pairs if p.similarity >= threshold][:listed]
        body.append(f"<h2 id='{e(r.exercise)}'>{e(r.exercise)}</h2>")
        body.append(f"<p>{len(r.code)} submissions compared, {len(r.pairs)} pairs share a passage"
                    f"{f'; {len(r.skipped)} not compared' if r.skipped else ''} ({r.seconds:g} s).</p>")
        if r.skipped:
            body.append("<p class=note>Not compared: " + "; ".join(f"{e(s)} ({e(why)})" for s, why in
                                                                   sorted(r.skipped.items())) + ".</p>")
        if not shown:
            body.append("<p>No pair shares a passage.</p>")
            continue
        rows = "".join(
            f"<tr><td class=num>{n}</td><td>{f'<a href=#{e(r.exercise)}-{n}>' if n <= detail else ''}"
            f"{e(p.a)} and {e(p.b)}{'</a>' if n <= detail else ''}</td><td class=num>{p.similarity:.0%}</td>"
            f"<td class=num>{p.similarity_a:.0%}</td><td class=num>{p.similarity_b:.0%}</td>"
            f"<td class=num>{p.shared}</td></tr>" for n, p in enumerate(shown, start=1))
        body.append("<table><tr><th>rank</th><th>pair</th><th>similarity</th><th>of the first's code</th>"
                    f"<th>of the second's code</th><th>shared characters</th></tr>{rows}</table>")
        for n, p in enumerate(shown[:detail], start=1):
            body.append(f"<h3 id='{e(r.exercise)}-{n}'>{n}. {e(p.a)} and {e(p.b)}: {p.similarity:.0%}</h3>")
            body.append(f"<table class=side><tr><th>{e(p.a)} ({p.similarity_a:.0%} shared)</th>"
                        f"<th>{e(p.b)} ({p.similarity_b:.0%} shared)</th></tr><tr>"
                        f"<td><pre>{_marked(r.code[p.a], p.slices_a)}</pre></td>"
                        f"<td><pre>{_marked(r.code[p.b], p.slices_b)}</pre></td></tr></table>")
    return ("<!DOCTYPE html>\n<html lang='en'>\n<head>\n"
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">\n<meta charset='utf-8'>\n"
            f"<title>Similar submissions</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def summary_lines(reports: list[Report], top: int = 5) -> list[str]:
    """A few lines for summary.md: the most similar pairs of each exercise."""
    lines = ["## Similar submissions (for a human; scores unchanged)", ""]
    for r in reports:
        if not r.pairs:
            lines.append(f"- {r.exercise}: no pair of the {len(r.code)} submissions shares a passage.")
            continue
        best = ", ".join(f"{p.a} and {p.b} ({p.similarity:.0%})" for p in r.pairs[:top])
        lines.append(f"- {r.exercise}: most similar of {len(r.code)}: {best}. See similarity.html.")
    return lines


def write_report(out: Path, reports: list[Report]) -> Path:
    """``out/similarity.html``."""
    from autograder.records import write_atomically

    path = Path(out) / "similarity.html"
    write_atomically(path, html_page(reports))
    return path
