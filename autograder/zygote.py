"""The kernel zygote: a sandboxed process that has imported what a notebook's kernel needs, and forks kernels.

Starting a Jupyter kernel and importing torch in it costs well over a second of
a core, the same for every submission. The worker (``kernels.py``) starts this
process once, in the sandbox and as the uid its kernels run as, where it imports
numpy, torch, edugrad and ipykernel, and never runs a line of a student's code.
For each notebook it is asked to ``fork``: it first kills every other process of
its uid that it can see and empties the folders a kernel may write (its home,
``/tmp`` and ``/dev/shm``), so nothing of one submission reaches the next; then the child
becomes an IPython kernel on the connection file it was sent.

A kernel cannot change the zygote: the zygote is not dumpable (its memory cannot
be read or written through ``/proc`` or ``process_vm_*``, which the sandbox's
seccomp filter also refuses, as it refuses ``ptrace``), and it reads no file
after warming up. A kernel can kill or stop it, like any process of its uid; the
worker then starts another.

Run as ``python -I zygote.py READ_FD WRITE_FD HOME`` with ``wire.py`` beside it;
requests and replies are ``wire`` frames: ``{"do": "fork", "connection": {...},
"arguments": [...]}`` -> ``{"pid": n}``; ``{"do": "signal", "signal": n}``;
``{"do": "poll"}`` -> ``{"status": None or exit code}``; ``{"do": "end"}``.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import stat
import sys
import time

PR_SET_DUMPABLE = 4


def main(read_fd: int, write_fd: int, home: str) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import wire

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    warm_up()
    wire.send(write_fd, {"ready": True})
    kernel, status = None, None
    while True:
        try:
            request = wire.receive(read_fd)
        except (wire.WireError, OSError, ValueError):
            end_others()
            os._exit(0)  # the worker is gone
        do = request.get("do")
        if do == "fork":
            end_others()
            for folder in (home, "/tmp", "/dev/shm"):
                empty(folder)
            path = os.path.join(home, "kernel.json")
            with open(path, "w") as handle:
                json.dump(request["connection"], handle)
            kernel, status = os.fork(), None
            if kernel == 0:
                become_kernel(path, [str(a) for a in request.get("arguments", [])], home, (read_fd, write_fd))
            wire.send(write_fd, {"pid": kernel})
        elif do == "signal":
            if kernel and status is None:
                try:
                    os.kill(kernel, int(request["signal"]))
                except ProcessLookupError:
                    pass
            wire.send(write_fd, {})
        elif do == "poll":
            if kernel and status is None:
                status = exit_status(kernel)
            wire.send(write_fd, {"status": status})
        elif do == "end":
            end_others()
            if kernel and status is None:
                status = exit_status(kernel)
            wire.send(write_fd, {})


def warm_up() -> None:
    """Import what every kernel imports, so that a forked kernel starts with it done."""
    import numpy  # noqa: F401

    for name in ("torch", "edugrad"):
        try:
            __import__(name)
        except ImportError:
            pass
    from ipykernel import ipkernel, kernelapp, zmqshell  # noqa: F401
    from IPython.core import completer, history, interactiveshell  # noqa: F401

    for name in ("debugpy", "pydevd", "pdb", "sqlite3"):  # what a kernel's start imports besides
        try:
            __import__(name)
        except ImportError:
            pass


def become_kernel(connection_file: str, arguments: list[str], home: str, closing: tuple[int, int]) -> None:
    """Turn this (forked) process into an IPython kernel; never returns."""
    try:
        for fd in closing:
            os.close(fd)
        os.setsid()
        os.chdir(home)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=["-f", connection_file, "--IPKernelApp.parent_handle=0", *arguments])
    finally:
        os._exit(0)


def exit_status(pid: int) -> int | None:
    """The kernel's exit code (negative: killed by that signal), or None while it runs."""
    try:
        done, code = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return -signal.SIGKILL  # reaped by end_others
    return os.waitstatus_to_exitcode(code) if done else None


def end_others() -> None:
    """Kill every process of this uid that this process can see, but itself and its ancestors; reap its children."""
    spare = ancestors()
    for _ in range(1000):
        others = [pid for pid in processes_of_my_uid() if pid not in spare]
        if not others:
            break
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap()
        time.sleep(0.001)
    reap()


def ancestors() -> set[int]:
    """This process and its parents up to the root of its PID namespace."""
    found, pid = set(), os.getpid()
    while pid > 0 and pid not in found:
        found.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return found


def processes_of_my_uid() -> list[int]:
    """The living (not zombie) processes whose real uid is ours (slots.processes_of's scan: this file runs alone)."""
    found, uid = [], os.getuid()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/status") as handle:
                    status = dict(line.split(":", 1) for line in handle if ":" in line)
            except OSError:
                continue
            if int(status["Uid"].split()[0]) == uid and not status["State"].strip().startswith("Z"):
                found.append(int(entry.name))
    return found


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def empty(folder: str) -> None:
    """Remove everything inside ``folder`` (never following a link), whatever modes a kernel left on it."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # no such folder in this sandbox
    for entry in entries:
        path = entry.path
        try:
            if entry.is_dir(follow_symlinks=False):
                os.chmod(path, stat.S_IRWXU)
                for root, dirs, _ in os.walk(path):
                    os.chmod(root, stat.S_IRWXU)
                    for name in dirs:
                        inner = os.path.join(root, name)
                        if not os.path.islink(inner):
                            os.chmod(inner, stat.S_IRWXU)
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError:
            pass  # not ours to remove (the kernel could not have written it either)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
