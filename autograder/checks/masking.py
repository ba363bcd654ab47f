"""Hidden checks for the exercise ``masking``: pad_batch, final_states, masked_mean, reverse_padded and
masked_elman_forward.

The oracle is torch in float64 where torch has a counterpart: ``torch.nn.RNN`` on sequences packed with
``pack_padded_sequence(..., enforce_sorted=False)`` for the states and the final states, and torch's
cross-entropy with ``ignore_index`` for the masked mean. ``pad_batch`` and ``reverse_padded``, which torch has
no function for, are checked against plain loops over Python lists. Every batch has ragged, unsorted lengths
that include 1 and the full length T; the padding positions of X hold random garbage; B, T, D, H all differ,
so a transposed mask or a swapped axis cannot pass.

The student's functions are called only through :func:`compare.call`, with plain data (numpy arrays, ints,
lists), and what they return is read only as data. Each known mistake is computed here on the same input, to
name it in a failure; the verdict always comes from the oracle.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import torch

from autograder.checks.oracles import torch_rnn
from autograder.checks.compare import (CheckFailure, as_array, call, call_with_hint, changed_inputs, expect,
                                      expect_close, expect_unchanged, matching_mistake, mentions, pair, seeds)
from autograder.checks.table import Test

VOCABULARY = 30  # token ids 0..29
SHAPES = (". Check the shapes: with row vectors, x_t (B, D) @ W_x (D, H) and h (B, H) @ W_h (H, H), and X (B, T, D) "
          "is batch-major: step t is X[:, t, :].")
IN_PLACE = (" (for example `a[...] = ...`, `a += ...` or `a.append(...)` on the argument itself): compute new "
            "arrays and leave the inputs unchanged.")
LIST_HINT = (". lengths may be a Python list, which has no array arithmetic or indexing (lengths - 1, "
             "lengths[:, None]): convert it first, lengths = np.asarray(lengths).")

# ------------------------------------------------------------ random problems


def _sizes(rng):
    """B, T, D, H, all different; B >= 3, so the lengths can hold 1, T and one more."""
    B = int(rng.integers(3, 6))
    T = int(rng.choice([t for t in range(4, 9) if t != B]))
    D, H = (int(n) for n in rng.choice([n for n in range(2, 9) if n not in (B, T)], size=2, replace=False))
    return B, T, D, H


def _lengths(rng, B, T):
    """B ragged lengths in 1..T that include 1 and T, in neither increasing nor decreasing order."""
    values = np.array([1, T] + [int(n) for n in rng.integers(1, T + 1, size=B - 2)])
    while True:
        lengths = rng.permutation(values)
        steps = np.diff(lengths)
        if (steps > 0).any() and (steps < 0).any():
            return lengths


def _as_given(lengths, seed):
    """The lengths as a student may get them: a list of ints or an int array, by seed."""
    return [int(n) for n in lengths] if seed % 2 == 0 else np.array(lengths, dtype=np.int64)


def _real(lengths, T):
    """(B, T) True at the real positions."""
    return np.arange(T)[None, :] < np.asarray(lengths)[:, None]


def _problem(seed):
    """A padded batch for an Elman RNN: X with garbage in its padding, h0, weights, ragged lengths."""
    rng = np.random.default_rng(4000 + seed)
    B, T, D, H = _sizes(rng)
    p = SimpleNamespace(B=B, T=T, D=D, H=H, seed=seed)
    p.lengths = _lengths(rng, B, T)
    p.real = _real(p.lengths, T)
    X = rng.normal(size=(B, T, D))
    p.X = np.where(p.real[:, :, None], X, rng.uniform(-10, 10, size=(B, T, D)))  # padding: garbage
    p.h0 = rng.uniform(-0.9, 0.9, size=(B, H))
    p.W_x = rng.normal(scale=1 / np.sqrt(D), size=(D, H))
    p.W_h = rng.normal(scale=1 / np.sqrt(H), size=(H, H))
    p.b_ih, p.b_hh = rng.normal(scale=0.5, size=H), rng.normal(scale=0.5, size=H)
    p.b = p.b_ih + p.b_hh
    p.context = f"B={B}, T={T}, D={D}, H={H}, lengths {[int(n) for n in p.lengths]}, seed {seed}"
    return p


def _torch_packed(p, X, h0):
    """torch.nn.RNN on packed sequences: the padded output (B, T, H) and h_n (B, H), in float64."""
    states, h_n = torch_rnn([(p.W_x, p.W_h, p.b_ih, p.b_hh)], X, h0[None], lengths=p.lengths)
    return states, h_n[0]


# ------------------------------------------------------------------ helpers


def _crash_hint(message):
    """A hint for a few errors whose cause is common."""
    if "list" in message and ("operand" in message or "indices" in message):
        return LIST_HINT
    return ""


# ------------------------------------------------------------------ pad_batch


def _token_problem(seed, pad_id):
    """B sequences of token ids, none equal to pad_id, with ragged unsorted lengths including 1 and T_max."""
    rng = np.random.default_rng(5000 + seed)
    B, T, _, _ = _sizes(rng)
    lengths = _lengths(rng, B, T)
    allowed = np.array([i for i in range(VOCABULARY) if i != pad_id])
    seqs = [[int(i) for i in rng.choice(allowed, size=n)] for n in lengths]
    return B, T, seqs


def _padded(seqs, T, fill, front=False):
    return np.array([[*([fill] * (T - len(s))), *s] if front else [*s, *([fill] * (T - len(s)))] for s in seqs])


def _run_pad_batch(pad_batch, seqs, pad_id):
    """The student's (ids, mask) on a copy of ``seqs``; ``pad_id`` None means the default is used."""
    passed = copy.deepcopy(seqs)
    out = call("pad_batch", pad_batch, passed) if pad_id is None else call("pad_batch", pad_batch, passed, pad_id)
    expect_unchanged("pad_batch", changed_inputs(["seqs"], [seqs], [passed]), IN_PLACE)
    return pair("pad_batch", out, "(ids, mask)")


def _check_ids(pad_batch, pad_id_for_seed):
    for seed in seeds():
        pad_id = pad_id_for_seed(seed)
        B, T, seqs = _token_problem(seed, pad_id or 0)
        ids, _ = _run_pad_batch(pad_batch, seqs, pad_id)
        want = _padded(seqs, T, pad_id or 0)
        call_text = "pad_batch(seqs)" if pad_id is None else f"pad_batch(seqs, pad_id={pad_id})"
        mistakes = {
            "the padding is put at the front: pad at the end, ids[b, :len(seqs[b])] = seqs[b]":
                _padded(seqs, T, pad_id or 0, front=True),
            "ids is transposed, (T_max, B): one row per sequence, shape (B, T_max)": want.T,
        }
        if pad_id:
            mistakes["pad_id is ignored: the padding is always 0 instead of pad_id"] = _padded(seqs, T, 0)
            mistakes["the padding is put at the front, and pad_id is ignored (always 0)"] = \
                _padded(seqs, T, 0, front=True)
        context = f"{B} sequences of lengths {[len(s) for s in seqs]} (T_max = {T}), seed {seed}"
        expect_close(f"ids, the first array {call_text} returns", ids, want, mistakes, context)
        dtype = np.asarray(ids).dtype
        expect(dtype.kind in "iu",
               f"ids has dtype {dtype}: token ids index an embedding table (E[ids]), which needs integers. "
               "Build ids with an integer dtype, e.g. np.full((B, T), pad_id, dtype=int).")


def check_pad_batch_ids(pad_batch):
    """ids with the default pad_id = 0: each sequence at the start of its row, padding at the end, integers."""
    _check_ids(pad_batch, lambda seed: None)


def check_pad_batch_pad_id(pad_batch):
    """ids with a given pad_id (never 0 here): the padding positions hold pad_id."""
    _check_ids(pad_batch, lambda seed: int(np.random.default_rng(6000 + seed).integers(1, VOCABULARY)))


def check_pad_batch_mask(pad_batch):
    """mask (B, T_max): 1 for the real tokens, 0 for padding, an integer or bool array."""
    for seed in seeds():
        pad_id = [0, 7, 21][seed % 3]
        B, T, seqs = _token_problem(seed + 10, pad_id)
        _, mask = _run_pad_batch(pad_batch, seqs, pad_id)
        want = np.array([[1] * len(s) + [0] * (T - len(s)) for s in seqs])
        context = (f"{B} sequences of lengths {[len(s) for s in seqs]} (T_max = {T}), pad_id={pad_id}, "
                   f"seed {seed}")
        expect_close(f"mask, the second array pad_batch(seqs, pad_id={pad_id}) returns", mask, want, {
            "the mask is transposed, (T_max, B): like ids, it has one row per sequence, shape (B, T_max)": want.T,
            "the padding is put at the front: pad at the end, so each row of the mask is 1s then 0s":
                _padded([[1] * len(s) for s in seqs], T, 0, front=True),
            "the mask holds the token ids instead of 1s: the mask is 1 for a real token, 0 for padding":
                _padded(seqs, T, 0),
            "the mask is the ids array itself: the mask is 1 for a real token, 0 for padding":
                _padded(seqs, T, pad_id),
            "the mask is inverted: 1 for a real token, 0 for padding": 1 - want,
        }, context)
        dtype = np.asarray(mask).dtype
        expect(dtype.kind in "biu",
               f"mask has dtype {dtype}: the mask must be an integer array of 0s and 1s (or a bool array), not "
               "floats, so that it can select positions and count tokens exactly. Build it with an integer "
               "dtype, e.g. np.zeros((B, T), dtype=int).")


# --------------------------------------------------------------- final_states


def _final_states_mistakes(H, lengths):
    B = len(lengths)
    found = {
        "the final state is taken at the last position, H[:, -1]: for a sequence shorter than T that is a "
        "padding position; take H[b, lengths[b] - 1]": H[:, -1],
        "the final state is taken at the first position, H[:, 0]: take H[b, lengths[b] - 1]": H[:, 0],
        "every sequence's time axis is indexed with all the lengths (H[:, lengths - 1] has shape (B, B, H)): "
        "pair each row with its own length, H[np.arange(B), lengths - 1]": H[:, np.asarray(lengths) - 1],
    }
    if all(n < H.shape[1] for n in lengths):
        found["the final state is taken at index lengths[b] instead of lengths[b] - 1: Python counts from 0, "
              "so the last real step of a sequence of length n is at index n - 1"] = H[np.arange(B), lengths]
    return found


def _diagnose_final_states(final_states, H, lengths, seed):
    """After a crash on lengths that include T: what does the function return when every length is below T?"""
    shorter = np.minimum(lengths, H.shape[1] - 1)
    try:
        got = call("final_states", final_states, H.copy(), _as_given(shorter, seed))
    except CheckFailure:
        return ""
    found = matching_mistake(got, _final_states_mistakes(H, shorter))
    return f". With every length below T it runs, and returns what happens when {found}." if found else ""


def _run_final_states(final_states, H, lengths, seed):
    args = [H, _as_given(lengths, seed)]
    passed = [np.copy(H), copy.deepcopy(args[1])]
    got = call_with_hint("final_states", final_states, *passed, hint=lambda message: _crash_hint(message) or (
        _diagnose_final_states(final_states, H, lengths, seed) if "IndexError" in message else ""))
    expect_unchanged("final_states", changed_inputs(["H", "lengths"], args, passed), IN_PLACE)
    return got


def check_final_states(final_states):
    """Row b is H[b, lengths[b] - 1]: on random states with garbage at padding, and on torch's packed output
    (where it must equal torch's h_n)."""
    for seed in seeds():
        p = _problem(seed)
        garbage = np.random.default_rng(7000 + seed).normal(size=(p.B, p.T, p.H))
        want = np.stack([garbage[b, n - 1] for b, n in enumerate(p.lengths)])
        got = _run_final_states(final_states, garbage, p.lengths, seed)
        expect_close("final_states(H, lengths)", got, want, _final_states_mistakes(garbage, p.lengths),
                     f"random H of shape {garbage.shape}, {p.context}")
        states, h_n = _torch_packed(p, p.X, p.h0)
        got = _run_final_states(final_states, states, p.lengths, seed)
        expect_close("final_states(H, lengths)", got, h_n, _final_states_mistakes(states, p.lengths),
                     f"H = torch.nn.RNN's output on packed sequences (zero at padding), compared with its h_n, "
                     f"{p.context}")


# ---------------------------------------------------------------- masked_mean


def _loss_problem(seed):
    """Per-token cross-entropy losses of a padded batch (the padding positions scored against the pad id 0),
    the mask (int or bool, by seed) and torch's mean over the real tokens (ignore_index)."""
    rng = np.random.default_rng(8000 + seed)
    B, T, V, _ = _sizes(rng)
    lengths = _lengths(rng, B, T)
    real = _real(lengths, T)
    logits = torch.from_numpy(rng.normal(scale=2.0, size=(B * T, V)))
    targets = torch.from_numpy(rng.integers(1, V, size=(B, T)))
    padded = torch.where(torch.from_numpy(real), targets, 0).reshape(-1)
    ignored = torch.where(torch.from_numpy(real), targets, -100).reshape(-1)
    F = torch.nn.functional
    token_losses = F.cross_entropy(logits, padded, reduction="none").reshape(B, T).numpy().copy()
    want = F.cross_entropy(logits, ignored, ignore_index=-100).item()
    mask = real.astype(np.int64) if seed % 2 == 0 else real.copy()
    return B, T, lengths, token_losses, mask, want


def _masked_mean_mistakes(L, mask):
    m = np.asarray(mask, dtype=np.float64)
    B, T = L.shape
    total = (L * m).sum()
    found = {
        "the sum is divided by B * T, every position, instead of the number of real tokens (mask.sum())":
            total / (B * T),
        "the sum is divided by the batch size B instead of the number of real tokens (mask.sum())": total / B,
        "the sum is divided by T instead of the number of real tokens (mask.sum())": total / T,
        "the padding losses are included: take the mean over the real tokens only": L.mean(),
        "the padding losses are included in the sum: multiply by the mask (or select with it) before summing":
            L.sum() / m.sum(),
        "the sum is not divided: the mean is the sum of the real tokens' losses / the number of real tokens":
            total,
        "each sequence is averaged first and the averages averaged: the mean is over all real tokens together "
        "(sum of their losses / their number), so a long sequence weighs more": ((L * m).sum(1) / m.sum(1)).mean(),
    }
    if np.asarray(mask).dtype.kind in "iu":
        picked = L[np.asarray(mask)]  # rows 0 and 1 of L, once for every entry of the mask
        index = ("an integer mask is used as an index: token_losses[mask] picks whole rows 0 and 1, it does not "
                 "select positions; use a bool mask, token_losses[mask.astype(bool)], or multiply by the mask")
        found[index] = picked.mean()
        found[index + " (here the picked values are summed and divided by mask.sum())"] = picked.sum() / m.sum()
    return found


def check_masked_mean(masked_mean):
    """One number: the sum of the real tokens' losses / the number of real tokens, as torch's cross-entropy
    with ignore_index; the mask is an int array or a bool array."""
    for seed in seeds():
        B, T, lengths, L, mask, want = _loss_problem(seed)
        passed = [L.copy(), mask.copy()]
        got = as_array("masked_mean(token_losses, mask)", call("masked_mean", masked_mean, *passed))
        expect_unchanged("masked_mean", changed_inputs(["token_losses", "mask"], [L, mask], passed), IN_PLACE)
        mistakes = _masked_mean_mistakes(L, mask)
        kind = "a bool" if mask.dtype == bool else "an integer"
        context = (f"token_losses of shape ({B}, {T}) (cross-entropy, the padding scored too), {kind} "
                   f"mask for lengths {[int(n) for n in lengths]}, seed {seed}")
        if got.size != 1:
            per_sequence = (L * mask).sum(1) / np.asarray(mask).sum(1)
            hint = (" This is one mean per sequence: the mean is over all the real tokens of the batch together."
                    if got.shape == per_sequence.shape and np.allclose(got, per_sequence) else "")
            raise CheckFailure(f"masked_mean(token_losses, mask) should return one number, not an array of shape "
                               f"{got.shape}, on {context}.{hint}")
        expect_close("masked_mean(token_losses, mask)", float(got.reshape(-1)[0]), want, mistakes, context)


# ------------------------------------------------------------- reverse_padded


def _reverse_oracle(X, lengths):
    out = np.array(X, copy=True)
    for b, n in enumerate(lengths):
        for t in range(n):
            out[b, t] = X[b, n - 1 - t]
    return out


def check_reverse_padded(reverse_padded):
    """Each sequence reversed within its own length, the padding (garbage here) left as it is, at the end."""
    for seed in seeds():
        p = _problem(seed + 20)
        args = [p.X, _as_given(p.lengths, seed)]
        passed = [p.X.copy(), copy.deepcopy(args[1])]
        got = call_with_hint("reverse_padded", reverse_padded, *passed, hint=_crash_hint)
        expect_unchanged("reverse_padded", changed_inputs(["X", "lengths"], args, passed), IN_PLACE)
        want = _reverse_oracle(p.X, p.lengths)
        expect_close("reverse_padded(X, lengths)", got, want, {
            "the whole padded sequence is reversed, padding included, so the padding moves to the front: "
            "reverse only the first lengths[b] steps of sequence b": p.X[:, ::-1],
            "the padding positions are set to zero: leave them as they are in X": np.where(p.real[:, :, None],
                                                                                          want, 0.0),
            "the features are reversed (the last axis) instead of the steps (axis 1)":
                np.where(p.real[:, :, None], p.X[:, :, ::-1], p.X),
            "each sequence is reversed within its length but the whole array is then reversed again":
                want[:, ::-1],
        }, f"X of shape {p.X.shape} with garbage in its padding, {p.context}")


# ------------------------------------------------------- masked_elman_forward


def _numpy_variants(p, h0):
    """Numpy loops for what the mistakes compute: every step on every position, or the state carried on."""
    unmasked, carried = [], []
    h_all, h = h0, h0
    for t in range(p.T):
        h_all = np.tanh(p.X[:, t] @ p.W_x + h_all @ p.W_h + p.b)
        unmasked.append(h_all)
        new = np.tanh(p.X[:, t] @ p.W_x + h @ p.W_h + p.b)
        h = np.where(p.real[:, t, None], new, h)
        carried.append(h)
    return np.stack(unmasked, axis=1), np.stack(carried, axis=1)


def _run_masked_forward(masked_elman_forward, p):
    args = [p.X, _as_given(p.lengths, p.seed), p.h0, p.W_x, p.W_h, p.b]
    passed = [copy.deepcopy(a) for a in args]
    out = call_with_hint("masked_elman_forward", masked_elman_forward, *passed, hint=lambda message: _crash_hint(
        message) or (SHAPES if mentions(message, "matmul", "broadcast") else ""))
    expect_unchanged("masked_elman_forward", changed_inputs(["X", "lengths", "h0", "W_x", "W_h", "b"], args, passed),
                     IN_PLACE)
    return pair("masked_elman_forward", out, "(states, h_n)")


def check_masked_elman_forward_states(masked_elman_forward):
    """states (B, T, H): the states at the real positions, as torch on packed sequences, and zero at padding."""
    for seed in seeds():
        p = _problem(seed + 30)
        H, _ = _run_masked_forward(masked_elman_forward, p)
        want, _ = _torch_packed(p, p.X, p.h0)
        unmasked, carried = _numpy_variants(p, p.h0)
        zero_start, _ = _torch_packed(p, p.X, np.zeros_like(p.h0))
        expect_close("states, the first result of masked_elman_forward", H, want, {
            "H is not zero at the padding positions, which hold states computed from the padding inputs: set "
            "H[b, t] = 0 for t >= lengths[b]": unmasked,
            "H is not zero at the padding positions, which repeat each sequence's last real state: set "
            "H[b, t] = 0 for t >= lengths[b]": carried,
            "h0 is ignored: the loop starts from a zero state instead of h0": zero_start,
            "the states are stacked time-major, (T, B, H): H is batch-major, (B, T, H)": want.transpose(1, 0, 2),
        }, f"X with garbage in its padding, {p.context}")


def check_masked_elman_forward_final(masked_elman_forward, final_states=None):
    """h_n (B, H): each sequence's state after its last real step, as torch's h_n on packed sequences."""
    for seed in seeds():
        p = _problem(seed + 40)
        _, h_n = _run_masked_forward(masked_elman_forward, p)
        states, want = _torch_packed(p, p.X, p.h0)
        unmasked, _ = _numpy_variants(p, p.h0)
        _, zero_start = _torch_packed(p, p.X, np.zeros_like(p.h0))
        mistakes = {
            "the padding steps still update the hidden state: h_n is the state after all T steps, which read "
            "the padding inputs; a sequence that has ended must keep its state from step lengths[b]":
                unmasked[:, -1],
            "h_n is H[:, -1], the state at the last position: for a sequence shorter than T that is a padding "
            "position; take each sequence's state at step lengths[b]": states[:, -1],
            "h_n has torch's layer axis, (1, B, H): return (B, H)": want[None],
            "h0 is ignored: the loop starts from a zero state instead of h0": zero_start,
        }
        if final_states is not None:
            try:
                theirs = as_array("final_states", call("final_states", final_states, states.copy(),
                                                       _as_given(p.lengths, seed)))
            except CheckFailure:  # their final_states does not run here: nothing to fingerprint
                theirs = None
            if theirs is not None and not (theirs.shape == want.shape and np.allclose(theirs, want)):
                mistakes["h_n is taken from H with your final_states, and final_states is wrong (see its test "
                         "above)"] = theirs
        expect_close("h_n, the final states masked_elman_forward returns", h_n, want, mistakes,
                     f"X with garbage in its padding, {p.context}")


# ------------------------------------------------------------- the test table

TESTS = {
    "test_pad_batch_ids": Test(check_pad_batch_ids, ("pad_batch",)),
    "test_pad_batch_pad_id": Test(check_pad_batch_pad_id, ("pad_batch",)),
    "test_pad_batch_mask": Test(check_pad_batch_mask, ("pad_batch",)),
    "test_final_states": Test(check_final_states, ("final_states",)),
    "test_masked_mean": Test(check_masked_mean, ("masked_mean",)),
    "test_reverse_padded": Test(check_reverse_padded, ("reverse_padded",)),
    "test_masked_elman_forward_states": Test(check_masked_elman_forward_states, ("masked_elman_forward",)),
    "test_masked_elman_forward_final": Test(check_masked_elman_forward_final, ("masked_elman_forward", "final_states")),
}
