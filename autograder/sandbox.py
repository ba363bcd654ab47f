"""Where a student's code runs: a bubblewrap sandbox, a throwaway user, or (with a warning) as we are.

:func:`detect` picks the strongest isolation this machine offers, once per batch:

* ``bwrap`` (Debian's ``bubblewrap``; user namespaces): the filesystem is
  read-only; /tmp is private; the repository (reference solutions, checks,
  sources), the grading folders (gradebook, other submissions, results) and
  the submissions are hidden; PyTorch can be hidden too; separate PID, IPC
  and UTS namespaces.
* ``uid`` (when grading as root without bubblewrap): the code runs as the
  unprivileged user ``nobody``; files that user may read stay readable.
* ``none``: the code runs as the grader's user. Only the split between
  the student's process and the judge protects the verdict.

Every kind also sets resource limits (memory, file size). Each grading worker,
with every kernel and student process it starts, is also held to a number of
processes by a cgroup (``pids`` controller) where this machine lets us make one:
a fork bomb then fails inside its own cgroup.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PIDS_ROOT = Path("/sys/fs/cgroup/pids/rnn-grader")  # cgroup v1's pids controller, where it is mounted
PIDS_MAX = 1024  # processes and threads of one worker, its kernels and its student processes


def _torch_dir() -> Path | None:
    path = Path(sysconfig.get_paths()["purelib"]) / "torch"
    return path if path.is_dir() else None


@dataclass
class Sandbox:
    kind: str  # "bwrap", "uid" or "none"
    hidden: list[Path] = field(default_factory=list)  # folders the student's code must not see
    warning: str = ""

    def wrap(self, argv: list[str], readable: list[Path], writable: list[Path], memory_mb: int,
             allow_torch: bool) -> tuple[list[str], object]:
        """The command that runs ``argv`` in this sandbox, and the function to run before it (limits, uid)."""
        uid = 65534 if self.kind == "uid" else None
        if self.kind == "uid":
            for path in writable:
                _give(path, uid)
        preexec = _limits(memory_mb, uid)
        if self.kind != "bwrap":
            return argv, preexec
        command = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                   "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
        for hidden in self.hidden:
            if hidden.exists():
                command += ["--tmpfs", str(hidden)]
        # The interpreter and its packages, even when they live in the repository or under /tmp (a CI clone).
        for path in dict.fromkeys(Path(p).resolve() for p in (sys.prefix, sys.base_prefix)):
            if path != Path("/"):
                command += ["--ro-bind", str(path), str(path)]
        torch = _torch_dir()
        if not allow_torch and torch is not None:
            command += ["--tmpfs", str(torch)]
        for path in readable:
            command += ["--ro-bind", str(path), str(path)]
        for path in writable:
            command += ["--bind", str(path), str(path)]
        return command + ["--"] + argv, preexec


def _give(path: Path, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, uid, uid)


def _limits(memory_mb: int, uid: int | None):
    def apply():
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024 * 1024,) * 2)  # no disk floods
        if uid is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (256, 256))  # counted per user: no fork bombs
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
    return apply


def detect(hidden: list[Path], prefer: str = "auto") -> Sandbox:
    """The strongest sandbox available (or the one asked for), with a warning when it is weak."""
    hidden = [p.resolve() for p in hidden]
    if prefer in ("auto", "bwrap") and shutil.which("bwrap"):
        probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--", "true"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return Sandbox("bwrap", hidden)
        reason = f"bubblewrap is installed but cannot run here ({probe.stderr.strip()[:200]})"
    else:
        reason = "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    if prefer in ("auto", "uid") and os.geteuid() == 0:
        return Sandbox("uid", hidden, warning=(
            f"warning: {reason}; student code runs as the user 'nobody' instead. It cannot write the grader's "
            "files, but it can read whatever 'nobody' may read (e.g. the reference solutions, if world-readable)."))
    return Sandbox("none", hidden, warning=(
        f"warning: {reason}, and the grader is not root, so student code runs as your user, unsandboxed. "
        "Verdicts are still computed outside the student's process, but the code could read or write your files."))


def join_pids_cgroup(limit: int = PIDS_MAX) -> bool:
    """Put the calling process (and so everything it starts) in a new cgroup of at most ``limit`` tasks.

    Called before a worker starts, and by the worker before each job (so that what a job leaves dying, say the
    zombies of a fork bomb, does not count against the next). Returns False, changing nothing, where no pids cgroup
    can be made.
    """
    import time

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
