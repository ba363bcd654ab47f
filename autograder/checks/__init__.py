"""Hidden checks: the grader's half of every exercise's tests.

One module per exercise (``decorators``, ``ops``, ...), ending with its test table
``TESTS = {grade_id: Test(check, (function names))}`` (see ``table.py``). When grading, the judge
(``autograder/judge.py``) runs each check in its own trusted process, handing it stand-ins for the
student's functions, which live in a sandboxed process. Checks call those functions with seeded
random inputs and compare what they return with an independent oracle (torch in float64, edugrad,
finite differences; ``oracles.py``). When a known mistake explains a wrong answer, the failure
names it (``CheckFailure.mistake``). ``compare.py`` is the kit every check uses.

Each test cell of an exercise notebook holds the same check as its hidden block (verified against
the table), so plain nbgrader can also run it in the kernel::

    from autograder.checks import run, elman as hidden
    run(hidden.check_elman_step_bias, elman_step)
"""

from autograder.checks.compare import CheckFailure, run

__all__ = ["CheckFailure", "run"]
