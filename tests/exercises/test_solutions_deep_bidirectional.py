"""solutions.deep_bidirectional against torch.nn.RNN (num_layers, bidirectional) in float64, on non-square sizes."""

import numpy as np
import pytest

from autograder.checks.oracles import torch_rnn
from solutions.deep_bidirectional import bidirectional_elman_forward, deep_elman_forward, elman_layer

SEEDS = range(4)
CASES = [(seed, L, T) for seed in SEEDS for L in (1, 2, 3) for T in (1, None)]  # T None: random, 3 to 8


def sizes(seed, T=None):
    """B, T, D, H: all different, so a transposed weight, a swapped axis or a wrong layer input cannot pass."""
    B, T_random, D, H = (int(n) for n in np.random.default_rng(seed).choice(np.arange(2, 9), size=4, replace=False))
    if T is None:
        return B, max(T_random, 3), D, H
    return B, T, D, H


def torch_layers(D, H, seed, count=1, bidirectional=False):
    """``count`` layers (or the two directions of one) of N(0, 0.5^2) parameters (W_x, W_h, b_ih, b_hh)."""
    rng = np.random.default_rng(1000 + seed)
    return [(rng.normal(scale=0.5, size=(D if l == 0 or bidirectional else H, H)), rng.normal(scale=0.5, size=(H, H)),
             rng.normal(scale=0.5, size=H), rng.normal(scale=0.5, size=H)) for l in range(count)]


def ours(layer):
    """Our (W_x, W_h, b) of a layer: torch's two biases added."""
    W_x, W_h, b_ih, b_hh = layer
    return W_x, W_h, b_ih + b_hh


@pytest.mark.parametrize("seed,L,T", CASES)
def test_deep_elman_forward_matches_torch(seed, L, T):
    B, T, D, H = sizes(seed, T)
    layers = torch_layers(D, H, seed, count=L)
    rng = np.random.default_rng(100 + seed)
    X, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(L, B, H))
    want_top, want_h_n = torch_rnn(layers, X, h0)
    H_top, h_n = deep_elman_forward(X, h0, [ours(layer) for layer in layers])
    assert H_top.shape == (B, T, H) and h_n.shape == (L, B, H)
    assert H_top.dtype == h_n.dtype == np.float64
    assert np.abs(H_top - want_top).max() < 1e-10
    assert np.abs(h_n - want_h_n).max() < 1e-10


@pytest.mark.parametrize("seed,T", [(seed, T) for seed in SEEDS for T in (1, None)])
def test_bidirectional_elman_forward_matches_torch(seed, T):
    B, T, D, H = sizes(seed, T)
    fwd, bwd = torch_layers(D, H, seed, count=2, bidirectional=True)
    rng = np.random.default_rng(200 + seed)
    X, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(2, B, H))
    want, want_h_n = torch_rnn([fwd, bwd], X, h0, bidirectional=True)
    states, h_n = bidirectional_elman_forward(X, h0[0], h0[1], ours(fwd), ours(bwd))
    assert states.shape == (B, T, 2 * H) and h_n.shape == (2, B, H)
    assert np.abs(states - want).max() < 1e-10
    assert np.abs(h_n - want_h_n).max() < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_elman_layer_matches_torch(seed):
    B, T, D, H = sizes(seed)
    layers = torch_layers(D, H, seed)
    rng = np.random.default_rng(300 + seed)
    X, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    want, _ = torch_rnn(layers, X, h0[None])
    assert np.abs(elman_layer(X, h0, *ours(layers[0])) - want).max() < 1e-10


def test_inputs_left_alone_and_outputs_are_new_arrays():
    B, T, D, H, L = 2, 4, 3, 5, 2
    rng = np.random.default_rng(7)
    X, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(L, B, H))
    layers = [(rng.normal(size=(D if l == 0 else H, H)), rng.normal(size=(H, H)), rng.normal(size=H))
              for l in range(L)]
    arrays = [X, h0, *(a for layer in layers for a in layer)]
    before = [a.copy() for a in arrays]
    outputs = [*deep_elman_forward(X, h0, layers), *bidirectional_elman_forward(X, h0[0], h0[1], *layers[:1] * 2)]
    for a, original in zip(arrays, before):
        np.testing.assert_array_equal(a, original)
    for out in outputs:
        assert all(not np.shares_memory(out, a) for a in arrays)
