"""wire.py: plain data crosses as itself (arrays keep shape and dtype), lying subclasses cross as their plain
values, everything else stays behind as a reference, and malformed data is refused."""

from __future__ import annotations

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
