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

The batch: find the submissions (``discover.py``), choose the sandbox, make the
student versions, hand one job per submission to the pool of workers
(``pool.py``; each worker runs the stages of ``worker.py``), then write the
outputs (``outputs.py``) and the summary (``summary.py``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder import sandbox, slots
from autograder.course import (REPO, CourseError, cached_student_versions, exercise_names, open_gradebook,
                               write_grading_sources)
from autograder.discover import digest, find_submissions
from autograder.outputs import merge_gradebook, write_outputs
from autograder.pool import Progress, run_jobs, start_pool
from autograder.records import Job, Limits, Result, Status, load


def max_scores(gradebook: Path, exercises: list[str]) -> dict[str, float]:
    with open_gradebook(f"sqlite:///{gradebook}") as gb:
        return {name: float(gb.find_assignment(name).max_score) for name in exercises}


def main(submitted: Path, out: Path, limits: Limits, only: list[str] | None = None, force: bool = False,
         db_url: str | None = None) -> int:
    """Grade every submission under ``submitted`` into ``out``; 0 when every submission got a row."""
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
    slots.remove_empty_cgroups()  # left by an earlier batch whose last processes outlived it
    with tempfile.TemporaryDirectory(prefix="rnn-grade-") as tmp:
        batch = Path(tmp)
        first_slot = slots.claim_slots()
        box = sandbox.detect(limits.sandbox, hidden=[REPO, out, submitted.resolve(), batch], slot=first_slot)
        print(f"sandbox: {box.kind}" + (" (student code as an unprivileged uid per worker)" if box.drops_root else ""),
              flush=True)
        if box.warning:
            print(box.warning, file=sys.stderr)
        stage_root = slots.make_stage_root()
        workers = start_pool(min(limits.jobs, len(submissions), slots.WORKERS_PER_BATCH), limits, out, first_slot,
                             box.kind, stage_root)
        cached_student_versions(batch, exercises, source=write_grading_sources(batch / "source", exercises))
        maxima = max_scores(batch / "gradebook.db", exercises)
        jobs, kept = [], []
        for student, exercise, notebook, note in submissions:
            job = Job(student=student, exercise=exercise, notebook=str(notebook.absolute()),
                      workdir=str(out / "work" / student / exercise), batch=str(batch), max_score=maxima[exercise],
                      digest=digest(notebook), sandbox=box.kind, stage_root=str(stage_root),
                      cell_timeout=limits.cell_timeout, call_timeout=limits.call_timeout,
                      memory_mb=limits.memory_mb, note=note)
            done = None if force else load(Path(job.workdir) / "result.json")
            if done is not None and done.digest == job.digest and done.status != Status.ERROR:
                kept.append(done)
            else:
                jobs.append(job)
        print(f"grading {len(jobs)} submission(s) with {len(workers)} worker(s)"
              + (f"; {len(kept)} already graded (--force regrades them)" if kept else ""), flush=True)
        try:
            with Progress(len(jobs)) as bar:
                results = kept + run_jobs(jobs, workers, bar)
        finally:
            shutil.rmtree(stage_root, ignore_errors=True)
        for row in unplaced:
            results.append(Result.failed(row["student"], row["exercise"], maxima[row["exercise"]], row["status"],
                                         row["message"]))
        write_outputs(out, results)
        merge_gradebook(out, batch, results, db_url)
    from autograder import summary

    print(summary.report(out, results))
    print(f"{len(results)} submission(s) in {time.monotonic() - started:.0f} s. Grades: {out / 'grades.csv'}; "
          f"gradebook: {db_url or out / 'gradebook.db'}")
    return 0
