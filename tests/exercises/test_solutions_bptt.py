"""solutions.bptt against torch autograd in float64 (via torch.nn.RNN) and against finite differences."""

import numpy as np
import pytest
import torch

from autograder.checks.oracles import torch_states_and_gradients

from solutions.bptt import elman_backward, numerical_gradient

# (B, T, D, H): all different in the first three, plus a single step and a single sequence.
SHAPES = [(2, 6, 3, 4), (4, 5, 2, 3), (3, 7, 5, 6), (3, 1, 4, 2), (1, 4, 3, 5)]


def random_inputs(shape, seed):
    B, T, D, H = shape
    rng = np.random.default_rng(seed)
    X, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)) * 0.5
    W_x, W_h = rng.normal(size=(D, H)) / np.sqrt(D), rng.normal(size=(H, H)) / np.sqrt(H)
    b, dH = rng.normal(size=H) * 0.3, rng.normal(size=(B, T, H))
    return X, h0, W_x, W_h, b, dH


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", SHAPES)
def test_elman_backward_matches_torch_autograd(shape, seed):
    X, h0, W_x, W_h, b, dH = random_inputs(shape, seed)
    H, want = torch_states_and_gradients(X, h0, W_x, W_h, b, dH)
    inputs = (X, h0, W_x, W_h, b, H, dH)
    saved = [a.copy() for a in inputs]
    got = elman_backward(*inputs)
    assert len(got) == 5
    for name, g, w in zip(["dX", "dh0", "dW_x", "dW_h", "db"], got, want):
        assert g.shape == w.shape, name
        assert np.max(np.abs(g - w)) < 1e-10, name
    assert all(np.array_equal(a, s) for a, s in zip(inputs, saved)), "the inputs are unchanged"


def numpy_loss(X, h0, W_x, W_h, b, dH):
    """L = sum(H * dH), with the forward pass written out in numpy."""
    h, total = h0, 0.0
    for t in range(X.shape[1]):
        h = np.tanh(X[:, t] @ W_x + h @ W_h + b)
        total += np.sum(h * dH[:, t])
    return total


@pytest.mark.parametrize("seed", range(2))
def test_elman_backward_matches_numerical_gradient(seed):
    X, h0, W_x, W_h, b, dH = random_inputs((3, 4, 2, 5), seed)
    H, _ = torch_states_and_gradients(X, h0, W_x, W_h, b, dH)
    got = elman_backward(X, h0, W_x, W_h, b, H, dH)
    arrays = {"X": X, "h0": h0, "W_x": W_x, "W_h": W_h, "b": b}
    for index, name in enumerate(arrays):
        def f(value, name=name):
            return numpy_loss(**{**arrays, name: value}, dH=dH)

        numeric = numerical_gradient(f, arrays[name].copy())
        np.testing.assert_allclose(got[index], numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def exp_function(shape, a, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * 0.01
    M = rng.uniform(0.5, 1.5, size=(shape[-1], 3)) / shape[-1]
    return (lambda v: float(np.sum(np.exp(a * (v @ M))))), x, a * np.exp(a * (x @ M)) @ M.T


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_numerical_gradient_is_central_and_leaves_x_unchanged(shape):
    f, x, want = exp_function(shape, 300, seed=len(shape))
    saved = x.copy()
    got = numerical_gradient(f, x)
    assert got.shape == x.shape and np.array_equal(x, saved)
    central_error = np.max(np.abs(got - want) / np.abs(want))
    one_sided = np.array([(f(saved + 1e-6 * np.eye(x.size)[k].reshape(x.shape)) - f(saved)) / 1e-6
                          for k in range(x.size)]).reshape(x.shape)
    one_sided_error = np.max(np.abs(one_sided - want) / np.abs(want))
    assert central_error < 1e-8 and one_sided_error > 1e-5  # order eps**2 versus order eps


def test_numerical_gradient_uses_eps_and_restores_exactly():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 3)) * 10.0 ** rng.integers(-8, 1, size=(4, 3))
    saved = x.copy()
    for eps in (0.1, 0.01):
        got = numerical_gradient(lambda v: float(np.sum(v**3)), x, eps=eps)
        np.testing.assert_allclose(got, 3 * saved**2 + eps**2, rtol=1e-9, atol=1e-12)
    assert np.array_equal(x, saved)
