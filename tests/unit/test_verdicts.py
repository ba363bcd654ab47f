"""verdicts.py without a sandbox: with the student's process and the checks stood in for, every test gets all its
points or none from its verdict, the named mistake is recorded, a test without a check or a process that is gone
fails with a reason, and the note names only the student's cells that raised."""

from __future__ import annotations

import types

import pytest

from autograder import judge, records, verdicts


def row(module, check, args):
    """A stand-in for a row of a check module's test table (autograder/checks/table.py): what verdicts reads of it."""
    return types.SimpleNamespace(module=module, check=check, args=args)


class FakeStudent:
    def __init__(self):
        self.process = types.SimpleNamespace(poll=lambda: None)
        self.closed = False
        self.looped = set()

    def close(self):
        self.closed = True


@pytest.fixture
def fake(monkeypatch):
    """The judge's process and checks stood in for: ``fake.verdicts[check]`` decides each test."""
    state = types.SimpleNamespace(starts=[], students=[], verdicts={}, errors=[], checked=[])

    def start(cells, place, call_timeout, cell_timeout):
        state.starts.append(cells)
        state.students.append(FakeStudent())
        return state.students[-1], list(state.errors)

    def run_check(student, module, check, args):
        state.checked.append(check)
        outcome = state.verdicts[check]
        if callable(outcome) and not isinstance(outcome, BaseException):
            outcome = outcome(student)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(verdicts, "hidden_checks", lambda exercise: {
        "test_step": row("elman", "check_step", ("elman_step",)),
        "test_forward": row("elman", "check_forward", ("elman_forward", "elman_step"))})
    monkeypatch.setattr(verdicts, "grading_cells", lambda notebook, release: [
        {"id": "setup", "source": "import numpy as np", "student": False},
        {"id": "answer_step", "source": "def elman_step(): pass", "student": True}])
    monkeypatch.setattr(verdicts, "probe_place", lambda slot, memory_mb, log: "place")
    monkeypatch.setattr(verdicts, "importlib", types.SimpleNamespace(import_module=lambda name: name))
    monkeypatch.setattr(judge, "start", start)
    monkeypatch.setattr(judge, "run_check", run_check)
    return state


def scored_tests(*names):
    return [records.TestResult(name, 0.0, points) for name, points in names]


def judge_all(tests):
    note, looped = verdicts.judge_tests("elman", None, None, tests, slot=None, call_timeout=20, cell_timeout=60,
                                memory_mb=4096, log=None)
    return note


def test_each_test_scores_all_or_nothing_from_its_verdict(fake):
    fake.verdicts = {"check_step": judge.Verdict(True, "passed: step"),
                     "check_forward": judge.Verdict(False, "the states start from zeros", "starts from zeros")}
    tests = scored_tests(("test_step", 2.0), ("test_forward", 3.0))
    assert judge_all(tests) == ""
    assert [(t.score, t.verdict, t.mistake) for t in tests] == [
        (2.0, "passed: step", ""), (0.0, "the states start from zeros", "starts from zeros")]
    assert len(fake.starts) == 1 and fake.students[0].closed, "one process for every test, closed at the end"


def test_a_test_without_a_check_or_a_gone_process_fails_with_a_reason(fake):
    fake.verdicts = {"check_step": judge.StudentGone("it ran out of time")}
    tests = scored_tests(("test_step", 2.0), ("test_bonus", 5.0))
    judge_all(tests)
    assert tests[0].score == 0.0 and tests[0].verdict == (
        "The hidden tests could not run your code: it ran out of time.")
    assert tests[1].score == 0.0 and "this test cell is not part of the exercise" in tests[1].verdict
    assert all(student.closed for student in fake.students)


def test_the_note_names_only_the_students_cells_that_raised(fake):
    fake.verdicts = {"check_step": judge.Verdict(True, "passed")}
    fake.errors = [{"id": "setup", "type": "ImportError", "message": "no torch here"},
                   {"id": "answer_step", "type": "NameError", "message": "name 'np2' is not defined"}]
    note = judge_all(scored_tests(("test_step", 2.0)))
    assert note == ("Cells that raised an error when run for the hidden tests: "
                    "answer_step (NameError: name 'np2' is not defined).")


def test_a_function_that_ran_out_of_time_is_not_called_again(fake):
    def loops(student):
        student.looped.add("elman_step")  # as judge.Student records a call that did not return
        return judge.Verdict(False, "your code ran too long")

    fake.verdicts = {"check_step": loops, "check_forward": judge.Verdict(True, "passed")}
    tests = scored_tests(("test_step", 2.0), ("test_forward", 3.0))
    note, looped = verdicts.judge_tests("elman", None, None, tests, slot=None, call_timeout=20, cell_timeout=60,
                                        memory_mb=4096, log=None)
    assert looped == ["elman_step"] and fake.checked == ["check_step"], "test_forward needs elman_step: not run"
    assert tests[1].score == 0.0 and tests[1].verdict == (
        "Not run: `elman_step` did not return within 20 s when an earlier hidden test called it "
        "(an infinite loop?), so it was not called again.")
