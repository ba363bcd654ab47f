"""solutions.masking against torch's packed sequences and cross-entropy in float64, and against plain definitions;
and the exercise's tests accept correct answers written in other styles."""

import textwrap

import numpy as np
import pytest
import torch

from autograder.checks.oracles import torch_rnn
from solutions.masking import final_states, masked_elman_forward, masked_mean, pad_batch, reverse_padded
from tests.helpers.inprocess import run_exercise

SEEDS = range(5)


def batch(seed):
    """A padded batch: sizes B, T, D, H all different; ragged unsorted lengths that include 1 and T;
    X with garbage in its padding; lengths as a list (even seeds) or an int array (odd seeds)."""
    rng = np.random.default_rng(seed)
    B, T, D, H = (int(n) for n in rng.choice(np.arange(3, 10), size=4, replace=False))
    lengths = rng.permutation([1, T] + [int(n) for n in rng.integers(1, T + 1, size=B - 2)])
    while (np.diff(lengths) <= 0).all() or (np.diff(lengths) >= 0).all():
        lengths = rng.permutation(lengths)
    real = np.arange(T)[None, :] < lengths[:, None]
    X = np.where(real[:, :, None], rng.normal(size=(B, T, D)), rng.uniform(-10, 10, size=(B, T, D)))
    given = [int(n) for n in lengths] if seed % 2 == 0 else lengths.astype(np.int64)
    return X, given, real, rng, (B, T, D, H)


def torch_layers(D, H, seed, count=1):
    """One direction's, or (count=2) both directions', N(0, 0.5^2) parameters (W_x, W_h, b_ih, b_hh)."""
    rng = np.random.default_rng(1000 + seed)
    return [(rng.normal(scale=0.5, size=(D, H)), rng.normal(scale=0.5, size=(H, H)), rng.normal(scale=0.5, size=H),
             rng.normal(scale=0.5, size=H)) for _ in range(count)]


def ours(layer):
    """Our (W_x, W_h, b) of one direction: torch's two biases added."""
    W_x, W_h, b_ih, b_hh = layer
    return W_x, W_h, b_ih + b_hh


@pytest.mark.parametrize("seed", SEEDS)
def test_masked_elman_forward_matches_packed_torch(seed):
    X, lengths, real, rng, (B, T, D, H) = batch(seed)
    layers = torch_layers(D, H, seed)
    h0 = rng.normal(size=(B, H))
    want_states, want_h_n = torch_rnn(layers, X, h0[None], lengths=lengths)
    args = [X, lengths, h0, *ours(layers[0])]
    before = [np.array(a, copy=True) for a in args]
    states, h_n = masked_elman_forward(*args)
    assert states.shape == (B, T, H) and h_n.shape == (B, H) and states.dtype == np.float64
    assert np.abs(states - want_states).max() < 1e-10
    assert np.abs(h_n - want_h_n[0]).max() < 1e-10
    assert not states[~real].any(), "zero at padding"
    for a, original in zip(args, before):
        np.testing.assert_array_equal(a, original)


@pytest.mark.parametrize("seed", SEEDS)
def test_final_states_of_torch_output_are_torch_h_n(seed):
    X, lengths, _, rng, (B, T, D, H) = batch(seed)
    states, h_n = torch_rnn(torch_layers(D, H, seed), X, rng.normal(size=(1, B, H)), lengths=lengths)
    assert np.abs(final_states(states, lengths) - h_n[0]).max() < 1e-12
    garbage = rng.normal(size=(B, T, H))
    picked = final_states(garbage, lengths)
    for row, n in enumerate(lengths):
        np.testing.assert_array_equal(picked[row], garbage[row, n - 1])


@pytest.mark.parametrize("seed", SEEDS)
def test_reverse_padded_is_what_torch_backward_direction_reads(seed):
    """The backward half of a bidirectional RNN on packed sequences equals a forward RNN (with the backward
    weights) run on reverse_padded(X), its states reversed back within each length."""
    X, lengths, _, rng, (B, T, D, H) = batch(seed)
    layers = torch_layers(D, H, seed, count=2)
    h0 = rng.normal(size=(2, B, H))
    states, h_n = torch_rnn(layers, X, h0, bidirectional=True, lengths=lengths)
    backward, backward_h_n = masked_elman_forward(reverse_padded(X, lengths), lengths, h0[1], *ours(layers[1]))
    assert np.abs(reverse_padded(backward, lengths) - states[:, :, H:]).max() < 1e-10
    assert np.abs(backward_h_n - h_n[1]).max() < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_reverse_padded_plain_definition(seed):
    X, lengths, real, _, (B, T, D, _) = batch(seed)
    before = X.copy()
    out = reverse_padded(X, lengths)
    np.testing.assert_array_equal(X, before)
    for row, n in enumerate(lengths):
        for t in range(T):
            np.testing.assert_array_equal(out[row, t], X[row, n - 1 - t] if t < n else X[row, t])
    np.testing.assert_array_equal(reverse_padded(out, lengths), X)


@pytest.mark.parametrize("seed", SEEDS)
def test_masked_mean_is_torch_cross_entropy_with_ignore_index(seed):
    _, lengths, real, rng, (B, T, _, V) = batch(seed)
    logits = torch.from_numpy(rng.normal(size=(B * T, V)))
    targets = torch.from_numpy(rng.integers(1, V, size=B * T))
    keep = torch.from_numpy(real.reshape(-1))
    losses = torch.nn.functional.cross_entropy(logits, torch.where(keep, targets, 0), reduction="none")
    want = torch.nn.functional.cross_entropy(logits, torch.where(keep, targets, -100), ignore_index=-100).item()
    losses = losses.numpy().reshape(B, T)
    for mask in (real, real.astype(np.int64)):
        got = masked_mean(losses, mask)
        assert isinstance(got, float) and abs(got - want) < 1e-12
        assert abs(got - sum(losses[b, t] for b in range(B) for t in range(T) if real[b, t]) / real.sum()) < 1e-12


def test_pad_batch_lecture_example_and_plain_definition():
    seqs = [[2, 3, 4, 5, 6, 1], [2, 3, 7, 1]]  # "This is the first example </s>", "This is another </s>"
    ids, mask = pad_batch(seqs)
    np.testing.assert_array_equal(mask, [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])  # the lecture's mask
    np.testing.assert_array_equal(ids, [[2, 3, 4, 5, 6, 1], [2, 3, 7, 1, 0, 0]])
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        pad_id = int(rng.integers(0, 5))
        seqs = [[int(i) for i in rng.integers(5, 50, size=n)] for n in rng.integers(1, 9, size=rng.integers(2, 7))]
        before = [list(s) for s in seqs]
        ids, mask = pad_batch(seqs, pad_id)
        T = max(len(s) for s in seqs)
        assert seqs == before
        assert ids.dtype.kind == "i" and mask.dtype.kind == "i"
        assert ids.tolist() == [s + [pad_id] * (T - len(s)) for s in seqs]
        assert mask.tolist() == [[1] * len(s) + [0] * (T - len(s)) for s in seqs]


# Correct answers in two other styles: the exercise's visible and hidden tests must accept them.
ALTERNATIVES = {
    "vectorised": {
        "pad_batch": '''
            def pad_batch(seqs, pad_id=0):
                lengths = np.array([len(s) for s in seqs])
                mask = np.arange(lengths.max()) < lengths[:, None]
                ids = np.full(mask.shape, pad_id)
                ids[mask] = np.concatenate(seqs)
                return ids, mask
        ''',
        "final_states": '''
            def final_states(H, lengths):
                last = np.asarray(lengths)[:, None, None] - 1
                return np.take_along_axis(H, last, axis=1)[:, 0]
        ''',
        "masked_mean": '''
            def masked_mean(token_losses, mask):
                m = np.asarray(mask, dtype=float)
                return (token_losses * m).sum() / m.sum()
        ''',
        "reverse_padded": '''
            def reverse_padded(X, lengths):
                n, t = np.asarray(lengths)[:, None], np.arange(X.shape[1])
                source = np.where(t < n, n - 1 - t, t)
                return np.take_along_axis(X, source[:, :, None], axis=1)
        ''',
        "masked_elman_forward": '''
            def masked_elman_forward(X, lengths, h0, W_x, W_h, b):
                m = (np.arange(X.shape[1]) < np.asarray(lengths)[:, None]).astype(float)
                h, states = h0, []
                for t in range(X.shape[1]):
                    keep = m[:, t:t + 1]
                    h_new = np.tanh(X[:, t] @ W_x + h @ W_h + b)
                    h = keep * h_new + (1 - keep) * h
                    states.append(keep * h_new)
                return np.stack(states, axis=1), h
        ''',
    },
    "loops": {
        "pad_batch": '''
            def pad_batch(seqs, pad_id=0):
                T = max(map(len, seqs))
                ids = np.array([list(s) + [pad_id] * (T - len(s)) for s in seqs])
                mask = np.array([[True] * len(s) + [False] * (T - len(s)) for s in seqs])
                return ids, mask
        ''',
        "final_states": '''
            def final_states(H, lengths):
                return np.stack([H[b, n - 1] for b, n in enumerate(lengths)])
        ''',
        "masked_mean": '''
            def masked_mean(token_losses, mask):
                total, count = 0.0, 0
                for losses, keep in zip(token_losses, mask):
                    for loss, k in zip(losses, keep):
                        if k:
                            total, count = total + loss, count + 1
                return total / count
        ''',
        "reverse_padded": '''
            def reverse_padded(X, lengths):
                out = X.copy()
                for b in range(len(lengths)):
                    n = int(lengths[b])
                    out[b, :n] = np.flip(X[b, :n], axis=0)
                return out
        ''',
        "masked_elman_forward": '''
            def masked_elman_forward(X, lengths, h0, W_x, W_h, b):
                H = np.zeros((X.shape[0], X.shape[1], W_h.shape[0]))
                h_n = np.zeros_like(h0)
                for i in range(X.shape[0]):
                    h = h0[i]
                    for t in range(int(lengths[i])):
                        h = np.tanh(X[i, t] @ W_x + h @ W_h + b)
                        H[i, t] = h
                    h_n[i] = h
                return H, h_n
        ''',
    },
}


@pytest.mark.parametrize("style", sorted(ALTERNATIVES))
def test_other_correct_styles_pass_every_test(style):
    answers = {cell: textwrap.dedent(code) for cell, code in ALTERNATIVES[style].items()}
    results = run_exercise("masking", answers)
    assert len(results) == 8
    failed = {name: output for name, (passed, output) in results.items() if not passed}
    assert not failed
