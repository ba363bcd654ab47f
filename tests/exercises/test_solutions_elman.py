"""solutions.elman against torch.nn.RNN in float64, on non-square sizes and several seeds."""

import numpy as np
import pytest
import torch

from autograder.checks.oracles import torch_initialised_parameters, torch_rnn
from solutions.elman import elman_forward, elman_step, params_from_torch

SEEDS = range(5)


def sizes(seed):
    """B, T, D, H: all different, so a transposed weight or a swapped axis cannot pass."""
    return (int(n) for n in np.random.default_rng(seed).choice(np.arange(2, 9), size=4, replace=False))


def torch_params(D, H, seed):
    """A torch.nn.RNN's four parameters, torch's layout (weight_ih (H, D), weight_hh, bias_ih, bias_hh), N(0, 0.5^2)."""
    rng = np.random.default_rng(1000 + seed)
    return [rng.normal(scale=0.5, size=shape) for shape in ((H, D), (H, H), (H,), (H,))]


def torch_output(params, X, h0):
    """torch.nn.RNN's (output, h_n) holding these parameters (torch's layout), from h0 (B, H)."""
    weight_ih, weight_hh, bias_ih, bias_hh = params
    return torch_rnn([(weight_ih.T, weight_hh.T, bias_ih, bias_hh)], X, h0[None])


@pytest.mark.parametrize("seed", SEEDS)
def test_elman_forward_matches_torch(seed):
    B, T, D, H = sizes(seed)
    params = torch_params(D, H, seed)
    rng = np.random.default_rng(100 + seed)
    X, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    out, h_n = torch_output(params, X, h0)
    states = elman_forward(X, h0, *params_from_torch(*params))
    assert states.shape == (B, T, H) and states.dtype == np.float64
    assert np.abs(states - out).max() < 1e-10
    assert np.abs(states[:, -1] - h_n[0]).max() < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_elman_step_matches_one_torch_step(seed):
    B, _, D, H = sizes(seed)
    params = torch_params(D, H, seed)
    rng = np.random.default_rng(200 + seed)
    x, h = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    want = torch_output(params, x[:, None], h)[0][:, 0]
    got = elman_step(x, h, *params_from_torch(*params))
    assert got.shape == (B, H)
    assert np.abs(got - want).max() < 1e-10


def test_params_from_torch_mapping_dtype_and_copies():
    arrays = torch_initialised_parameters(5, 3, seed=0, dtype=torch.float32)  # torch's default dtype
    before = [a.copy() for a in arrays]
    W_x, W_h, b = params_from_torch(*arrays)
    assert (W_x.shape, W_h.shape, b.shape) == ((5, 3), (3, 3), (3,))
    assert W_x.dtype == W_h.dtype == b.dtype == np.float64
    np.testing.assert_array_equal(W_x, arrays[0].astype(np.float64).T)
    np.testing.assert_array_equal(W_h, arrays[1].astype(np.float64).T)
    np.testing.assert_allclose(b, arrays[2].astype(np.float64) + arrays[3], rtol=1e-15)
    W_x[...] = 0  # new arrays: changing them leaves the torch module alone
    for a, original in zip(arrays, before):
        np.testing.assert_array_equal(a, original)


def test_elman_forward_leaves_inputs_alone_and_stores_each_state():
    B, T, D, H = 2, 4, 3, 5
    rng = np.random.default_rng(7)
    args = [rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(D, H)),
            rng.normal(size=(H, H)), rng.normal(size=H)]
    before = [a.copy() for a in args]
    states = elman_forward(*args)
    for a, original in zip(args, before):
        np.testing.assert_array_equal(a, original)
    assert not np.allclose(states[:, 0], states[:, -1])
    np.testing.assert_array_equal(states[:, 0], elman_step(args[0][:, 0], args[1], *args[2:]))
