"""Plain data across the wall between the judge and the student's process.

Both sides speak this format over a pipe: a frame is an 8-byte length and a
JSON document. Values are plain data (None, bools, numbers, strings, numeric
numpy arrays, lists, tuples, dicts) or *references*: anything else (a
function, an edugrad Tensor, an object) stays in the process that owns it and
crosses as a number that the other side can call, read or hand back.

The judge decodes what it receives with :func:`decode`, which builds only
plain Python and numpy values of numeric dtypes (never an object of the
student's making), so nothing that crosses can change how a comparison runs.
This module is shared with the student's side: no verdict lives here.
"""

from __future__ import annotations

import base64
import json
import os
import select
import struct
import time

import numpy as np

# Our own references to the builtins we use, taken at import: on the student's side a
# notebook that rebinds builtins.isinstance (say) must not garble the channel.
from builtins import dict, float, int, isinstance, len, list, str, tuple, type  # noqa: A004

MAX_FRAME = 64 * 1024 * 1024  # bytes; a larger frame is refused, not read
NUMERIC = "biuf"  # numpy dtype kinds that cross as arrays


class WireError(Exception):
    """A frame that is not well-formed, too large, or did not arrive."""


class WireTimeout(WireError):
    """A whole frame did not arrive before the deadline (a process that stalls, even in the middle of one)."""


def send(fd: int, message: dict) -> None:
    data = json.dumps(message).encode()
    os.write(fd, struct.pack(">Q", len(data)))
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def receive(fd: int, deadline: float | None = None) -> dict:
    """The next frame from ``fd``; with a ``deadline`` (``time.monotonic()`` seconds) the whole frame must arrive by then."""
    (size,) = struct.unpack(">Q", _read_exactly(fd, 8, deadline))
    if size > MAX_FRAME:
        raise WireError(f"a message of {size} bytes is larger than the limit of {MAX_FRAME}")
    message = json.loads(_read_exactly(fd, size, deadline))
    if not isinstance(message, dict):
        raise WireError("a message is not a JSON object")
    return message


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        if deadline is not None:
            ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                raise WireTimeout("no whole message arrived in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise WireError("the other process closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def encode(value, export):
    """``value`` as JSON-ready data; ``export(obj)`` returns the tag for anything that is not plain data."""
    # Subclasses of numbers and arrays cross as their plain base values (read with the base
    # class's own methods), so whatever they override stays behind.
    if value is None or type(value) in (bool, str, int, float):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, np.generic):
        return int.__int__(value)
    if isinstance(value, float) and not isinstance(value, np.generic):
        return float.__float__(value)
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC:
        return {"nd": _array(np.asarray(value))}
    if isinstance(value, np.ndarray) and np.ndarray.view(value, np.ndarray).dtype.kind in NUMERIC:
        return {"nd": _array(np.ndarray.view(value, np.ndarray))}
    if type(value) is list:
        return {"list": [encode(v, export) for v in value]}
    if type(value) is tuple:
        return {"tuple": [encode(v, export) for v in value]}
    if type(value) is dict:
        return {"dict": [[encode(k, export), encode(v, export)] for k, v in value.items()]}
    return export(value)


def _array(array: np.ndarray) -> dict:
    if not array.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        array = array.copy(order="C")
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}


def decode(data, resolve):
    """The plain value that ``data`` describes; ``resolve(tag)`` turns a reference tag into an object.

    Raises:
        WireError: for anything that is not one of the forms ``encode`` writes.
    """
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is not dict or len(data) != 1 and "ref" not in data and "tensor" not in data:
        raise WireError(f"unexpected data of type {type(data).__name__}")
    if "nd" in data:
        return _from_array(data["nd"])
    if "list" in data:
        return [decode(v, resolve) for v in items(data["list"])]
    if "tuple" in data:
        return tuple(decode(v, resolve) for v in items(data["tuple"]))
    if "dict" in data:
        pairs = [items(pair) for pair in items(data["dict"])]
        if any(len(pair) != 2 for pair in pairs):
            raise WireError("a dict entry is not a pair")
        return {_key(decode(k, resolve)): decode(v, resolve) for k, v in pairs}
    return resolve(data)


def items(data) -> list:
    """``data`` if it is a list (what a sequence must be on the wire), else WireError."""
    if type(data) is not list:
        raise WireError("expected a list")
    return data


def _key(key):
    if key is None or type(key) in (bool, int, float, str, tuple):
        return key
    raise WireError(f"a dict key of type {type(key).__name__}")


def _from_array(spec) -> np.ndarray:
    try:
        dtype = np.dtype(spec["dtype"])
        shape = tuple(int(n) for n in spec["shape"])
        raw = base64.b64decode(spec["data"], validate=True)
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"a malformed array ({error})") from None
    if dtype.kind not in NUMERIC or dtype.hasobject or any(n < 0 for n in shape):
        raise WireError(f"an array of dtype {dtype} cannot cross")
    if len(raw) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
        raise WireError("an array whose data does not fit its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
