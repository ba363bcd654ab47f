"""Exercise ``deep_bidirectional``: deep and bidirectional RNNs.

Generated from exercises/deep_bidirectional/deep_bidirectional.ipynb by `python -m autograder reference`:
edit the notebook's solution regions, not this file.
"""

import numpy as np


def elman_layer(X, h0, W_x, W_h, b):
    """One Elman RNN layer over a batch of sequences: h_t = tanh(x_t W_x + h_{t-1} W_h + b), t = 1..T.

    Args:
        X: (B, T, D) inputs, batch-major: X[:, t-1] is x_t.
        h0: (B, H) initial states.
        W_x: (D, H) input-to-hidden weights.
        W_h: (H, H) hidden-to-hidden weights.
        b: (H,) bias.

    Returns:
        (B, T, H) the states h_1..h_T: [:, t-1] is h_t.
    """
    h = h0
    states = []
    for t in range(X.shape[1]):
        h = np.tanh(X[:, t, :] @ W_x + h @ W_h + b)
        states.append(h)
    return np.stack(states, axis=1)


def deep_elman_forward(X, h0, layers):
    """A stack of L Elman layers, as torch.nn.RNN(D, H, num_layers=L, batch_first=True).

    Layer 1 reads X; layer l > 1 reads the states h_1..h_T of layer l - 1.

    Args:
        X: (B, T, D) inputs.
        h0: (L, B, H) initial states: h0[l] starts layer l + 1.
        layers: L tuples (W_x, W_h, b); W_x is (D, H) in layer 1 and (H, H) above it.

    Returns:
        (H_top (B, T, H), h_n (L, B, H)): the top layer's states h_1..h_T, and each layer's last state h_T.
    """
    states = X
    finals = []
    for l, (W_x, W_h, b) in enumerate(layers):
        states = elman_layer(states, h0[l], W_x, W_h, b)
        finals.append(states[:, -1])
    return states, np.stack(finals)


def bidirectional_elman_forward(X, h0_fwd, h0_bwd, fwd, bwd):
    """A bidirectional Elman layer, as torch.nn.RNN(D, H, bidirectional=True, batch_first=True).

    The forward direction reads x_1..x_T; the backward direction, with its own weights, reads x_T..x_1.

    Args:
        X: (B, T, D) inputs.
        h0_fwd, h0_bwd: (B, H) initial states of the forward and the backward direction.
        fwd, bwd: (W_x (D, H), W_h (H, H), b (H,)) of each direction.

    Returns:
        (Y (B, T, 2H), h_n (2, B, H)): Y[:, t-1] is [forward state at t, backward state at t];
        h_n is [forward state after x_T, backward state after x_1 (at position 1)].
    """
    forward_states = elman_layer(X, h0_fwd, *fwd)
    backward_states = elman_layer(X[:, ::-1], h0_bwd, *bwd)[:, ::-1]
    H = np.concatenate([forward_states, backward_states], axis=2)
    h_n = np.stack([forward_states[:, -1], backward_states[:, 0]])
    return H, h_n
