"""Grade an exercise's answers through the trusted judge (autograder/judge.py), without nbgrader.

The answers run in a probe process (sandboxed as the grader would); each test
cell's hidden check runs here. Faster than a whole ``python -m autograder grade``
and the same verdicts, since the worker calls the same functions.
"""

from __future__ import annotations

import functools
import importlib
import shutil
import tempfile
from pathlib import Path

from autograder import judge, sandbox, slots
from autograder.course import REPO, hidden_checks
from autograder.verdicts import probe_place
from tests.helpers.notebooks import grade_id, is_answer, source_notebook

HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


@functools.cache
def claimed_slot() -> int:
    """The slot (and so the uid) this test process's student processes run in, claimed once."""
    return slots.claim_slots()


def judge_exercise(exercise: str, answers: dict[str, str], box: sandbox.Sandbox | None = None) -> dict[str, judge.Verdict]:
    """{test grade_id: the judge's verdict} for these answers."""
    slot = claimed_slot()
    box = box or sandbox.detect(hidden=[REPO], slot=slot)
    stage_root = slots.make_stage_root()
    cells = []
    for cell in source_notebook(exercise).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        cells.append({"id": grade_id(cell), "source": answers[grade_id(cell)] if is_answer(cell) else cell.source})
    verdicts = {}
    with tempfile.TemporaryDirectory(prefix="rnn-judge-") as tmp:
        place = probe_place(slots.Slot(box, stage_root, slot), 4096, Path(tmp) / "probe.log")
        student = None
        try:
            for name, hidden in hidden_checks(exercise).items():
                if student is None or student.process.poll() is not None:
                    student, _ = judge.start(cells, place, call_timeout=20, cell_timeout=20)
                module = importlib.import_module(f"autograder.checks.{hidden.module}")
                verdicts[name] = judge.run_check(student, module, hidden.check, list(hidden.args))
        finally:
            if student is not None:
                student.close()
            shutil.rmtree(stage_root, ignore_errors=True)
    return verdicts
