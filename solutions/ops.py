"""Exercise ``ops``: operations.

Generated from exercises/ops/ops.ipynb by `python -m autograder reference`:
edit the notebook's solution regions, not this file.
"""

import numpy as np
from edugrad.tensor import Operation, tensor_op


@tensor_op
class exp(Operation):
    """Elementwise natural exponential: x (any shape) -> v = e^x (same shape); backward -> [dL/dx]."""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.append(out)  # d/dx e^x = e^x: the output is the derivative
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx
        return [grad_output * out]


@tensor_op
class log(Operation):
    """Elementwise natural logarithm: x (any shape, positive) -> v = log x (same shape); backward -> [dL/dx]."""

    @staticmethod
    def forward(ctx, x):
        ctx.append(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx
        return [grad_output / x]


@tensor_op
class tanh(Operation):
    """Elementwise hyperbolic tangent: x (any shape) -> v = tanh x (same shape); backward -> [dL/dx]."""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.append(out)  # the derivative 1 - tanh^2 is a function of the output
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx
        return [grad_output * (1 - out**2)]


@tensor_op
class sigmoid(Operation):
    """Elementwise logistic sigmoid: x (any shape) -> v = 1 / (1 + e^-x) (same shape); backward -> [dL/dx]."""

    @staticmethod
    def forward(ctx, x):
        out = 1 / (1 + np.exp(-x))
        ctx.append(out)  # the derivative s (1 - s) is a function of the output
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx
        return [grad_output * out * (1 - out)]


@tensor_op
class multiply(Operation):
    """Elementwise product: a, b (same shape) -> v = a * b (that shape); backward -> [dL/da, dL/db]."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.extend([a, b])
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx
        return [grad_output * b, grad_output * a]


@tensor_op
class log_softmax(Operation):
    """Log-softmax of each row: x (B, D) -> y (B, D), y[i] = x[i] - log sum_j exp x[i, j]; backward -> [dL/dx]."""

    @staticmethod
    def forward(ctx, x):
        shifted = x - x.max(axis=-1, keepdims=True)  # the largest exponent is e^0 = 1: no overflow
        out = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        ctx.append(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx
        softmax = np.exp(out)
        return [grad_output - softmax * grad_output.sum(axis=-1, keepdims=True)]


@tensor_op
class select_step(Operation):
    """The inputs at time step t: X (B, T, D), keyword t -> X[:, t, :] (B, D); backward -> [dL/dX] (B, T, D)."""

    @staticmethod
    def forward(ctx, X, t):
        ctx.extend([X.shape, t])  # the shape and the step, not the array
        return X[:, t, :]

    @staticmethod
    def backward(ctx, grad_output):
        shape, t = ctx
        grad = np.zeros(shape)  # steps other than t did not reach the output
        grad[:, t, :] = grad_output
        return [grad]


@tensor_op
class stack_steps(Operation):
    """Stack T states along a new time axis: h_1, ..., h_T each (B, H) -> V (B, T, H); backward -> T arrays (B, H)."""

    @staticmethod
    def forward(ctx, *hs):
        return np.stack(hs, axis=1)

    @staticmethod
    def backward(ctx, grad_output):
        return [grad_output[:, t, :] for t in range(grad_output.shape[1])]
