"""How long the book takes to build: from clean, again without a change, after touching one chapter, and after
editing one code cell of it. Prints the times side by side, with how many chapters each build executed.

    make rebuild-times            # or: .venv/bin/python -m tools.rebuild_times [--toc TOC] [--chapter book/x.md]

The builds run in a temporary copy of the book (the repository is not touched), with the options of `make book`.
"Touched" changes only the file's time: the chapter is read again, its outputs come from the execution cache.
"Edited" adds a code cell: that chapter, and only it, executes again. Measures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")


def copy_book(target: Path, toc: Path) -> None:
    """The book's sources in `target`; the student notebooks and vendored MathJax linked, not copied."""
    shutil.copytree(REPO / "book", target / "book", ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    shutil.copytree(REPO / "exercises", target / "exercises")  # the exercises page reads their points
    shutil.copy(REPO / "_config.yml", target / "_config.yml")
    shutil.copy(toc, target / "_toc.yml")
    (target / "_build").mkdir()
    for generated in ("student", "vendor"):
        if not (REPO / "_build" / generated).is_dir():
            sys.exit(f"_build/{generated} is missing: run `make rebuild-times` (it makes it first)")
        (target / "_build" / generated).symlink_to(REPO / "_build" / generated)


def timed_build(source: Path, strict: bool = True) -> tuple[float, int, int]:
    """(seconds, chapters executed, chapters taken from the cache) of one `make book`-style build."""
    started = time.monotonic()
    warnings_fail = ["-W", "--keep-going"] if strict else []
    done = subprocess.run([JUPYTER_BOOK, "build", str(source), "--builder", "html", *warnings_fail],
                          capture_output=True, text=True)
    seconds = time.monotonic() - started
    log = done.stdout + done.stderr
    if done.returncode != 0:
        sys.exit(f"the build failed:\n{log[-5000:]}")
    return seconds, log.count("Executing notebook using"), log.count("Using cached notebook")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toc", type=Path, default=REPO / "_toc.yml", help="table of contents (default _toc.yml)")
    parser.add_argument("--chapter", default="book/decorators.md", help="the chapter to touch, then edit")
    parser.add_argument("--allow-warnings", action="store_true",
                        help="measure even when Sphinx warns (make book fails on a warning; a cell error fails both)")
    args = parser.parse_args()
    strict = not args.allow_warnings

    results = {}
    with tempfile.TemporaryDirectory(prefix="rnn-rebuild-") as tmp:
        source = Path(tmp)
        copy_book(source, args.toc.resolve())
        chapter = source / args.chapter
        results["clean"] = timed_build(source, strict)
        results["no change"] = timed_build(source, strict)
        os.utime(chapter)
        results["touched"] = timed_build(source, strict)
        with chapter.open("a") as text:
            text.write("\n```{code-cell} ipython3\n# A cell added by tools/rebuild_times.py\n1 + 1\n```\n")
        results["edited"] = timed_build(source, strict)

    print(f"\nBook build times on this machine ({os.cpu_count()} CPUs), one chapter = {args.chapter}:\n")
    width = max(len(name) for name in results) + 2
    print("".ljust(18) + "".join(name.rjust(width) for name in results))
    print("seconds".ljust(18) + "".join(f"{r[0]:.1f}".rjust(width) for r in results.values()))
    print("executed".ljust(18) + "".join(str(r[1]).rjust(width) for r in results.values()))
    print("from the cache".ljust(18) + "".join(str(r[2]).rjust(width) for r in results.values()))


if __name__ == "__main__":
    main()
