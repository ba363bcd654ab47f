"""The student's side of grading: run a submission's code, then answer the judge's calls.

The judge (``autograder/judge.py``) starts this file in a sandbox, as
``python probe.py CELLS.json READ_FD WRITE_FD``, with only this file and
``wire.py`` beside it. It runs the submission's answer cells (and the
exercise's own setup cells) in one namespace, without PyTorch, then serves
requests until told to exit:

* ``call``: call a function (a graded function by name, or any object this
  side handed out) with the judge's arguments; reply with the result and the
  arguments as they are after the call (to show whether they were changed);
* ``getattr``: read an attribute of an object this side handed out;
* ``backward``: run an edugrad Tensor's ``_backward`` (see ``judge.py``);
* ``new_dict``: make an empty dict here (a registry the student's code fills).

Nothing here decides a grade: the judge compares what comes back with its own
oracle. What this side may do is visible to students, on purpose.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import linecache
import os
import sys
import traceback
import types

from builtins import BaseException, callable, getattr, id, isinstance, len, list, set, str, type  # noqa: A004

try:
    from autograder import protocol, wire
except ImportError:  # staged for grading: protocol.py and wire.py sit beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import protocol
    import wire

P = protocol

NO_TORCH = ("PyTorch is not available when the grader runs your functions: write it with NumPy "
            "(the notebook imports torch only for its visible tests).")


class _NoTorch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes ``import torch`` give a module whose every attribute raises NO_TORCH."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__getattr__ = _Refused
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


class _Refused:
    """Whatever a notebook takes from torch here: importing it works, using it raises NO_TORCH."""

    def __init__(self, name):
        self._name = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(NO_TORCH)

    def __getattr__(self, name):
        raise RuntimeError(NO_TORCH)


class _AnyShell:
    """Stands in for IPython's shell: every attribute and call is a harmless no-op."""

    def __getattr__(self, name):
        return _AnyShell()

    def __call__(self, *args, **kwargs):
        return _AnyShell()

    def __iter__(self):
        return iter(())


class _Added:
    """Stands in for an input's ``.grad`` during ``backward``: records what is added with ``+=``."""

    def __init__(self):
        self.added = []

    def __iadd__(self, other):
        self.added.append(other)
        return self


class StudentSide:
    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.namespace = {"__name__": "__main__", "__builtins__": _private_builtins(), "get_ipython": _AnyShell()}
        self.exported: dict[int, object] = {}  # our id -> object handed to the judge
        self.export_ids: dict[int, int] = {}  # id(object) -> our id
        self.stubs: dict[int, object] = {}  # the judge's id -> our stand-in for its object
        self.stub_ids: dict[int, int] = {}  # id(stand-in) -> the judge's id

    # ---------------------------------------------------------------- data
    def export(self, value):
        if id(value) in self.stub_ids:
            return {"ref": self.stub_ids[id(value)], "yours": True}
        key = self.export_ids.get(id(value))
        if key is None:
            key = len(self.exported) + 1
            self.exported[key] = value
            self.export_ids[id(value)] = key
        if _is_tensor(value):
            return {"tensor": key, "value": self.encode(value.value), "grad": self.encode(value.grad),
                    "parents": [self.encode(p) for p in _parents(value)]}
        return {"ref": key, "callable": callable(value)}

    def encode(self, value):
        return wire.encode(value, self.export)

    def resolve(self, tag):
        if "op" in tag:  # an edugrad Operation of the checks, by name
            try:
                from autograder import shared_ops
            except ImportError:
                import shared_ops
            return getattr(shared_ops, tag["op"])
        if tag.get("yours"):
            return self.exported[int(tag["ref"])]
        key = int(tag.get("ref") or tag.get("tensor"))
        if key not in self.stubs:
            stub = self._tensor(tag) if "tensor" in tag else self._function(key, tag.get("about") or {})
            self.stubs[key] = stub
            self.stub_ids[id(stub)] = key
        return self.stubs[key]

    def decode(self, data):
        return wire.decode(data, self.resolve)

    def _function(self, key, about: dict):
        def judge_function(*args, **kwargs):
            return self.ask({P.DO: P.CALLBACK, "target": key, "args": self.encode(list(args)),
                             "kwargs": self.encode(kwargs)})
        for name, text in about.items():
            if name in ("__name__", "__qualname__", "__doc__", "__module__") and isinstance(text, str):
                setattr(judge_function, name, text)
        return judge_function

    def _tensor(self, tag):
        from edugrad.tensor import Tensor

        return Tensor(self.decode(tag["value"]))

    # ------------------------------------------------------------ requests
    def ask(self, message):
        """Send a callback to the judge and wait for its answer."""
        wire.send(self.write_fd, message)
        reply = wire.receive(self.read_fd)
        if P.RAISED in reply:
            import builtins

            kind = getattr(builtins, str(reply[P.RAISED].get("type")), RuntimeError)
            if not (isinstance(kind, type) and issubclass(kind, Exception)):
                kind = RuntimeError
            raise kind(reply[P.RAISED].get("message", ""))
        return self.decode(reply["value"])

    def serve(self) -> None:
        while True:
            request = wire.receive(self.read_fd)
            if request.get(P.DO) == P.EXIT:
                return
            try:
                reply = self.handle(request)
            except BaseException as error:  # the student's error, reported as data
                reply = {P.RAISED: describe(error)}
            wire.send(self.write_fd, reply)

    def handle(self, request):
        do = request.get(P.DO)
        if do == P.LOOKUP:
            name = request["name"]
            if name not in self.namespace:
                return {P.MISSING: True}
            return {"value": self.encode(self.namespace[name])}
        if do == P.CALL:
            target = self.decode(request["target"])
            args, kwargs = self.decode(request["args"]), self.decode(request["kwargs"])
            result = target(*args, **kwargs)
            # The judge's Tensors as they are now: an operation must not have changed its inputs.
            mirrors = [[key, self.encode(self.stubs[key].value)] for key in self.stubs if _is_tensor(self.stubs[key])]
            return {"value": self.encode(result), "args": self.encode(args), "mirrors": mirrors}
        if do == P.GETATTR:
            return {"value": self.encode(getattr(self.decode(request["target"]), request["name"]))}
        if do == P.NEW_DICT:
            return {"value": self.encode(_Registry())}
        if do == P.CONTENTS:
            return {"value": self.encode(dict(self.decode(request["target"])))}
        if do == P.BACKWARD:
            return self.backward(request)
        raise ValueError(f"unknown request {do!r}")

    def backward(self, request):
        """Run one node's ``_backward`` with the judge's upstream gradient; report what reached each parent."""
        node = self.decode(request["target"])
        node.grad = self.decode(request["grad"])
        parents = _unique(_parents(node))
        given = [self.decode(g) for g in request["parent_grads"]]
        for parent, grad in zip(parents, given):
            parent.grad = _Added() if grad is None else grad
        node._backward()
        report = []
        for parent in parents:
            if isinstance(parent.grad, _Added):
                report.append({"added": [self.encode(a) for a in parent.grad.added]})
            else:
                report.append({"value": self.encode(parent.grad)})
        return {"parents": report}

    # --------------------------------------------------------------- cells
    def run_cells(self, cells: list[dict]) -> list[dict]:
        """Run each cell; a cell that raises is reported and the next one runs."""
        from IPython.core.inputtransformer2 import TransformerManager

        transform = TransformerManager().transform_cell
        errors = []
        for cell in cells:
            wire.send(self.write_fd, {P.RUNNING: cell["id"]})  # so the judge can tell which cell hangs
            filename = f"<cell {cell['id']}>"
            try:
                source = transform(cell["source"])
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                exec(compile(source, filename, "exec"), self.namespace)
            except BaseException as error:
                errors.append({"id": cell["id"], **describe(error)})
        return errors


def _private_builtins() -> dict:
    """A copy of the builtins for the notebook's code, which ``import builtins`` also returns to it.

    A notebook that rebinds ``builtins.isinstance`` (say) then changes its own copy, not the one that Python's import
    system and this file run on, so the rest of its code still runs.
    """
    import builtins

    copy = types.ModuleType("builtins")
    copy.__dict__.update(vars(builtins))
    real_import = builtins.__import__

    def import_(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "builtins" and level == 0:
            return copy
        return real_import(name, globals, locals, fromlist, level)

    copy.__dict__["__import__"] = import_
    return copy.__dict__


class _Registry(dict):
    """A dict made on this side for the judge (a plain dict cannot be handed out by reference)."""


def _is_tensor(value) -> bool:
    return type(value).__name__ == "Tensor" and type(value).__module__.startswith("edugrad")


def _parents(tensor) -> list:
    return list(getattr(tensor, "parents", ()) or ())


def _unique(items: list) -> list:
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


def describe(error: BaseException) -> dict:
    """An exception as data: its type, message, the student's line, and whether edugrad's tensor_op raised it."""
    frames = traceback.extract_tb(error.__traceback__)
    cells = [f for f in frames if f.filename.startswith("<cell ")]
    where = ""
    if cells:
        frame = cells[-1]
        line = (frame.line or "").strip()
        where = f" (in {frame.name}, at `{line}`)" if line else f" (in {frame.name}, line {frame.lineno})"
    last = frames[-1].filename.replace("\\", "/") if frames else ""
    return {"type": type(error).__name__, "message": str(error)[:2000], "line": where,
            "in_tensor_op": last.endswith("edugrad/tensor.py")}


def main(cells_file: str, read_fd: str, write_fd: str) -> None:
    import json

    sys.meta_path.insert(0, _NoTorch())
    for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
        del sys.modules[name]
    side = StudentSide(int(read_fd), int(write_fd))
    with open(cells_file) as handle:
        cells = json.load(handle)
    # The student's prints and warnings go nowhere: the pipe is the only channel.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    errors = side.run_cells(cells)
    wire.send(side.write_fd, {P.READY: True, "errors": errors})
    side.serve()


if __name__ == "__main__":
    main(*sys.argv[1:4])
    os._exit(0)  # skip interpreter shutdown: student objects may misbehave in __del__
