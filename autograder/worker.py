"""A worker: grade submissions one after another, in a long-lived process.

``python -m autograder.worker --serve --slot N --sandbox MODE --stage-root DIR
--memory MB`` is started by the pool (``pool.py``) once per parallel slot. It
imports nbgrader, numpy and the checks once, starts its kernel zygote
(``kernels.py``), says ``ready``, then reads one job (a JSON line, see
``records.Job``) at a time from its standard input, runs the stages on it, saves
the feedback page and ``result.json`` atomically and prints ``done``. Whatever goes wrong, it saves a result rather
than crashing, so a bad submission never stops a batch.
``python -m autograder.worker JOB.json`` grades one job (for debugging).

The stages of one job, each a module of plain functions:

1. read the submission (``discover.read_submission``: a regular file, no link);
2. repair its structure against the release (``repair.py``) and make it inert (``inert.py``);
3. decide every test with the judge, the student's code in the sandbox (``verdicts.py``);
4. run the notebook through nbgrader for the visible tests and the feedback page (``nbgrader_run.py``), in a
   kernel forked by the zygote; what did not return in the judge is not waited for again;
5. record the result (``records.Result.graded``) and make its page (``outputs.page_for``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from autograder import kernels, sandbox, slots
from autograder.records import Job, Result, Status, save, write_atomically

SLOT = 0  # this worker's slot: its student processes run as the slot's own uid (slots.slot_uid)


def main(argv: list[str]) -> int:
    global SLOT
    if argv[:1] == ["--serve"]:
        options = dict(zip(argv[1::2], argv[2::2]))
        SLOT = int(options.get("--slot", 0))
        return serve(options.get("--sandbox"), options.get("--stage-root"), int(options.get("--memory", 0)))
    job = Job(**json.loads(Path(argv[0]).read_text()))
    finish(grade_safely(job), Path(job.workdir))
    return 0


def finish(result: Result, workdir: Path) -> None:
    """Save the result and its feedback page (made here, where the batch's cores share the work)."""
    from autograder.outputs import PAGE, page_for

    started = time.monotonic()
    write_atomically(workdir / PAGE, page_for(result, workdir))
    result.timings["page"] = round(time.monotonic() - started, 2)
    save(result, workdir / "result.json")


def serve(box: str | None = None, stage_root: str | None = None, memory_mb: int = 0) -> int:
    # Our standard output is the channel to the pool; whatever else prints (nbgrader, a kernel) goes to the log.
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    warm_up()
    if box in ("bwrap", "uid") and stage_root and memory_mb:  # the kernel zygote starts now, not in the first job
        try:
            kernels.start_zygote(slots.Slot(sandbox.Sandbox(box), Path(stage_root), slots.kernel_slot(SLOT)),
                                 memory_mb)
        except kernels.ZygoteGone as gone:
            print(f"warning: {gone}; the first job starts it again", file=sys.stderr)
    print("ready", file=channel, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = Job(**json.loads(line))
        finish(grade_safely(job), Path(job.workdir))
        print("done", file=channel, flush=True)
    return 0


def warm_up() -> None:
    """Import once what every job needs, so that a job costs only its own work."""
    import importlib

    import nbformat  # noqa: F401
    from nbgrader.apps import NbGraderAPI  # noqa: F401

    from autograder import nbgrader_run, outputs, verdicts  # noqa: F401
    from autograder.course import exercise_names

    for name in exercise_names():
        try:
            importlib.import_module(f"autograder.checks.{name}")
        except ImportError:
            pass


def grade_safely(job: Job) -> Result:
    """``grade(job)``, with every process it started ended, and a result whatever happened."""
    slots.join_pids_cgroup()  # a fresh process budget for this job
    slots.remove_empty_cgroups()
    slot = slots.Slot(sandbox.Sandbox(job.sandbox), Path(job.stage_root), SLOT)
    started = time.monotonic()
    Path(job.workdir).mkdir(parents=True, exist_ok=True)
    try:
        result = grade(job, slot)
    except Exception as error:  # the grader's own failure: report it, keep the batch going
        result = Result.failed_job(job, Status.ERROR,
                                   f"The grader failed on this submission: {type(error).__name__}: {error}")
    finally:
        kernels.end_kernels()
        kill_descendants(spare=kernels.zygote_pids())
        slot.end_processes()
    result.seconds = round(time.monotonic() - started, 1)
    if job.note:
        result.message = f"{job.note} {result.message}"
    return result


def kill_descendants(spare: set[int] = frozenset()) -> None:
    """Kill every process this worker started and left running (a stuck kernel, a probe).

    Kernels run in sessions of their own, so once this process exits nobody
    could find them: it has to be done here, while they are still our children.
    """
    import psutil

    for process in psutil.Process().children(recursive=True):
        if process.pid in spare:  # the kernel zygote, kept for the next job (its kernels are ended)
            continue
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def grade(job: Job, slot: slots.Slot) -> Result:
    """The stages, in order, on one job."""
    import nbformat

    from autograder import execute, flags, inert, nbgrader_run, repair, verdicts
    from autograder.course import nbgrader_api, nbgrader_config
    from autograder.discover import read_submission
    from autograder.files import NotAccepted, read_regular, write_fresh

    student, exercise, workdir = job.student, job.exercise, Path(job.workdir)
    try:
        notebook = read_submission(Path(job.notebook))
    except NotAccepted as refused:
        return Result.failed_job(job, Status.INVALID, f"{refused} It was not graded.")
    except ValueError as invalid:
        return Result.failed_job(job, Status.INVALID, str(invalid))

    release = nbformat.read(job.release, as_version=4)
    found = flags.scan(notebook, release)
    repaired = repair.repair_structure(notebook, release)
    restored = repair.restore_deleted_cells(notebook, release)
    inert.inert(notebook, keep_outputs=False)
    root = workdir / "course"
    shutil.rmtree(root, ignore_errors=True)
    target = root / "submitted" / student / exercise
    target.mkdir(parents=True)
    shutil.copy(job.gradebook, root / "gradebook.db")
    write_fresh(target / f"{exercise}.ipynb", nbformat.writes(notebook))
    try:
        write_fresh(target / "timestamp.txt", read_regular(Path(job.notebook).parent / "timestamp.txt", 200))
    except (NotAccepted, FileNotFoundError):
        pass

    # The judge first: its verdicts stand even if the notebook then cannot be run in Jupyter.
    tests = repair.expected_tests(release)
    started = time.monotonic()
    note, looped = verdicts.judge_tests(exercise, notebook, release, tests, slot, job.call_timeout, job.cell_timeout,
                                job.memory_mb, workdir / "probe.log")
    seconds = {"judge": round(time.monotonic() - started, 2)}
    for test in tests:
        test.output = test.verdict
    # Should Jupyter then run out of time, the pool keeps these verdicts (see pool.GradingProcess).
    save(Result.graded(job, tests, [note], found, seconds), workdir / "judged.json")

    if looped:  # what did not return in the judge is not waited for again in Jupyter
        notebook = nbgrader_run.stub_looped(notebook, looped, job.call_timeout)
        (target / f"{exercise}.ipynb").unlink()
        write_fresh(target / f"{exercise}.ipynb", nbformat.writes(notebook))
    config = nbgrader_config(root, cell_timeout=job.cell_timeout, source=Path(job.batch) / "source")
    api = nbgrader_api(config)
    started = time.monotonic()
    problem, skipped = nbgrader_run.autograde(api, config, notebook, target / f"{exercise}.ipynb", student, exercise,
                                              slot, workdir, job.cell_timeout, job.memory_mb)
    seconds["autograde"] = round(time.monotonic() - started, 2)
    seconds.update(execute.LAST_RUN)  # of which: the kernel's start, and its cells
    if problem is None:
        visible = {t.name: t.output for t in nbgrader_run.test_results(root, student, exercise)}
        nbgrader_run.record_verdicts(root, student, exercise, tests, visible, release)
        started = time.monotonic()
        feedback = api.generate_feedback(exercise, student, force=True)
        seconds["feedback"] = round(time.monotonic() - started, 2)
        html = root / "feedback" / student / exercise / f"{exercise}.html"
        if feedback["success"] and html.is_file():
            shutil.copy(html, workdir / "feedback.html")
    notes = [
        (f"The notebook could not be run in Jupyter, so the feedback shows no visible tests ({problem[1]}); "
         "the hidden tests graded your functions.") if problem else "",
        f"Skipped, so the rest could be graded: {'; '.join(skipped)}." if skipped else "",
        (f"The notebook lacked {len(restored)} read-only cell(s), restored for grading: {', '.join(restored)}."
         if restored else ""),
        f"Repaired before grading: {'; '.join(repaired)}." if repaired else "",
        note,
    ]
    return Result.graded(job, tests, notes, found, seconds)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
