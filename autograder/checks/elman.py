"""Hidden checks for the exercise ``elman``: elman_step, elman_forward, params_from_torch.

The oracle is ``torch.nn.RNN`` in float64, loaded with the same weights. Each
known mistake is computed here with a small NumPy loop on the same input, so
that a wrong answer can be named; the verdict always comes from torch.
Sizes are random and all different (B, T, D, H), so a transposed weight or a
swapped axis cannot pass.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from autograder.checks.oracles import torch_initialised_parameters, torch_rnn
from autograder.checks.compare import (CheckFailure, as_array, call, call_with_hint, changed_inputs, distinct_sizes,
                                      elman_weights, expect, expect_close, expect_unchanged, matching_mistake,
                                      mentions, named, seeds)
from autograder.checks.table import Test

IN_PLACE = (": `a[...] = ...` or `a += ...` writes into the caller's array when a is the argument itself "
            "(`h = {arg}` does not copy). Compute new arrays and leave the inputs unchanged.")
SHAPES = ("with row vectors, x_t (B, D) @ W_x (D, H) and h_prev (B, H) @ W_h (H, H) both give (B, H), "
          "and X (B, T, D) is batch-major: step t is X[:, t, :].")

# ------------------------------------------------------------------ the oracle


def _torch_states(p, X, h0):
    """torch's output: the states h_1..h_T, (B, T, H)."""
    return torch_rnn([(p.W_x, p.W_h, p.b_ih, p.b_hh)], X, h0[None])[0]


def _problem(seed, *, zero_bias=False, zero_h0=False, sizes=None):
    """Random inputs and weights; sizes B, T, D, H all different unless given."""
    rng = np.random.default_rng(1000 + seed)
    B, T, D, H = sizes or distinct_sizes(rng, 4)
    p = SimpleNamespace(B=B, T=T, D=D, H=H)
    p.X = rng.normal(size=(B, T, D))
    p.h0 = np.zeros((B, H)) if zero_h0 else rng.uniform(-0.9, 0.9, size=(B, H))
    p.W_x, p.W_h, p.b_ih, p.b_hh = elman_weights(rng, D, H)
    if zero_bias:
        p.b_ih, p.b_hh = np.zeros(H), np.zeros(H)
    p.b = p.b_ih + p.b_hh
    p.sizes = f"B={B}, T={T}, D={D}, H={H}"
    return p


# ------------------------------------------------------- what mistakes return


def _step(p, x, h, W_x=None, W_h=None, f=np.tanh, bias=True):
    W_x = p.W_x if W_x is None else W_x
    W_h = p.W_h if W_h is None else W_h
    return f(x @ W_x + h @ W_h + (p.b if bias else 0))


def _loop(X, h0, step):
    h, states = h0, []
    for t in range(X.shape[1]):
        h = step(X[:, t, :], h)
        states.append(h)
    return np.stack(states, axis=1)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _step_mistakes(p, x, h):
    pre = x @ p.W_x + h @ p.W_h + p.b
    mistakes = {}
    if np.any(p.b):
        mistakes["the bias b is forgotten: h_t = tanh(x_t W_x + h_prev W_h + b)"] = _step(p, x, h, bias=False)
    mistakes.update({
        "tanh is missing (a linear RNN): apply np.tanh to the sum": pre,
        "sigmoid is used instead of tanh": _sigmoid(pre),
        "relu is used instead of tanh": np.maximum(pre, 0),
        "W_h is transposed (h_prev @ W_h.T): with row vectors the product is h_prev @ W_h": _step(p, x, h, W_h=p.W_h.T),
        "h_prev is ignored: the new state depends on x_t and on h_prev": np.tanh(x @ p.W_x + p.b),
        "x_t is ignored: the new state depends on x_t and on h_prev": np.tanh(h @ p.W_h + p.b),
        "tanh is applied to x_t W_x only, not to the whole sum": np.tanh(x @ p.W_x) + h @ p.W_h + p.b,
    })
    return mistakes


def _forward_mistakes(p, X, h0, elman_step=None):
    step = lambda x, h: _step(p, x, h)  # noqa: E731
    right = _loop(X, h0, step)
    zeros = np.zeros_like(h0)
    mistakes = {}
    if elman_step is not None:
        try:
            def student_step(x, h):
                return as_array("elman_step", elman_step(x.copy(), h.copy(), p.W_x.copy(), p.W_h.copy(), p.b.copy()))
            mistakes["each step is computed as your elman_step computes it, and elman_step is wrong (see the "
                     "elman_step tests above); the loop itself is right"] = _loop(X, h0, student_step)
        except Exception:  # the student's step does not run: nothing to fingerprint
            pass
    fed_h0 = np.stack([step(X[:, t], h0) for t in range(p.T)], axis=1)
    fed_zero = np.stack([step(X[:, t], zeros) for t in range(p.T)], axis=1)
    if np.any(h0):
        mistakes["every step is fed h_0 instead of the previous state h_{t-1}"] = fed_h0
        mistakes["every step is fed a zero state instead of the previous state h_{t-1} (for example the slot of "
                 "h_t, still empty, is read where h_{t-1} belongs)"] = fed_zero
        mistakes["h0 is ignored: the loop starts from a zero state instead of h0"] = _loop(X, zeros, step)
    else:
        mistakes["every step is fed h_0 (or a zero state) instead of the previous state h_{t-1}"] = fed_h0
    mistakes.update({
        "the returned states are h_0, ..., h_{T-1} instead of h_1, ..., h_T (an off-by-one: store each state "
        "after the step that computes it)": np.concatenate([h0[:, None], right[:, :-1]], axis=1),
        "the states are stored in place in one array, so every stored state is the same array (the last one): "
        "store the new array each step returns": np.repeat(right[:, -1:], p.T, axis=1),
        "the sequence is read backwards (step t must read x_t = X[:, t-1], from t = 1 to T)":
            _loop(X[:, ::-1], h0, step)[:, ::-1],
        "the sequence is read backwards (from x_T to x_1)": _loop(X[:, ::-1], h0, step),
    })
    mistakes.update(_forward_shape_mistakes(p, right, h0))
    return mistakes


def _forward_shape_mistakes(p, right, h0):
    return {
        "the states are stacked time-major, (T, B, H): our arrays are batch-major, stack along axis=1":
            right.transpose(1, 0, 2),
        "only the last state h_T is returned, not all the states h_1..h_T": right[:, -1],
        "h_0 is returned too: return the T states h_1..h_T": np.concatenate([h0[:, None], right], axis=1),
    }


# ----------------------------------------------------------------- elman_step


def _diagnose_step(elman_step):
    """After a crash on non-square sizes: what does the function do when D = H?"""
    p = _problem(7, sizes=(3, 2, 4, 4))
    x, h = p.X[:, 0], p.h0
    try:
        got = elman_step(x.copy(), h.copy(), p.W_x.copy(), p.W_h.copy(), p.b.copy())
    except Exception:
        return ""
    found = matching_mistake(got, {
        "W_x is transposed (x_t @ W_x.T): with row vectors the product is x_t @ W_x, (B, D) @ (D, H)":
            _step(p, x, h, W_x=p.W_x.T),
        "both weights are transposed (x_t @ W_x.T and h_prev @ W_h.T): with row vectors the products are "
        "x_t @ W_x and h_prev @ W_h": _step(p, x, h, W_x=p.W_x.T, W_h=p.W_h.T),
        "the weights are swapped (x_t @ W_h and h_prev @ W_x): W_x (D, H) multiplies x_t, W_h (H, H) multiplies "
        "h_prev": _step(p, x, h, W_x=p.W_h, W_h=p.W_x),
    })
    return f" With D = H it runs, and returns what happens when {found}." if found else ""


def _check_step(elman_step, zero_bias):
    for seed in seeds():
        p = _problem(seed, zero_bias=zero_bias)
        x, h = p.X[:, 0, :], p.h0
        want = _torch_states(p, x[:, None, :], h)[:, 0]
        args = [x, h, p.W_x, p.W_h, p.b]
        passed = [np.copy(a) for a in args]
        got = call_with_hint("elman_step", elman_step, *passed, hint=lambda message: _diagnose_step(elman_step) or (
            " Check the shapes: " + SHAPES if mentions(message, "matmul", "broadcast") else ""))
        expect_unchanged("elman_step", changed_inputs(["x_t", "h_prev", "W_x", "W_h", "b"], args, passed), IN_PLACE)
        bias = "b = 0" if zero_bias else "a random b"
        context = (f"x_t ({p.B}, {p.D}), h_prev ({p.B}, {p.H}), W_x ({p.D}, {p.H}), W_h ({p.H}, {p.H}), "
                   f"{bias}, seed {seed}")
        expect_close("elman_step(x_t, h_prev, W_x, W_h, b)", got, want, _step_mistakes(p, x, h), context)


def check_elman_step_weights(elman_step):
    """tanh(x_t W_x + h_prev W_h) with b = 0: the two products and the nonlinearity."""
    _check_step(elman_step, zero_bias=True)


def check_elman_step_bias(elman_step):
    """The full step, with a random bias."""
    _check_step(elman_step, zero_bias=False)


# -------------------------------------------------------------- elman_forward


def _diagnose_forward(elman_forward):
    """After a crash on sizes with B != T: what does the function do when B = T?"""
    p = _problem(7, sizes=(4, 4, 2, 3))
    try:
        got = elman_forward(p.X.copy(), p.h0.copy(), p.W_x.copy(), p.W_h.copy(), p.b.copy())
    except Exception:
        return ""
    step = lambda x, h: _step(p, x, h)  # noqa: E731
    swapped = _loop(p.X.transpose(1, 0, 2), p.h0, step)
    found = matching_mistake(got, {
        "X is read as if it were time-major (T, B, D): X[t] (or `for x_t in X`) is example t, not step t. "
        "X is batch-major (B, T, D), so x_t is X[:, t, :]": swapped,
        "X is read as if it were time-major (T, B, D), and the states are stacked time-major too: "
        "X is batch-major (B, T, D), so x_t is X[:, t, :]": swapped.transpose(1, 0, 2),
    })
    return f" With B = T it runs, and returns what happens when {found}." if found else ""


def _run_forward(elman_forward, p, h0, check_inputs=True):
    args = [p.X, h0, p.W_x, p.W_h, p.b]
    passed = [np.copy(a) for a in args]
    got = call_with_hint("elman_forward", elman_forward, *passed,
                         hint=lambda message: _forward_hint(elman_forward, message))
    if check_inputs:
        expect_unchanged("elman_forward", changed_inputs(["X", "h0", "W_x", "W_h", "b"], args, passed), IN_PLACE)
    return got


def _forward_hint(elman_forward, message):
    """What to add to the message of a crash of elman_forward."""
    if hint := _diagnose_forward(elman_forward):
        return hint
    if "(in elman_step," in message:
        return " The error is raised in elman_step, which elman_forward calls: see elman_step's tests."
    return " Check the shapes: " + SHAPES if mentions(message, "matmul", "broadcast", "index") else ""


def check_elman_forward_shape(elman_forward):
    """The states come back as one (B, T, H) array (whatever their values)."""
    for seed in seeds():
        p = _problem(seed)
        got = as_array("elman_forward(X, h0, W_x, W_h, b)", _run_forward(elman_forward, p, p.h0, check_inputs=False))
        want = (p.B, p.T, p.H)
        if got.shape != want:
            known = {
                (p.T, p.B, p.H): "the states are stacked time-major, (T, B, H): our arrays are batch-major, "
                                 "stack along axis=1",
                (p.B, p.H): "only the last state h_T is returned, not all the states h_1..h_T",
                (p.B, p.T + 1, p.H): "h_0 is returned too: return the T states h_1..h_T",
                (p.B, p.T - 1, p.H): "a state is missing: return the T states h_1..h_T",
            }
            mistake = known.get(got.shape, "")
            raise CheckFailure(f"elman_forward(X, h0, W_x, W_h, b) has shape {got.shape}, expected (B, T, H) = "
                               f"{want} on X of shape {p.X.shape}, {p.sizes}, seed {seed}.{named(mistake)}", mistake)


def _check_forward(elman_forward, elman_step, zero_h0):
    for seed in seeds():
        p = _problem(seed + 10, zero_h0=zero_h0)
        h0 = p.h0
        got = _run_forward(elman_forward, p, h0)
        want = _torch_states(p, p.X, h0)
        context = f"{p.sizes}, h0 {'= 0' if zero_h0 else 'random'}, seed {seed}"
        expect_close("elman_forward(X, h0, W_x, W_h, b)", got, want, _forward_mistakes(p, p.X, h0, elman_step),
                     context)


def check_elman_forward_values(elman_forward, elman_step=None):
    """Every state h_1..h_T, as torch.nn.RNN computes them, starting from h0 = 0."""
    _check_forward(elman_forward, elman_step, zero_h0=True)


def check_elman_forward_h0(elman_forward, elman_step=None):
    """Every state, starting from a random h0."""
    _check_forward(elman_forward, elman_step, zero_h0=False)


# ---------------------------------------------------------- params_from_torch


def _torch_parameters(seed, dtype):
    """torch.nn.RNN(D, H)'s four parameters as numpy arrays (torch's own random initialisation)."""
    rng = np.random.default_rng(2000 + seed)
    D, H = distinct_sizes(rng, 2)
    return D, H, torch_initialised_parameters(D, H, seed, dtype)


def _convert(params_from_torch, arrays, checked):
    """Call the student's function; check that the inputs named in ``checked`` are unchanged."""
    passed = [a.copy() for a in arrays]
    out = call("params_from_torch", params_from_torch, *passed)
    changed = changed_inputs(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], arrays, passed)
    expect_unchanged("params_from_torch", [name for name in changed if name in checked],
                     " (for example `bias_ih += bias_hh`). Arrays from `.detach().numpy()` share memory with the "
                     "torch module, so this changes the model's parameters too: compute a new array "
                     "(`bias_ih + bias_hh`).")
    if out is None:
        raise CheckFailure("params_from_torch returned None: did it forget to `return W_x, W_h, b`?")
    expect(isinstance(out, (tuple, list)) and len(out) == 3,
           f"params_from_torch must return three arrays (W_x, W_h, b); it returned {type(out).__name__}"
           + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "") + ".")
    return out


def _cases():
    return [(seed, torch.float64) for seed in seeds()] + [(len(seeds()), torch.float32)]


def check_params_from_torch_weights(params_from_torch):
    """W_x = weight_ih_l0.T (D, H), W_h = weight_hh_l0.T (H, H), from float64 and float32 parameters (values compared)."""
    for seed, dtype in _cases():
        D, H, arrays = _torch_parameters(seed, dtype)
        weight_ih, weight_hh = (a.astype(np.float64) for a in arrays[:2])
        W_x, W_h, _ = _convert(params_from_torch, arrays, checked=("weight_ih", "weight_hh"))
        context = f"torch.nn.RNN({D}, {H}) in {str(dtype).removeprefix('torch.')}, seed {seed}"
        expect_close("W_x", W_x, weight_ih.T, {
            "weight_ih is not transposed: W_x = weight_ih_l0.T, of shape (D, H)": weight_ih,
            "W_x and W_h are swapped: W_x comes from weight_ih_l0 (input to hidden)": weight_hh.T,
            "W_x and W_h are swapped and not transposed: W_x = weight_ih_l0.T": weight_hh,
        }, context)
        expect_close("W_h", W_h, weight_hh.T, {
            "weight_hh is not transposed: W_h = weight_hh_l0.T": weight_hh,
            "W_x and W_h are swapped: W_h comes from weight_hh_l0 (hidden to hidden)": weight_ih.T,
            "W_x and W_h are swapped and not transposed: W_h = weight_hh_l0.T": weight_ih,
        }, context)


def check_params_from_torch_bias(params_from_torch):
    """b = bias_ih_l0 + bias_hh_l0, an array of shape (H,), from float64 and float32 parameters."""
    for seed, dtype in _cases():
        D, H, arrays = _torch_parameters(seed, dtype)
        bias_ih, bias_hh = (a.astype(np.float64) for a in arrays[2:])
        _, _, b = _convert(params_from_torch, arrays, checked=("bias_ih", "bias_hh"))
        one = "only one of torch's two biases is used: torch adds both, b = bias_ih_l0 + bias_hh_l0"
        expect_close("b", b, bias_ih + bias_hh, {
            one + " (here bias_ih_l0 alone)": bias_ih,
            one + " (here bias_hh_l0 alone)": bias_hh,
            "the two biases are averaged: torch adds both, b = bias_ih_l0 + bias_hh_l0": (bias_ih + bias_hh) / 2,
            "one bias is subtracted: torch adds both, b = bias_ih_l0 + bias_hh_l0": bias_ih - bias_hh,
            "the two biases are subtracted: torch adds both, b = bias_ih_l0 + bias_hh_l0": bias_hh - bias_ih,
            "the two biases are concatenated: torch adds both, b = bias_ih_l0 + bias_hh_l0":
                np.concatenate([bias_ih, bias_hh]),
            "the two biases are stacked: torch adds both, b = bias_ih_l0 + bias_hh_l0": np.stack([bias_ih, bias_hh]),
        }, f"torch.nn.RNN({D}, {H}) in {str(dtype).removeprefix('torch.')}, seed {seed}")


# ------------------------------------------------------------- the test table

TESTS = {
    "test_elman_step_weights": Test(check_elman_step_weights, ("elman_step",)),
    "test_elman_step_bias": Test(check_elman_step_bias, ("elman_step",)),
    "test_elman_forward_shape": Test(check_elman_forward_shape, ("elman_forward",)),
    "test_elman_forward_values": Test(check_elman_forward_values, ("elman_forward", "elman_step")),
    "test_elman_forward_h0": Test(check_elman_forward_h0, ("elman_forward", "elman_step")),
    "test_params_from_torch_weights": Test(check_params_from_torch_weights, ("params_from_torch",)),
    "test_params_from_torch_bias": Test(check_params_from_torch_bias, ("params_from_torch",)),
}
