"""The pool of worker processes a batch grades on, and its progress bar.

Workers (``python -m autograder.worker --serve``) live for the whole batch, one
per slot, each under the memory limit and with a slot (a uid) of its own; a
submission that runs out of time has its worker killed and replaced, so it costs
only its own grade.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import select
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from autograder import slots
from autograder.course import REPO
from autograder.outputs import PAGE
from autograder.records import Job, Limits, Result, Status, load, save


def _limit_memory(megabytes: int):
    def apply():
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        slots.join_pids_cgroup()  # and a number of processes, where cgroups allow it
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


class GradingProcess:
    """One long-lived worker process (``python -m autograder.worker --serve``), fed one job at a time."""

    def __init__(self, limits: Limits, log: Path, slot: int, box: str, stage_root: Path):
        # slot: see slots.claim_slots; box: the sandbox mode in force; stage_root: the batch's stages
        self.limits, self.log, self.slot, self.box, self.stage_root = limits, log, slot, box, stage_root
        self.process = None
        self.warming: threading.Thread | None = None

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.worker", "--serve", "--slot", str(self.slot), "--sandbox", self.box,
             "--stage-root", str(self.stage_root), "--memory", str(self.limits.memory_mb)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.log.open("a"), text=True,
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
            return Result.failed_job(job, Status.ERROR, f"The grading worker could not start; see {self.log}.")
        workdir = Path(job.workdir)
        for stale in ("result.json", "judged.json", PAGE):
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
            result = Result.failed_job(job, Status.TIMEOUT, (
                f"Grading stopped after {self.limits.timeout} s: the notebook did not finish in time "
                "(an infinite loop that ignores interruption, or very slow code). It scores 0."))
        else:
            self.stop()
            result = Result.failed_job(job, Status.ERROR, (
                f"The grading process stopped without a result; perhaps the memory limit of "
                f"{self.limits.memory_mb} MB. See {self.log}."))
        result.seconds = round(time.monotonic() - started, 1)
        (workdir / PAGE).unlink(missing_ok=True)  # the worker's page, if any, is not this result's
        save(result, workdir / "result.json")
        return result

    def stop(self) -> None:
        if self.process is not None:
            _kill_tree(self.process.pid)
            self.process.wait()
            self.process = None
            slots.remove_empty_cgroups()


def start_pool(count: int, limits: Limits, out: Path, first_slot: int, box: str, stage_root: Path
               ) -> list[GradingProcess]:
    """``count`` workers, warming up (imports, kernel zygote) in the background while the batch is prepared."""
    (out / "logs").mkdir(parents=True, exist_ok=True)
    workers = [GradingProcess(limits, out / "logs" / f"worker-{n}.log", first_slot + n, box, stage_root)
               for n in range(count)]
    for worker in workers:
        worker.warming = threading.Thread(target=worker._start, daemon=True)
        worker.warming.start()
    return workers


def run_jobs(jobs: list[Job], workers: list[GradingProcess], progress) -> list[Result]:
    """Grade every job on the long-lived ``workers``; results in the order of ``jobs``."""
    todo: queue.Queue = queue.Queue()
    for index, job in enumerate(jobs):
        todo.put((index, job))
    results: list[Result | None] = [None] * len(jobs)

    def slot(worker: GradingProcess) -> None:
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


class Progress:
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
