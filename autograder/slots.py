"""Where a worker's student processes run: its uids (slots), their stages, ending them, and their process budget.

A batch claims a block of ``SLOTS_PER_BATCH`` slots, so that two graders on one machine
never share a uid. A worker has two: one for its judge's student process, one for its
kernels (``kernel_slot``). Each slot has a stage under the batch's stage root; its
``home`` is the one folder the slot's processes may write. ``kill_uid`` ends every
process of a slot, wherever it was reparented; a pids cgroup per worker holds fork
bombs where the machine lets us make one. Which sandbox the processes run in is
``sandbox.py``'s business: here a Slot only carries it.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.course import CourseError

if TYPE_CHECKING:
    from autograder.sandbox import Sandbox

PIDS_ROOT = Path("/sys/fs/cgroup/pids/rnn-grader")  # cgroup v1's pids controller, where it is mounted
PIDS_MAX = 1024  # processes and threads of one worker, its kernels and its student processes
SLOT_UID_BASE = 1_650_000  # slot n's student processes run as SLOT_UID_BASE + n (no passwd entry needed)

SLOTS_PER_BATCH = 64  # a batch claims a block of slots (uids), so that two batches on one machine never share one
_claimed: list[int] = []  # descriptors of the locks this process holds on its blocks


WORKERS_PER_BATCH = SLOTS_PER_BATCH // 2  # a worker has two slots: its judge's student process, and its kernels


def slot_uid(slot: int) -> int:
    return SLOT_UID_BASE + slot


def kernel_slot(slot: int) -> int:
    """The slot whose uid runs the kernels of the worker of ``slot`` (its kernel zygote, see kernels.py)."""
    return slot + WORKERS_PER_BATCH


def claim_slots() -> int:
    """The first of SLOTS_PER_BATCH slots that no other grader on this machine uses while this process lives.

    Each block has a lock file; ``flock`` on it is released by the kernel when this
    process ends, however it ends. A block whose uids still own processes is skipped.
    """
    import fcntl
    import random

    folder = Path(tempfile.gettempdir()) / "rnn-grader-slots"
    folder.mkdir(mode=0o700, exist_ok=True)
    for block in random.sample(range(4096), 4096):
        first = block * SLOTS_PER_BATCH
        descriptor = os.open(folder / f"{first}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(descriptor)
            continue
        if any(processes_of(slot_uid(first + n)) for n in range(SLOTS_PER_BATCH)):
            os.close(descriptor)
            continue
        _claimed.append(descriptor)
        return first
    raise CourseError("every block of grading uids is in use on this machine")




def make_stage_root() -> Path:
    """A folder for the batch's stages: traversable by the workers' uids, listable by nobody else."""
    root = Path(tempfile.mkdtemp(prefix="rnn-stage-"))
    root.chmod(0o711)
    return root


def make_stage(root: Path, slot: int, sandbox: Sandbox) -> Path:
    """A fresh, empty stage for the next job of worker ``slot``: whatever the last job left there is gone.

    ``stage/home`` is the one folder a student's process may write (its cwd and HOME);
    the grader writes the probe's files next to it and never reads anything back.
    """
    stage = root / f"slot{slot}"
    if stage.is_symlink():
        stage.unlink()
    shutil.rmtree(stage, ignore_errors=True)  # removes links, never follows them
    stage.mkdir(mode=0o711)
    home = stage / "home"
    home.mkdir(mode=0o700)
    if sandbox.drops_root:
        os.chown(home, slot_uid(slot), slot_uid(slot))
    return stage


@dataclass(frozen=True)
class Slot:
    """Where one worker's student processes run: the sandbox, the batch's stages, and the slot's number (its uid)."""

    box: Sandbox
    stage_root: Path
    number: int

    def fresh_stage(self) -> Path:
        """End whatever this slot's processes are still doing, and give them a new, empty stage."""
        self.end_processes()
        return make_stage(self.stage_root, self.number, self.box)

    def end_processes(self) -> None:
        """Kill every process of this slot's uid: what a job started ends with it, wherever it went."""
        if self.box.drops_root:
            kill_uid(slot_uid(self.number))

    def command(self, argv: list[str], stage: Path, **options) -> list[str]:
        """``Sandbox.command`` for this slot, in ``stage`` (from :meth:`fresh_stage`)."""
        return self.box.command(argv, slot=self.number, stage=stage, **options)


# --------------------------------------------------------- ending a job's processes


def kill_uid(uid: int, patience: float = 5.0) -> None:
    """Kill every process of ``uid`` (a worker's unprivileged uid), wherever it was reparented, and wait until gone.

    A child becomes that uid and signals -1, which reaches exactly the processes of its
    uid; it repeats while any is alive (a process may fork while the others die). Then
    we wait, up to ``patience`` seconds, for the dead to be reaped, so that they do not
    count against the next job's process limit.
    """
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(1000):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
                if processes_of(uid, living=True) == [os.getpid()]:  # only this child is left
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + patience
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.02)


def processes_of(uid: int, living: bool = False) -> list[int]:
    """The pids whose real uid is ``uid`` (``living``: not counting zombies)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/status") as handle:
                    status = dict(line.split(":", 1) for line in handle if ":" in line)
            except OSError:
                continue
            if int(status["Uid"].split()[0]) == uid and not (living and status["State"].strip().startswith("Z")):
                found.append(int(entry.name))
    return found


# ------------------------------------------------------------------ fork bombs


def join_pids_cgroup(limit: int = PIDS_MAX) -> bool:
    """Put the calling process (and so everything it starts) in a new cgroup of at most ``limit`` tasks.

    Called before a worker starts, and by the worker before each job (so that what a job leaves dying, say the
    zombies of a fork bomb, does not count against the next). Returns False, changing nothing, where no pids cgroup
    can be made.
    """
    group = PIDS_ROOT / f"{os.getpid()}-{time.monotonic_ns()}"
    try:
        group.mkdir(parents=True, exist_ok=True)
        (group / "pids.max").write_text(str(limit))
        (group / "cgroup.procs").write_text(str(os.getpid()))
        return True
    except OSError:
        return False


def remove_empty_cgroups() -> None:
    """Remove the cgroups of workers that have exited (a cgroup with processes left cannot be removed)."""
    if PIDS_ROOT.is_dir():
        for group in PIDS_ROOT.iterdir():
            try:
                group.rmdir()
            except OSError:
                pass
