"""The kit every check uses: calling the student's functions, comparing with the oracle, saying what is wrong.

Every check raises :class:`CheckFailure` with a sentence meant for the student, naming a known mistake
in its ``mistake`` field when one explains the answer. The judge turns it into a verdict; in a plain
nbgrader kernel, :func:`run` turns it into one short ``AssertionError``, so the feedback shows the
sentence and not the checker's code. Also here: the random sizes the checks draw, the inputs a call must
leave unchanged, the pair a function must return, and hints appended to a crash's message.
"""

from __future__ import annotations

import traceback
from typing import Callable, Mapping

import numpy as np

from autograder.protocol import RemoteError

# The tolerances, stated once: float64 answers must match the oracle this closely.
RTOL = 1e-6
ATOL = 1e-8


class CheckFailure(AssertionError):
    """A check failed; the message says what was checked and what differs, ``mistake`` which known mistake it is."""

    def __init__(self, message: str, mistake: str = ""):
        super().__init__(message)
        self.mistake = mistake  # the description of a known mistake the answer matches, or ""

    def but(self, message: str) -> "CheckFailure":
        """The same failure with another message (a hint added), still naming its mistake."""
        return CheckFailure(message, self.mistake)


def named(description: str) -> str:
    """The sentence that names a known mistake in a message ("" for none)."""
    return f" This is what happens when {description}." if description else ""


def run(check: Callable, *args, **kwargs) -> None:
    """Run one hidden check inside a test cell and report a failure cleanly."""
    try:
        check(*args, **kwargs)
    except CheckFailure as failure:
        message = str(failure)
    else:
        print(f"{check.__name__}: passed")
        return
    # Raised outside the except block so the traceback shows no checker frames.
    raise AssertionError(message)


def call(name: str, fn: Callable, *args, **kwargs):
    """Call the student's ``fn``; turn any exception into a readable failure."""
    if not callable(fn):
        raise CheckFailure(f"{name} is not a function (it is {type(fn).__name__}).")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailure(f"{name} is not implemented yet (it raised NotImplementedError).") from None
    except CheckFailure:
        raise
    except Exception as error:  # the student's bug: report it, do not crash the check
        where = student_line(error)
        raise CheckFailure(
            f"{name} raised {type(error).__name__}: {error}{where}"
        ) from None


def call_with_hint(name: str, fn: Callable, *args, hint: Callable[[str], str]):
    """:func:`call`; if it fails, the failure's message is followed by ``hint(message)`` (a sentence, or "")."""
    try:
        return call(name, fn, *args)
    except CheckFailure as failure:
        raise failure.but(str(failure) + hint(str(failure))) from None


def mentions(message: str, *words: str) -> bool:
    """Whether a crash's message holds any of ``words`` (e.g. "matmul", "broadcast": a shape error)."""
    return any(word in message for word in words)


def changed_inputs(names, originals, passed) -> list[str]:
    """The ``names`` of the inputs a call changed: each copy ``passed`` to it compared with its original
    (arrays by value, lists with ==)."""
    return [name for name, original, after in zip(names, originals, passed)
            if not (original == after if isinstance(original, list) else np.array_equal(original, after))]


def expect_unchanged(function: str, changed: list[str], advice: str) -> None:
    """Fail if ``changed`` (from :func:`changed_inputs`) names an input: "<function> changed its input <the first>
    in place" followed by ``advice``, in which "{arg}" stands for that input's name."""
    if changed:
        raise CheckFailure(f"{function} changed its input {changed[0]} in place" + advice.format(arg=changed[0]))


def pair(name: str, out, names: str) -> tuple:
    """The two results of ``name`` (anything that unpacks into two), or a failure that says what came back.

    ``names`` reads as the function's return statement should, e.g. "(H_top, h_n)".
    """
    if out is None:
        raise CheckFailure(f"{name} returned None: did it forget to `return {names}`?")
    if isinstance(out, (tuple, list)) and len(out) != 2:
        what = f"{len(out)} values"
    else:
        try:
            first, second = out
            return first, second
        except Exception:  # whatever it returned does not unpack into two values
            try:
                what = f"one array of shape {as_array(name, out).shape}"
            except CheckFailure:
                what = "one value"
    raise CheckFailure(f"{name} must return two results, {names}; it returned {what}.")


def student_line(error: BaseException) -> str:
    """Name the innermost notebook line of a traceback, if there is one."""
    if isinstance(error, RemoteError):  # raised in the student's process: it says where
        return error.line
    frames = traceback.extract_tb(error.__traceback__)
    notebook = [f for f in frames if "ipykernel" in f.filename or f.filename.startswith("<")]
    if not notebook:
        return ""
    frame = notebook[-1]
    line = (frame.line or "").strip()
    return f" (in {frame.name}, at `{line}`)" if line else f" (in {frame.name}, line {frame.lineno})"


def as_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array, or a failure naming what it was instead."""
    if value is None:
        raise CheckFailure(f"{name} is None: did the function forget to `return`?")
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().numpy()
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise CheckFailure(
            f"{name} should be an array of numbers, got {type(value).__name__} ({error})."
        ) from None
    return array


def expect_close(
    name: str,
    got,
    want: np.ndarray,
    mistakes: Mapping[str, np.ndarray] | None = None,
    context: str = "",
) -> None:
    """Fail unless ``got`` matches ``want`` in shape and value.

    Args:
        name: what is being compared, as the student knows it (e.g. "dW_h").
        got: the student's answer (array-like).
        want: the oracle's answer.
        mistakes: optional {description of a known mistake: what that mistake
            would have returned on the same input}. Used only to explain a
            failure; the verdict always comes from comparing with ``want``.
        context: the input it was checked on, e.g. "B=3, T=5, D=4, H=2, seed 1".
    """
    got = as_array(name, got)
    want = np.asarray(want, dtype=np.float64)
    where = f" on {context}" if context else ""
    if got.shape != want.shape:
        mistake = matching_mistake(got, mistakes)
        raise CheckFailure(f"{name} has shape {got.shape}, expected {want.shape}{where}.{named(mistake)}", mistake)
    if np.allclose(got, want, rtol=RTOL, atol=ATOL) and np.isfinite(got).all():
        return
    mistake = matching_mistake(got, mistakes)
    if not np.isfinite(got).all():
        detail = f"{name} contains nan or inf{where}"
    else:
        error = np.abs(got - want)
        index = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()
        largest = (f"largest error {error.max():.3g} at index {tuple(int(i) for i in index)}" if error.ndim
                   else f"error {error:.3g}")  # a single number has no index
        detail = (
            f"{name} differs from the expected value{where}: {largest} "
            f"(got {got[index]:.6g}, expected {want[index]:.6g})"
        )
    raise CheckFailure(detail + "." + named(mistake), mistake)


def matching_mistake(got, mistakes: Mapping[str, np.ndarray] | None) -> str:
    """The description of the known mistake whose answer ``got`` equals (within the tolerances), or ""."""
    try:
        got = as_array("", got)
    except CheckFailure:
        return ""
    for description, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == got.shape and np.allclose(got, wrong, rtol=RTOL, atol=ATOL, equal_nan=True):
            return description
    return ""


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(message)


def seeds(count: int = 3) -> range:
    """The seeds every randomized check runs over."""
    return range(count)


def distinct_sizes(rng: np.random.Generator, count: int) -> tuple[int, ...]:
    """``count`` sizes from 2 to 7, all different (B, T, D, H...): a transposed weight or a swapped axis cannot pass."""
    return tuple(int(n) for n in rng.choice(np.arange(2, 8), size=count, replace=False))


def elman_weights(rng: np.random.Generator, D: int, H: int) -> tuple[np.ndarray, ...]:
    """Random (W_x (D, H), W_h (H, H), b_ih (H,), b_hh (H,)) for one Elman layer, scaled to keep tanh unsaturated."""
    return (rng.normal(scale=1 / np.sqrt(D), size=(D, H)), rng.normal(scale=1 / np.sqrt(H), size=(H, H)),
            rng.normal(scale=0.5, size=H), rng.normal(scale=0.5, size=H))


# Objects of the student's may live in another process (autograder/judge.py). These three
# helpers work the same on a local object and on the judge's stand-in for a remote one.


def attribute(obj, name: str, default=None):
    """``getattr(obj, name, default)``, also for an object in the student's process."""
    student = getattr(obj, "_student", None)
    try:
        return student.getattr(obj, name) if student is not None else getattr(obj, name)
    except AttributeError:
        return default


def new_registry(near):
    """An empty dict for the student's code to fill: made in the process where ``near`` lives."""
    student = getattr(near, "_student", None)
    return student.new_dict() if student is not None else {}


def contents(registry) -> dict:
    """What ``registry`` (from :func:`new_registry`) holds now, as a plain dict."""
    student = getattr(registry, "_student", None)
    return student.contents(registry) if student is not None else dict(registry)
