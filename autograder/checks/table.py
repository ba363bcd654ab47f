"""A row of an exercise's test table: which hidden check scores a test cell, on which of the notebook's functions.

Each ``autograder/checks/<exercise>.py`` ends with its table::

    TESTS = {"test_elman_step_bias": Test(check_elman_step_bias, ("elman_step",)), ...}

keyed by the test cell's nbgrader grade_id. The judge reads the table (``course.hidden_checks``); the
test cell's hidden block in ``exercises/<exercise>/<exercise>.ipynb`` must be exactly
:meth:`Test.hidden_block` (``course.verify_hidden_blocks``), which is what plain nbgrader runs in the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Test:
    """One test cell's hidden check: ``function(*the notebook's functions named in args)`` returns or raises
    CheckFailure."""

    function: Callable
    args: tuple[str, ...]

    @property
    def module(self) -> str:
        """The check module's name in ``autograder.checks`` (the exercise's name)."""
        return self.function.__module__.rpartition(".")[2]

    @property
    def check(self) -> str:
        """The check function's name in its module."""
        return self.function.__name__

    def hidden_block(self) -> str:
        """The test cell's hidden block: the same check, run in the notebook's kernel on its functions."""
        return ("### BEGIN HIDDEN TESTS\n"
                f"from autograder.checks import run, {self.module} as hidden\n"
                f"run(hidden.{self.check}, {', '.join(self.args)})\n"
                "### END HIDDEN TESTS")
