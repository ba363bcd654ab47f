"""Where a student's code runs: what it may see, what it may do, and as whom.

Every process that runs a submission's code (the judge's probe and nbgrader's kernel)
starts through :func:`Sandbox.command`. :func:`detect` picks the mode once per batch:

* ``bwrap`` (Debian's ``bubblewrap``): the process sees an allow-list, not a copy of
  ``/``: ``/usr`` (and the ``/bin``, ``/lib`` links), the dynamic linker's cache, the
  interpreter and its packages, its own writable stage, a private ``/tmp`` of limited
  size, a minimal ``/dev`` and its own ``/proc``. Nothing else exists there: not the
  repository (in however many copies), ``/root``, ``/home``, the batch, the gradebook,
  other submissions. It has its own network (loopback only, nothing listening), PID,
  IPC and UTS namespaces, and dies with its parent. Inside it is uid 65534 in a user
  namespace with no capability, ``no_new_privs``, and no further user namespaces.
  When the grader is root, a first bubblewrap (as root) lays out the allow-list; our
  launcher (``launch.py``) then gives up root for the worker's own unprivileged uid,
  and a second bubblewrap, started by that uid, makes the user namespace. So outside
  the sandbox too the student's processes belong to an unprivileged uid, one per
  worker, which ``RLIMIT_NPROC`` binds and ``slots.kill_uid`` clears after every job.
* ``uid`` (root without bubblewrap, as in most containers): the process runs as the
  worker's unprivileged uid, with the same limits and a clean environment, in the
  machine's own filesystem and network. What is hidden is hidden by permissions:
  :func:`detect` refuses the mode unless the interpreter can run as that uid and none
  of the hidden folders (repository, batch, output, submissions) can be read by it.
* ``none``: the grader's own user, unsandboxed (only the split between the student's
  process and the judge protects the verdict). Never chosen for root unless asked for.

In every mode: memory, file size and core limits, an environment built from an
allow-list, no inherited descriptor but those named, and a private stage folder that
the grader never reads back. A pids cgroup per worker holds fork bombs where the
machine lets us make one.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from autograder.course import CourseError
from autograder.slots import claim_slots, kill_uid, make_stage, make_stage_root, slot_uid

REPO = Path(__file__).resolve().parent.parent
LAUNCHER = (Path(__file__).resolve().parent / "launch.py").read_text()
INSIDE_UID = 65534  # the uid a process sees for itself inside bubblewrap's user namespace
FILE_MB = 256  # the largest file a student's process may write
TMP_MB = 256  # its private /tmp (bubblewrap)
NPROC = 512  # processes and threads of one worker's unprivileged uid
PASSED_THROUGH = ("LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # machine facts, not secrets


class SandboxError(CourseError):
    """The sandbox asked for cannot work here; the message says why and what to do."""


def interpreter() -> tuple[str, list[Path]]:
    """This interpreter as a path that works inside the sandbox, and the folders it needs.

    A virtual environment is found from the path Python is started by, so the folder of
    ``sys.executable`` is resolved (``.venv -> /elsewhere/venv``) but not the file itself.
    """
    executable = Path(sys.executable)
    folders = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"],
                                          sysconfig.get_paths()["stdlib"])]
    folders.append(executable.parent.resolve())
    base = Path(os.path.realpath(sys.executable)).parent  # the real binary, for a venv whose python is a link
    folders.append(base.parent if base.name == "bin" else base)
    kept = []
    for folder in sorted(set(folders), key=lambda p: len(p.parts)):
        if folder != Path("/") and not any(folder.is_relative_to(k) for k in kept) and folder.is_dir():
            kept.append(folder)
    return str(executable.parent.resolve() / executable.name), kept


def torch_folder() -> Path | None:
    path = Path(sysconfig.get_paths()["purelib"]).resolve() / "torch"
    return path if path.is_dir() else None


def student_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a student's process: nothing of the grader's but machine facts."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home), "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(home / ".matplotlib"), "IPYTHONDIR": str(home / ".ipython"),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Sandbox:
    kind: str  # "bwrap", "uid" or "none"
    warning: str = ""

    @property
    def drops_root(self) -> bool:
        """Whether student processes become an unprivileged uid of their worker's own."""
        return self.kind in ("bwrap", "uid") and os.geteuid() == 0

    def command(self, argv: list[str], *, slot: int, stage: Path, readable: list[Path] = (),
                writable: list[Path] = (), cwd: Path, env: dict[str, str], memory_mb: int, allow_torch: bool,
                keep_fds: tuple[int, ...] = (), quiet: bool = True, connection: tuple[str, str] | None = None
                ) -> list[str]:
        """The command line that runs ``argv`` (an interpreter command) as a student's process.

        ``stage`` is the job's stage root (see :func:`make_stage`); ``readable`` and
        ``writable`` are folders under it that the process may read or also write; ``cwd``
        is where it starts. ``connection`` is (folder of a kernel's connection file, where its copy goes).
        The result is passed to ``subprocess`` (or written into a
        kernel spec) as it is: no ``preexec_fn`` is needed.
        """
        uid = slot_uid(slot) if self.drops_root else None
        spec = {"memory_mb": memory_mb, "file_mb": FILE_MB, "uid": uid, "nproc": NPROC, "env": env,
                "keep": list(keep_fds), "quiet": quiet, "cwd": str(cwd),
                "connection": connection[1] if connection else None}
        python, _ = interpreter()
        launch = [python, "-I", "-S", "-c", LAUNCHER, json.dumps(spec).encode().hex(), "--"]
        if self.kind != "bwrap":
            return launch + argv
        layout = _allow_list(readable, writable, allow_torch, connection)
        inside = ["--unshare-user", "--uid", str(INSIDE_UID), "--gid", str(INSIDE_UID), "--disable-userns",
                  "--cap-drop", "ALL", "--die-with-parent"]
        if os.geteuid() == 0:
            # Root lays out the allow-list; the launcher becomes the worker's uid; that uid's bubblewrap makes the
            # user namespace (a second PID namespace and /proc cannot be made under the first one's covered /proc).
            again = [shutil.which("bwrap") or "bwrap", *inside, "--ro-bind", "/", "/", "--dev-bind", "/dev", "/dev",
                     "--ro-bind", "/proc", "/proc", "--bind", "/tmp", "/tmp"]
            for path in writable:
                again += ["--bind", str(path), str(path)]
            return ["bwrap", *layout, "--chdir", str(cwd), "--", *launch, *again, "--", *argv]
        return [*launch, shutil.which("bwrap") or "bwrap", *layout, *inside, "--chdir", str(cwd), "--", *argv]


def _allow_list(readable, writable, allow_torch: bool, connection) -> list[str]:
    """bubblewrap's arguments for a root that holds only what a student's process needs."""
    args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        if Path(name).exists():
            args += ["--ro-bind", name, name]
    _, folders = interpreter()
    mounts = [(p, "--ro-bind") for p in folders] + [(Path(p), "--ro-bind") for p in readable]
    mounts += [(Path(p), "--bind") for p in writable]
    if connection:
        mounts.append((Path(connection[0]), "--ro-bind"))
    args += ["--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--size", str(TMP_MB << 20), "--tmpfs", "/tmp"]
    made = {Path("/"), Path("/tmp")}
    for path, _ in mounts:  # bubblewrap makes missing parents 0700: make them traversable first
        for parent in reversed(path.parents):
            if parent not in made and not any(parent.is_relative_to(p) for p in ("/usr", "/proc", "/dev")):
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
    for path, how in mounts:
        args += [how, str(path), str(path)]
    torch = torch_folder()
    if not allow_torch and torch is not None:
        args += ["--tmpfs", str(torch)]
    return args


# ----------------------------------------------------------------- choosing a mode


def detect(prefer: str = "auto", hidden: list[Path] = (), slot: int | None = None) -> Sandbox:
    """The strongest sandbox that works here (or the one asked for, or an error that says why not).

    ``hidden`` are the folders a student's process must not read; the ``uid`` mode, which
    cannot hide them, is refused where it could read one. ``slot`` is the (claimed) slot the trial runs in.
    """
    root = os.geteuid() == 0
    slot = claim_slots() if slot is None else slot
    reasons = []
    if prefer in ("auto", "bwrap"):
        problem = _try(Sandbox("bwrap"), [], slot)
        if problem is None:
            return Sandbox("bwrap")
        reasons.append(problem)
        if prefer == "bwrap":
            raise SandboxError(f"--sandbox bwrap cannot work here: {problem}")
    if prefer in ("auto", "uid"):
        if not root:
            problem = "the uid mode needs the grader to run as root (it runs student code as another user)"
        else:
            problem = _try(Sandbox("uid"), hidden, slot)
        if problem is None:
            return Sandbox("uid", warning=(
                f"warning: {reasons[0] + '; ' if reasons else ''}student code runs as an unprivileged uid in the "
                "machine's own filesystem and network (sandbox 'uid'): it cannot read the hidden folders or write "
                "anything of the grader's, but it can read world-readable files and reach the network."))
        reasons.append(problem)
        if prefer == "uid":
            raise SandboxError(f"--sandbox uid cannot work here: {problem}")
    if prefer == "auto" and root:
        raise SandboxError("no sandbox can run student code here, and the grader is root:\n  - "
                           + "\n  - ".join(reasons) + "\nInstall bubblewrap (Debian: apt-get install bubblewrap), "
                           "or make the uid mode possible as said above; `--sandbox none` grades as root, "
                           "unsandboxed, and is not recommended.")
    why = "you asked for --sandbox none" if prefer == "none" else "; ".join(reasons)
    who = "root" if root else "your user"
    return Sandbox("none", warning=(
        f"warning: student code runs as {who}, unsandboxed ({why}). Verdicts are still computed outside the "
        "student's process, but its code could read or write your files."))


def _try(sandbox: Sandbox, hidden: list[Path], slot: int) -> str | None:
    """None if ``sandbox`` runs this interpreter with numpy here and hides ``hidden``; else the reason."""
    if sandbox.kind == "bwrap" and shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    if sandbox.kind == "uid":
        try:
            pwd.getpwuid(slot_uid(slot))
            return f"uid {slot_uid(slot)} belongs to a user of this machine; the grader needs it for student code"
        except KeyError:
            pass
    root = make_stage_root()
    try:
        stage = make_stage(root, slot, sandbox)
        home = stage / "home"
        check = ("import json, os, numpy\nfound = []\nfor path in json.loads(os.environ['HIDDEN']):\n"
                 "    try:\n        os.listdir(path); found.append(path)\n    except OSError:\n        pass\n"
                 "print(json.dumps(found))")
        python, _ = interpreter()
        env = student_env(home, {"HIDDEN": json.dumps([str(p) for p in hidden])})
        command = sandbox.command([python, "-I", "-c", check], slot=slot, stage=stage, writable=[home], cwd=home,
                                  env=env, memory_mb=2048, allow_torch=False, quiet=False)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as error:
        return f"{sandbox.kind} could not start ({error})"
    finally:
        if sandbox.drops_root:
            kill_uid(slot_uid(slot))
        shutil.rmtree(root, ignore_errors=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
        if sandbox.kind == "uid" and ("Permission denied" in done.stderr or done.returncode in (126, 127)):
            python, _ = interpreter()
            return (f"the interpreter {python} cannot be run by an unprivileged user ({detail}); install the "
                    "grader's Python where every user may read it (e.g. a venv under /opt), or use bubblewrap")
        return f"{sandbox.kind} failed to run Python ({detail})"
    readable = json.loads(done.stdout.strip().splitlines()[-1])
    if readable:
        return ("these folders would be readable by student code: " + ", ".join(readable)
                + " (make them unreadable to other users, e.g. chmod o-rwx, or use bubblewrap)")
    return None
