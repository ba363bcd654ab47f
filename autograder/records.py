"""The grading pipeline's records: the limits of a batch, a job, its result, one test's result, the status enum.

Every default lives in :class:`Limits`; a :class:`Result` is made only by
:meth:`Result.graded` and :meth:`Result.failed`. Records are written as JSON
at the edges (a worker's result file, grades.csv, Gradescope's results.json).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path


class Status(str, Enum):
    """What happened to a submission."""

    GRADED = "graded"  # every test has a verdict (a zero is still graded)
    INVALID = "invalid"  # not a notebook
    MISSING = "missing"  # no notebook in the folder
    TIMEOUT = "timeout"  # the whole submission ran out of time
    CRASHED = "crashed"  # Python died in a way no retry could get past
    ERROR = "error"  # nbgrader or the grader failed on it


@dataclass
class Limits:
    """How a batch is graded: the command line's options, and every default of them."""

    jobs: int = (os.cpu_count() or 1) + 1  # submissions graded at once: one more than cores, as each waits on its kernel at times
    timeout: int = 600  # seconds for one whole submission
    cell_timeout: int = 60  # seconds for one cell
    memory_mb: int = 4096  # address space of a worker, and of each kernel and probe it starts
    call_timeout: int = 20  # seconds for one call of a student's function by the judge
    sandbox: str = "auto"  # "auto", "bwrap", "uid" or "none" (see sandbox.py)


@dataclass(kw_only=True)
class Job:
    """One submission to grade, with everything a worker needs to know (built by keyword)."""

    student: str
    exercise: str
    notebook: str  # the submitted file
    workdir: str  # this submission's private folder (course, logs, result.json)
    batch: str  # the batch folder: gradebook.db, release/, source/
    max_score: float
    digest: str  # sha256 of the submitted file: a rerun grades it again only if it changed
    sandbox: str  # the mode in force (sandbox.detect)
    stage_root: str  # the batch's folder of stages (slots.make_stage_root)
    cell_timeout: int = Limits.cell_timeout
    call_timeout: int = Limits.call_timeout
    memory_mb: int = Limits.memory_mb
    note: str = ""  # said first in the result's message (e.g. which file was graded)

    @property
    def release(self) -> Path:
        return Path(self.batch) / "release" / self.exercise / f"{self.exercise}.ipynb"

    @property
    def gradebook(self) -> Path:
        return Path(self.batch) / "gradebook.db"


@dataclass
class TestResult:
    """One test cell: its points and what the student is told."""

    name: str
    score: float
    max_score: float
    output: str = ""
    verdict: str = ""
    mistake: str = ""  # the known mistake the judge named, if any (counted by the summary)

    @property
    def passed(self) -> bool:
        return self.score == self.max_score

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"


@dataclass
class Result:
    """A graded (or ungradable) submission."""

    student: str
    exercise: str
    score: float
    max_score: float
    status: Status
    message: str
    tests: list[TestResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    digest: str = ""
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)

    @classmethod
    def graded(cls, job: Job, tests: list[TestResult], notes: list[str], flags: list[str] = (),
               timings: dict | None = None) -> "Result":
        """Every test has a verdict: the score is theirs; the message counts them, then says each note."""
        passed = sum(t.passed for t in tests)
        message = " ".join([f"{passed} of {len(tests)} tests passed.", *(n for n in notes if n)])
        return cls(job.student, job.exercise, sum(t.score for t in tests), sum(t.max_score for t in tests),
                   Status.GRADED, message, list(tests), list(flags), job.digest, timings=dict(timings or {}))

    @classmethod
    def failed(cls, student: str, exercise: str, max_score: float, status: Status, message: str,
               digest: str = "") -> "Result":
        """A submission that earns nothing, and why (``status`` is not GRADED)."""
        return cls(student, exercise, 0.0, max_score, status, message, digest=digest)

    @classmethod
    def failed_job(cls, job: Job, status: Status, message: str) -> "Result":
        return cls.failed(job.student, job.exercise, job.max_score, status, message, job.digest)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        tests = [TestResult(**t) for t in data.get("tests", [])]
        return cls(**{**data, "status": Status(data["status"]), "tests": tests})

    def gradescope(self) -> dict:
        """This result in Gradescope's results.json format."""
        return {"score": self.score, "output": self.message, "tests": [
            {"name": t.name, "score": t.score, "max_score": t.max_score, "status": t.status, "output": t.output}
            for t in self.tests]}


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader (or a rerun after kill -9) sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def save(result: Result, path: Path) -> None:
    write_atomically(path, json.dumps(result.to_dict(), indent=2))


def load(path: Path) -> Result | None:
    """The result saved at ``path``, or None if there is none (or it is unreadable)."""
    try:
        return Result.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):  # AttributeError: JSON, but not an object
        return None
