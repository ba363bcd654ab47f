"""Exercise ``elman``: the Elman RNN.

Generated from exercises/elman/elman.ipynb by `python -m autograder reference`:
edit the notebook's solution regions, not this file.
"""

import numpy as np


def elman_step(x_t, h_prev, W_x, W_h, b):
    """One step of the Elman RNN on a batch: h_t = tanh(x_t W_x + h_{t-1} W_h + b).

    Args:
        x_t: (B, D) the inputs at step t, one row per example.
        h_prev: (B, H) the previous states h_{t-1}.
        W_x: (D, H) input-to-hidden weights.
        W_h: (H, H) hidden-to-hidden weights.
        b: (H,) bias.

    Returns:
        (B, H) the new states h_t.
    """
    return np.tanh(x_t @ W_x + h_prev @ W_h + b)


def elman_forward(X, h0, W_x, W_h, b):
    """The Elman RNN over a batch of sequences: h_t = tanh(x_t W_x + h_{t-1} W_h + b), t = 1..T.

    Args:
        X: (B, T, D) inputs, batch-major: X[:, t-1] is x_t.
        h0: (B, H) initial states.
        W_x, W_h, b: (D, H), (H, H), (H,) as in ``elman_step``.

    Returns:
        (B, T, H) the states h_1..h_T: [:, t-1] is h_t (torch.nn.RNN's output).
    """
    h = h0
    states = []
    for t in range(X.shape[1]):
        h = elman_step(X[:, t, :], h, W_x, W_h, b)
        states.append(h)
    return np.stack(states, axis=1)


def params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh):
    """Our (W_x, W_h, b) from the parameters of torch.nn.RNN(D, H, batch_first=True).

    torch computes h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) with column vectors;
    ours, h_t = tanh(x_t W_x + h_{t-1} W_h + b) with row vectors, must agree with it.

    Args:
        weight_ih: (H, D) ``weight_ih_l0`` as a numpy array.
        weight_hh: (H, H) ``weight_hh_l0``.
        bias_ih, bias_hh: (H,) ``bias_ih_l0`` and ``bias_hh_l0``.

    Returns:
        (W_x (D, H), W_h (H, H), b (H,)): new arrays, best in float64; from float32
        parameters, float32 arrays also pass (the tests compare values). The inputs
        are left unchanged.
    """
    W_x = np.array(weight_ih, dtype=np.float64).T
    W_h = np.array(weight_hh, dtype=np.float64).T
    b = np.array(bias_ih, dtype=np.float64) + np.array(bias_hh, dtype=np.float64)
    return W_x, W_h, b
