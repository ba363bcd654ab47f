"""Stage 4: run the notebook through nbgrader for the visible tests, its kernel in the sandbox.

nbgrader's autograde executes the notebook (only the visible tests are in it;
the judge has already decided every test) in a kernel forked by the worker's
zygote (``kernels.py``), giving up at the first cell after which the kernel no
longer answers (``execute.py``), and keeps the gradebook and the feedback page.
The judge's verdicts are then written into both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder import inert, kernels, sandbox, slots
from autograder.course import open_gradebook
from autograder import feedback
from autograder.execute import NOT_RUN
from autograder.files import write_fresh
from autograder.records import Status, TestResult
from autograder.repair import released_locked_ids

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def autograde(api, config, notebook, path: Path, student: str, exercise: str, slot: slots.Slot, workdir: Path,
              cell_timeout: int, memory_mb: int) -> tuple[tuple[Status, str] | None, list[str]]:
    """Run nbgrader's autograde on the notebook written at `path`, its kernel in the sandbox.

    When one of the student's own cells kills the kernel or ignores the
    interrupt, that cell is replaced by one that raises, and the notebook is
    graded again (at most three times), so the rest still earns its points.
    Every kernel starts in a fresh stage; the notebook is written by us each time.

    Returns:
        ((status, message) if it could not be graded, else None; the skipped cells).
    """
    skipped = []
    while True:
        sandbox_kernel(config, slot, workdir, memory_mb)
        result = api.autograde(exercise, student, force=True, create=True)
        log = (result.get("log") or "") + (result.get("error") or "")
        with (workdir / "nbgrader.log").open("a") as handle:
            handle.write(log)
        if result["success"]:
            stuck = stuck_cell(path.parents[3] / "autograded" / student / exercise / path.name)
            return None, skipped + ([f"the cells after {stuck}, which did not stop when interrupted"] if stuck else [])
        status, message = explain_failure(log, cell_timeout, memory_mb)
        if status not in (Status.CRASHED, Status.TIMEOUT) or len(skipped) == 3:
            return (status, message), skipped
        sandbox_kernel(config, slot, workdir, memory_mb)
        index = fatal_cell(notebook, cell_timeout, config)
        cell = notebook.cells[index] if index is not None else None
        name = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index + 1}") if cell else ""
        if cell is None or cell.metadata.get("nbgrader", {}).get("locked"):
            where = f" It happened in the read-only cell {name}, which calls your code." if cell else ""
            return (status, message + where), skipped
        what = "crashed Python" if status == Status.CRASHED else "kept running after it was interrupted"
        skipped.append(f"{name} ({what})")
        cell.source = f'raise RuntimeError("This cell {what} when the grader ran it, so it was skipped.")'
        write_fresh(path, nbformat.writes(notebook))


def stuck_cell(graded: Path) -> str | None:
    """The name of the cell the kernel got stuck in (``execute.GuardedExecute`` skipped the rest), if any."""
    if not graded.is_file():
        return None
    notebook = nbformat.read(graded, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if any(o.get("ename") == NOT_RUN for o in cell.get("outputs", [])):
            return cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index + 1}")
    return None


def stub_looped(notebook, looped: list[str], call_timeout: float):
    """A copy of ``notebook`` in which each function in ``looped`` is replaced, after the cells that define it,
    by one that raises at once: its visible tests then fail in a moment instead of a cell timeout each.

    ``looped``: the student's functions that did not return within ``call_timeout`` when the judge called them.
    """
    copy = nbformat.from_dict(notebook)
    for name in looped:
        defining = [i for i, cell in enumerate(copy.cells) if cell.cell_type == "code" and name in defined_names(cell.source)]
        if not defining:
            continue
        message = (f"{name} was not run again: it did not return within {call_timeout:g} s when the hidden tests "
                   "called it (an infinite loop?)")
        copy.cells.insert(defining[-1] + 1, nbformat.v4.new_code_cell(
            f"# Added by the grader: {message}.\n"
            f"def {name}(*args, **kwargs):\n    raise RuntimeError({message!r})"))
    return copy


def defined_names(source: str) -> set[str]:
    """The names a cell's code defines at its top level (functions and assignments); none if it does not parse."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def fatal_cell(notebook, cell_timeout: int, config) -> int | None:
    """The index of the first cell that kills the kernel or cannot be interrupted, if any."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    copy = nbformat.from_dict(notebook)
    # As in nbgrader's Execute: without error_on_timeout and raise_on_iopub_timeout,
    # a cell that swallows the interrupt would be waited for forever.
    client = NotebookClient(copy, timeout=cell_timeout, interrupt_on_timeout=True, allow_errors=True,
                            error_on_timeout={"ename": "CellTimeoutError", "evalue": "", "traceback": []},
                            raise_on_iopub_timeout=True, kernel_name="python3", config=config)
    with client.setup_kernel():
        for index, cell in enumerate(copy.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except (DeadKernelError, CellTimeoutError):
                return index
    return None


def sandbox_kernel(config, slot: slots.Slot, workdir: Path, memory_mb: int) -> Path:
    """Make the next kernel nbgrader starts ("python3") run in a fresh stage of the slot's sandbox.

    A kernel spec of our own, first on JUPYTER_PATH, wraps ipykernel's command line.
    The kernel talks to us over ZeroMQ's ipc transport (sockets in its stage), since it
    has a network of its own. Returns the stage's writable folder.
    """
    if slot.box.kind in ("bwrap", "uid"):  # never in "none": the zygote ends every process of its uid it sees
        try:
            return kernels.use_zygote(config, slots.Slot(slot.box, slot.stage_root, slots.kernel_slot(slot.number)),
                                      workdir, memory_mb)
        except kernels.ZygoteGone as gone:
            print(f"warning: {gone}; this kernel starts without it", file=sys.stderr)
    runtime, specs = workdir / "runtime", workdir / "jupyter" / "kernels" / "python3"
    shutil.rmtree(runtime, ignore_errors=True)
    runtime.mkdir(parents=True)
    specs.mkdir(parents=True, exist_ok=True)
    home = slot.fresh_stage() / "home"
    python, _ = sandbox.interpreter()
    # parent_handle=0: in its own PID namespace the kernel would think its parent had died.
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--IPKernelApp.parent_handle=0"]
    command = slot.command(argv, home.parent, writable=[home], cwd=home, env=sandbox.student_env(home),
                           memory_mb=memory_mb, allow_torch=True, connection=(str(runtime), str(home / "kernel.json")))
    spec = {"argv": command, "display_name": "Python 3 (graded)", "language": "python"}
    (specs / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(workdir / "jupyter")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    # jupyter_client writes connection files with tempfile, which caches its folder: set both.
    os.environ["TMPDIR"] = tempfile.tempdir = str(runtime)
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(home / "zmq")
    return home


def test_results(root: Path, student: str, exercise: str) -> list[TestResult]:
    """Score and output of every test cell, from the gradebook and the executed notebook."""
    notebook = nbformat.read(root / "autograded" / student / exercise / f"{exercise}.ipynb", as_version=4)
    outputs = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            outputs[meta["grade_id"]] = cell_output(cell)
    tests = []
    with open_gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(exercise, exercise, student)
        for grade in sorted(submission.grades, key=lambda g: list(outputs).index(g.name) if g.name in outputs else 0):
            if grade.cell_type != "code":
                continue
            tests.append(TestResult(grade.name, float(grade.score or 0.0), float(grade.max_score),
                                    outputs.get(grade.name, "")))
    return tests


def cell_output(cell) -> str:
    """What a test cell said: its printed text and, if it failed, the error line."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            if output.ename in ("KeyboardInterrupt", "CellTimeoutError"):
                parts.append("This test was stopped because it ran too long (an infinite loop?).")
            else:
                parts.append(ANSI.sub("", f"{output.ename}: {output.evalue}"))
    return "\n".join(p.strip() for p in parts if p.strip())


def explain_failure(log: str, cell_timeout: int, memory_mb: int) -> tuple[Status, str]:
    """(status, sentence) for an autograde run that did not finish."""
    if "DeadKernelError" in log or "kernel died" in log.lower():
        return Status.CRASHED, (f"Python crashed while running this notebook (for example, it used more than "
                                f"{memory_mb} MB of memory or exited the kernel), so it could not be graded.")
    if "CellTimeoutError" in log or "timed out" in log.lower():
        return Status.TIMEOUT, ("The notebook did not finish in time: a cell kept running after it was interrupted "
                                f"(limit {cell_timeout} s per cell), so it could not be graded.")
    last = [line for line in log.strip().splitlines() if line.strip()][-3:]
    return Status.ERROR, "nbgrader could not grade this notebook: " + " | ".join(last)


def record_verdicts(root: Path, student: str, exercise: str, tests: list[TestResult], visible: dict[str, str],
                    release) -> None:
    """Write the judge's scores into the gradebook and its sentences into the graded notebook, for feedback.

    The graded notebook is made inert first (``inert.py``): formgrader and the feedback
    page render it, and the submission's code wrote its outputs. Then it gets the summary
    and the lines under its cells (``feedback.annotate``). Each test's ``output``
    (what results.json shows) becomes the verdict, and the visible test's failed assert
    if there was one (``visible``: test name -> what its cell printed).
    """
    with open_gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for test in tests:
            gradebook.find_grade(test.name, exercise, exercise, student).auto_score = test.score
        gradebook.db.commit()
    path = root / "autograded" / student / exercise / f"{exercise}.ipynb"
    graded = nbformat.read(path, as_version=4)
    inert.inert(graded, ours=released_locked_ids(release))
    feedback.annotate(graded, tests, release, exercise)
    for test in tests:
        shown = visible.get(test.name, "")
        test.output = "\n".join(p for p in (test.verdict, shown if "AssertionError" in shown else "") if p)
    write_fresh(path, nbformat.writes(graded))
