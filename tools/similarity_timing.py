"""How long the similarity report takes for a class: ``python -m tools.similarity_timing [N] [--exercise elman]``.

Makes N submissions (default 200) of the reference answers with variations (renamed variables, comments, a typical
mistake now and then), then times what ``grade`` runs after a batch: reading the answer cells, copydetect's
fingerprints, every pair compared, and similarity.html written. Prints the figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from pathlib import Path

import nbformat

from tests.exercises.mutants import MUTANTS
from tests.helpers.notebooks import reference_answers, source_notebook, submission

SYNONYMS = {"h": ["state", "hidden", "h_t", "cur"], "states": ["outputs", "hs", "history", "collected"],
            "t": ["step", "i", "k", "pos"], "W_x": ["W_x"], "b": ["b"]}
COMMENTS = ["# loop over time", "# as in the chapter", "# TODO: check shapes", "# batch-major", "# done"]


def varied(answers: dict[str, str], rng: random.Random, exercise: str) -> dict[str, str]:
    """The answers with local names renamed, comments added, and (one time in four) a typical mistake."""
    mutants = MUTANTS.get(exercise, [])
    if mutants and rng.random() < 0.25:
        answers = rng.choice(mutants).answers(exercise)
    out = {}
    for cell, source in answers.items():
        for name, choices in SYNONYMS.items():
            if rng.random() < 0.5:
                source = re.sub(rf"(?<![\w.]){re.escape(name)}(?!\w)", rng.choice(choices), source)
        lines = source.splitlines()
        for _ in range(rng.randint(0, 2)):
            spot = rng.randint(1, len(lines))
            indent = re.match(r"\s*", lines[min(spot, len(lines) - 1)]).group(0)
            lines.insert(spot, indent + rng.choice(COMMENTS))
        out[cell] = "\n".join(lines)
    return out


def make_class(folder: Path, exercise: str, size: int, seed: int = 0) -> None:
    rng, notebook, reference = random.Random(seed), source_notebook(exercise), reference_answers(exercise)
    for k in range(size):
        target = folder / f"student{k:03d}" / exercise
        target.mkdir(parents=True)
        nbformat.write(submission(notebook, varied(reference, rng, exercise)), target / f"{exercise}.ipynb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("size", type=int, nargs="?", default=200)
    parser.add_argument("--exercise", default="elman")
    args = parser.parse_args()
    import copydetect  # noqa: F401 (imported once, as grade does, before the clock starts)

    from autograder import similarity

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_class(folder / "submitted", args.exercise, args.size)
        started = time.monotonic()
        found = similarity.report(folder / "submitted", args.exercise)
        compared = time.monotonic() - started
        page = similarity.write_report(folder, [found])
        total = time.monotonic() - started
        pairs = len(found.code) * (len(found.code) - 1) // 2
        print(f"{len(found.code)} submissions of {args.exercise}: {pairs} pairs compared in {compared:.2f} s, "
              f"similarity.html ({page.stat().st_size // 1024} KB) written, {total:.2f} s in all; "
              f"{len(found.pairs)} pairs share a passage; most similar: "
              + ", ".join(f"{p.a}/{p.b} {p.similarity:.0%}" for p in found.pairs[:3]))
        print(json.dumps({"submissions": len(found.code), "seconds": round(total, 2)}))


if __name__ == "__main__":
    main()
