"""Hidden checks for the exercise ``deep_bidirectional``: elman_layer, deep_elman_forward, bidirectional_elman_forward.

The oracle is ``torch.nn.RNN`` in float64 (``num_layers=L``, or ``bidirectional=True``) loaded with the same
weights. Each known mistake is computed here with a small NumPy loop on the same input, so that a wrong answer
can be named; the verdict always comes from torch.

The student's functions are called only through :func:`compare.call`, with plain data (float64 arrays, lists
of tuples of arrays), and what they return is read only as data (a pair unpacked, each part turned into an
array), so these checks can run in a process apart from the student's code. Sizes are random and all different
(B, T, D, H), so a transposed weight, a swapped axis or a layer that reads the wrong input cannot pass.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from autograder.checks.oracles import torch_rnn
from autograder.checks.compare import (CheckFailure, as_array, call, call_with_hint, changed_inputs, distinct_sizes,
                                      elman_weights, expect_close, expect_unchanged, matching_mistake, mentions,
                                      named, pair, seeds)
from autograder.checks.table import Test

DEEP = "deep_elman_forward(X, h0, layers)"
BIDIRECTIONAL = "bidirectional_elman_forward(X, h0_fwd, h0_bwd, fwd, bwd)"
LAYER = "elman_layer(X, h0, W_x, W_h, b)"
SHAPES = ("Layer 1's W_x is (D, H) and multiplies the inputs x_t (B, D); every later layer's W_x is (H, H) and "
          "multiplies the states (B, H) of the layer below. X is batch-major (B, T, D): step t is X[:, t, :].")
IN_PLACE = (": `a[...] = ...` or `a += ...` writes into the caller's array when a is the argument itself "
            "(`h_n = h0` gives the same array a second name, not a copy). Compute new arrays and leave the inputs "
            "unchanged.")
VIA_LAYER = ("each layer is computed as your elman_layer computes it, and elman_layer is wrong (see the "
             "elman_layer test above); the rest is right")

# ------------------------------------------------------------------ problems


def _problem(seed, *, L=1, T=None, zero_h0=False, sizes=None, directions=None):
    """Random inputs and L layers of weights (or two directions); B, T, D, H all different unless given."""
    rng = np.random.default_rng(3000 + seed)
    B, T_random, D, H = sizes or distinct_sizes(rng, 4)
    T = T_random if T is None else T
    p = SimpleNamespace(B=B, T=T, D=D, H=H, L=L)
    p.X = rng.normal(size=(B, T, D))
    count = directions or L
    p.h0 = np.zeros((count, B, H)) if zero_h0 else rng.uniform(-0.9, 0.9, size=(count, B, H))
    p.torch_params = [elman_weights(rng, D if l == 0 or directions else H, H) for l in range(count)]
    p.layers = [(W_x, W_h, b_ih + b_hh) for W_x, W_h, b_ih, b_hh in p.torch_params]
    p.sizes = f"B={B}, T={T}, D={D}, H={H}" + ("" if directions else f", L={L}")
    return p


def _deep_cases():
    """(seed, L, T): L = 2, 3, 1 in turn with a random T, then a single step (T = 1)."""
    return [(seed, (2, 3, 1)[seed % 3], None) for seed in seeds()] + [(len(seeds()), 2, 1)]


def _cases_over_T():
    """(seed, T): a random T with each seed, then a single step (T = 1)."""
    return [(seed, None) for seed in seeds()] + [(len(seeds()), 1)]


# ------------------------------------------------------------------ the oracle


def _oracle(p, bidirectional=False):
    """torch's (output, h_n) on the problem, as numpy arrays."""
    return torch_rnn(p.torch_params, p.X, p.h0, bidirectional)


# ------------------------------------------------------- what mistakes return


def _layer(X, h0, W_x, W_h, b):
    h, states = h0, []
    for t in range(X.shape[1]):
        h = np.tanh(X[:, t] @ W_x + h @ W_h + b)
        states.append(h)
    return np.stack(states, axis=1)


def _student_layer(elman_layer):
    """The student's elman_layer as a function of plain arrays (raises CheckFailure when it fails)."""
    def layer(X, h0, W_x, W_h, b):
        return as_array("elman_layer", call("elman_layer", elman_layer, *_copies([X, h0, W_x, W_h, b])))
    return layer


def _stack(X, h0s, layers, layer=_layer, reads_X=False):
    """Every layer's states (a list of L arrays (B, T, H)) of a stack that reads X, or (mistake) X at every layer."""
    states, below = [], X
    for h0, (W_x, W_h, b) in zip(h0s, layers):
        below = layer(X if reads_X else below, h0, W_x, W_h, b)
        states.append(below)
    return states


def _deep_variants(p, elman_layer=None):
    """[(description, every layer's states)] of the known mistakes in how the layers are stacked."""
    L, h0 = p.L, p.h0
    variants = []
    if elman_layer is not None:
        try:
            states = _stack(p.X, h0, p.layers, layer=_student_layer(elman_layer))
            _finals(states)  # the fingerprints below must be computable from what the student's layer returns
            variants.append((VIA_LAYER, states))
        except Exception:  # the student's layer does not run here: nothing to fingerprint
            pass
    if p.D == p.H and L > 1:  # otherwise these mistakes crash (see _diagnose_deep)
        variants += [
            ("every layer reads the input X: layer 1 reads X, and each layer above reads the states h_1..h_T "
             "of the layer below", _stack(p.X, h0, p.layers, reads_X=True)),
            ("every layer uses the weights of layer 1 (layers[0]): each layer has its own (W_x, W_h, b)",
             _stack(p.X, h0, [p.layers[0]] * L)),
            ("every layer reads the input X and uses the weights of layer 1: each layer uses its own tuple of "
             "layers and reads the states of the layer below", _stack(p.X, h0, [p.layers[0]] * L, reads_X=True)),
        ]
    if np.any(h0):
        variants += [
            ("every layer starts from h0[0]: each layer starts from its own initial state, h0[0] for layer 1, "
             "h0[1] for layer 2, and so on",
             _stack(p.X, [h0[0]] * L, p.layers)),
            ("h0 is ignored: every layer starts from a zero state instead of its own row of h0",
             _stack(p.X, np.zeros_like(h0), p.layers)),
        ]
        if L > 1:
            variants.append(("the initial states are taken in reverse layer order: h0[0] is the initial state of "
                             "layer 1 (the one that reads X), h0[L-1] that of the top layer",
                             _stack(p.X, h0[::-1], p.layers)))
    return variants


def _finals(states):
    return np.stack([s[:, -1] for s in states])


def _top_mistakes(p, right, variants):
    top, h_n = right[-1], _finals(right)
    mistakes = {description: states[-1] for description, states in variants}
    if p.L > 1:
        mistakes["H_top holds the states of layer 1, not those of the top layer (the last in layers)"] = right[0]
        mistakes["H_top holds every layer's states: return only the top layer's, (B, T, H)"] = np.stack(right)
        mistakes["H_top concatenates every layer's states: return only the top layer's, (B, T, H)"] = \
            np.concatenate(right, axis=2)
    mistakes.update({
        "the two results are swapped: return (H_top, h_n)": h_n,
        "H_top is stacked time-major, (T, B, H): our arrays are batch-major": top.transpose(1, 0, 2),
        "H_top holds only the last state h_T: it holds the top layer's states h_1..h_T": top[:, -1],
    })
    return mistakes


def _h_n_mistakes(p, right, variants):
    top, h_n = right[-1], _finals(right)
    mistakes = {}
    if p.L > 1:
        mistakes.update({
            "h_n holds only the top layer's last state: it holds every layer's last state, (L, B, H)": top[:, -1],
            "h_n holds only the top layer's last state (as a (1, B, H) array): it holds every layer's last "
            "state, (L, B, H)": top[None, :, -1],
            "h_n holds the top layer's last state L times: it holds each layer's own last state":
                np.stack([top[:, -1]] * p.L),
            "h_n is in reverse layer order: h_n[0] is layer 1's last state, h_n[L-1] the top layer's": h_n[::-1],
        })
    else:
        mistakes["h_n is a (B, H) array: it holds every layer's last state, (L, B, H), here (1, B, H)"] = top[:, -1]
    if p.T > 1:
        mistakes["h_n holds each layer's first state h_1: it holds each layer's last state h_T"] = \
            np.stack([s[:, 0] for s in right])
    mistakes.update({description: _finals(states) for description, states in variants})
    mistakes.update({
        "the two results are swapped: return (H_top, h_n)": top,
        "h_n is stacked batch-major, (B, L, H): torch's h_n is (L, B, H), one row per layer":
            h_n.transpose(1, 0, 2),
        "h_n is h0, the initial states: it holds each layer's last state h_T": p.h0,
    })
    return mistakes


def _bidirectional_variants(p, elman_layer=None):
    """[(description, forward states, backward states in time order)] of the known mistakes."""
    X, (h0_fwd, h0_bwd), (fwd, bwd) = p.X, p.h0, p.layers
    reverse = X[:, ::-1]
    forward = _layer(X, h0_fwd, *fwd)
    variants = []
    if elman_layer is not None:
        try:
            layer = _student_layer(elman_layer)
            f, b = layer(X, h0_fwd, *fwd), layer(reverse, h0_bwd, *bwd)[:, ::-1]
            # the fingerprints below must be computable from what the student's layer returns
            np.concatenate([f, b], axis=2), np.stack([f[:, -1], b[:, 0]])
            variants.append((VIA_LAYER, f, b))
        except Exception:  # the student's layer does not run here: nothing to fingerprint
            pass
    backward = _layer(reverse, h0_bwd, *bwd)  # in the order it computes them: after x_T first
    variants += [
        ("the backward states are left in reversed time order: the backward direction computes them from x_T "
         "down to x_1, so reverse them back (states[:, ::-1]) before concatenating, so that position t holds "
         "the backward state at t", forward, backward),
        ("the backward direction reads X forwards, from x_1: it reads x_T first, down to x_1 (run it on "
         "X[:, ::-1] and reverse its states back)", forward, _layer(X, h0_bwd, *bwd)),
        ("the backward direction reads X forwards, from x_1, and only its states are reversed: run it on the "
         "reversed inputs X[:, ::-1], then reverse its states back", forward, _layer(X, h0_bwd, *bwd)[:, ::-1]),
        ("X[::-1] reverses the batch (axis 0), not time: reverse X and the backward states along the time "
         "axis, [:, ::-1]", forward, _layer(X[::-1], h0_bwd, *bwd)[::-1]),
        ("X[::-1] reverses the batch (axis 0), not time: reverse X along the time axis too, X[:, ::-1]",
         forward, _layer(X[::-1], h0_bwd, *bwd)[:, ::-1]),
        ("np.flip without an axis reverses every axis (batch, time and features): reverse time only, "
         "np.flip(X, axis=1)", forward, np.flip(_layer(np.flip(X), h0_bwd, *bwd))),
        ("the backward direction uses the forward weights fwd: it has its own, bwd",
         forward, _layer(reverse, h0_bwd, *fwd)[:, ::-1]),
        ("the weights of the two directions are swapped: the forward direction uses fwd, the backward bwd",
         _layer(X, h0_fwd, *bwd), _layer(reverse, h0_bwd, *fwd)[:, ::-1]),
    ]
    if np.any(p.h0):
        variants += [
            ("the backward direction starts from h0_fwd: it starts from its own h0_bwd",
             forward, _layer(reverse, h0_fwd, *bwd)[:, ::-1]),
            ("the initial states are swapped: the forward direction starts from h0_fwd, the backward from h0_bwd",
             _layer(X, h0_bwd, *fwd), _layer(reverse, h0_fwd, *bwd)[:, ::-1]),
            ("h0_fwd and h0_bwd are ignored: each direction starts from its own initial state, not from zeros",
             _layer(X, 0 * h0_fwd, *fwd), _layer(reverse, 0 * h0_bwd, *bwd)[:, ::-1]),
        ]
    return forward, backward[:, ::-1], variants


def _states_mistakes(forward, backward, h_n, variants):
    both = np.concatenate([forward, backward], axis=2)
    mistakes = {description: np.concatenate([f, b], axis=2) for description, f, b in variants}
    mistakes.update({
        "the two halves are in the wrong order: Y[:, t] is [forward state, backward state], forward first":
            np.concatenate([backward, forward], axis=2),
        "the two results are swapped: return (Y, h_n)": h_n,
        "the two directions are stacked on a new axis, (2, B, T, H): concatenate them along the features, "
        "np.concatenate([forward, backward], axis=2)": np.stack([forward, backward]),
        "the two directions are stacked on a new axis, (B, T, 2, H): concatenate them along the features, "
        "np.concatenate([forward, backward], axis=2)": np.stack([forward, backward], axis=2),
        "the two directions are concatenated along the batch axis (axis 0, np.concatenate's default): "
        "concatenate them along the features, axis=2": np.concatenate([forward, backward]),
        "the two directions are concatenated along the time axis: concatenate them along the features, axis=2":
            np.concatenate([forward, backward], axis=1),
        "Y holds only the forward states: it holds [forward state, backward state] at each t": forward,
        "Y holds only the backward states: it holds [forward state, backward state] at each t": backward,
        "Y is time-major, (T, B, 2H): our arrays are batch-major": both.transpose(1, 0, 2),
    })
    return mistakes


def _bidirectional_h_n_mistakes(forward, backward, states, variants):
    at_T = "its state at position T is its first, after reading only x_T"
    mistakes = {
        "h_n has the backward final state first: h_n = [forward final state, backward final state]":
            np.stack([backward[:, 0], forward[:, -1]]),
        f"h_n's backward state is taken at position T: the backward direction reads x_T first, so {at_T}; its "
        "final state, after reading x_1, is at position 1": np.stack([forward[:, -1], backward[:, -1]]),
        f"h_n has the backward state first, and takes it at position T ({at_T}): h_n = [forward final state "
        "(at T), backward final state (at position 1)]": np.stack([backward[:, -1], forward[:, -1]]),
        "h_n is Y[:, -1], the last position of Y, (B, 2H): the backward final state is at position 1, and h_n "
        "stacks the two final states, (2, B, H)": np.concatenate([forward[:, -1], backward[:, -1]], axis=1),
        "h_n concatenates the two final states, (B, 2H): stack them, (2, B, H)":
            np.concatenate([forward[:, -1], backward[:, 0]], axis=1),
        "h_n's forward state is taken at position 1: the forward direction's final state is at position T":
            np.stack([forward[:, 0], backward[:, 0]]),
        "h_n is stacked batch-major, (B, 2, H): torch's h_n is (2, B, H), forward then backward":
            np.stack([forward[:, -1], backward[:, 0]], axis=1),
        "the two results are swapped: return (Y, h_n)": states,
        "h_n holds only the forward final state: it holds [forward final state, backward final state]":
            forward[:, -1],
    }
    for description, f, b in variants:
        mistakes.setdefault(description, np.stack([f[:, -1], b[:, 0]]))
    for description, f, b in variants:
        mistakes.setdefault(f"{description}; and h_n's backward state is taken at position T, not 1",
                            np.stack([f[:, -1], b[:, -1]]))
    return mistakes


# ------------------------------------------------------------------ helpers


def _copies(arrays):
    return [np.array(a, dtype=np.float64, copy=True) for a in arrays]


def _crash_hint(message, function):
    """What to add to the message of a crash of ``function``."""
    if function == "elman_layer":
        return (" Check the shapes: x_t = X[:, t, :] (B, D) @ W_x (D, H) and h (B, H) @ W_h (H, H) both give (B, H)."
                if mentions(message, "matmul", "broadcast", "index", "shape") else "")
    if "(in elman_layer," in message:
        return (f" The error is raised in elman_layer, which {function} calls: see elman_layer's test, and check "
                "what each call receives. " + SHAPES)
    if mentions(message, "matmul", "broadcast", "index", "shape"):
        return " Check the shapes. " + SHAPES
    return ""


# ---------------------------------------------------------------- elman_layer


def _layer_mistakes(p, X, h0, W_x, W_h, b):
    right = _layer(X, h0, W_x, W_h, b)
    step = lambda x, h: np.tanh(x @ W_x + h @ W_h + b)  # noqa: E731
    mistakes = {
        "every step is fed h_0 instead of the previous state h_{t-1}":
            np.stack([step(X[:, t], h0) for t in range(p.T)], axis=1),
        "h0 is ignored: the loop starts from a zero state instead of h0": _layer(X, 0 * h0, W_x, W_h, b),
        "the returned states are h_0, ..., h_{T-1} instead of h_1, ..., h_T (store each state after the step "
        "that computes it)": np.concatenate([h0[:, None], right[:, :-1]], axis=1),
        "the states are stored in place in one array, so every stored state is the same array (the last one)":
            np.repeat(right[:, -1:], p.T, axis=1),
        "the bias b is forgotten: h_t = tanh(x_t W_x + h_{t-1} W_h + b)": _layer(X, h0, W_x, W_h, 0 * b),
        "tanh is missing: h_t = tanh(x_t W_x + h_{t-1} W_h + b)": _linear(X, h0, W_x, W_h, b),
        "W_h is transposed: with row vectors the product is h_{t-1} @ W_h": _layer(X, h0, W_x, W_h.T, b),
        "the sequence is read backwards (step t reads x_t = X[:, t-1], from t = 1 to T)":
            _layer(X[:, ::-1], h0, W_x, W_h, b)[:, ::-1],
        "the sequence is read backwards (from x_T to x_1)": _layer(X[:, ::-1], h0, W_x, W_h, b),
        "the states are stacked time-major, (T, B, H): our arrays are batch-major, stack along axis=1":
            right.transpose(1, 0, 2),
        "only the last state h_T is returned, not all the states h_1..h_T": right[:, -1],
        "h_0 is returned too: return the T states h_1..h_T": np.concatenate([h0[:, None], right], axis=1),
    }
    return mistakes


def _linear(X, h0, W_x, W_h, b):
    h, states = h0, []
    for t in range(X.shape[1]):
        h = X[:, t] @ W_x + h @ W_h + b
        states.append(h)
    return np.stack(states, axis=1)


def check_elman_layer(elman_layer):
    """One layer over a batch of sequences, from a random h0, as torch.nn.RNN (one layer) computes it."""
    for seed, T in _cases_over_T():
        p = _problem(seed + 20, T=T, directions=1)
        args = [p.X, p.h0[0], *p.layers[0]]
        passed = _copies(args)
        got = call_with_hint("elman_layer", elman_layer, *passed,
                             hint=lambda message: _crash_hint(message, "elman_layer"))
        expect_unchanged("elman_layer", changed_inputs(["X", "h0", "W_x", "W_h", "b"], args, passed), IN_PLACE)
        want = _oracle(p)[0]
        expect_close(LAYER, got, want, _layer_mistakes(p, *args), f"{p.sizes}, random h0, seed {seed}")


# -------------------------------------------------------- deep_elman_forward


def _run_deep(fn, p):
    """The student's (H_top, h_n) on the problem, and the names of the inputs it changed."""
    arrays = [p.X, p.h0, *(a for layer in p.layers for a in layer)]
    names = ["X", "h0"] + [f"layers[{l}][{i}] ({part})" for l in range(p.L)
                           for i, part in enumerate(("W_x", "W_h", "b"))]
    passed = _copies(arrays)
    layers = [tuple(passed[2 + 3 * l: 5 + 3 * l]) for l in range(p.L)]
    out = call_with_hint("deep_elman_forward", fn, passed[0], passed[1], layers,
                         hint=lambda message: _diagnose_deep(fn) or _crash_hint(message, "deep_elman_forward"))
    H_top, h_n = pair(DEEP, out, "(H_top, h_n)")
    return H_top, h_n, changed_inputs(names, arrays, passed)


def _diagnose_deep(fn):
    """After a crash on sizes with D != H: what does the function do when D = H?"""
    p = _problem(7, L=3, sizes=(3, 4, 5, 5))
    try:
        out = call("deep_elman_forward", fn, *_copies([p.X, p.h0]), [tuple(_copies(layer)) for layer in p.layers])
        got = pair(DEEP, out, "(H_top, h_n)")[0]
    except CheckFailure:
        return ""
    found = matching_mistake(got, {description: states[-1] for description, states in _deep_variants(p)})
    return f" With D = H it runs, and returns what happens when {found}." if found else ""


def _deep_context(p, seed, zero_h0):
    return f"{p.sizes}, h0 {'= 0' if zero_h0 else 'random'}, seed {seed}"


def _check_deep(fn, elman_layer, zero_h0, parts):
    for seed, L, T in _deep_cases():
        p = _problem(seed, L=L, T=T, zero_h0=zero_h0)
        H_top, h_n, changed = _run_deep(fn, p)
        expect_unchanged("deep_elman_forward", changed, IN_PLACE)
        want_top, want_h_n = _oracle(p)
        right = _stack(p.X, p.h0, p.layers)
        variants = _deep_variants(p, elman_layer)
        context = _deep_context(p, seed, zero_h0)
        if "H_top" in parts:
            expect_close("H_top, the first result of " + DEEP, H_top, want_top, _top_mistakes(p, right, variants),
                         context)
        if "h_n" in parts:
            expect_close("h_n, the second result of " + DEEP, h_n, want_h_n, _h_n_mistakes(p, right, variants),
                         context)


def check_deep_elman_forward_shapes(deep_elman_forward):
    """Two results, H_top (B, T, H) and h_n (L, B, H) (whatever their values)."""
    for seed, L, T in _deep_cases():
        p = _problem(seed, L=L, T=T)
        H_top, h_n, _ = _run_deep(deep_elman_forward, p)
        B, T, H = p.B, p.T, p.H
        for name, got, want, known in [
            ("H_top", H_top, (B, T, H), {
                (L, B, H): "the two results are swapped: return (H_top, h_n)",
                (T, B, H): "the states are stacked time-major, (T, B, H): our arrays are batch-major",
                (B, H): "only the last state h_T is returned: H_top holds the top layer's states h_1..h_T",
                (L, B, T, H): "every layer's states are returned: H_top holds only the top layer's",
                (B, T, L * H): "every layer's states are concatenated: H_top holds only the top layer's",
                (L, T, B, H): "each layer is given the whole h0 (L, B, H): each layer starts from its own row of h0, "
                                  "of shape (B, H)",
            }),
            ("h_n", h_n, (L, B, H), {
                (B, T, H): "the two results are swapped: return (H_top, h_n)",
                (B, H): "h_n holds only the top layer's last state: it holds every layer's, (L, B, H)",
                (1, B, H): "h_n holds only the top layer's last state: it holds every layer's, (L, B, H)",
                (B, L, H): "h_n is stacked batch-major, (B, L, H): torch's h_n is (L, B, H)",
            }),
        ]:
            shape = as_array(name, got).shape
            if shape != want:
                mistake = known.get(shape, "")
                raise CheckFailure(f"{name}, the {'first' if name == 'H_top' else 'second'} result of {DEEP}, has "
                                   f"shape {shape}, expected {want} on X of shape {p.X.shape}, h0 of shape "
                                   f"{p.h0.shape}, {p.sizes}, seed {seed}.{named(mistake)}", mistake)


def check_deep_elman_forward_top(deep_elman_forward, elman_layer=None):
    """H_top, the top layer's states h_1..h_T, as torch.nn.RNN(num_layers=L) computes them, from h0 = 0."""
    _check_deep(deep_elman_forward, elman_layer, zero_h0=True, parts=("H_top",))


def check_deep_elman_forward_h_n(deep_elman_forward, elman_layer=None):
    """h_n, every layer's last state, as torch.nn.RNN(num_layers=L) returns it, from h0 = 0."""
    _check_deep(deep_elman_forward, elman_layer, zero_h0=True, parts=("h_n",))


def check_deep_elman_forward_h0(deep_elman_forward, elman_layer=None):
    """H_top and h_n from a random h0: each layer starts from its own h0[l]."""
    _check_deep(deep_elman_forward, elman_layer, zero_h0=False, parts=("H_top", "h_n"))


# ------------------------------------------------ bidirectional_elman_forward


def _run_bidirectional(fn, p):
    """The student's (Y, h_n) on the problem, and the names of the inputs it changed."""
    arrays = [p.X, p.h0[0], p.h0[1], *p.layers[0], *p.layers[1]]
    names = ["X", "h0_fwd", "h0_bwd", "fwd[0] (W_x)", "fwd[1] (W_h)", "fwd[2] (b)",
             "bwd[0] (W_x)", "bwd[1] (W_h)", "bwd[2] (b)"]
    passed = _copies(arrays)
    out = call_with_hint("bidirectional_elman_forward", fn, *passed[:3], tuple(passed[3:6]), tuple(passed[6:]),
                         hint=lambda message: _crash_hint(message, "bidirectional_elman_forward"))
    states, h_n = pair(BIDIRECTIONAL, out, "(Y, h_n)")
    return states, h_n, changed_inputs(names, arrays, passed)


def check_bidirectional_elman_forward_shapes(bidirectional_elman_forward):
    """Two results, Y (B, T, 2H) and h_n (2, B, H) (whatever their values)."""
    for seed, T in _cases_over_T():
        p = _problem(seed + 10, T=T, directions=2)
        states, h_n, _ = _run_bidirectional(bidirectional_elman_forward, p)
        B, T, H = p.B, p.T, p.H
        for name, got, want, known in [
            ("Y", states, (B, T, 2 * H), {
                (2, B, H): "the two results are swapped: return (Y, h_n)",
                (2, B, T, H): "the two directions are stacked on a new axis: concatenate them along the features",
                (B, T, 2, H): "the two directions are stacked on a new axis: concatenate them along the features",
                (2 * B, T, H): "the two directions are concatenated along the batch axis (axis 0, "
                               "np.concatenate's default): concatenate them along the features, axis=2",
                (B, 2 * T, H): "the two directions are concatenated along the time axis: concatenate them along "
                               "the features, axis=2",
                (B, T, H): "only one direction is returned: Y holds [forward state, backward state] at each t",
                (T, B, 2 * H): "Y is time-major, (T, B, 2H): our arrays are batch-major",
            }),
            ("h_n", h_n, (2, B, H), {
                (B, T, 2 * H): "the two results are swapped: return (Y, h_n)",
                (B, 2 * H): "h_n holds the two final states concatenated (or Y[:, -1], the last position of Y): "
                            "stack them, (2, B, H), the backward final state taken at position 1",
                (B, 2, H): "h_n is stacked batch-major, (B, 2, H): torch's h_n is (2, B, H)",
                (B, H): "h_n holds one final state: it holds [forward final state, backward final state]",
            }),
        ]:
            shape = as_array(name, got).shape
            if shape != want:
                mistake = known.get(shape, "")
                raise CheckFailure(f"{name}, the {'first' if name == 'Y' else 'second'} result of {BIDIRECTIONAL}, "
                                   f"has shape {shape}, expected {want} on X of shape {p.X.shape}, {p.sizes}, "
                                   f"seed {seed}.{named(mistake)}", mistake)


def _check_bidirectional(fn, elman_layer, part):
    for seed, T in _cases_over_T():
        p = _problem(seed + 10, T=T, directions=2)
        states, h_n, changed = _run_bidirectional(fn, p)
        expect_unchanged("bidirectional_elman_forward", changed, IN_PLACE)
        want_states, want_h_n = _oracle(p, bidirectional=True)
        forward, backward, variants = _bidirectional_variants(p, elman_layer)
        context = f"{p.sizes}, random h0_fwd and h0_bwd, seed {seed}"
        if part == "Y":
            right_h_n = np.stack([forward[:, -1], backward[:, 0]])
            expect_close("Y, the first result of " + BIDIRECTIONAL, states, want_states,
                         _states_mistakes(forward, backward, right_h_n, variants), context)
        else:
            right = np.concatenate([forward, backward], axis=2)
            expect_close("h_n, the second result of " + BIDIRECTIONAL, h_n, want_h_n,
                         _bidirectional_h_n_mistakes(forward, backward, right, variants), context)


def check_bidirectional_elman_forward_states(bidirectional_elman_forward, elman_layer=None):
    """Y: [forward state at t, backward state at t] at every t, as torch.nn.RNN(bidirectional=True) computes it."""
    _check_bidirectional(bidirectional_elman_forward, elman_layer, "Y")


def check_bidirectional_elman_forward_h_n(bidirectional_elman_forward, elman_layer=None):
    """h_n: [forward state after x_T, backward state after x_1], as torch.nn.RNN(bidirectional=True) returns it."""
    _check_bidirectional(bidirectional_elman_forward, elman_layer, "h_n")


# ------------------------------------------------------------- the test table

TESTS = {
    "test_elman_layer": Test(check_elman_layer, ("elman_layer",)),
    "test_deep_elman_forward_shapes": Test(check_deep_elman_forward_shapes, ("deep_elman_forward",)),
    "test_deep_elman_forward_top": Test(check_deep_elman_forward_top, ("deep_elman_forward", "elman_layer")),
    "test_deep_elman_forward_h_n": Test(check_deep_elman_forward_h_n, ("deep_elman_forward", "elman_layer")),
    "test_deep_elman_forward_h0": Test(check_deep_elman_forward_h0, ("deep_elman_forward", "elman_layer")),
    "test_bidirectional_elman_forward_shapes":
        Test(check_bidirectional_elman_forward_shapes, ("bidirectional_elman_forward",)),
    "test_bidirectional_elman_forward_states":
        Test(check_bidirectional_elman_forward_states, ("bidirectional_elman_forward", "elman_layer")),
    "test_bidirectional_elman_forward_h_n":
        Test(check_bidirectional_elman_forward_h_n, ("bidirectional_elman_forward", "elman_layer")),
}
