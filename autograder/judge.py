"""The trusted half of grading: run the hidden checks here, against the student's code over there.

A submission's code runs in another process (``probe.py``, in a sandbox; see
``sandbox.py``). The hidden checks of ``autograder/checks/`` run in this
process, unchanged: each receives, in place of a student's function, a
:class:`Remote` that forwards the call across a pipe and returns plain data.
The checks choose the inputs, compute the oracle and decide; nothing the
student's process does reaches this process except plain data
(``wire.decode``), so it cannot redefine a comparison or an assertion.

Objects that are not plain data stay where they were made and cross as
references: a function of the judge that a student's function calls back
(``numerical_gradient(f, x)``), a wrapper that ``count_calls`` returns. The
checks of the edugrad exercises opt into Tensors that cross as mirrors
(``tensors.py``, ``MIRRORS_TENSORS`` in their module).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder import protocol, wire

HERE = Path(__file__).resolve().parent


class StudentGone(BaseException):
    """The student's process stopped answering: it timed out, crashed or broke the protocol.

    A BaseException, so that a check's ``except Exception`` (around a student's call) lets it through to run_check.
    """


@dataclass
class Verdict:
    """The judge's decision on one test cell, and the known mistake it names ("" for none)."""

    passed: bool
    message: str
    mistake: str = ""


class Student:
    """The connection to one running student process."""

    def __init__(self, process: subprocess.Popen, read_fd: int, write_fd: int, call_timeout: float):
        self.process, self.read_fd, self.write_fd = process, read_fd, write_fd
        self.call_timeout = call_timeout
        self.exported: dict[int, object] = {}
        self.export_ids: dict[int, int] = {}
        self.remotes: dict[int, object] = {}  # the student's id -> our stand-in (Remote or Tensor)
        self.remote_ids: dict[int, int] = {}
        self.names: dict[int, str] = {}  # remote key -> the name the judge looked it up by
        self.calling: str | None = None  # the looked-up function the judge is calling now
        self.looped: set[str] = set()  # functions whose call did not return within call_timeout
        self.tensors = None  # a tensors.TensorMirror once a check asks for it (see run_check)

    # ------------------------------------------------------------- messages
    def request(self, message: dict) -> dict:
        """Send a request; answer the student's callbacks until its reply arrives."""
        self._send(message)
        deadline = time.monotonic() + self.call_timeout
        while True:
            reply = self._receive(deadline)
            if reply.get(protocol.DO) == protocol.CALLBACK:
                self._send(self._callback(reply))
                continue
            return reply

    def _send(self, message: dict) -> None:
        try:
            wire.send(self.write_fd, message)
        except OSError as error:
            raise StudentGone(f"the notebook's process stopped ({error})") from None

    def _receive(self, deadline: float) -> dict:
        try:
            return wire.receive(self.read_fd, deadline)
        except wire.WireTimeout:
            self.kill()
            if self.calling:
                self.looped.add(self.calling)
            raise StudentGone(f"your code ran too long: it did not return within {self.call_timeout:g} s "
                              "(an infinite loop?)") from None
        except (wire.WireError, ValueError) as error:
            self.kill()
            raise StudentGone(f"Python stopped while running your code, or sent something unreadable ({error})") from None

    def _callback(self, message: dict) -> dict:
        try:
            target = self.exported[int(message["target"])]
            args, kwargs = self.decode(message["args"]), self.decode(message["kwargs"])
            return {"value": self.encode(target(*args, **kwargs))}
        except Exception as error:  # our function failed on what the student passed
            return {protocol.RAISED: {"type": type(error).__name__, "message": str(error)}}

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                wire.send(self.write_fd, {protocol.DO: protocol.EXIT})
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    # ----------------------------------------------------------------- data
    def export(self, value):
        if id(value) in self.remote_ids:  # the student's own object, handed back
            return {"ref": self.remote_ids[id(value)], "yours": True}
        key = self.export_ids.get(id(value))
        if key is None:
            key = len(self.exported) + 1
            self.exported[key] = value
            self.export_ids[id(value)] = key
        if self.tensors is not None and self.tensors.owns(value):
            return self.tensors.export(self, key, value)
        if isinstance(value, type) and value.__module__ == "autograder.shared_ops":
            return {"op": value.__name__}
        # A function of ours crosses with its name and docstring, as a decorator would see them.
        about = {k: getattr(value, k) for k in ("__name__", "__qualname__", "__doc__", "__module__")
                 if isinstance(getattr(value, k, None), str)}
        return {"ref": key, "about": about}

    def encode(self, value):
        return wire.encode(value, self.export)

    def decode(self, data):
        return wire.decode(data, self.resolve)

    def resolve(self, tag: dict):
        if tag.get("yours"):
            try:
                return self.exported[int(tag["ref"])]
            except (KeyError, TypeError, ValueError):
                raise wire.WireError("a reference to an object the grader never handed out") from None
        if "tensor" in tag and self.tensors is not None:
            return self.tensors.stand_in(self, tag)
        if "ref" in tag or "tensor" in tag:
            key = int(tag.get("ref") or tag.get("tensor"))
            if key not in self.remotes:
                self.remember(key, Remote(self, key))
            return self.remotes[key]
        raise wire.WireError("an unknown kind of reference")

    def remember(self, key: int, stand_in) -> None:
        """``stand_in`` is ours for the student's object ``key``; handed back, it crosses as that object."""
        self.remotes[key] = stand_in
        self.remote_ids[id(stand_in)] = key

    # -------------------------------------------------------------- actions
    def lookup(self, name: str):
        reply = self.request({protocol.DO: protocol.LOOKUP, "name": name})
        if reply.get(protocol.MISSING):
            return Missing(name)
        value = self.decode(reply.get("value"))
        if isinstance(value, Remote):
            self.names[value.key] = name
        return value

    def call(self, remote: "Remote", args: tuple, kwargs: dict):
        sent_args = list(args)
        outer, self.calling = self.calling, self.calling or self.names.get(remote.key)
        try:
            reply = self.request({protocol.DO: protocol.CALL, "target": {"ref": remote.key, "yours": True},
                                  "args": self.encode(sent_args), "kwargs": self.encode(kwargs)})
        finally:
            self.calling = outer
        protocol.raise_if_raised(reply)
        _write_back(sent_args, self.decode(reply.get("args")))
        if self.tensors is not None:
            self.tensors.update(self, reply.get("mirrors", []))
        return self.decode(reply.get("value"))

    def getattr(self, remote: "Remote", name: str):
        reply = self.request({protocol.DO: protocol.GETATTR, "target": {"ref": remote.key, "yours": True}, "name": name})
        protocol.raise_if_raised(reply)
        return self.decode(reply.get("value"))

    def new_dict(self):
        return self.decode(self.request({protocol.DO: protocol.NEW_DICT}).get("value"))

    def contents(self, remote: "Remote") -> dict:
        reply = self.request({protocol.DO: protocol.CONTENTS, "target": {"ref": remote.key, "yours": True}})
        protocol.raise_if_raised(reply)
        value = self.decode(reply.get("value"))
        if type(value) is not dict:
            raise wire.WireError("a registry's contents are not a dict")
        return value


class Remote:
    """Stands for an object in the student's process: calling it or reading an attribute asks over there."""

    def __init__(self, student: Student, key: int):
        self._student, self.key = student, key

    def __call__(self, *args, **kwargs):
        return self._student.call(self, args, kwargs)

    def __getattr__(self, name: str):
        # numpy and friends probe objects for __array__ and the like: never forward those.
        if name.startswith("__") and name not in ("__name__", "__qualname__", "__doc__", "__module__",
                                                  "__wrapped__"):
            raise AttributeError(name)
        if name.startswith("_") and not name.startswith("__"):
            raise AttributeError(name)
        return self._student.getattr(self, name)

    def __repr__(self) -> str:
        return f"<an object of the notebook's (#{self.key})>"


class Missing:
    """A graded name that the notebook never defined: calling it says so."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise NameError(f"name '{self.name}' is not defined (did its cell run without an error?)")


def _write_back(sent, after) -> None:
    """Make the judge's arguments show what the student's code did to its copies of them (in place)."""
    if type(sent) is np.ndarray and type(after) is np.ndarray:
        if sent.shape == after.shape and sent.flags.writeable:
            np.copyto(sent, after, casting="unsafe")
    elif type(sent) is list and type(after) is list:
        if len(sent) == len(after):
            for k, (s, a) in enumerate(zip(sent, after)):
                if type(s) in (np.ndarray, list, tuple, dict):
                    _write_back(s, a)
                elif type(s) is not type(a) or s != a:
                    sent[k] = a
        else:
            sent[:] = after
    elif type(sent) is tuple and type(after) is tuple and len(sent) == len(after):
        for s, a in zip(sent, after):
            _write_back(s, a)
    elif type(sent) is dict and type(after) is dict:
        sent.clear()
        sent.update(after)


# --------------------------------------------------------------- one submission


def start(cells: list[dict], place: "ProbePlace", call_timeout: float, cell_timeout: float = 60
          ) -> tuple[Student, list[dict]]:
    """Start the student's process on these cells; returns the connection and the cells that raised.

    A cell that runs longer than ``cell_timeout`` or kills the process is left
    out and the process started again (at most three times); it is reported
    among the cells that raised.
    """
    skipped: list[dict] = []
    while True:
        student, errors, stuck = _start_once(cells, place, call_timeout, cell_timeout)
        if stuck is None:
            return student, skipped + errors
        if len(skipped) == 3:
            raise StudentGone("cells of the notebook kept hanging or crashing")
        what = "ran too long" if stuck[1] == "timeout" else "stopped Python"
        skipped.append({"id": stuck[0], "type": "Skipped", "message": f"this cell {what}, so it was left out"})
        cells = [c for c in cells if c["id"] != stuck[0]]


@dataclass
class ProbePlace:
    """Where and how the student's process runs: the folder of its code, and the sandbox's command for it.

    ``command(args, fds)`` is the command line that runs the interpreter with ``args`` in
    the job's sandbox, keeping the descriptors ``fds`` open; ``before()`` runs before each start (ending what an
    earlier start left running); ``log`` receives the process's own errors at start-up.
    """

    folder: Path
    command: object
    before: object
    log: Path


def _start_once(cells, place: ProbePlace, call_timeout, cell_timeout):
    import shutil

    place.before()
    for name in ("probe.py", "protocol.py", "wire.py", "shared_ops.py"):
        shutil.copy(HERE / name, place.folder / name)
    (place.folder / "cells.json").write_text(json.dumps(cells))
    to_student_r, to_student_w = os.pipe()
    from_student_r, from_student_w = os.pipe()
    args = ["-I", str(place.folder / "probe.py"), str(place.folder / "cells.json"), str(to_student_r),
            str(from_student_w)]
    with place.log.open("w") as log:
        process = subprocess.Popen(place.command(args, (to_student_r, from_student_w)),
                                   pass_fds=(to_student_r, from_student_w), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    os.close(to_student_r)
    os.close(from_student_w)
    student = Student(process, from_student_r, to_student_w, call_timeout)
    running = None
    while True:
        try:
            message = student._receive(time.monotonic() + (cell_timeout if running else 60))
        except StudentGone:
            student.close()
            if running is None:
                raise StudentGone("the notebook's process did not start") from None
            return None, [], (running, "timeout" if process.returncode in (-9, None) else "crashed")
        if protocol.RUNNING in message:
            running = str(message[protocol.RUNNING])
        elif message.get(protocol.READY):
            return student, [e for e in wire.items(message.get("errors", [])) if type(e) is dict], None
        else:
            student.close()
            raise StudentGone("the notebook's process sent something unexpected")


def run_check(student: Student, module, check_name: str, arg_names: list[str]) -> Verdict:
    """One hidden check against the student's functions; always a verdict."""
    from autograder.checks.compare import CheckFailure

    check = getattr(module, check_name)
    what = (check.__doc__ or check_name).strip().splitlines()[0]
    if getattr(module, "MIRRORS_TENSORS", False) and student.tensors is None:
        from autograder.tensors import TensorMirror

        student.tensors = TensorMirror()
    try:
        args = [student.lookup(name) for name in arg_names]
        check(*args)
    except CheckFailure as failure:
        return Verdict(False, str(failure), failure.mistake)
    except StudentGone as gone:
        return Verdict(False, f"{what.rstrip('.')}: {gone}.")
    except wire.WireError as error:
        return Verdict(False, f"The grader could not read what your code returned ({error}).")
    except Exception as error:  # a value the check did not expect: fail it, say what
        return Verdict(False, f"Your answer made the check fail unexpectedly: {type(error).__name__}: {error}")
    return Verdict(True, f"passed: {what}")
