"""The trusted judge: verdicts computed here from plain data, the student's code run over there.

Every exercise through the judge (autograder/judge.py) with its answers in a
sandboxed probe process: the reference earns every test, blank answers none,
each typical mistake loses its tests with the mistake named (the same
mutants as tests/exercises/test_exercise_logic.py). Then the pieces: the sandbox
hides the reference, and the static flags stay quiet on honest answers
(the wire format's own tests are in tests/unit/test_wire.py).
"""

from __future__ import annotations

import re
import shutil

import pytest

from autograder import flags, sandbox, slots
from autograder.course import REPO, exercise_names, hidden_checks
from tests.exercises.mutants import MUTANTS
from tests.helpers.judged import judge_exercise, claimed_slot
from tests.helpers.notebooks import reference_answers, source_notebook, submission

EXERCISES = exercise_names()
CASES = [(exercise, mutant) for exercise in EXERCISES for mutant in MUTANTS.get(exercise, [])]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_test_cell_has_a_hidden_check(exercise):
    graded = [c.metadata["nbgrader"]["grade_id"] for c in source_notebook(exercise).cells
              if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded and set(hidden_checks(exercise)) == set(graded)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_earns_every_test(exercise):
    verdicts = judge_exercise(exercise, reference_answers(exercise))
    assert verdicts and all(v.passed for v in verdicts.values()), {k: v.message for k, v in verdicts.items()}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_blank_answers_earn_nothing(exercise):
    blank = {cell: "# YOUR CODE HERE\nraise NotImplementedError()" for cell in reference_answers(exercise)}
    verdicts = judge_exercise(exercise, blank)
    assert verdicts and not any(v.passed for v in verdicts.values())


@pytest.mark.parametrize("exercise,mutant", CASES, ids=[f"{e}-{m.name}" for e, m in CASES])
def test_mistake_loses_points_and_is_named_by_the_judge(exercise, mutant):
    verdicts = judge_exercise(exercise, mutant.answers(exercise))
    for test, phrase in mutant.fails.items():
        assert not verdicts[test].passed, f"{mutant.name} passes {test}"
        assert phrase in verdicts[test].message, f"{test} does not name the mistake; it says: {verdicts[test].message}"
    for test, verdict in verdicts.items():  # a named mistake travels as a field, which the summary counts
        named = re.search(r"This is what happens when (.+?)\.(?:\s|$)", verdict.message)
        assert verdict.mistake == (named.group(1) if named else ""), (test, verdict)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_honest_answers_raise_no_flags(exercise, release):
    import nbformat

    student_version = nbformat.read(release / exercise / f"{exercise}.ipynb", as_version=4)
    assert flags.scan(submission(student_version, reference_answers(exercise))) == []
    for mutant in MUTANTS.get(exercise, []):
        assert flags.scan(submission(student_version, mutant.answers(exercise))) == [], mutant.name


# ------------------------------------------------------------------ the pieces


def test_sandbox_hides_the_reference_and_torch(tmp_path):
    import subprocess
    import sys

    box = sandbox.detect(hidden=[REPO], slot=claimed_slot())
    if box.kind != "bwrap":
        pytest.skip(f"no bubblewrap here ({box.warning}); .ci/run installs it")
    script = ("import os, importlib.util; print(os.path.exists(%r), importlib.util.find_spec('torch') is not None "
              "and os.path.exists(os.path.join(os.path.dirname(importlib.util.find_spec('torch').origin or ''), "
              "'nn')))" % str(REPO / "solutions" / "elman.py"))
    root = slots.make_stage_root()
    try:
        home = slots.make_stage(root, claimed_slot(), box) / "home"
        command = box.command([sys.executable, "-c", script], slot=claimed_slot(), stage=home.parent,
                              writable=[home], cwd=home,
                              env=sandbox.student_env(home), memory_mb=2048, allow_torch=False, quiet=False)
        done = subprocess.run(command, capture_output=True, text=True)
    finally:
        shutil.rmtree(root)
    assert done.stdout.split() == ["False", "False"], done.stdout + done.stderr


def test_params_from_torch_may_keep_torchs_dtype():
    """The part is about transposes and the two biases: torch's float32 values, which give torch's output, earn it."""
    answers = reference_answers("elman")
    answers["params_from_torch"] = ("def params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh):\n"
                                    "    return weight_ih.T, weight_hh.T, bias_ih + bias_hh\n")
    verdicts = judge_exercise("elman", answers)
    assert all(v.passed for v in verdicts.values()), {k: v.message for k, v in verdicts.items() if not v.passed}
