"""The conversation between the judge and the student's process: its verbs, its replies, and a remote error.

Each message is one ``wire`` frame holding a dict. The judge asks, the student's
process answers; while answering, the student's process may ask the judge back
(a function of the judge's that a student's function calls). Both sides import
this module (it is staged beside ``probe.py``); it holds no verdict.

Requests of the judge (key ``do``)::

    LOOKUP    name                      -> {value} | {missing: true}
    CALL      target, args, kwargs      -> {value, args, mirrors}   (args as they are after the call;
                                                                     mirrors: the judge's tensors' values now)
    GETATTR   target, name              -> {value}
    BACKWARD  target, grad, parent_grads -> {parents: [{value} | {added: [...]}, ...]}
    NEW_DICT                            -> {value}                  (a dict made over there, by reference)
    CONTENTS  target                    -> {value}                  (a dict's items as plain data)
    EXIT

Messages of the student's process::

    RUNNING   cell id, before running each cell (so the judge can tell which one hangs)
    READY     errors: the cells that raised, once every cell ran
    CALLBACK  target, args, kwargs      -> {value} | {raised}

Any request may be answered ``{raised: {type, message, line, in_tensor_op}}``: the
exception the student's code raised, as data; :func:`remote_error` makes it an
exception of the judge's process again.
"""

from __future__ import annotations

import builtins

LOOKUP, CALL, GETATTR, BACKWARD, NEW_DICT, CONTENTS, EXIT = (
    "lookup", "call", "getattr", "backward", "new_dict", "contents", "exit")
RUNNING, READY, CALLBACK = "running", "ready", "callback"
DO, VALUE, RAISED, MISSING = "do", "value", "raised", "missing"


class RemoteError(Exception):
    """An exception raised by the student's code in its own process, with what that process said about it.

    Made by :func:`remote_error` as a subclass of the builtin type that was raised too
    (a student's ``ValueError`` is a ``ValueError`` here), so checks can catch it as usual.
    """

    remote_type: str = "Exception"  # the type's name over there
    line: str = ""  # " (in f, at `x = y`)": the student's innermost line, or ""
    in_tensor_op: bool = False  # raised inside edugrad's tensor_op (a backward's malformed return)


_KINDS: dict[type, type] = {}


def remote_error(raised: dict) -> RemoteError:
    """The exception described by a ``raised`` reply: a RemoteError that is also its builtin type if it has one."""
    name = str(raised.get("type", "Exception"))
    message = str(raised.get("message", ""))
    base = getattr(builtins, name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or base is StopIteration:
        base, message = RuntimeError, (message if name == "RuntimeError" else f"{name}: {message}")
    try:
        if base not in _KINDS:
            _KINDS[base] = type(f"Remote{base.__name__}", (RemoteError, base), {"__module__": __name__})
        error = _KINDS[base](message)
    except TypeError:  # a type that cannot be made from a message alone (UnicodeDecodeError...)
        error = remote_error({**raised, "type": "RuntimeError", "message": f"{name}: {message}"})
        error.remote_type = name
        return error
    error.remote_type, error.line, error.in_tensor_op = name, str(raised.get("line", "")), bool(
        raised.get("in_tensor_op"))
    return error


def raise_if_raised(reply: dict) -> None:
    """Re-raise, in the judge's process, an exception the student's code raised over there (a ``raised`` reply)."""
    raised = reply.get(RAISED)
    if raised is not None:
        raise remote_error(raised if type(raised) is dict else {})
