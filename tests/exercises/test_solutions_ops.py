"""solutions.ops against torch autograd in float64, and against central differences."""

import numpy as np
import pytest
import torch

from autograder.checks.oracles import torch_op
from edugrad import ops
from edugrad.tensor import Tensor

from solutions.ops import exp, log, log_softmax, multiply, select_step, sigmoid, stack_steps, tanh

RTOL, ATOL = 1e-10, 1e-12


def inputs(name, rng):
    """(edugrad op, torch function, input arrays, keyword arguments), on non-square shapes."""
    B, T, D = 3, 5, 4
    x = rng.normal(size=(B, D))
    return {
        "exp": (exp, torch.exp, [x], {}),
        "log": (log, torch.log, [rng.uniform(0.2, 4.0, size=(B, T, D))], {}),
        "tanh": (tanh, torch.tanh, [x * 2], {}),
        "sigmoid": (sigmoid, torch.sigmoid, [x * 3], {}),
        "multiply": (multiply, torch.mul, [x, rng.normal(size=(B, D))], {}),
        "log_softmax": (log_softmax, lambda z: torch.log_softmax(z, dim=-1), [x * 3], {}),
        "select_step": (select_step, lambda X, t: X[:, t, :], [rng.normal(size=(B, T, D))], {"t": 2}),
        "stack_steps": (stack_steps, lambda *hs: torch.stack(hs, dim=1), [rng.normal(size=(B, D)) for _ in range(T)],
                        {}),
    }[name]


def edugrad_run(op, arrays, G, kwargs):
    tensors = [Tensor(a.copy()) for a in arrays]
    out = op(*tensors, **kwargs)
    out.grad = G
    out._backward()
    return out.value, [t.grad for t in tensors]


def torch_run(fn, arrays, G, kwargs):
    return torch_op(fn, arrays, G, **kwargs)


NAMES = ["exp", "log", "tanh", "sigmoid", "multiply", "log_softmax", "select_step", "stack_steps"]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", NAMES)
def test_values_and_gradients_match_torch(name, seed):
    rng = np.random.default_rng(seed)
    op, fn, arrays, kwargs = inputs(name, rng)
    G = rng.normal(size=tuple(fn(*[torch.tensor(a) for a in arrays], **kwargs).shape))
    value, grads = edugrad_run(op, arrays, G, kwargs)
    value_t, grads_t = torch_run(fn, arrays, G, kwargs)
    np.testing.assert_allclose(value, value_t, rtol=RTOL, atol=ATOL)
    assert len(grads) == len(arrays)
    for grad, grad_t, array in zip(grads, grads_t, arrays):
        assert grad.shape == array.shape
        np.testing.assert_allclose(grad, grad_t, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_match_central_differences(name):
    rng = np.random.default_rng(42)
    op, _, arrays, kwargs = inputs(name, rng)
    out = op(*[Tensor(a.copy()) for a in arrays], **kwargs)
    R = rng.normal(size=np.shape(out.value))
    _, grads = edugrad_run(op, arrays, R, kwargs)

    def loss(values):
        return np.sum(R * op(*[Tensor(v) for v in values], **kwargs).value)

    eps = 1e-6
    for k, array in enumerate(arrays):
        numeric = np.zeros(array.shape)
        for index in np.ndindex(array.shape):
            up, down = [a.copy() for a in arrays], [a.copy() for a in arrays]
            up[k][index] += eps
            down[k][index] -= eps
            numeric[index] = (loss(up) - loss(down)) / (2 * eps)
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-6, atol=1e-7)


def test_log_softmax_is_exact_for_large_inputs_and_leaves_input_alone():
    x = np.array([[1000.0, 1001.0, 1002.0, 999.0], [-1000.0, -1001.0, -1003.0, -999.5], [1000.0, -1000.0, 0.0, 3.0]])
    G = np.random.default_rng(0).normal(size=x.shape)
    value, (grad,) = edugrad_run(log_softmax, [x], G, {})
    value_t, (grad_t,) = torch_run(lambda z: torch.log_softmax(z, dim=-1), [x], G, {})
    assert np.isfinite(value).all() and np.isfinite(grad).all()
    np.testing.assert_allclose(value, value_t, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(grad, grad_t, rtol=RTOL, atol=ATOL)
    tensor = Tensor(x.copy())
    log_softmax(tensor)
    np.testing.assert_array_equal(tensor.value, x)


def test_tensors_used_twice_receive_both_gradients():
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(2, 3)), rng.normal(size=(4, 2))
    tx, th = Tensor(x.copy()), Tensor(h.copy())
    ops.reduce_sum(multiply(tx, tx)).backward()
    ops.reduce_sum(stack_steps(th, th, th)).backward()
    np.testing.assert_allclose(tx.grad, 2 * x)
    np.testing.assert_allclose(th.grad, 3 * np.ones_like(h))


def test_rnn_like_graph_matches_torch():
    """A two-step tanh recurrence with a cross-entropy loss, through Tensor.backward()."""
    rng = np.random.default_rng(2)
    B, T, D, H = 3, 2, 4, 5
    X, W, V = rng.normal(size=(B, T, D)), rng.normal(size=(D, H)) * 0.5, rng.normal(size=(H, H)) * 0.5
    targets = rng.integers(0, H, size=B)
    R = -np.eye(H)[targets] / B

    tX, tW, tV = Tensor(X.copy()), Tensor(W.copy()), Tensor(V.copy())
    h = Tensor(np.zeros((B, H)))
    states = []
    for t in range(T):
        h = tanh(ops.add(ops.matmul(select_step(tX, t=t), tW), ops.matmul(h, tV)))
        states.append(h)
    last = select_step(stack_steps(*states), t=T - 1)
    loss = ops.reduce_sum(multiply(log_softmax(last), Tensor(R)))
    loss.backward()

    pX, pW, pV = (torch.tensor(a, requires_grad=True) for a in (X, W, V))
    hp = torch.zeros(B, H, dtype=torch.float64)
    for t in range(T):
        hp = torch.tanh(pX[:, t, :] @ pW + hp @ pV)
    loss_t = torch.nn.functional.cross_entropy(hp, torch.tensor(targets))
    loss_t.backward()
    np.testing.assert_allclose(loss.value, loss_t.item(), rtol=RTOL)
    for ours, theirs in [(tX, pX), (tW, pW), (tV, pV)]:
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
