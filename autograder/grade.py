"""``python -m autograder grade``: grade a folder of submissions in parallel, into one gradebook.

Layout in: ``SUBMITTED/<student>/<exercise>/<exercise>.ipynb``.
Written to ``OUT`` (an nbgrader course directory, so formgrader and
``nbgrader export`` work on it):

* ``gradebook.db``: every submission's scores, in one nbgrader gradebook
  (or the database at ``--db``, any SQLAlchemy URL);
* ``grades.csv`` (one row per submission, with flags) and ``scores.csv``
  (one row per student, for a learning-management system);
* ``feedback/<student>/<exercise>.html``: the page to return to the student;
* ``results/<student>/<exercise>.json``: the result in Gradescope's format;
* ``autograded/<student>/<exercise>/``: the graded notebook, for formgrader;
* ``summary.md`` and ``summary.png``: the batch at a glance (also printed);
* ``work/<student>/<exercise>/``: each submission's private course, logs and
  ``result.json``. A result already there for the same notebook is kept, so a
  batch killed in the middle resumes where it stopped (``--force`` regrades).

Workers (``autograder.worker --serve``) live for the whole batch, one per
slot, each under the memory limit; a submission that runs out of time has its
worker killed and replaced, so it costs only its own grade.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import queue
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder import sandbox
from autograder.course import (COURSE_ID, REPO, CourseError, exercise_names, generate_student_versions,
                               write_grading_sources)
from autograder.files import copy_regular_tree
from autograder.records import Job, Result, Status, load, save, write_atomically
from autograder.standalone import standalone_page


@dataclass
class Limits:
    jobs: int = os.cpu_count() or 1  # submissions graded at once
    timeout: int = 600  # seconds for one whole submission
    cell_timeout: int = 60  # seconds for one cell
    memory_mb: int = 4096  # address space of a worker, and of each kernel and probe it starts
    call_timeout: int = 20  # seconds for one call of a student's function by the judge
    sandbox: str = "auto"  # "auto", "bwrap", "uid" or "none" (see sandbox.py)


def find_submissions(submitted: Path, exercises: list[str]) -> tuple[list[tuple[str, str, Path, str]], list[dict]]:
    """(student, exercise, notebook, note) for every submission; rows for those that cannot be graded.

    A folder whose notebook was renamed (``elman (1).ipynb``, as a second
    download names it) is graded if it holds exactly one notebook; the note
    says so. Folders that are not exercises are reported, not graded. Nothing
    is followed through a symbolic link: a linked folder or notebook gets a
    row of its own with status ``invalid``.
    """
    from autograder.files import is_link_free

    if not submitted.is_dir():
        raise CourseError(f"{submitted} is not a folder. Expected SUBMITTED/<student>/<exercise>/<exercise>.ipynb.")
    found, rows = [], []

    def refused(student, exercise, what):
        rows.append({"student": student, "exercise": exercise, "status": Status.INVALID,
                     "message": f"{what} is a symbolic link; links are not graded: submit the notebook file itself."})

    students = sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise CourseError(f"{submitted} holds no student folders. Expected SUBMITTED/<student>/<exercise>/<exercise>.ipynb.")
    for student in students:
        if not is_link_free(student):
            for exercise in exercises:
                refused(student.name, exercise, f"The folder {student.name}")
            continue
        for folder in sorted(p for p in student.iterdir() if p.is_dir() and p.name not in exercises):
            print(f"warning: {student.name}/{folder.name} is not an exercise "
                  f"({', '.join(exercises)}); it is not graded", file=sys.stderr)
        for exercise in exercises:
            folder = student / exercise
            if not folder.is_dir():
                continue
            if not is_link_free(folder):
                refused(student.name, exercise, f"The folder {student.name}/{exercise}")
                continue
            notebook = folder / f"{exercise}.ipynb"
            others = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
            if notebook.is_symlink() or (not notebook.exists() and len(others) == 1 and others[0].is_symlink()):
                refused(student.name, exercise, (notebook if notebook.is_symlink() else others[0]).name)
            elif notebook.is_file():
                found.append((student.name, exercise, notebook, ""))
            elif len(others) == 1:
                found.append((student.name, exercise, others[0],
                              f"Graded {others[0].name}, the only notebook submitted (expected {exercise}.ipynb)."))
            else:
                present = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
                rows.append({"student": student.name, "exercise": exercise, "status": Status.MISSING,
                             "message": f"No {exercise}.ipynb in the submission (it holds {present})."})
    return found, rows


def max_scores(gradebook: Path, exercises: list[str]) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{gradebook}", COURSE_ID) as gb:
        return {name: float(gb.find_assignment(name).max_score) for name in exercises}


def digest(path: Path) -> str:
    """The sha256 of a submitted notebook ("" for one the worker will refuse: a link, or too large)."""
    from autograder.files import NotAccepted, read_regular
    from autograder.worker import MAX_NOTEBOOK_BYTES

    try:
        return hashlib.sha256(read_regular(path, MAX_NOTEBOOK_BYTES)).hexdigest()
    except (NotAccepted, OSError):
        return ""


# ----------------------------------------------------------------- the workers


def _limit_memory(megabytes: int):
    def apply():
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        sandbox.join_pids_cgroup()  # and a number of processes, where cgroups allow it
    return apply


def _kill_tree(pid: int) -> None:
    """Kill a worker and everything it started (its kernel runs in another session)."""
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    for process in parent.children(recursive=True) + [parent]:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


class Worker:
    """One long-lived ``autograder.worker --serve`` process, fed one job at a time."""

    def __init__(self, limits: Limits, log: Path, slot: int):  # slot: see sandbox.claim_slots
        self.limits, self.log, self.slot = limits, log, slot
        self.process = None
        self.warming: threading.Thread | None = None

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.worker", "--serve", "--slot", str(self.slot)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.log.open("a"), text=True, start_new_session=True,
            preexec_fn=_limit_memory(self.limits.memory_mb), cwd=str(REPO),
            env={**os.environ, "PYTHONPATH": str(REPO)})  # the worker's own path; kernels and probes get none
        if self._wait_line(300) != "ready":
            self.stop()  # grade() starts another one for the next job and reports this one's failure
            print(f"warning: a grading worker did not start; see {self.log}", file=sys.stderr)

    def _wait_line(self, seconds: float) -> str | None:
        ready, _, _ = select.select([self.process.stdout], [], [], seconds)
        return self.process.stdout.readline().strip() if ready else None

    def grade(self, job: Job) -> Result:
        if self.process is None or self.process.poll() is not None:
            self._start()
        if self.process is None:
            return Result.failed(job, Status.ERROR, f"The grading worker could not start; see {self.log}.")
        workdir = Path(job.workdir)
        for stale in ("result.json", "judged.json"):
            (workdir / stale).unlink(missing_ok=True)
        self.process.stdin.write(json.dumps(asdict(job)) + "\n")
        self.process.stdin.flush()
        started = time.monotonic()
        line = self._wait_line(self.limits.timeout)
        result = load(workdir / "result.json") if line == "done" else None
        if result is not None:
            return result
        judged = load(workdir / "judged.json")
        if line is None and judged is not None and judged.digest == job.digest:
            # The judge had decided before Jupyter ran out of time: its verdicts stand.
            self.stop()
            result = judged
            result.message += (f" The notebook did not finish in Jupyter within {self.limits.timeout} s, so the "
                               "feedback shows no visible tests; the hidden tests graded your functions.")
        elif line is None:  # out of time: this worker and its kernel go, a fresh one takes the next job
            self.stop()
            result = Result.failed(job, Status.TIMEOUT, (
                f"Grading stopped after {self.limits.timeout} s: the notebook did not finish in time "
                "(an infinite loop that ignores interruption, or very slow code). It scores 0."))
        else:
            self.stop()
            result = Result.failed(job, Status.ERROR, (
                f"The grading process stopped without a result; perhaps the memory limit of "
                f"{self.limits.memory_mb} MB. See {self.log}."))
        result.seconds = round(time.monotonic() - started, 1)
        save(result, workdir / "result.json")
        return result

    def stop(self) -> None:
        if self.process is not None:
            _kill_tree(self.process.pid)
            self.process.wait()
            self.process = None
            sandbox.remove_empty_cgroups()


def start_workers(count: int, limits: Limits, out: Path, first_slot: int) -> list[Worker]:
    """``count`` workers, warming up (imports) in the background while the batch is prepared."""
    (out / "logs").mkdir(parents=True, exist_ok=True)
    workers = [Worker(limits, out / "logs" / f"worker-{n}.log", first_slot + n) for n in range(count)]
    for worker in workers:
        worker.warming = threading.Thread(target=worker._start, daemon=True)
        worker.warming.start()
    return workers


def run_jobs(jobs: list[Job], workers: list[Worker], progress) -> list[Result]:
    """Grade every job on the long-lived ``workers``; results in the order of ``jobs``."""
    todo: queue.Queue = queue.Queue()
    for index, job in enumerate(jobs):
        todo.put((index, job))
    results: list[Result | None] = [None] * len(jobs)

    def slot(worker: Worker) -> None:
        worker.warming.join()
        try:
            while True:
                try:
                    index, job = todo.get_nowait()
                except queue.Empty:
                    return
                results[index] = worker.grade(job)
                progress(results[index])
        finally:
            worker.stop()

    threads = [threading.Thread(target=slot, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


# ---------------------------------------------------------------------- a batch


def main(submitted: Path, out: Path, limits: Limits, only: list[str] | None = None, force: bool = False,
         db_url: str | None = None) -> int:
    exercises = only or exercise_names()
    unknown = sorted(set(exercises) - set(exercise_names()))
    if unknown:
        raise CourseError(f"Unknown exercise(s) {', '.join(unknown)}; the exercises are {', '.join(exercise_names())}.")
    submissions, unplaced = find_submissions(submitted, exercises)
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        out.chmod(0o700)  # grades are private; and in the uid mode, student code must not read them
    started = time.monotonic()
    sandbox.remove_empty_cgroups()  # left by an earlier batch whose last processes outlived it
    with tempfile.TemporaryDirectory(prefix="rnn-grade-") as tmp:
        batch = Path(tmp)
        first_slot = sandbox.claim_slots()
        box = sandbox.detect(limits.sandbox, hidden=[REPO, out, submitted.resolve(), batch], slot=first_slot)
        print(f"sandbox: {box.kind}" + (" (student code as an unprivileged uid per worker)" if box.drops_root else ""),
              flush=True)
        if box.warning:
            print(box.warning, file=sys.stderr)
        workers = start_workers(min(limits.jobs, len(submissions), sandbox.SLOTS_PER_BATCH), limits, out, first_slot)
        stage_root = sandbox.make_stage_root()
        generate_student_versions(batch, exercises, source=write_grading_sources(batch / "source", exercises))
        maxima = max_scores(batch / "gradebook.db", exercises)
        jobs, kept = [], []
        for student, exercise, notebook, note in submissions:
            job = Job(student, exercise, str(notebook.absolute()), str(out / "work" / student / exercise), str(batch),
                      maxima[exercise], digest(notebook), box.kind, str(stage_root),
                      limits.cell_timeout, limits.call_timeout, limits.memory_mb, note)
            done = None if force else load(Path(job.workdir) / "result.json")
            if done is not None and done.digest == job.digest and done.status != Status.ERROR:
                kept.append(done)
            else:
                jobs.append(job)
        print(f"grading {len(jobs)} submission(s) with {len(workers)} worker(s)"
              + (f"; {len(kept)} already graded (--force regrades them)" if kept else ""), flush=True)
        try:
            with _progress(len(jobs)) as bar:
                results = kept + run_jobs(jobs, workers, bar)
        finally:
            shutil.rmtree(stage_root, ignore_errors=True)
        for row in unplaced:
            results.append(Result(row["student"], row["exercise"], 0.0, maxima[row["exercise"]], row["status"],
                                  row["message"]))
        write_outputs(out, results)
        merge_gradebook(out, batch, results, db_url)
    from autograder import summary

    print(summary.report(out, results))
    print(f"{len(results)} submission(s) in {time.monotonic() - started:.0f} s. Grades: {out / 'grades.csv'}; "
          f"gradebook: {db_url or out / 'gradebook.db'}")
    return 0


class _progress:
    """A progress bar (tqdm) on the terminal, or one line per submission when output is not a terminal."""

    def __init__(self, total: int):
        self.total, self.lock, self.bar = total, threading.Lock(), None

    def __enter__(self):
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, unit="submission", file=sys.stderr)
        return self

    def __call__(self, result: Result) -> None:
        with self.lock:
            if self.bar is not None:
                self.bar.update(1)
                self.bar.set_postfix_str(f"{result.student}/{result.exercise} {result.score:g}/{result.max_score:g}")
            else:
                print(f"  {result.student}/{result.exercise}: {result.score:g}/{result.max_score:g} "
                      f"({result.status.value}, {result.seconds} s)", flush=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------- outputs


def write_outputs(out: Path, results: list[Result]) -> None:
    results.sort(key=lambda r: (r.student, r.exercise))
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["student", "exercise", "score", "max_score", "status", "flags", "message"])
    for r in results:
        writer.writerow([r.student, r.exercise, f"{r.score:g}", f"{r.max_score:g}", r.status.value,
                         "; ".join(r.flags), r.message])
    write_atomically(out / "grades.csv", table.getvalue())
    write_score_table(out / "scores.csv", results)
    for r in results:
        write_atomically(out / "results" / r.student / f"{r.exercise}.json", json.dumps(r.gradescope(), indent=2))
        work = out / "work" / r.student / r.exercise
        page = out / "feedback" / r.student / f"{r.exercise}.html"
        title = f"{r.exercise}: feedback for {r.student}"
        if (work / "feedback.html").is_file():
            write_atomically(page, standalone_page((work / "feedback.html").read_text(), title=title))
        else:  # no notebook feedback could be made: say why on a page of our own
            write_atomically(page, standalone_page(_problem_page(r), title=title))
        graded = work / "course" / "autograded" / r.student / r.exercise
        if graded.is_dir() and not graded.is_symlink():
            copy_regular_tree(graded, out / "autograded" / r.student / r.exercise)


def write_score_table(path: Path, results: list[Result]) -> None:
    """One row per student, one column per exercise, and the total: for a learning-management system."""
    exercises = sorted({r.exercise for r in results})
    scores: dict[str, dict[str, float]] = {}
    for r in results:
        scores.setdefault(r.student, {})[r.exercise] = r.score
    maxima = {r.exercise: r.max_score for r in results}
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["student", *(f"{e} ({maxima[e]:g})" for e in exercises), f"total ({sum(maxima.values()):g})"])
    for student in sorted(scores):
        row = scores[student]
        writer.writerow([student, *(f"{row[e]:g}" if e in row else "" for e in exercises), f"{sum(row.values()):g}"])
    write_atomically(path, table.getvalue())


def merge_gradebook(out: Path, batch: Path, results: list[Result], db_url: str | None) -> None:
    """Every result into one nbgrader gradebook: the assignments, the students, each test's score.

    Updating in place (never adding twice), so a rerun leaves one row per
    submission; what an instructor changed by hand (manual scores, extra
    credit) stays.
    """
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy's autoflush notes about nbgrader's own models
    url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    if db_url is None and not (out / "gradebook.db").exists():
        shutil.copy(batch / "gradebook.db", out / "gradebook.db")
    with Gradebook(f"sqlite:///{batch / 'gradebook.db'}", COURSE_ID) as source, Gradebook(url, COURSE_ID) as gradebook:
        for assignment in source.assignments:
            try:
                gradebook.find_assignment(assignment.name)
            except MissingEntry:
                _copy_assignment(source, gradebook, assignment.name)
        for r in results:
            gradebook.update_or_create_student(r.student)
            try:
                submission = gradebook.find_submission(r.exercise, r.student)
            except MissingEntry:
                submission = gradebook.add_submission(r.exercise, r.student)
            scores = {t.name: t.score for t in r.tests}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell_type == "code" and grade.name in scores:
                        grade.auto_score = scores[grade.name]
                    elif grade.cell_type == "code":
                        grade.auto_score = 0.0  # not graded (invalid, missing, timeout): nothing earned
        gradebook.db.commit()
    config = (f"c = get_config()  # noqa: F821\n# Written by `python -m autograder grade`: run nbgrader here "
              f"(formgrader, export) on this batch.\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
              f"c.CourseDirectory.root = {str(out)!r}\nc.CourseDirectory.source_directory = "
              f"{str(REPO / 'exercises')!r}\nc.CourseDirectory.db_url = {url!r}\n")
    write_atomically(out / "nbgrader_config.py", config)


def _copy_assignment(source, gradebook, name: str) -> None:
    """An assignment, its notebooks and its cells, from one gradebook into another."""
    assignment = source.find_assignment(name)
    gradebook.update_or_create_assignment(name)
    for notebook in assignment.notebooks:
        gradebook.update_or_create_notebook(notebook.name, name)
        for cell in notebook.grade_cells:
            gradebook.update_or_create_grade_cell(cell.name, notebook.name, name, max_score=cell.max_score,
                                                  cell_type=cell.cell_type)
        for cell in notebook.solution_cells:
            gradebook.update_or_create_solution_cell(cell.name, notebook.name, name)
        for cell in notebook.source_cells:
            gradebook.update_or_create_source_cell(cell.name, notebook.name, name, cell_type=cell.cell_type,
                                                   locked=cell.locked, source=cell.source, checksum=cell.checksum)


def _problem_page(r: Result) -> str:
    from html import escape

    rows = "".join(f"<tr><td>{escape(t.name)}</td><td>{t.score:g} / {t.max_score:g}</td><td>{escape(t.output)}</td></tr>"
                   for t in r.tests)
    table = f"<table><tr><th>test</th><th>points</th><th>what was checked</th></tr>{rows}</table>" if rows else ""
    return (f"<!doctype html><meta charset='utf-8'><title>{escape(r.exercise)}: {escape(r.student)}</title>"
            f"<h1>Grading summary: {escape(r.exercise)}, {r.score:g} / {r.max_score:g} points</h1>"
            f"<p><strong>{escape(r.status.value)}</strong>: {escape(r.message)}</p>{table}")
