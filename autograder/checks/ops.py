"""Hidden checks for the exercise ``ops``: eight edugrad operations.

Every operation is checked forward and backward, against torch in float64 on
seeded random inputs of non-square shapes:

* forward: the output's value, with the inputs left unchanged;
* backward: the gradients that the operation's backward returns for a random
  upstream gradient G = dL/dv (so a backward that ignores grad_output cannot
  pass); then two calls, to show that each call's backward uses its own
  ``ctx``; then a scalar loss through edugrad's ``Tensor.backward()`` in a
  graph that uses an input more than once.

The gradients are caught where ``tensor_op`` adds them into each input's
``.grad`` (see :class:`_Caught`), so a gradient of the wrong shape is reported,
and matched against the known mistakes, instead of surfacing as a numpy
broadcasting error.
"""

from __future__ import annotations

import traceback

import numpy as np
import torch
from edugrad import ops as edu_ops
from edugrad.tensor import Operation, Tensor, tensor_op

from autograder.checks.oracles import torch_op as _torch
from autograder.protocol import RemoteError
from autograder.checks.compare import (ATOL, RTOL, CheckFailure, student_line, as_array, call, expect, expect_close,
                                      seeds)
from autograder.checks.table import Test

IGNORES_GRAD = ("the backward ignores grad_output: it returns the local derivative instead of multiplying it by "
                "grad_output = dL/dv (the chain rule)")
OWN_CTX = ("the backward used values saved by another call of the operation: keep everything backward needs in ctx, "
           "the list that tensor_op creates for each call (not in a global variable or an attribute)")

# ------------------------------------------------------------------ helpers


class _Caught:
    """Stands in for an input's ``.grad``: keeps what ``tensor_op`` adds into it with ``+=``."""

    def __init__(self):
        self.added = []

    def __iadd__(self, other):
        self.added.append(other)
        return self


@tensor_op
class _weighted_sum(Operation):
    """L = sum(weights * v): a scalar loss whose upstream gradient dL/dv is ``weights``."""

    @staticmethod
    def forward(ctx, v, weights=None):
        ctx.append(weights)
        return np.sum(weights * v)

    @staticmethod
    def backward(ctx, grad_output):
        (weights,) = ctx
        return [grad_output * weights]


def _leaves(arrays):
    """Fresh Tensors holding copies of ``arrays`` (the student never sees the originals)."""
    return [Tensor(np.array(a, dtype=np.float64)) for a in arrays]


def _apply(op, fn, tensors, kwargs):
    out = call(op, fn, *tensors, **kwargs)
    expect(isinstance(out, Tensor), f"{op}(...) returned {type(out).__name__}, not an edugrad Tensor: "
           "keep the @tensor_op decorator above the class.")
    return out


def _backward_failure(op, error):
    """A sentence for an exception raised while running a node's backward."""
    if isinstance(error, RemoteError):  # raised in the student's process: it says where
        in_tensor_op = error.in_tensor_op
    else:
        frames = traceback.extract_tb(error.__traceback__)
        in_tensor_op = bool(frames) and frames[-1].filename.replace("\\", "/").endswith("edugrad/tensor.py")
    if in_tensor_op and isinstance(error, IndexError):
        return (f"{op}'s backward returned fewer gradients than {op} has inputs: backward must return a list with "
                "one gradient per input, in the order of the inputs.")
    if in_tensor_op and isinstance(error, TypeError) and "NoneType" in str(error):
        return f"{op}'s backward returned None: did it forget to `return` the list of gradients?"
    if in_tensor_op and isinstance(error, TypeError):
        return (f"{op}'s backward returned something that tensor_op cannot index ({error}): return a list with one "
                "gradient per input.")
    if in_tensor_op and isinstance(error, ValueError):
        return (f"A gradient returned by {op}'s backward does not fit its input ({error}): each gradient must have "
                "the shape of its input.")
    return f"{op}'s backward raised {type(error).__name__}: {error}{student_line(error)}"


def _run_backward(op, run):
    try:
        run()
    except CheckFailure:
        raise
    except NotImplementedError:
        raise CheckFailure(f"{op}'s backward is not implemented yet (it raised NotImplementedError).") from None
    except Exception as error:  # the student's bug: report it, do not crash the check
        raise CheckFailure(_backward_failure(op, error)) from None


def _returned_gradients(op, fn, arrays, G, kwargs=None):
    """What op's backward returns for each input, given the upstream gradient ``G``."""
    tensors = _leaves(arrays)
    out = _apply(op, fn, tensors, kwargs or {})
    for tensor in tensors:
        tensor.grad = _Caught()
    out.grad = np.array(G)
    _run_backward(op, out._backward)
    grads = []
    for k, tensor in enumerate(tensors):
        caught = tensor.grad
        expect(isinstance(caught, _Caught) and len(caught.added) == 1,
               f"Input {k + 1} of {op} received no gradient from its backward: backward must return one gradient "
               "per input.")
        grads.append(caught.added[0])
    return grads


def _expect_value(op, fn, arrays, names, want, mistakes, context, kwargs=None, hint=""):
    """The forward value matches ``want``, and the inputs are left unchanged."""
    tensors = _leaves(arrays)
    out = _apply(op, fn, tensors, kwargs or {})
    for tensor, array, name in zip(tensors, arrays, names):
        if np.shape(tensor.value) != np.shape(array) or not np.array_equal(tensor.value, array):
            raise CheckFailure(
                f"{op} changed its input {name} in place (as `x -= ...` or `x[...] = ...` in forward do): forward "
                "must compute a new array and leave its inputs as they were, since they belong to the graph.")
    try:
        expect_close(f"the value of {op}(...)", out.value, want, mistakes, context)
    except CheckFailure as failure:
        message = str(failure)
        if hint and "This is what happens" not in message and "nan or inf" in message:
            message += " " + hint
        raise failure.but(message) from None


def _expect_gradient(op, name, got, want, mistakes, context, single_input=False):
    """A gradient returned by op's backward matches ``want``."""
    if single_input and as_array(f"dL/d{name}", got).shape == want.shape[1:]:
        raise CheckFailure(
            f"{op}'s backward returned the gradient itself instead of a list holding it (tensor_op took its first "
            f"row as the gradient of {name}): return [grad], a list with one gradient per input.")
    expect_close(f"dL/d{name} returned by {op}'s backward", got, want, mistakes, context)


def _expect_own_ctx(op, fn, torch_fn, first, second, names, context, kw_first=None, kw_second=None, rng=None):
    """Call op twice, then run the first call's backward: it must use the first call's ctx."""
    value, _ = _torch(torch_fn, first, **(kw_first or {}))
    G = rng.normal(size=value.shape)
    _, want = _torch(torch_fn, first, G, **(kw_first or {}))
    _, other = _torch(torch_fn, second, G, **(kw_second or {}))
    tensors = _leaves(first)
    out = _apply(op, fn, tensors, kw_first or {})
    _apply(op, fn, _leaves(second), kw_second or {})
    for tensor in tensors:
        tensor.grad = _Caught()
    out.grad = G
    _run_backward(op, out._backward)
    for tensor, name, w, o in zip(tensors, names, want, other):
        expect(len(tensor.grad.added) == 1, f"Input {name} of {op} received no gradient from its backward.")
        expect_close(f"dL/d{name} from the first of two calls of {op}", tensor.grad.added[0], w, {OWN_CTX: o},
                     context + "; backward of the first call, after a second call on other inputs")


def _expect_graph(op, label, build, build_torch, arrays, names, context):
    """A scalar loss through Tensor.backward(): every leaf's .grad matches torch's.

    Judged only when the loss's value is right: a wrong forward is the forward check's to report, so that a
    mistake there does not also cost the backward's points.
    """
    tensors = _leaves(arrays)
    inputs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    loss_t = build_torch(inputs)
    try:
        loss = build(tensors)
    except CheckFailure:  # the operation raised: say so
        raise
    except Exception:  # an output of the wrong shape did not fit the loss
        return
    if not np.allclose(np.asarray(loss.value, dtype=np.float64), loss_t.item(), rtol=RTOL, atol=ATOL):
        return
    _run_backward(op, loss.backward)
    loss_t.backward()
    for tensor, x, name in zip(tensors, inputs, names):
        expect_close(f"{name}.grad after loss.backward() for L = {label}", tensor.grad, x.grad.numpy(),
                     context=context)


def _ws(v, weights):
    return _weighted_sum(v, weights=weights)


# ------------------------------------------------------- elementwise operations

_ELEMENTWISE_SHAPES = [(3, 5), (4, 2, 3), (7,)]
_TORCH = {"exp": torch.exp, "log": torch.log, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def _elementwise_input(op, rng, shape):
    if op == "log":
        return rng.uniform(0.2, 4.0, size=shape)
    return rng.normal(size=shape) * {"exp": 2.0, "tanh": 1.5, "sigmoid": 3.0}[op]


def _forward_mistakes(op, x):
    if op == "log":
        base = "the logarithm has the wrong base: log is the natural logarithm, np.log"
        return {base + " (not np.log10)": np.log10(x), base + " (not np.log2)": np.log2(x)}
    if op == "sigmoid":
        return {"the sign of the exponent is wrong: 1 / (1 + e^x) is sigmoid(-x); sigmoid(x) = 1 / (1 + e^-x)":
                1 / (1 + np.exp(x))}
    return {}


def _backward_mistakes(op, x, v, G):
    if op == "exp":
        return {IGNORES_GRAD: v,
                "the backward multiplies by the input x instead of e^x (the saved output)": G * x,
                "the backward applies exp to a saved value that already is e^x (it computes e^(e^x))": G * np.exp(v)}
    if op == "log":
        return {"the backward uses the logarithm (grad_output * log x); the derivative of log x is 1 / x":
                G * np.log(x),
                "the backward multiplies by x instead of dividing by it (the derivative of log x is 1 / x)": G * x,
                IGNORES_GRAD: 1 / x}
    if op == "tanh":
        return {"the derivative of tanh is written 1 - tanh(x) instead of 1 - tanh(x)**2": G * (1 - v),
                "the derivative uses the input x instead of the output tanh(x): 1 - x**2 instead of 1 - tanh(x)**2":
                    G * (1 - x**2),
                IGNORES_GRAD: 1 - v**2}
    if op == "sigmoid":
        return {"the derivative of the sigmoid s is written s instead of s * (1 - s)": G * v,
                "the derivative of the sigmoid s is written 1 - s instead of s * (1 - s)": G * (1 - v),
                "the derivative uses the input x instead of the output s: x * (1 - x) instead of s * (1 - s)":
                    G * x * (1 - x),
                IGNORES_GRAD: v * (1 - v)}
    raise ValueError(op)


def _check_elementwise_forward(op, fn):
    for seed in seeds():
        rng = np.random.default_rng(seed)
        shape = _ELEMENTWISE_SHAPES[seed % len(_ELEMENTWISE_SHAPES)]
        x = _elementwise_input(op, rng, shape)
        want, _ = _torch(_TORCH[op], [x])
        _expect_value(op, fn, [x], ["x"], want, _forward_mistakes(op, x), f"x of shape {shape}, seed {seed}")


def _check_elementwise_backward(op, fn):
    for seed in seeds():
        rng = np.random.default_rng(seed)
        shape = _ELEMENTWISE_SHAPES[seed % len(_ELEMENTWISE_SHAPES)]
        x = _elementwise_input(op, rng, shape)
        G = rng.normal(size=shape)
        v, (want,) = _torch(_TORCH[op], [x], G)
        (got,) = _returned_gradients(op, fn, [x], G)
        _expect_gradient(op, "x", got, want, _backward_mistakes(op, x, v, G),
                         f"x of shape {shape} and a random upstream gradient grad_output, seed {seed}",
                         single_input=True)
    rng = np.random.default_rng(10)
    first, second = _elementwise_input(op, rng, (4, 3)), _elementwise_input(op, rng, (4, 3))
    _expect_own_ctx(op, fn, _TORCH[op], [first], [second], ["x"], "x of shape (4, 3)", rng=rng)
    # x feeds two calls of the operation; the loss goes through Tensor.backward().
    x = _elementwise_input(op, rng, (2, 5))
    R1, R2 = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    _expect_graph(op, f"sum(R1 * {op}(x)) + sum(R2 * {op}(x))",
                  lambda ts: edu_ops.add(_ws(_apply(op, fn, ts, {}), R1), _ws(_apply(op, fn, ts, {}), R2)),
                  lambda ts: sum((_TORCH[op](ts[0]) * torch.tensor(R)).sum() for R in (R1, R2)),
                  [x], ["x"], "x of shape (2, 5), R1 and R2 random")


def check_exp_forward(exp):
    """exp(x) = e^x elementwise, any shape."""
    _check_elementwise_forward("exp", exp)


def check_exp_backward(exp):
    """exp's backward: dL/dx = grad_output * e^x, for two calls and in a graph."""
    _check_elementwise_backward("exp", exp)


def check_log_forward(log):
    """log(x) is the natural logarithm, elementwise."""
    _check_elementwise_forward("log", log)


def check_log_backward(log):
    """log's backward: dL/dx = grad_output / x, for two calls and in a graph."""
    _check_elementwise_backward("log", log)


def check_tanh_forward(tanh):
    """tanh(x) elementwise, any shape."""
    _check_elementwise_forward("tanh", tanh)


def check_tanh_backward(tanh):
    """tanh's backward: dL/dx = grad_output * (1 - tanh(x)**2), for two calls and in a graph."""
    _check_elementwise_backward("tanh", tanh)


def check_sigmoid_forward(sigmoid):
    """sigmoid(x) = 1 / (1 + e^-x) elementwise, any shape."""
    _check_elementwise_forward("sigmoid", sigmoid)


def check_sigmoid_backward(sigmoid):
    """sigmoid's backward: dL/dx = grad_output * s * (1 - s), for two calls and in a graph."""
    _check_elementwise_backward("sigmoid", sigmoid)


# ------------------------------------------------------------------- multiply

_MULTIPLY_SHAPES = [(3, 5), (2, 3, 4), (6, 2)]


def _times(a, b):
    return a * b


def check_multiply_forward(multiply):
    """multiply(a, b) = a * b elementwise (a square case first, so that a matrix product is recognized)."""
    rng = np.random.default_rng(20)
    cases = [((4, 4), "seed 20")] + [(shape, f"seed {seed}") for seed, shape in zip(seeds(), _MULTIPLY_SHAPES)]
    for shape, where in cases:
        a, b = rng.normal(size=shape), rng.normal(size=shape)
        mistakes = {}
        if len(shape) == 2 and shape[0] == shape[1]:
            mistakes["multiply computes the matrix product a @ b; it must multiply elementwise, a * b"] = a @ b
        _expect_value("multiply", multiply, [a, b], ["a", "b"], a * b, mistakes,
                      f"a and b of shape {shape}, {where}")


def check_multiply_backward(multiply):
    """Two gradients, each involving the other input; multiply(x, x) and a chain through Tensor.backward()."""
    for seed in seeds():
        rng = np.random.default_rng(seed)
        shape = _MULTIPLY_SHAPES[seed]
        a, b, G = (rng.normal(size=shape) for _ in range(3))
        _, want = _torch(_times, [a, b], G)
        got = _returned_gradients("multiply", multiply, [a, b], G)
        swapped = ("the two gradients are swapped: the gradient of a is grad_output * b (the other input), "
                   "and the gradient of b is grad_output * a")
        context = f"a and b of shape {shape} and a random upstream gradient grad_output, seed {seed}"
        for name, got_k, want_k, other, own in [("a", got[0], want[0], b, a), ("b", got[1], want[1], a, b)]:
            _expect_gradient("multiply", name, got_k, want_k, {
                swapped: G * own,
                IGNORES_GRAD: other,
                "the backward returns grad_output for both inputs (that is the gradient of a + b, not of a * b)": G,
            }, context)
    rng = np.random.default_rng(11)
    first = [rng.normal(size=(3, 4)) for _ in range(2)]
    second = [rng.normal(size=(3, 4)) for _ in range(2)]
    _expect_own_ctx("multiply", multiply, _times, first, second, ["a", "b"], "a and b of shape (3, 4)", rng=rng)
    x, R = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    _expect_graph("multiply", "sum(R * multiply(x, x))",
                  lambda ts: _ws(_apply("multiply", multiply, [ts[0], ts[0]], {}), R),
                  lambda ts: (ts[0] * ts[0] * torch.tensor(R)).sum(),
                  [x], ["x"], "x of shape (2, 5) used as both inputs, R random")
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    R = rng.normal(size=(3, 2))
    _expect_graph("multiply", "sum(R * multiply(multiply(a, b), a))",
                  lambda ts: _ws(_apply("multiply", multiply, [_apply("multiply", multiply, ts, {}), ts[0]], {}), R),
                  lambda ts: (ts[0] * ts[1] * ts[0] * torch.tensor(R)).sum(),
                  [a, b], ["a", "b"], "a and b of shape (3, 2), R random")


# ---------------------------------------------------------------- log_softmax

_LOG_SOFTMAX_SHAPES = [(3, 5), (6, 4), (2, 7)]
LARGE_HINT = ("For inputs around ±1000, e^x overflows (or underflows to 0): subtract each row's maximum before "
              "exponentiating.")


def _log_softmax_torch(x, dim=-1):
    return torch.log_softmax(x, dim=dim)


def _softmax(x, axis=-1):
    return np.exp(torch.log_softmax(torch.tensor(x), dim=axis).numpy())


def _log_softmax_forward_mistakes(x):
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        shifted = x - x.max(axis=-1, keepdims=True)
        global_shift = x - x.max()
        return {
            "the softmax is taken over the wrong axis (axis 0, down each column): it must be over the last axis, "
            "within each row (axis=-1, keepdims=True)": torch.log_softmax(torch.tensor(x), dim=0).numpy(),
            "the sum of the exponentials runs over the whole array instead of each row "
            "(use .sum(axis=-1, keepdims=True))": shifted - np.log(np.exp(shifted).sum()),
            "the forward returns the softmax, not its logarithm": _softmax(x),
            "the forward returns x minus the row maximum, without subtracting log sum exp": shifted,
            "the maximum of the whole array is subtracted instead of each row's own maximum: rows far below the "
            "largest entry underflow to e^-2000 = 0 and their logarithm is -inf; use x.max(axis=-1, keepdims=True)":
                global_shift - np.log(np.exp(global_shift).sum(axis=-1, keepdims=True)),
            "the maximum is not subtracted before exponentiating: e^x overflows to inf for x around 1000 (and "
            "underflows to 0 around -1000), which gives inf or nan; subtract each row's maximum first":
                x - np.log(np.exp(x).sum(axis=-1, keepdims=True)),
            "the maximum is not subtracted before exponentiating: e^x overflows to inf for x around 1000, which "
            "gives inf or nan; subtract each row's maximum first":
                np.log(np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)),
        }


def _log_softmax_backward_mistakes(x, G):
    Y = torch.log_softmax(torch.tensor(x), dim=-1).numpy()
    P, P0 = np.exp(Y), _softmax(x, axis=0)
    D = x.shape[-1]
    return {
        "the backward forgets the sum: it returns grad_output - softmax, but the gradient is "
        "grad_output - softmax * (the sum of grad_output over the row)": G - P,
        "the backward sums grad_output over the wrong axis (axis 0, over the batch): it must be each row's sum, "
        ".sum(axis=-1, keepdims=True)": G - P * G.sum(axis=0, keepdims=True),
        "the softmax is taken over the wrong axis (axis 0, down each column): it must be over the last axis, "
        "within each row": G - P0 * G.sum(axis=0, keepdims=True),
        "the backward computes the softmax over the wrong axis (axis 0): softmax = exp(output) row by row":
            G - P0 * G.sum(axis=-1, keepdims=True),
        "the backward keeps only the diagonal of the Jacobian (grad_output * (1 - softmax)): every output of a row "
        "depends on every input of that row, so the gradient is grad_output - softmax * (row sum of grad_output)":
            G * (1 - P),
        "the backward uses the saved log-softmax as if it were the softmax (softmax = exp(log-softmax))":
            G - Y * G.sum(axis=-1, keepdims=True),
        IGNORES_GRAD: 1 - P * D,
    }


def check_log_softmax_forward(log_softmax):
    """log_softmax over the last axis of a (B, D) input, on moderate inputs."""
    for seed in seeds():
        rng = np.random.default_rng(seed)
        shape = _LOG_SOFTMAX_SHAPES[seed]
        x = rng.normal(size=shape) * 3
        want, _ = _torch(_log_softmax_torch, [x])
        _expect_value("log_softmax", log_softmax, [x], ["x"], want, _log_softmax_forward_mistakes(x),
                      f"x of shape {shape}, seed {seed}")


def _large(rng, shape):
    """Rows around +1000, -1000, 0, ...; the last row mixes +-1000 within itself."""
    B, D = shape
    offsets = np.array([1000.0, -1000.0, 0.0, 640.0, -350.0, 990.0])[:B]
    x = rng.normal(size=shape) * 5 + offsets[:, None]
    x[-1] = rng.choice([-1000.0, 1000.0], size=D) + rng.normal(size=D)
    return x


def check_log_softmax_large_inputs(log_softmax):
    """Values and gradients stay finite and exact for inputs as large as +-1000."""
    for seed, shape in zip(seeds(), [(4, 6), (6, 3), (3, 5)]):
        rng = np.random.default_rng(100 + seed)
        x = _large(rng, shape)
        G = rng.normal(size=shape)
        want, (want_grad,) = _torch(_log_softmax_torch, [x], G)
        context = f"x of shape {shape} with rows around +1000, -1000 and 0, seed {100 + seed}"
        _expect_value("log_softmax", log_softmax, [x], ["x"], want, _log_softmax_forward_mistakes(x), context,
                      hint=LARGE_HINT)
        if not _backward_right_on_moderate_inputs(log_softmax):
            continue  # a wrong backward is the backward check's to report; here only its stability counts
        (got,) = _returned_gradients("log_softmax", log_softmax, [x], G)
        if not np.isfinite(as_array("dL/dx", got)).all():
            raise CheckFailure(
                f"dL/dx returned by log_softmax's backward contains nan or inf on {context} and a random upstream "
                "gradient grad_output, though it is right on moderate inputs: compute the softmax stably in "
                "backward too, for example as np.exp of the saved log-softmax.")
        _expect_gradient("log_softmax", "x", got, want_grad, {}, context + " and a random upstream gradient "
                         "grad_output (the backward is right on moderate inputs)", single_input=True)


def _backward_right_on_moderate_inputs(log_softmax):
    rng = np.random.default_rng(7)
    x, G = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    _, (want,) = _torch(_log_softmax_torch, [x], G)
    try:
        (got,) = _returned_gradients("log_softmax", log_softmax, [x], G)
        got = as_array("dL/dx", got)
    except CheckFailure:
        return False
    return got.shape == want.shape and np.allclose(got, want, rtol=RTOL, atol=ATOL)


def check_log_softmax_backward(log_softmax):
    """dL/dx = G - softmax * rowsum(G); own ctx; a cross-entropy loss through Tensor.backward()."""
    for seed in seeds():
        rng = np.random.default_rng(seed)
        shape = _LOG_SOFTMAX_SHAPES[seed]
        x = rng.normal(size=shape) * 3
        G = rng.normal(size=shape)
        _, (want,) = _torch(_log_softmax_torch, [x], G)
        (got,) = _returned_gradients("log_softmax", log_softmax, [x], G)
        _expect_gradient("log_softmax", "x", got, want, _log_softmax_backward_mistakes(x, G),
                         f"x of shape {shape} and a random upstream gradient grad_output, seed {seed}",
                         single_input=True)
    rng = np.random.default_rng(12)
    first, second = rng.normal(size=(3, 4)) * 2, rng.normal(size=(3, 4)) * 2
    _expect_own_ctx("log_softmax", log_softmax, _log_softmax_torch, [first], [second], ["x"], "x of shape (3, 4)",
                    rng=rng)
    B, D = 5, 3
    x = rng.normal(size=(B, D)) * 2
    targets = rng.integers(0, D, size=B)
    R = -np.eye(D)[targets] / B  # mean negative log-likelihood of the targets
    _expect_graph("log_softmax", "mean cross-entropy = sum(R * log_softmax(x)), R = -one_hot(targets) / B",
                  lambda ts: _ws(_apply("log_softmax", log_softmax, ts, {}), R),
                  lambda ts: torch.nn.functional.cross_entropy(ts[0], torch.tensor(targets)),
                  [x], ["x"], f"x of shape {(B, D)}, random targets")


# ---------------------------------------------------------------- select_step

_SELECT_SHAPES = [(4, 6, 3), (5, 3, 2), (3, 7, 4)]  # (B, T, D), all different


def _select(X, t=0):
    return X[:, t, :]


def _scatter(G, shape, t):
    grad = np.zeros(shape)
    grad[:, t, :] = G
    return grad


def check_select_step_forward(select_step):
    """select_step(X, t=t) = X[:, t, :], for a middle, the first and the last step."""
    for seed in seeds():
        rng = np.random.default_rng(seed)
        B, T, D = shape = _SELECT_SHAPES[seed]
        X = rng.normal(size=shape)
        for t in (2, 0, T - 1):
            mistakes = {
                "select_step ignores t and always returns step 0 (X[:, 0, :]): use the keyword argument t":
                    X[:, 0, :],
                "select_step ignores t and always returns the last step (X[:, -1, :]): use the keyword argument t":
                    X[:, -1, :],
            }
            if t < B:
                mistakes["select_step indexes the first axis (X[t], one sequence of the batch) instead of the time "
                         "axis (X[:, t, :])"] = X[t]
            if t < D:
                mistakes["select_step indexes the last axis (X[:, :, t]) instead of the time axis (X[:, t, :])"] = \
                    X[:, :, t]
            _expect_value("select_step", select_step, [X], ["X"], X[:, t, :], mistakes,
                          f"X of shape (B, T, D) = {shape}, t={t}, seed {seed}", {"t": t})


def check_select_step_backward(select_step):
    """The (B, D) gradient scattered into zeros of shape (B, T, D) at step t."""
    for seed in seeds():
        rng = np.random.default_rng(seed)
        B, T, D = shape = _SELECT_SHAPES[seed]
        X = rng.normal(size=shape)
        for t in (2, T - 1, 0):
            G = rng.normal(size=(B, D))
            _, (want,) = _torch(_select, [X], G, t=t)
            (got,) = _returned_gradients("select_step", select_step, [X], G, {"t": t})
            mistakes = {
                "select_step's backward returns the (B, D) gradient as it is: it must scatter it into zeros of the "
                "input's shape (B, T, D), at step t": G,
                "the backward puts the gradient at step 0 instead of step t": _scatter(G, shape, 0),
                "the backward puts the gradient at the last step instead of step t": _scatter(G, shape, -1),
                "the backward copies the gradient to every time step: only step t was selected, so the other "
                "steps get zero": np.repeat(G[:, None, :], T, axis=1),
                IGNORES_GRAD: _scatter(np.ones((B, D)), shape, t),
            }
            _expect_gradient("select_step", "X", got, want, mistakes,
                             f"X of shape (B, T, D) = {shape}, t={t}, a random upstream gradient grad_output "
                             f"of shape (B, D), seed {seed}", single_input=True)
    rng = np.random.default_rng(13)
    first, second = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 5, 2))
    _expect_own_ctx("select_step", select_step, _select, [first], [second], ["X"], "X of shape (3, 5, 2), t=1 "
                    "then t=3", kw_first={"t": 1}, kw_second={"t": 3}, rng=rng)
    X = rng.normal(size=(2, 5, 3))
    Rs = [rng.normal(size=(2, 3)) for _ in range(3)]
    steps = (1, 3, 1)
    _expect_graph("select_step", "sum(R1 * select_step(X, t=1)) + sum(R2 * select_step(X, t=3)) "
                  "+ sum(R3 * select_step(X, t=1))",
                  lambda ts: edu_ops.add(edu_ops.add(*[_ws(_apply("select_step", select_step, ts, {"t": t}), R)
                                                       for t, R in zip(steps[:2], Rs[:2])]),
                                         _ws(_apply("select_step", select_step, ts, {"t": steps[2]}), Rs[2])),
                  lambda ts: sum((ts[0][:, t, :] * torch.tensor(R)).sum() for t, R in zip(steps, Rs)),
                  [X], ["X"], "X of shape (2, 5, 3), R1, R2, R3 random")


# ---------------------------------------------------------------- stack_steps

_STACK_SHAPES = [(5, 3, 4), (2, 6, 3), (4, 1, 2)]  # (B, T, H); B > T first, then B < T, then T = 1


def _stack(*hs):
    return torch.stack(hs, dim=1)


def check_stack_steps_forward(stack_steps):
    """stack_steps(h_1, ..., h_T) has shape (B, T, H), with h_t at [:, t-1, :]."""
    for seed in seeds():
        rng = np.random.default_rng(seed)
        B, T, H = shape = _STACK_SHAPES[seed]
        hs = [rng.normal(size=(B, H)) for _ in range(T)]
        concatenates = ("stack_steps concatenates the states instead of stacking them along a new time axis: "
                        "np.stack(hs, axis=1) gives (B, T, H)")
        mistakes = {
            "stack_steps stacks along the first axis (np.stack(hs) gives (T, B, H)); the time axis is axis 1: "
            "(B, T, H)": np.stack(hs, axis=0),
            "stack_steps stacks along the last axis ((B, H, T)); the time axis is axis 1: (B, T, H)":
                np.stack(hs, axis=2),
            concatenates + " (not (B, T*H))": np.concatenate(hs, axis=1),
            concatenates + " (not (T*B, H))": np.concatenate(hs, axis=0),
        }
        _expect_value("stack_steps", stack_steps, hs, [f"h_{t + 1}" for t in range(T)], np.stack(hs, axis=1),
                      mistakes, f"T={T} states of shape (B, H) = {(B, H)}, seed {seed}")


def check_stack_steps_backward(stack_steps):
    """T gradients of shape (B, H), the slices of grad_output; stack_steps(h, h) gets both."""
    for seed in seeds():
        rng = np.random.default_rng(seed)
        B, T, H = shape = _STACK_SHAPES[seed]
        hs = [rng.normal(size=(B, H)) for _ in range(T)]
        G = rng.normal(size=shape)
        _, want = _torch(_stack, hs, G)
        got = _returned_gradients("stack_steps", stack_steps, hs, G)
        for k in range(T):
            mistakes = {
                "the backward returns the whole (B, T, H) gradient to every input: input t gets only its own "
                "slice, grad_output[:, t, :]": G,
                IGNORES_GRAD: np.ones((B, H)),
            }
            if T > 1:
                mistakes["the backward returns the gradients in reverse order"] = G[:, T - 1 - k, :]
            if k < B:
                mistakes["the backward splits grad_output along its first axis (grad_output[t], or one array "
                         "returned instead of a list of T arrays) instead of the time axis (grad_output[:, t, :])"] \
                    = G[k]
            _expect_gradient("stack_steps", f"h_{k + 1}", got[k], want[k], mistakes,
                             f"T={T} states of shape (B, H) = {(B, H)} and a random upstream gradient grad_output "
                             f"of shape (B, T, H) = {shape}, seed {seed}")
    rng = np.random.default_rng(14)
    h, g = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    R = rng.normal(size=(4, 3, 2))
    _expect_graph("stack_steps", "sum(R * stack_steps(h, g, h))",
                  lambda ts: _ws(_apply("stack_steps", stack_steps, [ts[0], ts[1], ts[0]], {}), R),
                  lambda ts: (torch.stack([ts[0], ts[1], ts[0]], dim=1) * torch.tensor(R)).sum(),
                  [h, g], ["h", "g"], "h and g of shape (4, 2), h used twice, R random of shape (4, 3, 2)")


# ------------------------------------------------------------- the test table

MIRRORS_TENSORS = True  # edugrad Tensors cross as mirrors (see autograder/tensors.py)

TESTS = {
    "test_exp_forward": Test(check_exp_forward, ("exp",)),
    "test_exp_backward": Test(check_exp_backward, ("exp",)),
    "test_log_forward": Test(check_log_forward, ("log",)),
    "test_log_backward": Test(check_log_backward, ("log",)),
    "test_tanh_forward": Test(check_tanh_forward, ("tanh",)),
    "test_tanh_backward": Test(check_tanh_backward, ("tanh",)),
    "test_sigmoid_forward": Test(check_sigmoid_forward, ("sigmoid",)),
    "test_sigmoid_backward": Test(check_sigmoid_backward, ("sigmoid",)),
    "test_multiply_forward": Test(check_multiply_forward, ("multiply",)),
    "test_multiply_backward": Test(check_multiply_backward, ("multiply",)),
    "test_log_softmax_forward": Test(check_log_softmax_forward, ("log_softmax",)),
    "test_log_softmax_large_inputs": Test(check_log_softmax_large_inputs, ("log_softmax",)),
    "test_log_softmax_backward": Test(check_log_softmax_backward, ("log_softmax",)),
    "test_select_step_forward": Test(check_select_step_forward, ("select_step",)),
    "test_select_step_backward": Test(check_select_step_backward, ("select_step",)),
    "test_stack_steps_forward": Test(check_stack_steps_forward, ("stack_steps",)),
    "test_stack_steps_backward": Test(check_stack_steps_backward, ("stack_steps",)),
}
