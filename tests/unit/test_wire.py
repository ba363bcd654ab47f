"""wire.py: plain data crosses as itself (arrays keep shape and dtype), lying subclasses cross as their plain
values, everything else stays behind as a reference, and malformed data is refused; frames cross a pipe whole, and one too
large, not an object, cut short or late is refused."""

from __future__ import annotations

import json
import os
import struct
import time

import numpy as np
import pytest

from autograder import wire


def test_wire_round_trips_plain_data():
    value = {"a": [np.arange(6.0).reshape(2, 3), (1, 2.5, None, True, "x")], "b": np.float64(3.0),
             "c": np.zeros((0, 4), dtype=np.int64)}
    back = wire.decode(wire.encode(value, lambda obj: pytest.fail(f"exported {obj!r}")), lambda tag: None)
    assert back.keys() == value.keys()
    assert np.array_equal(back["a"][0], value["a"][0]) and back["a"][1] == value["a"][1]
    assert back["b"].shape == () and back["b"] == 3.0  # a scalar stays 0-d
    assert back["c"].shape == (0, 4) and back["c"].dtype == np.int64


def test_wire_sends_plain_values_of_lying_subclasses():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    class Huge(float):
        def __float__(self):
            return 1e300

    exported = []
    encoded = wire.encode([np.arange(3.0).view(Liar), Huge(2.0), np.array([object()]), len],
                          lambda obj: exported.append(obj) or {"ref": len(exported)})
    back = wire.decode(encoded, lambda tag: ("ref", tag["ref"]))
    assert type(back[0]) is np.ndarray and np.array_equal(back[0], [0.0, 1.0, 2.0])
    assert type(back[1]) is float and back[1] == 2.0
    assert back[2:] == [("ref", 1), ("ref", 2)], "an object array and a function stay behind as references"


@pytest.mark.parametrize("bad", [
    {"nd": {"dtype": "|O", "shape": [1], "data": ""}},          # object arrays never cross
    {"nd": {"dtype": "<f8", "shape": [3], "data": "AAAA"}},      # data that does not fit the shape
    {"list": "not a list"},
    {"dict": [[{"list": []}, 1]]},                               # unhashable key
    ["a bare JSON list"],
])
def test_wire_refuses_malformed_data(bad):
    with pytest.raises(wire.WireError):
        wire.decode(bad, lambda tag: pytest.fail("resolved a malformed value"))


# ------------------------------------------------------------------ frames over a pipe (no other process)


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        try:
            os.close(fd)
        except OSError:
            pass


def test_a_frame_crosses_a_pipe(pipe):
    read_fd, write_fd = pipe
    message = {"do": "call", "args": wire.encode([np.arange(3.0), "x"], lambda obj: pytest.fail("exported"))}
    wire.send(write_fd, message)
    wire.send(write_fd, {"do": "exit"})
    assert wire.receive(read_fd, time.monotonic() + 5) == message
    assert wire.receive(read_fd) == {"do": "exit"}


def test_a_frame_that_is_not_an_object_is_refused(pipe):
    read_fd, write_fd = pipe
    data = json.dumps([1, 2]).encode()
    os.write(write_fd, struct.pack(">Q", len(data)) + data)
    with pytest.raises(wire.WireError, match="not a JSON object"):
        wire.receive(read_fd)


def test_a_frame_over_the_limit_is_refused_unread(pipe):
    read_fd, write_fd = pipe
    os.write(write_fd, struct.pack(">Q", wire.MAX_FRAME + 1))
    with pytest.raises(wire.WireError, match="larger than the limit"):
        wire.receive(read_fd)


def test_half_a_frame_times_out(pipe):
    read_fd, write_fd = pipe
    os.write(write_fd, struct.pack(">Q", 100) + b'{"do": ')
    started = time.monotonic()
    with pytest.raises(wire.WireTimeout):
        wire.receive(read_fd, time.monotonic() + 0.05)
    assert time.monotonic() - started < 2


def test_a_closed_pipe_is_a_wire_error(pipe):
    read_fd, write_fd = pipe
    os.write(write_fd, struct.pack(">Q", 10) + b"{}")
    os.close(write_fd)
    with pytest.raises(wire.WireError, match="closed the connection") as raised:
        wire.receive(read_fd, time.monotonic() + 5)
    assert not isinstance(raised.value, wire.WireTimeout)


def test_items_accepts_only_lists():
    assert wire.items([1]) == [1]
    for bad in [(1,), {"a": 1}, "ab"]:
        with pytest.raises(wire.WireError):
            wire.items(bad)
