"""Stage 3: every test decided by the judge, against the submission's code in a sandboxed student process.

Runs in the worker. The student's process (``probe.py``) runs the answer cells
as submitted and the setup cells as released; each test cell's hidden check
(``autograder/checks/<exercise>.py``) runs here, in the trusted process, and its
verdict alone scores the test (see ``judge.py`` for the protocol).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from autograder import judge, sandbox, slots
from autograder.course import hidden_checks
from autograder.records import TestResult
from autograder.repair import grading_cells


def judge_tests(exercise: str, notebook, release, tests: list[TestResult], slot: slots.Slot, call_timeout: float,
                cell_timeout: float, memory_mb: int, log: Path) -> tuple[str, list[str]]:
    """Set ``score`` and ``verdict`` of every test in ``tests``.

    Returns a note for the submission's message, naming the student's cells that
    raised or were skipped when run for the hidden tests ("" if none), and the
    student's functions that did not return within ``call_timeout``. Such a
    function costs its timeout once: later tests that need it fail at once. The
    visible asserts decide nothing.
    """
    checks = hidden_checks(exercise)
    cells = grading_cells(notebook, release)
    place = probe_place(slot, memory_mb, log)
    student, errors, looped = None, [], []
    try:
        for test in tests:
            hidden = checks.get(test.name)
            try:
                if hidden is None:
                    raise judge.StudentGone("this test cell is not part of the exercise")
                if student is not None:
                    looped += sorted(student.looped - set(looped))
                if set(hidden.args) & set(looped):
                    verdict = not_called_again(hidden, looped, call_timeout)
                else:
                    if student is None or student.process.poll() is not None:
                        if student is not None:
                            student.close()
                        student, errors = judge.start(cells, place, call_timeout, cell_timeout)
                    module = importlib.import_module(f"autograder.checks.{hidden.module}")
                    verdict = judge.run_check(student, module, hidden.check, list(hidden.args))
            except judge.StudentGone as gone:
                verdict = judge.Verdict(False, f"The hidden tests could not run your code: {gone}.")
            test.verdict, test.mistake = verdict.message, verdict.mistake
            test.score = test.max_score if verdict.passed else 0.0
    finally:
        if student is not None:
            student.close()
            looped += sorted(student.looped - set(looped))
    theirs = {c["id"] for c in cells if c["student"]}
    errors = [e for e in errors if e.get("id") in theirs]  # our setup cells may need torch, absent there
    if not errors:
        return "", looped
    return "Cells that raised an error when run for the hidden tests: " + "; ".join(
        f"{e.get('id')} ({e.get('type')}: {str(e.get('message'))[:120]})" for e in errors) + ".", looped


def not_called_again(hidden, looped: list[str], call_timeout: float) -> judge.Verdict:
    """The verdict of a test whose function already ran out of time in an earlier test: failed, without a call."""
    names = ", ".join(f"`{name}`" for name in hidden.args if name in looped)
    return judge.Verdict(False, f"Not run: {names} did not return within {call_timeout:g} s when an earlier "
                                "hidden test called it (an infinite loop?), so it was not called again.")


def probe_place(slot: slots.Slot, memory_mb: int, log: Path) -> judge.ProbePlace:
    """Where the judge's student process runs: a fresh stage of the slot at every start.

    The probe's code sits in ``stage/probe`` (read-only to it, readable by the slot's
    uid alone); ``stage/home`` is its writable folder; torch is not there.
    """
    python, _ = sandbox.interpreter()

    def fresh_stage():
        folder = slot.fresh_stage() / "probe"
        folder.mkdir(mode=0o750)
        if slot.box.drops_root:
            os.chown(folder, 0, slots.slot_uid(slot.number))
        place.folder = folder

    def command(args, fds):
        stage = place.folder.parent
        home = stage / "home"
        return slot.command([python, *args], stage, readable=[place.folder], writable=[home], cwd=home,
                            env=sandbox.student_env(home), memory_mb=memory_mb, allow_torch=False, keep_fds=fds,
                            quiet=False)

    place = judge.ProbePlace(folder=slot.stage_root, command=command, before=fresh_stage, log=log)
    return place
