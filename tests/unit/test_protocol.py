"""protocol.py: the verbs both sides use are distinct, and a remote error comes back as a typed exception that is
also the builtin type the student's code raised, carrying what the student's process said about it."""

from __future__ import annotations

import pytest

from autograder import protocol
from autograder.protocol import RemoteError, remote_error


def test_verbs_and_tags_are_distinct_strings():
    verbs = [protocol.LOOKUP, protocol.CALL, protocol.GETATTR, protocol.BACKWARD, protocol.NEW_DICT,
             protocol.CONTENTS, protocol.EXIT, protocol.RUNNING, protocol.READY, protocol.CALLBACK]
    tags = [protocol.DO, protocol.VALUE, protocol.RAISED, protocol.MISSING]
    assert all(type(v) is str and v for v in verbs + tags)
    assert len(set(verbs)) == len(verbs) and len(set(tags)) == len(tags)


@pytest.mark.parametrize("name, builtin", [("ValueError", ValueError), ("IndexError", IndexError),
                                           ("ZeroDivisionError", ZeroDivisionError), ("KeyError", KeyError)])
def test_a_builtin_error_is_that_type_and_a_remote_error(name, builtin):
    error = remote_error({"type": name, "message": "bad shape", "line": " (in f, at `x = y`)", "in_tensor_op": 1})
    assert isinstance(error, builtin) and isinstance(error, RemoteError)
    assert error.remote_type == name and error.line == " (in f, at `x = y`)" and error.in_tensor_op is True
    with pytest.raises(builtin):
        raise error


def test_the_same_type_gives_the_same_class():
    first, second = remote_error({"type": "TypeError", "message": "a"}), remote_error({"type": "TypeError"})
    assert type(first) is type(second) and type(first).__name__ == "RemoteTypeError"
    assert str(second) == "" and second.line == "" and second.in_tensor_op is False


@pytest.mark.parametrize("name", ["MyOwnError", "len", "StopIteration", "KeyboardInterrupt", "__import__"])
def test_anything_else_is_a_runtime_error_naming_the_type(name):
    error = remote_error({"type": name, "message": "boom"})
    assert type(error).__mro__[1:3] == (RemoteError, RuntimeError)
    assert str(error) == f"{name}: boom" and error.remote_type == name
    assert not isinstance(error, (StopIteration, KeyboardInterrupt))


def test_a_runtime_error_keeps_its_message():
    error = remote_error({"type": "RuntimeError", "message": "boom"})
    assert isinstance(error, RuntimeError) and str(error) == "boom"


def test_a_type_that_needs_more_than_a_message_falls_back_to_runtime_error():
    error = remote_error({"type": "UnicodeDecodeError", "message": "invalid start byte", "line": " (in g)"})
    assert isinstance(error, RuntimeError) and isinstance(error, RemoteError)
    assert not isinstance(error, UnicodeDecodeError)
    assert error.remote_type == "UnicodeDecodeError" and "UnicodeDecodeError: invalid start byte" in str(error)


def test_a_missing_type_is_an_exception():
    error = remote_error({})
    assert isinstance(error, Exception) and isinstance(error, RemoteError) and error.remote_type == "Exception"
