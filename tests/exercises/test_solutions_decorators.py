"""solutions.decorators against edugrad's own tensor_op, and plain Python behaviour."""

import numpy as np
import pytest
from edugrad import ops
from edugrad.tensor import Operation, Tensor
from edugrad.tensor import tensor_op as edugrad_tensor_op

from solutions.decorators import count_calls, register, tensor_op


class times(Operation):
    """Elementwise a * b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.extend([a, b])
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx
        return grad_output * b, grad_output * a


class matmul(Operation):
    @staticmethod
    def forward(ctx, a, b):
        ctx.extend([a, b])
        return a @ b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx
        return grad_output @ b.T, a.T @ grad_output


def graph(make, values):
    """L = sum(times(x @ W, x @ W) * x @ W): W and x @ W are each used more than once."""
    mul, mm = make(times), make(matmul)
    x, W = (Tensor(v.copy()) for v in values)
    h = mm(x, W)
    loss = ops.reduce_sum(mul(mul(h, h), h))
    loss.backward()
    return loss.value, x.grad, W.grad


@pytest.mark.parametrize("seed", range(3))
def test_tensor_op_matches_edugrad_values_and_gradients(seed):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    ours, theirs = graph(tensor_op, values), graph(edugrad_tensor_op, values)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_tensor_used_twice_accumulates():
    x = Tensor(np.array([1.0, -2.0, 3.0]))
    ops.reduce_sum(tensor_op(times)(x, x)).backward()
    np.testing.assert_allclose(x.grad, 2 * x.value)  # d/dx sum(x*x) = 2x: both uses count


def test_count_calls_counts_each_function_and_keeps_metadata():
    @count_calls
    def f(x):
        "doc"
        return x + 1

    @count_calls
    def g(x):
        return x

    assert [f(1), f(2), g(3)] == [2, 3, 3]
    assert (f.calls, g.calls) == (2, 1)
    assert (f.__name__, f.__doc__, f.__wrapped__.__name__) == ("f", "doc", "f")


def test_register_stores_by_name_and_returns_fn():
    registry = {}

    def tokenize(text):
        return text.split()

    assert register(registry)(tokenize) is tokenize
    assert registry == {"tokenize": tokenize}
