"""The torch oracles, in one place: what the hidden checks and the tests compare answers with.

All in float64, with our row-vector parameters (``W_x (D, H)``, ``W_h (H, H)``, ``b (H,)``) loaded into
torch's column-vector modules. Nothing else in the grader or its tests builds a ``torch.nn.RNN``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PARTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _tensor(array) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float64))


def torch_module(layers, bidirectional: bool = False) -> torch.nn.RNN:
    """A float64 ``torch.nn.RNN(D, H, num_layers=L, bidirectional=..., batch_first=True)`` holding ``layers``.

    ``layers``: one ``(W_x, W_h, b_ih[, b_hh])`` per layer, bottom first (W_x is (D, H) for layer 1, (H, H)
    above), or ``[forward, backward]`` of one layer when bidirectional; a missing b_hh is zero. Each layer computes
    h_t = tanh(x_t W_x + h_{t-1} W_h + b_ih + b_hh).
    """
    D, H = np.shape(layers[0][0])
    with torch.random.fork_rng(devices=[]):  # the module's own initialisation leaves torch's RNG alone
        rnn = torch.nn.RNN(D, H, num_layers=1 if bidirectional else len(layers), bidirectional=bidirectional,
                           batch_first=True, dtype=torch.float64)
    suffixes = ["l0", "l0_reverse"] if bidirectional else [f"l{l}" for l in range(len(layers))]
    with torch.no_grad():
        for suffix, (W_x, W_h, b_ih, *b_hh) in zip(suffixes, layers):
            values = (np.transpose(W_x), np.transpose(W_h), b_ih, b_hh[0] if b_hh else np.zeros(H))
            for part, value in zip(PARTS, values):
                getattr(rnn, f"{part}_{suffix}").copy_(_tensor(value))
    return rnn


def torch_rnn(layers, X, h0, bidirectional: bool = False, lengths=None) -> tuple[np.ndarray, np.ndarray]:
    """torch's ``(output, h_n)`` for the batch X (B, T, D) from h0 (L or 2, B, H), as numpy arrays.

    ``layers`` as for :func:`torch_module`. output is (B, T, H), or (B, T, 2H) when bidirectional; h_n is
    (L or 2, B, H). With ``lengths`` (B ragged lengths, any order) the sequences are packed
    (``pack_padded_sequence``): output is zero at the padding, and h_n holds each sequence's state after its
    last real step.
    """
    rnn = torch_module(layers, bidirectional)
    inputs = _tensor(X)
    if lengths is not None:
        inputs = pack_padded_sequence(inputs, torch.as_tensor(np.asarray(lengths), dtype=torch.int64),
                                      batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        out, h_n = rnn(inputs, _tensor(h0))
    if lengths is not None:
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=np.shape(X)[1])
    return out.numpy().copy(), h_n.numpy().copy()


def torch_parameters(rnn: torch.nn.Module, suffix: str = "l0") -> list[np.ndarray]:
    """torch's own [weight_ih (H, D), weight_hh (H, H), bias_ih (H,), bias_hh (H,)] of one layer, as numpy copies."""
    return [getattr(rnn, f"{part}_{suffix}").detach().numpy().copy() for part in PARTS]


def torch_initialised_parameters(D: int, H: int, seed: int, dtype=torch.float64) -> list[np.ndarray]:
    """The four parameters (see :func:`torch_parameters`) of a ``torch.nn.RNN(D, H)`` as torch initialises it
    after ``torch.manual_seed(seed)``, in ``dtype``; torch's own random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        rnn = torch.nn.RNN(D, H, batch_first=True, dtype=dtype)
    return torch_parameters(rnn)


def torch_states_and_gradients(X, h0, W_x, W_h, b, dH) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The states H (B, T, H) and, for L = sum(H * dH), torch autograd's (dX, dh0, dW_x, dW_h, db)."""
    rnn = torch_module([(W_x, W_h, b)])
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
