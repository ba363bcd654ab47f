"""Typical mistakes, one module ``tests/exercises/mutants_<exercise>.py`` per exercise.

Each module defines ``MUTANTS``, a list of :class:`tests.helpers.notebooks.Mutant`:
a change to the reference answer that a student might make. Every mutant must
lose the points of the test cells in its ``fails`` mapping, and those cells'
output must contain the given phrase (the mistake named). The same mutants
are graded in-process (tests/exercises/test_exercise_logic.py, fast) and through
``python -m autograder grade`` (tests/e2e/test_grading.py, end to end).
"""

import importlib
from pathlib import Path

MUTANTS = {
    path.stem.removeprefix("mutants_"): importlib.import_module(f"tests.exercises.{path.stem}").MUTANTS
    for path in sorted(Path(__file__).parent.glob("mutants_*.py"))
}
