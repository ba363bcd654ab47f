"""Hidden checks for the exercise ``decorators``: count_calls, register, tensor_op.

The oracle for ``tensor_op`` is edugrad's own ``tensor_op``, applied to the
same operations on the same inputs.
"""

from __future__ import annotations

import numpy as np
from edugrad import ops as edu_ops
from edugrad.tensor import Tensor
from edugrad.tensor import tensor_op as edugrad_tensor_op

from autograder.shared_ops import Cube, ScaledMatmul
from autograder.checks.compare import (CheckFailure, attribute, call, contents, expect, expect_close, new_registry,
                                      seeds)
from autograder.checks.table import Test

# ---------------------------------------------------------------- count_calls


def _scale(x, factor=2):
    """Multiply x by factor."""
    return x * factor


def _fresh(fn):
    """A new function object with fn's code, so no earlier decoration leaks in."""
    import types

    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def _decorate(count_calls, fn):
    wrapped = call("count_calls", count_calls, fn)
    expect(callable(wrapped), f"count_calls(fn) returned {type(wrapped).__name__}, not a function.")
    return wrapped


def check_count_calls_result(count_calls):
    """The wrapper returns what fn returns, for positional and keyword arguments."""
    wrapped = _decorate(count_calls, _fresh(_scale))
    for args, kwargs, want in [((3,), {}, 6), ((3, 5), {}, 15), ((2,), {"factor": 7}, 14), ((), {"x": 4, "factor": 0.5}, 2.0)]:
        got = call("the decorated function", wrapped, *args, **kwargs)
        if got is None:
            raise CheckFailure(
                "The decorated function returned None: the wrapper drops the return value "
                "(it calls fn but must also `return fn(*args, **kwargs)`)."
            )
        expect(got == want, f"The decorated _scale{args or ''}{kwargs or ''} returned {got!r}, expected {want!r}: "
               "the wrapper must pass every positional and keyword argument on to fn unchanged.")

    def fails():
        raise ValueError("boom")

    wrapped = _decorate(count_calls, fails)
    try:
        wrapped()
    except ValueError:
        pass
    except Exception as error:
        raise CheckFailure(f"A decorated function that raises ValueError raised {type(error).__name__} instead.") from None
    else:
        raise CheckFailure("A decorated function that raises ValueError returned normally: the wrapper must not swallow exceptions.")


def check_count_calls_counter(count_calls):
    """Each decorated function has its own ``calls`` counter, starting at 0."""
    missing = object()
    first = _decorate(count_calls, _fresh(_scale))
    calls = attribute(first, "calls", missing)
    expect(calls is not missing, "The decorated function has no attribute `calls`: "
           "count_calls must store the counter on the wrapper it returns (wrapper.calls).")
    expect(calls == 0, f"A freshly decorated function has calls == {calls!r}, expected 0.")
    for n in range(1, 4):
        first(n)
        calls = attribute(first, "calls")
        if calls != n:
            shared = (" It counts other functions' calls too: one call counter is shared by every decorated "
                      "function; each wrapper needs its own counter.") if isinstance(calls, int) and calls > n else ""
            raise CheckFailure(f"After {n} call(s), calls == {calls!r}, expected {n}.{shared}")
    second = _decorate(count_calls, _fresh(_scale))
    expect(attribute(second, "calls", missing) is not missing, "The second decorated function has no attribute `calls`.")
    second(1)
    first_calls, second_calls = attribute(first, "calls"), attribute(second, "calls")
    if first_calls != 3 or second_calls != 1:
        raise CheckFailure(
            f"Two decorated functions called 3 and 1 times report calls == {first_calls!r} and {second_calls!r}: "
            "one call counter is shared by every decorated function; each wrapper needs its own counter."
        )


def check_count_calls_metadata(count_calls):
    """The wrapper keeps fn's ``__name__``, ``__doc__`` and ``__wrapped__`` (functools.wraps)."""
    fn = _fresh(_scale)
    wrapped = _decorate(count_calls, fn)
    lost = [attr for attr in ("__name__", "__doc__", "__qualname__", "__module__")
            if attribute(wrapped, attr) != getattr(fn, attr)]
    if lost:
        raise CheckFailure(
            f"The wrapper loses {', '.join(lost)} (e.g. __name__ is {attribute(wrapped, '__name__')!r}, "
            f"expected {fn.__name__!r}): decorate the wrapper with functools.wraps(fn)."
        )
    expect(attribute(wrapped, "__wrapped__") is fn,
           "The wrapper has no __wrapped__ pointing to fn: use functools.wraps(fn).")


# ------------------------------------------------------------------- register


def check_register(register):
    """register(registry) stores fn under fn.__name__ and returns fn itself."""
    registry, other = new_registry(register), new_registry(register)
    decorator = call("register", register, registry)
    expect(callable(decorator), f"register(registry) returned {type(decorator).__name__}; it must return a decorator.")
    calls = []

    def tokenize(text):
        calls.append(text)
        return text.split()

    result = call("register(registry)", decorator, tokenize)
    if result is None:
        raise CheckFailure("register(registry)(fn) returned None, so the decorated name becomes None: "
                           "the decorator must `return fn`.")
    expect(result is tokenize, "register(registry)(fn) must return fn itself, unchanged (not a wrapper or a copy).")
    expect(calls == [], "Registering a function called it: register must only store it.")
    stored = contents(registry)
    expect("tokenize" in stored, f"After registering `tokenize`, the registry's keys are {sorted(map(str, stored))}: "
           "store the function under fn.__name__.")
    expect(stored["tokenize"] is tokenize, "registry['tokenize'] is not the registered function itself.")

    def lemmatize(text):
        return text

    call("register(registry)", decorator, lemmatize)
    call("register(other)", call("register", register, other), _scale)
    registry, other = contents(registry), contents(other)
    expect(set(registry) == {"tokenize", "lemmatize"} and set(other) == {"_scale"},
           f"Two registries hold {sorted(map(str, registry))} and {sorted(map(str, other))}, expected ['lemmatize', 'tokenize'] and "
           "['_scale']: each register(registry) must store into the registry it was given.")


# ------------------------------------------------------------------ tensor_op


# The operations live in a module that the student's process can import too (see judge.py).
_scaled_matmul, _cube = ScaledMatmul, Cube


def _make(tensor_op, op):
    fn = call("tensor_op", tensor_op, op)
    expect(callable(fn), f"tensor_op(op) returned {type(fn).__name__}, not a function.")
    return fn


def _apply(name, fn, *inputs, **kwargs):
    out = call(name, fn, *inputs, **kwargs)
    if out is None:
        raise CheckFailure(f"{name} returned None: the function made by tensor_op must return the new Tensor.")
    expect(isinstance(out, Tensor), f"{name} returned {type(out).__name__}; it must return an edugrad Tensor.")
    return out


def check_tensor_op_forward(tensor_op):
    """Forward values (with keyword arguments) and the graph edges to the inputs."""
    matmul = _make(tensor_op, _scaled_matmul)
    for seed in seeds():
        rng = np.random.default_rng(seed)
        a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
        ta, tb = Tensor(a.copy()), Tensor(b.copy())
        out = _apply("tensor_op(op)(a, b, scale=...)", matmul, ta, tb, scale=0.5)
        expect_close("the output's value", out.value, a @ b * 0.5, context=f"(3,4) @ (4,2) with scale=0.5, seed {seed}",
                     mistakes={"the keyword arguments are not passed on to op.forward": a @ b})
        expect(np.array_equal(ta.value, a) and np.array_equal(tb.value, b), "Calling the op changed its inputs' values.")
        parents = list(getattr(out, "parents", ()) or ())
        if len(parents) != 2 or parents[0] is not ta or parents[1] is not tb:
            raise CheckFailure("The new Tensor's parents are not the input Tensors (in order): the graph is built from "
                               "them, so pass the inputs as the new Tensor's parents.")
        expect(np.shape(out.grad) == out.value.shape and not np.any(out.grad),
               "The new Tensor's grad should start as zeros of its value's shape (as Tensor(value, parents) does).")


def _reference_grads(op, build, values):
    """Gradients of the inputs under edugrad's own tensor_op."""
    fn = edugrad_tensor_op(op)
    tensors = [Tensor(v.copy()) for v in values]
    build(fn, tensors).backward()
    return [t.grad for t in tensors]


def _student_grads(tensor_op, op, build, values, label):
    fn = _make(tensor_op, op)
    tensors = [Tensor(v.copy()) for v in values]
    try:
        loss = build(lambda *xs, **kw: _apply(label, fn, *xs, **kw), tensors)
        loss.backward()
    except CheckFailure:
        raise
    except Exception as error:
        raise CheckFailure(f"backward() through {label} raised {type(error).__name__}: {error}") from None
    return tensors


def check_tensor_op_backward(tensor_op):
    """Gradients reach every input, accumulate with +=, and use each call's own ctx."""
    # Two calls, then backward through the first: each call must have its own ctx.
    cube = _make(tensor_op, _cube)
    x1, x2 = Tensor(np.array([1.0, 2.0, -1.0])), Tensor(np.array([3.0, -2.0, 0.5]))
    first = _apply("tensor_op(op)(x)", cube, x1)
    _apply("tensor_op(op)(x)", cube, x2)
    edu_ops.reduce_sum(first).backward()
    expect_close("x1.grad after cube(x1), cube(x2), backward from cube(x1)", x1.grad, 3 * x1.value**2, {
        "all calls share one ctx list (create a fresh `ctx = []` inside the function, on every call)":
            3 * x2.value**2,
        "the backward never reaches the inputs (attach a _backward to the new Tensor)": np.zeros(3),
    })

    for seed in seeds():
        rng = np.random.default_rng(seed)
        a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
        context = f"L = sum(scaled_matmul(a, b)) with a (3,4), b (4,2), seed {seed}"

        def loss(fn, ts):
            return edu_ops.reduce_sum(fn(ts[0], ts[1], scale=2.0))

        want = _reference_grads(_scaled_matmul, loss, [a, b])
        got = _student_grads(tensor_op, _scaled_matmul, loss, [a, b], "tensor_op(op)(a, b)")
        never = {"the backward never reaches the inputs (attach a _backward to the new Tensor that adds "
                 "op.backward's gradients into each input's .grad)": np.zeros_like(a)}
        expect_close("a.grad", got[0].grad, want[0], never, context)
        expect_close("b.grad", got[1].grad, want[1], {k: np.zeros_like(b) for k in never}, context)

    # A chain: the gradient must flow through both nodes, which needs the graph's edges.
    x = Tensor(np.array([0.5, -1.5, 2.0]))
    edu_ops.reduce_sum(_apply("tensor_op(op)(x)", cube, _apply("tensor_op(op)(x)", cube, x))).backward()
    expect_close("x.grad for L = sum(cube(cube(x)))", x.grad, 9 * x.value**8, {
        "the backward never reaches the inputs: backward() walks the graph through each Tensor's parents, "
        "so the new Tensor's parents must be the inputs": np.zeros(3),
    })

    # A tensor used twice: both uses contribute to its gradient.
    rng = np.random.default_rng(10)
    x = rng.normal(size=(3, 3))
    twice = _reference_grads(_scaled_matmul, lambda fn, ts: edu_ops.reduce_sum(fn(ts[0], ts[0])), [x])[0]
    # What an overwriting backward leaves: only the last of the two contributions.
    first_only, second_only = np.ones((3, 3)) @ x.T, x.T @ np.ones((3, 3))
    got = _student_grads(tensor_op, _scaled_matmul, lambda fn, ts: edu_ops.reduce_sum(fn(ts[0], ts[0])), [x],
                         "tensor_op(op)(x, x)")[0].grad
    expect_close("x.grad for L = sum(x @ x)", got, twice, {
        "a gradient is overwritten instead of added to (use `+=`: a tensor used twice gets both contributions)":
            second_only,
        "a gradient is overwritten instead of added to (use `+=`; here only the first use's contribution survived)":
            first_only,
        "the backward never reaches the inputs": np.zeros_like(x),
    }, "x (3,3) used as both inputs")

    # Gradients add into whatever .grad already holds.
    x = Tensor(np.array([1.0, -2.0]))
    x.grad = np.array([10.0, 10.0])
    edu_ops.reduce_sum(_apply("tensor_op(op)(x)", cube, x)).backward()
    expect_close("x.grad that held [10, 10] before backward", x.grad, 10 + 3 * x.value**2, {
        "a gradient is overwritten instead of added to (use `+=`)": 3 * x.value**2,
    })


# ------------------------------------------------------------- the test table

MIRRORS_TENSORS = True  # edugrad Tensors cross as mirrors (see autograder/tensors.py)

TESTS = {
    "test_count_calls_result": Test(check_count_calls_result, ("count_calls",)),
    "test_count_calls_counter": Test(check_count_calls_counter, ("count_calls",)),
    "test_count_calls_metadata": Test(check_count_calls_metadata, ("count_calls",)),
    "test_register": Test(check_register, ("register",)),
    "test_tensor_op_forward": Test(check_tensor_op_forward, ("tensor_op",)),
    "test_tensor_op_backward": Test(check_tensor_op_backward, ("tensor_op",)),
}
