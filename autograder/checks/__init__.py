"""Hidden checks: the grader's half of every exercise's tests.

One module per exercise (``decorators``, ``ops``, ...). A hidden test cell in an
exercise notebook calls, for example::

    from autograder.checks import run, elman
    run(elman.check_elman_step, elman_step)

The grader stages this package (and only this package, never ``solutions/``)
on the kernel's path. Checks call the student's functions with seeded random
inputs and compare what they return with an independent oracle (torch in
float64, edugrad, finite differences). When a known mistake explains a wrong
answer, the failure message names it.
"""

from autograder.checks.compare import CheckFailure, run

__all__ = ["CheckFailure", "run"]
