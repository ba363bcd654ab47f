"""The torch oracles, in one place: what the hidden checks and the tests compare answers with.

All in float64, with our row-vector parameters (``W_x (D, H)``, ``W_h (H, H)``,
``b (H,)``) loaded into torch's column-vector modules.
"""

from __future__ import annotations

import numpy as np
import torch


def torch_rnn(W_x, W_h, b_ih, b_hh=None) -> torch.nn.RNN:
    """A float64 ``torch.nn.RNN(D, H, batch_first=True)`` computing h_t = tanh(x_t W_x + h_{t-1} W_h + b_ih + b_hh)."""
    D, H = np.shape(W_x)
    with torch.random.fork_rng(devices=[]):  # the module's own initialisation leaves torch's RNG alone
        rnn = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    b_hh = np.zeros(H) if b_hh is None else b_hh
    with torch.no_grad():
        for param, value in zip((rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0),
                                (np.transpose(W_x), np.transpose(W_h), b_ih, b_hh)):
            param.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float64)))
    return rnn


def torch_states(X, h0, W_x, W_h, b_ih, b_hh=None) -> np.ndarray:
    """torch's output for a batch: the states h_1..h_T, (B, T, H)."""
    rnn = torch_rnn(W_x, W_h, b_ih, b_hh)
    with torch.no_grad():
        out, _ = rnn(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64)),
                     torch.from_numpy(np.ascontiguousarray(h0, dtype=np.float64))[None])
    return out.numpy().copy()


def torch_states_and_gradients(X, h0, W_x, W_h, b, dH) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The states H (B, T, H) and, for L = sum(H * dH), torch autograd's (dX, dh0, dW_x, dW_h, db)."""
    rnn = torch_rnn(W_x, W_h, b)
    X_t = torch.tensor(np.asarray(X, dtype=np.float64), requires_grad=True)
    h0_t = torch.tensor(np.asarray(h0, dtype=np.float64), requires_grad=True)
    H, _ = rnn(X_t, h0_t[None])
    grads = torch.autograd.grad((H * torch.as_tensor(np.asarray(dH, dtype=np.float64))).sum(),
                                [X_t, h0_t, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0])
    dX, dh0, dW_ih, dW_hh, db = (g.numpy().copy() for g in grads)
    return H.detach().numpy().copy(), (dX, dh0, dW_ih.T.copy(), dW_hh.T.copy(), db)


def torch_op(torch_fn, arrays, G=None, **kwargs):
    """torch's value of ``torch_fn(*arrays, **kwargs)`` and, given an upstream gradient G, the inputs' gradients."""
    inputs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = torch_fn(*inputs, **kwargs)
    value = out.detach().numpy().copy()
    if G is None:
        return value, None
    out.backward(torch.tensor(np.array(G, dtype=np.float64)))
    return value, [x.grad.numpy().copy() for x in inputs]
