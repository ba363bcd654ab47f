"""solutions.elman against torch.nn.RNN in float64, on non-square sizes and several seeds."""

import numpy as np
import pytest
import torch

from solutions.elman import elman_forward, elman_step, params_from_torch

SEEDS = range(5)


def sizes(seed):
    """B, T, D, H: all different, so a transposed weight or a swapped axis cannot pass."""
    return (int(n) for n in np.random.default_rng(seed).choice(np.arange(2, 9), size=4, replace=False))


def torch_rnn(D, H, seed, cell=False):
    """A float64 torch.nn.RNN (or RNNCell) with N(0, 0.5^2) weights drawn from a seeded generator."""
    module = (torch.nn.RNNCell(D, H, dtype=torch.float64) if cell
              else torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            torch.nn.init.normal_(param, std=0.5, generator=generator)
    return module


def numpy_params(module):
    return [p.detach().numpy().copy() for p in module.parameters()]


@pytest.mark.parametrize("seed", SEEDS)
def test_elman_forward_matches_torch(seed):
    B, T, D, H = sizes(seed)
    rnn = torch_rnn(D, H, seed)
    rng = np.random.default_rng(100 + seed)
    X, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    out, h_n = rnn(torch.from_numpy(X), torch.from_numpy(h0)[None])
    states = elman_forward(X, h0, *params_from_torch(*numpy_params(rnn)))
    assert states.shape == (B, T, H) and states.dtype == np.float64
    assert np.abs(states - out.detach().numpy()).max() < 1e-10
    assert np.abs(states[:, -1] - h_n.detach().numpy()[0]).max() < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_elman_step_matches_torch_cell(seed):
    B, _, D, H = sizes(seed)
    cell = torch_rnn(D, H, seed, cell=True)
    rng = np.random.default_rng(200 + seed)
    x, h = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    want = cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()
    got = elman_step(x, h, *params_from_torch(*numpy_params(cell)))
    assert got.shape == (B, H)
    assert np.abs(got - want).max() < 1e-10


def test_params_from_torch_mapping_dtype_and_copies():
    rnn = torch.nn.RNN(5, 3, batch_first=True)  # torch's default: float32
    arrays = [p.detach().numpy() for p in rnn.parameters()]
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
