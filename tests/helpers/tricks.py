"""Tricks a student might try for points without the work: code added to an honest answer of ``elman``.

Graded end to end in tests/e2e/test_attacks.py (each must earn only the honest part and be flagged) and scanned
in tests/unit/test_flags.py (the static flags must catch each one a scan can see).
"""

from tests.helpers.notebooks import REPO

TRICKS = {
    # 1. Redefining what the tests call.
    "redefines_comparisons": """
import builtins, numpy, numpy.testing
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
builtins.isinstance = lambda *a, **k: True
AssertionError = type("AssertionError", (Exception,), {})
try:
    from autograder.checks import compare
    compare.run = compare.expect_close = lambda *a, **k: None
except Exception:
    pass
""",
    # 2. Changing how later cells run.
    "changes_later_cells": """
import sys
ip = get_ipython()
ip.input_transformers_cleanup.append(lambda lines: [l for l in lines if "assert" not in l])
ip.set_custom_exc((Exception,), lambda *a, **k: None)
ip.events.register("pre_run_cell", lambda *a: None)
sys.settrace(lambda *a: None)
""",
    # 3. Answers that lie about themselves.
    "lying_arrays": """
class Always(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(self), dtype=bool)
    def __array_ufunc__(self, *a, **k): return True
    def __float__(self): return 0.0
_honest_forward = elman_forward
def elman_forward(X, h0, W_x, W_h, b):
    return _honest_forward(X, h0, W_x, W_h, b).view(Always)
""",
    # 4. Reading what it must not see, or computing with torch.
    "reads_the_reference": f"""
import glob
for path in [{str(REPO / 'solutions' / 'elman.py')!r}, *glob.glob('/tmp/rnn-grade-*/source/elman/elman.ipynb')]:
    try:
        exec(open(path).read())
    except Exception:
        pass
try:
    from solutions.elman import elman_forward, params_from_torch
except Exception:
    pass
""",
    "uses_torch": """
def elman_forward(X, h0, W_x, W_h, b):
    return torch_states(X, h0, W_x, W_h, b)
""",
    # 5. Writing where it must not.
    "writes_grader_files": """
import glob, os
for pattern in ['/tmp/rnn-grade-*/gradebook.db', '{out}/grades.csv', '{out}/results/*/*.json',
                '{out}/work/*/*/course/gradebook.db', '{out}/work/*/*/result.json']:
    for path in glob.glob(pattern):
        try:
            with open(path, 'w') as handle:
                handle.write('{{"score": 10}}')
        except Exception:
            pass
""",
    # 6. Resources: a fork bomb held to a few processes, an output flood.
    "floods_output": """
print("x" * 50_000_000)
""",
    "forks_many": """
import os, time
for _ in range(1500):  # bounded, so that a machine without a pids cgroup survives the test too
    try:
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
    except OSError as error:
        print("fork refused:", error)
        break
""",
}
