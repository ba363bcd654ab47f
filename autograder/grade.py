"""``python -m autograder grade``: grade a folder of submissions in parallel.

Layout in: ``SUBMITTED/<student>/<exercise>/<exercise>.ipynb``.
Written to ``OUT``:

* ``grades.csv``: one row per (student, exercise) with score, status, message;
* ``feedback/<student>/<exercise>.html``: nbgrader's feedback page;
* ``results/<student>/<exercise>.json``: the result in Gradescope's format;
* ``work/<student>/<exercise>/``: each submission's private course and log.

Each submission is graded by ``autograder.worker`` in its own process, under a
wall-clock limit and a memory limit, so a submission that loops forever,
exhausts memory or kills its kernel costs only its own grade.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder import sandbox
from autograder.course import REPO, CourseError, exercise_names, generate_student_versions, write_grading_sources


@dataclass
class Limits:
    jobs: int = 2
    timeout: int = 600  # seconds for one whole submission
    cell_timeout: int = 60  # seconds for one cell
    memory_mb: int = 4096  # address space of the worker and its kernel
    call_timeout: int = 20  # seconds for one call of a student's function by the judge
    sandbox: str = "auto"  # "auto", "bwrap", "uid" or "none" (see sandbox.py)


def find_submissions(submitted: Path, exercises: list[str]) -> tuple[list[tuple[str, str, Path, str]], list[dict]]:
    """(student, exercise, notebook, note) for every submission; rows for missing notebooks.

    A folder whose notebook was renamed (``elman (1).ipynb``, as a second
    download names it) is graded if it holds exactly one notebook; the note
    says so. Folders that are not exercises are reported, not graded.
    """
    if not submitted.is_dir():
        raise CourseError(f"{submitted} is not a folder. Expected SUBMITTED/<student>/<exercise>/<exercise>.ipynb.")
    found, missing = [], []
    students = sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise CourseError(f"{submitted} holds no student folders. Expected SUBMITTED/<student>/<exercise>/<exercise>.ipynb.")
    for student in students:
        for folder in sorted(p for p in student.iterdir() if p.is_dir() and p.name not in exercises):
            print(f"warning: {student.name}/{folder.name} is not an exercise "
                  f"({', '.join(exercises)}); it is not graded", file=sys.stderr)
        for exercise in exercises:
            folder = student / exercise
            if not folder.is_dir():
                continue
            notebook = folder / f"{exercise}.ipynb"
            others = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
            if notebook.is_file():
                found.append((student.name, exercise, notebook, ""))
            elif len(others) == 1:
                found.append((student.name, exercise, others[0],
                              f"Graded {others[0].name}, the only notebook submitted (expected {exercise}.ipynb)."))
            else:
                present = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
                missing.append({"student": student.name, "exercise": exercise, "status": "missing",
                                "message": f"No {exercise}.ipynb in the submission (it holds {present})."})
    return found, missing


def max_scores(gradebook: Path, exercises: list[str]) -> dict[str, float]:
    from nbgrader.api import Gradebook

    from autograder.course import COURSE_ID

    with Gradebook(f"sqlite:///{gradebook}", COURSE_ID) as gb:
        return {name: float(gb.find_assignment(name).max_score) for name in exercises}


def _limit_memory(megabytes: int):
    def apply():
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def _kill_tree(pid: int) -> None:
    """Kill a worker that ran out of time and everything it started (its kernel runs in another session)."""
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


def run_worker(job: dict, limits: Limits) -> dict:
    """Grade one submission in a subprocess; always returns a result."""
    workdir = Path(job["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    job_file = workdir / "job.json"
    job_file.write_text(json.dumps(job))
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder.worker", str(job_file)],
        stdout=(workdir / "worker.out").open("w"), stderr=subprocess.STDOUT,
        preexec_fn=_limit_memory(limits.memory_mb), cwd=str(workdir),
        env={**os.environ, "PYTHONPATH": str(REPO)},  # the worker's own path; its kernel gets only the checks
    )
    try:
        process.wait(timeout=limits.timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process.pid)
        process.wait()
        result = {"status": "timeout", "message": (
            f"Grading stopped after {limits.timeout} s: the notebook did not finish in time "
            "(an infinite loop that ignores interruption, or very slow code). It scores 0.")}
    else:
        result_file = workdir / "result.json"
        if result_file.is_file():
            result = json.loads(result_file.read_text())
        else:
            tail = (workdir / "worker.out").read_text()[-500:]
            result = {"status": "error", "message": (
                f"The grading process stopped (exit code {process.returncode}) without a result; "
                f"perhaps the memory limit of {limits.memory_mb} MB. Last output: {tail}")}
    result.setdefault("tests", [])
    result.setdefault("score", 0.0)
    result.update(student=job["student"], exercise=job["exercise"], max_score=job["max_score"],
                  seconds=round(time.monotonic() - started, 1))
    if job.get("note"):
        result["message"] = f"{job['note']} {result['message']}"
    return result


def main(submitted: Path, out: Path, limits: Limits, only: list[str] | None = None) -> int:
    exercises = only or exercise_names()
    unknown = sorted(set(exercises) - set(exercise_names()))
    if unknown:
        raise CourseError(f"Unknown exercise(s) {', '.join(unknown)}; the exercises are {', '.join(exercise_names())}.")
    submissions, missing = find_submissions(submitted, exercises)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rnn-grade-") as tmp:
        tmp = Path(tmp)
        generate_student_versions(tmp, exercises, source=write_grading_sources(tmp / "source", exercises))
        maxima = max_scores(tmp / "gradebook.db", exercises)
        box = sandbox.detect(hidden=[REPO, out, submitted, tmp], prefer=limits.sandbox)
        if box.warning:
            print(box.warning, file=sys.stderr)
        jobs = [{"student": s, "exercise": e, "notebook": str(nb.resolve()), "gradebook": str(tmp / "gradebook.db"),
                 "release": str(tmp / "release" / e / f"{e}.ipynb"), "sandbox": box.kind,
                 "hidden": [str(p) for p in box.hidden], "call_timeout": limits.call_timeout,
                 "workdir": str((out / "work" / s / e).resolve()),
                 "cell_timeout": limits.cell_timeout, "memory_mb": limits.memory_mb, "max_score": maxima[e], "note": note}
                for s, e, nb, note in submissions]
        print(f"grading {len(jobs)} submission(s) with {limits.jobs} worker(s)", flush=True)
        with ThreadPoolExecutor(max_workers=limits.jobs) as pool:
            results = []
            for result in pool.map(lambda job: run_worker(job, limits), jobs):
                print(f"  {result['student']}/{result['exercise']}: {result['score']:g}/{result['max_score']:g} "
                      f"({result['status']}, {result['seconds']} s)", flush=True)
                results.append(result)
    for result, (_, _, notebook, _) in zip(results, submissions):
        result["flags"] = scan_flags(notebook)
    for row in missing:
        results.append({**row, "score": 0.0, "max_score": maxima[row["exercise"]], "tests": [], "seconds": 0.0})
    write_outputs(out, results)
    flagged = [r for r in results if r.get("flags")]
    for r in flagged:
        print(f"flagged: {r['student']}/{r['exercise']}: {'; '.join(r['flags'])}")
    graded = sum(r["status"] == "graded" for r in results)
    print(f"{len(results)} submission(s): {graded} graded, {len(results) - graded} with problems "
          f"(see the status column) in {time.monotonic() - started:.0f} s. Grades: {out / 'grades.csv'}")
    return 0


def scan_flags(notebook: Path) -> list[str]:
    """The static flags of a submission (see flags.py); none for a notebook that cannot be read."""
    import nbformat

    from autograder import flags

    try:
        return flags.scan(nbformat.read(notebook, as_version=4))
    except Exception:
        return []


def write_outputs(out: Path, results: list[dict]) -> None:
    results.sort(key=lambda r: (r["student"], r["exercise"]))
    with (out / "grades.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "exercise", "score", "max_score", "status", "flags", "message"])
        for r in results:
            writer.writerow([r["student"], r["exercise"], f"{r['score']:g}", f"{r['max_score']:g}", r["status"],
                             "; ".join(r.get("flags", [])), r["message"]])
    write_score_table(out / "scores.csv", results)
    for r in results:
        student, exercise = r["student"], r["exercise"]
        gradescope = {"score": r["score"], "output": r["message"], "tests": [
            {"name": t["name"], "score": t["score"], "max_score": t["max_score"], "status": t["status"],
             "output": t["output"]} for t in r["tests"]]}
        target = out / "results" / student / f"{exercise}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(gradescope, indent=2))
        feedback = out / "work" / student / exercise / "feedback.html"
        page = out / "feedback" / student / f"{exercise}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        if feedback.is_file():
            shutil.copy(feedback, page)
        else:  # no notebook feedback could be made: say why on a page of our own
            page.write_text(_problem_page(r))


def write_score_table(path: Path, results: list[dict]) -> None:
    """One row per student, one column per exercise, and the total: for a learning-management system."""
    exercises = sorted({r["exercise"] for r in results})
    scores = {}
    for r in results:
        scores.setdefault(r["student"], {})[r["exercise"]] = r["score"]
    maxima = {r["exercise"]: r["max_score"] for r in results}
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *(f"{e} ({maxima[e]:g})" for e in exercises), f"total ({sum(maxima.values()):g})"])
        for student in sorted(scores):
            row = scores[student]
            writer.writerow([student, *(f"{row[e]:g}" if e in row else "" for e in exercises),
                             f"{sum(row.values()):g}"])


def _problem_page(r: dict) -> str:
    from html import escape

    return (f"<!doctype html><meta charset='utf-8'><title>{escape(r['exercise'])}: {escape(r['student'])}</title>"
            f"<h1>{escape(r['exercise'])}: {r['score']:g} / {r['max_score']:g}</h1>"
            f"<p><strong>{escape(r['status'])}</strong>: {escape(r['message'])}</p>")
