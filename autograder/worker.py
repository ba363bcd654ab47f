"""Grade submissions, one after another, in a long-lived process.

``python -m autograder.worker --serve`` is started by ``grade`` once per
parallel slot. It imports nbgrader, torch and the checks once, says
``ready``, then reads one job (a JSON line, see ``records.Job``) at a time
from its standard input. For each it runs nbgrader's autograde in the
submission's private course directory (the student's kernel in the sandbox,
visible tests only), lets the judge decide every test (``judge.py``),
writes the verdicts into that gradebook and the feedback page, saves
``result.json`` atomically, and prints ``done``. Whatever goes wrong, it
saves a result rather than crashing, so a bad submission never stops a batch.
``python -m autograder.worker JOB.json`` grades one job (for debugging).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

from autograder.records import Job, Result, Status, TestResult, save

ANSI = re.compile(r"\x1b\[[0-9;]*m")
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024  # a submission larger than this is refused, not read


SLOT = 0  # this worker's slot in the pool: its student processes run as the slot's own uid (sandbox.slot_uid)


def main(argv: list[str]) -> int:
    global SLOT
    if argv[:1] == ["--serve"]:
        SLOT = int(argv[2]) if argv[1:2] == ["--slot"] else 0
        return serve()
    job = Job(**json.loads(Path(argv[0]).read_text()))
    save(grade_safely(job), Path(job.workdir) / "result.json")
    return 0


def serve() -> int:
    # Our standard output is the channel to `grade`; whatever else prints (nbgrader, a kernel) goes to the log.
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    warm_up()
    print("ready", file=channel, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = Job(**json.loads(line))
        save(grade_safely(job), Path(job.workdir) / "result.json")
        print("done", file=channel, flush=True)
    return 0


def warm_up() -> None:
    """Import once what every job needs, so that a job costs only its own work."""
    import importlib

    import nbformat  # noqa: F401
    from nbgrader.apps import NbGraderAPI  # noqa: F401

    from autograder.course import exercise_names

    for name in exercise_names():
        try:
            importlib.import_module(f"autograder.checks.{name}")
        except ImportError:
            pass


def grade_safely(job: Job) -> Result:
    from autograder import sandbox

    sandbox.join_pids_cgroup()  # a fresh process budget for this job
    sandbox.remove_empty_cgroups()
    started = time.monotonic()
    Path(job.workdir).mkdir(parents=True, exist_ok=True)
    try:
        result = grade(job)
    except Exception as error:  # the grader's own failure: report it, keep the batch going
        result = Result.failed(job, Status.ERROR, f"The grader failed on this submission: {type(error).__name__}: {error}")
    finally:
        kill_descendants()
        end_student_processes(job)
    result.seconds = round(time.monotonic() - started, 1)
    if job.note:
        result.message = f"{job.note} {result.message}"
    return result


def kill_descendants() -> None:
    """Kill every process this worker started and left running (a stuck kernel, a probe).

    Kernels run in sessions of their own, so once this process exits nobody
    could find them: it has to be done here, while they are still our children.
    """
    import psutil

    for process in psutil.Process().children(recursive=True):
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def end_student_processes(job: Job) -> None:
    """Kill every process of this worker's student uid: what a job started ends with it, wherever it went."""
    from autograder import sandbox

    box = sandbox.Sandbox(job.sandbox)
    if box.drops_root:
        sandbox.kill_uid(sandbox.slot_uid(SLOT))


def grade(job: Job) -> Result:
    import nbformat

    from autograder.course import nbgrader_api, nbgrader_config

    from autograder import flags, inert, sandbox
    from autograder.files import NotAccepted, read_regular, write_fresh

    student, exercise = job.student, job.exercise
    workdir = Path(job.workdir)
    submitted = Path(job.notebook)
    try:
        notebook = nbformat.reads(read_regular(submitted, MAX_NOTEBOOK_BYTES).decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except NotAccepted as refused:
        return Result.failed(job, Status.INVALID, f"{refused} It was not graded.")
    except Exception as error:
        return Result.failed(job, Status.INVALID, f"{submitted.name} is not a valid Jupyter notebook, so it could not "
                             f"be graded ({type(error).__name__}: {str(error)[:300]}). Open it in Jupyter, save it, "
                             "and submit again.")

    release = nbformat.read(job.release, as_version=4)
    found = flags.scan(notebook, release)
    repaired = repair_structure(notebook, release)
    restored = restore_deleted_cells(notebook, release)
    inert.inert(notebook, keep_outputs=False)
    root = workdir / "course"
    shutil.rmtree(root, ignore_errors=True)
    target = root / "submitted" / student / exercise
    target.mkdir(parents=True)
    shutil.copy(job.gradebook, root / "gradebook.db")
    write_fresh(target / f"{exercise}.ipynb", nbformat.writes(notebook))
    try:
        write_fresh(target / "timestamp.txt", read_regular(submitted.parent / "timestamp.txt", 200))
    except (NotAccepted, FileNotFoundError):
        pass
    box = sandbox.Sandbox(job.sandbox)
    stage_root = Path(job.stage_root)
    # The judge first: its verdicts stand even if the notebook then cannot be run in Jupyter.
    tests = expected_tests(release)
    started = time.monotonic()
    note = judge_tests(job, notebook, release, tests, box, stage_root)
    seconds = {"judge": round(time.monotonic() - started, 2)}
    # Should Jupyter then run out of time, `grade` keeps these verdicts (see grade.Worker).
    save(Result(student, exercise, sum(t.score for t in tests), sum(t.max_score for t in tests), Status.GRADED,
                f"{sum(t.passed for t in tests)} of {len(tests)} tests passed. {note}".strip(),
                [TestResult(t.name, t.score, t.max_score, t.verdict, t.verdict) for t in tests], flags=found,
                digest=job.digest, timings=dict(seconds)), workdir / "judged.json")

    config = nbgrader_config(root, cell_timeout=job.cell_timeout, source=Path(job.batch) / "source")
    api = nbgrader_api(config)
    started = time.monotonic()
    problem, skipped = autograde(api, notebook, target / f"{exercise}.ipynb", job, box, stage_root, config)
    seconds["autograde"] = round(time.monotonic() - started, 2)
    if problem is None:
        visible = {t.name: t.output for t in test_results(root, student, exercise)}
        for test in tests:
            test.output = visible.get(test.name, "")
        record_verdicts(root, student, exercise, tests, release)
        started = time.monotonic()
        feedback = api.generate_feedback(exercise, student, force=True)
        seconds["feedback"] = round(time.monotonic() - started, 2)
        html = root / "feedback" / student / exercise / f"{exercise}.html"
        if feedback["success"] and html.is_file():
            shutil.copy(html, workdir / "feedback.html")
    else:
        for test in tests:
            test.output = test.verdict
    passed = sum(t.passed for t in tests)
    message = f"{passed} of {len(tests)} tests passed."
    if problem is not None:
        message += (f" The notebook could not be run in Jupyter, so the feedback shows no visible tests "
                    f"({problem[1]}); the hidden tests graded your functions.")
    if skipped:
        message += f" Skipped, so the rest could be graded: {'; '.join(skipped)}."
    if restored:
        message += f" The notebook lacked {len(restored)} read-only cell(s), restored for grading: {', '.join(restored)}."
    if repaired:
        message += f" Repaired before grading: {'; '.join(repaired)}."
    if note:
        message += f" {note}"
    return Result(student, exercise, sum(t.score for t in tests), sum(t.max_score for t in tests), Status.GRADED,
                  message, tests, flags=found, digest=job.digest, timings=seconds)


def expected_tests(release) -> list[TestResult]:
    """Every test cell of the exercise with its points, not yet scored (from the released notebook)."""
    tests = []
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            tests.append(TestResult(meta["grade_id"], 0.0, float(meta.get("points", 0))))
    return tests


def autograde(api, notebook, path: Path, job: Job, box, stage_root: Path, config
              ) -> tuple[tuple[Status, str] | None, list[str]]:
    """Run nbgrader's autograde on the notebook written at `path`, its kernel in the sandbox.

    When one of the student's own cells kills the kernel or ignores the
    interrupt, that cell is replaced by one that raises, and the notebook is
    graded again (at most three times), so the rest still earns its points.
    Every kernel starts in a fresh stage; the notebook is written by us each time.

    Returns:
        ((status, message) if it could not be graded, else None; the skipped cells).
    """
    import nbformat

    from autograder.files import write_fresh

    skipped = []
    while True:
        sandbox_kernel(job, box, stage_root, config)
        result = api.autograde(job.exercise, job.student, force=True, create=True)
        log = (result.get("log") or "") + (result.get("error") or "")
        with (Path(job.workdir) / "nbgrader.log").open("a") as handle:
            handle.write(log)
        if result["success"]:
            return None, skipped
        status, message = explain_failure(log, job)
        if status not in (Status.CRASHED, Status.TIMEOUT) or len(skipped) == 3:
            return (status, message), skipped
        sandbox_kernel(job, box, stage_root, config)
        index = fatal_cell(notebook, job.cell_timeout, config)
        cell = notebook.cells[index] if index is not None else None
        name = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index + 1}") if cell else ""
        if cell is None or cell.metadata.get("nbgrader", {}).get("locked"):
            where = f" It happened in the read-only cell {name}, which calls your code." if cell else ""
            return (status, message + where), skipped
        what = "crashed Python" if status == Status.CRASHED else "kept running after it was interrupted"
        skipped.append(f"{name} ({what})")
        cell.source = f'raise RuntimeError("This cell {what} when the grader ran it, so it was skipped.")'
        write_fresh(path, nbformat.writes(notebook))


def fatal_cell(notebook, cell_timeout: int, config) -> int | None:
    """The index of the first cell that kills the kernel or cannot be interrupted, if any."""
    import nbformat
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


def sandbox_kernel(job: Job, box, stage_root: Path, config) -> Path:
    """Make the next kernel nbgrader starts ("python3") run in a fresh stage of the sandbox.

    A kernel spec of our own, first on JUPYTER_PATH, wraps ipykernel's command line.
    The kernel talks to us over ZeroMQ's ipc transport (sockets in its stage), since it
    has a network of its own. Whatever an earlier kernel of this job left is killed and
    its stage removed first. Returns the stage's writable folder.
    """
    from autograder import sandbox

    end_student_processes(job)
    workdir = Path(job.workdir)
    runtime, specs = workdir / "runtime", workdir / "jupyter" / "kernels" / "python3"
    shutil.rmtree(runtime, ignore_errors=True)
    runtime.mkdir(parents=True)
    specs.mkdir(parents=True, exist_ok=True)
    stage = sandbox.make_stage(stage_root, SLOT, box)
    home = stage / "home"
    python, _ = sandbox.interpreter()
    # parent_handle=0: in its own PID namespace the kernel would think its parent had died.
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--IPKernelApp.parent_handle=0"]
    command = box.command(argv, slot=SLOT, stage=stage, writable=[home], cwd=home, env=sandbox.student_env(home),
                          memory_mb=job.memory_mb, allow_torch=True, connection=(str(runtime), str(home / "kernel.json")))
    spec = {"argv": command, "display_name": "Python 3 (graded)", "language": "python"}
    (specs / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(workdir / "jupyter")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    # jupyter_client writes connection files with tempfile, which caches its folder: set both.
    import tempfile

    os.environ["TMPDIR"] = tempfile.tempdir = str(runtime)
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(home / "zmq")
    return home


def grading_cells(notebook, release) -> list[dict]:
    """The code the judge runs in the student's process: answer cells as submitted, setup cells as released.

    Test cells are left out (the judge runs the hidden checks itself); read-only
    setup cells come from the released notebook, whatever the submission holds.
    """
    released = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in release.cells}
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id") or f"cell {index + 1}"
        if meta.get("grade"):
            continue
        ours = bool(meta.get("locked") and not meta.get("solution"))
        if ours:
            cell = released.get(meta.get("grade_id"), cell)
        cells.append({"id": name, "source": cell.source, "student": not ours})
    return cells


def judge_tests(job: Job, notebook, release, tests: list[TestResult], box, stage_root: Path) -> str:
    """Decide every test in the trusted process (judge.py): a test earns its points if and only if the judge says so.

    The visible asserts that ran in the student's kernel are shown in the
    feedback but decide nothing. Returns a note for the submission's message
    (cells of the student's that raised or were skipped).
    """
    import importlib

    from autograder import judge
    from autograder.course import hidden_checks

    checks = hidden_checks(job.exercise)
    cells = grading_cells(notebook, release)
    probe = probe_place(box, stage_root, SLOT, job.memory_mb, Path(job.workdir) / "probe.log",
                        before=lambda: end_student_processes(job))
    student, errors = None, []
    try:
        for test in tests:
            hidden = checks.get(test.name)
            try:
                if hidden is None:
                    raise judge.StudentGone("this test cell is not part of the exercise")
                if student is None or student.process.poll() is not None:
                    if student is not None:
                        student.close()
                    student, errors = judge.start(cells, probe, job.call_timeout, job.cell_timeout)
                module = importlib.import_module(f"autograder.checks.{hidden.module}")
                verdict = judge.run_check(student, module, hidden.check, list(hidden.args))
            except judge.StudentGone as gone:
                verdict = judge.Verdict(False, f"The hidden tests could not run your code: {gone}.")
            test.verdict = verdict.message
            # The judge's verdict alone: what the student's kernel reported proves nothing by itself.
            test.score = test.max_score if verdict.passed else 0.0
    finally:
        if student is not None:
            student.close()
    theirs = {c["id"] for c in cells if c["student"]}
    errors = [e for e in errors if e.get("id") in theirs]  # our setup cells may need torch, absent there
    if not errors:
        return ""
    return "Cells that raised an error when run for the hidden tests: " + "; ".join(
        f"{e.get('id')} ({e.get('type')}: {str(e.get('message'))[:120]})" for e in errors) + "."


def probe_place(box, stage_root: Path, slot: int, memory_mb: int, log: Path, before=lambda: None):
    """Where the judge's student process runs: a fresh stage of the sandbox at every start (see judge.ProbePlace).

    The probe's code sits in ``stage/probe`` (read-only to it, readable by the slot's uid
    alone); ``stage/home`` is its writable folder; torch is not there.
    """
    from autograder import judge, sandbox

    python, _ = sandbox.interpreter()

    def fresh_stage():
        before()
        stage = sandbox.make_stage(stage_root, slot, box)
        folder = stage / "probe"
        folder.mkdir(mode=0o750)
        if box.drops_root:
            os.chown(folder, 0, sandbox.slot_uid(slot))
        place.folder = folder

    def command(args, fds):
        stage = place.folder.parent
        home = stage / "home"
        return box.command([python, *args], slot=slot, stage=stage, readable=[place.folder], writable=[home],
                           cwd=home, env=sandbox.student_env(home), memory_mb=memory_mb, allow_torch=False,
                           keep_fds=fds, quiet=False)

    place = judge.ProbePlace(folder=stage_root, command=command, before=fresh_stage, log=log)
    return place


def record_verdicts(root: Path, student: str, exercise: str, tests: list[TestResult], release) -> None:
    """Write the judge's scores into the gradebook and its sentences into the graded notebook, for feedback.

    The graded notebook is made inert first (``inert.py``): formgrader and the feedback
    page render it, and the submission's code wrote its outputs.
    """
    import nbformat
    from nbgrader.api import Gradebook

    from autograder import inert
    from autograder.course import COURSE_ID
    from autograder.files import write_fresh

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gradebook:
        for test in tests:
            gradebook.find_grade(test.name, exercise, exercise, student).auto_score = test.score
        gradebook.db.commit()
    path = root / "autograded" / student / exercise / f"{exercise}.ipynb"
    graded = nbformat.read(path, as_version=4)
    inert.inert(graded, ours=released_locked_ids(release))
    by_name = {t.name: t for t in tests}
    for cell in graded.cells:
        test = by_name.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if test is not None and cell.cell_type == "code":
            mark = "passed" if test.passed else "FAILED"
            cell.outputs.append(nbformat.v4.new_output(
                "stream", name="stdout", text=f"Hidden tests ({mark}): {test.verdict}\n"))
            visible = test.output if "AssertionError" in test.output else ""
            test.output = "\n".join(p for p in (test.verdict, visible) if p)  # what results.json shows
    graded.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(tests)))
    write_fresh(path, nbformat.writes(graded))


def released_locked_ids(release) -> set[str]:
    """The grade_ids of the release's read-only cells (tests and setup): nbgrader restores their source."""
    ids = set()
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") and not meta.get("solution") and meta.get("grade_id"):
            ids.add(meta["grade_id"])
    return ids


def summary_markdown(tests: list[TestResult]) -> str:
    """The top of the feedback page: one line per failed test (name, points, reason).

    A reason can quote the student's own text (an exception message): it is shown as
    text, its HTML escaped and its markdown links defused.
    """
    from autograder.inert import escape_markdown_html

    score, total = sum(t.score for t in tests), sum(t.max_score for t in tests)
    lines = [f"## Grading summary: {score:g} / {total:g} points", ""]
    failed = [t for t in tests if not t.passed]
    if not failed:
        lines.append("Every test passed.")
    else:
        lines += ["| test | points | why it failed |", "|---|---|---|"]
        for t in failed:
            reason = escape_markdown_html(t.verdict).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {t.name} | {t.score:g} / {t.max_score:g} | {reason} |")
    lines += ["", "The details of each test follow below, under its cell."]
    return "\n".join(lines)


def repair_structure(notebook, release) -> list[str]:
    """Undo what breaks nbgrader but not the answers: copied cells and changed cell types.

    A student who copies a cell copies its nbgrader id, and nbgrader then
    refuses the whole notebook. The first cell with an id keeps it; a later copy
    becomes an ordinary code cell (its code still runs where the student put it).
    A read-only or answer cell whose type was changed (code to markdown) gets
    its released type back. Returns one note per repair.
    """
    released = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in release.cells}
    seen, notes = set(), []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id")
        if name is None:
            continue
        if name not in released:  # an id the exercise never had: its code runs as the student's own
            del cell.metadata["nbgrader"]
            notes.append(f"cell {name} is not a cell of this exercise and was kept as a plain cell")
            continue
        if name in seen:
            del cell.metadata["nbgrader"]
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            notes.append(f"a copy of cell {name} was kept as a plain cell")
            continue
        seen.add(name)
        original = released.get(name)
        if original is not None and cell.cell_type != original.cell_type:
            keep = {k: v for k, v in cell.items() if k in ("id", "metadata", "source")}
            cell.clear()
            cell.update(keep, cell_type=original.cell_type)
            if original.cell_type == "code":
                cell.update(outputs=[], execution_count=None)
            else:
                cell.pop("outputs", None)
            notes.append(f"cell {name} was a {original.cell_type} cell again")
    return notes


def restore_deleted_cells(notebook, release) -> list[str]:
    """Put back the read-only cells (tests, setup) that a student deleted.

    nbgrader restores the content of locked cells but scores a deleted test cell 0;
    a deleted test should not cost points its answer would have earned. Each
    missing cell goes back after the nearest earlier cell that is still there;
    nbgrader then restores its full source, hidden tests included, from the gradebook.
    Returns the grade_ids of the restored cells.
    """
    def grade_id(cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id")

    present = {grade_id(cell) for cell in notebook.cells} - {None}
    restored, position = [], 0
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if grade_id(cell) in present:
            position = next(i for i, c in enumerate(notebook.cells) if grade_id(c) == grade_id(cell)) + 1
        elif meta.get("locked") and not meta.get("solution"):
            notebook.cells.insert(position, cell)
            restored.append(grade_id(cell))
            present.add(grade_id(cell))
            position += 1
    return restored


def test_results(root: Path, student: str, exercise: str) -> list[TestResult]:
    """Score and output of every test cell, from the gradebook and the executed notebook."""
    import nbformat
    from nbgrader.api import Gradebook

    from autograder.course import COURSE_ID

    notebook = nbformat.read(root / "autograded" / student / exercise / f"{exercise}.ipynb", as_version=4)
    outputs = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            outputs[meta["grade_id"]] = cell_output(cell)
    tests = []
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gradebook:
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


def explain_failure(log: str, job: Job) -> tuple[Status, str]:
    """(status, sentence) for an autograde run that did not finish."""
    if "DeadKernelError" in log or "kernel died" in log.lower():
        return Status.CRASHED, (f"Python crashed while running this notebook (for example, it used more than "
                                f"{job.memory_mb} MB of memory or exited the kernel), so it could not be graded.")
    if "CellTimeoutError" in log or "timed out" in log.lower():
        return Status.TIMEOUT, ("The notebook did not finish in time: a cell kept running after it was interrupted "
                                f"(limit {job.cell_timeout} s per cell), so it could not be graded.")
    last = [line for line in log.strip().splitlines() if line.strip()][-3:]
    return Status.ERROR, "nbgrader could not grade this notebook: " + " | ".join(last)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
