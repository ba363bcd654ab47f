"""Every exercise discriminates: reference full marks, blank zero, mistakes named.

Fast: the notebooks' cells run in this process (see tests/helpers/inprocess.py).
"""

import pytest

from tests.exercises.mutants import MUTANTS
from tests.helpers.inprocess import run_exercise
from tests.helpers.notebooks import reference_answers

EXERCISES = sorted(MUTANTS)
CASES = [(exercise, mutant) for exercise in EXERCISES for mutant in MUTANTS[exercise]]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes_every_test(exercise):
    results = run_exercise(exercise, reference_answers(exercise))
    assert results, "no test cells found"
    failed = {name: output for name, (passed, output) in results.items() if not passed}
    assert not failed


@pytest.mark.parametrize("exercise", EXERCISES)
def test_blank_answers_fail_every_test(exercise):
    blank = {cell: "raise NotImplementedError()" for cell in reference_answers(exercise)}
    results = run_exercise(exercise, blank)
    passed = [name for name, (ok, _) in results.items() if ok]
    assert results and not passed


@pytest.mark.parametrize("exercise,mutant", CASES, ids=[f"{e}-{m.name}" for e, m in CASES])
def test_mistake_loses_points_and_is_named(exercise, mutant):
    results = run_exercise(exercise, mutant.answers(exercise))
    for test, phrase in mutant.fails.items():
        passed, output = results[test]
        assert not passed, f"{mutant.name} passes {test}"
        assert phrase in output, f"{test} does not name the mistake; it says: {output}"
