"""Exercise ``bptt``: backpropagation through time.

Generated from exercises/bptt/bptt.ipynb by `python -m autograder reference`:
edit the notebook's solution regions, not this file.
"""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central differences of a scalar function ``f`` with respect to the array ``x``.

    Each entry is perturbed in turn, ``x[i] = saved + eps`` and ``saved - eps``,
    and then restored to its saved value, so ``x`` is left exactly as it was.

    Args:
        f: a function of an array shaped like ``x`` that returns a number.
        x: a float array of any shape.
        eps: the step.

    Returns:
        an array shaped like ``x``: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) at each index i.
    """
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        f_plus = f(x)
        x[i] = saved - eps
        f_minus = f(x)
        x[i] = saved
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def elman_backward(X, h0, W_x, W_h, b, H, dH):
    """Backpropagation through time for h_t = tanh(x_t W_x + h_{t-1} W_h + b), t = 1..T.

    The loss L reads every state: dH holds dL/dh_t as L reads h_t directly.

    Args:
        X: the inputs, (B, T, D).
        h0: the initial state, (B, H).
        W_x: (D, H), W_h: (H, H), b: (H,): the parameters.
        H: the forward states, (B, T, H): H[:, t] is the state after reading
            X[:, t]; the state before it is H[:, t - 1], or h0 at t = 0.
        dH: dL/dH, the upstream gradient on every state, (B, T, H).

    Returns:
        (dX, dh0, dW_x, dW_h, db), the gradients of L, shaped like X, h0, W_x, W_h, b.
    """
    T = X.shape[1]
    dX = np.zeros_like(X)
    dW_x, dW_h, db = np.zeros_like(W_x), np.zeros_like(W_h), np.zeros_like(b)
    dh_next = np.zeros_like(h0)  # the gradient that reaches h_t through step t+1: none after the last
    for t in reversed(range(T)):
        h_prev = H[:, t - 1] if t > 0 else h0
        dh = dH[:, t] + dh_next  # L reads h_t directly and through the next step
        da = dh * (1 - H[:, t] ** 2)  # through the tanh: tanh' = 1 - tanh^2
        dX[:, t] = da @ W_x.T
        dW_x += X[:, t].T @ da  # the weights and the bias are shared by every step: sum
        dW_h += h_prev.T @ da
        db += da.sum(axis=0)  # and by every sequence of the batch
        dh_next = da @ W_h.T
    return dX, dh_next, dW_x, dW_h, db  # after the first step, dh_next is dL/dh0
