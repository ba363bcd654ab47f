"""Exercise ``masking``: padding and masking.

Generated from exercises/masking/masking.ipynb by `python -m autograder reference`:
edit the notebook's solution regions, not this file.
"""

import numpy as np


def pad_batch(seqs, pad_id=0):
    """Pad a list of token-id sequences at the end into one array, and mark the real tokens.

    Args:
        seqs: a list of B lists of int token ids, of lengths >= 1 (pad_id is not one of them).
        pad_id: the id written into the padding positions.

    Returns:
        (ids, mask): two new integer arrays of shape (B, T_max), T_max the longest length;
        ids[b, t] is seqs[b][t] for t < len(seqs[b]) and pad_id after it;
        mask[b, t] is 1 for a real token and 0 for padding. ``seqs`` is left unchanged.
    """
    B, T = len(seqs), max(len(seq) for seq in seqs)
    ids = np.full((B, T), pad_id, dtype=np.int64)
    mask = np.zeros((B, T), dtype=np.int64)
    for i, seq in enumerate(seqs):
        ids[i, :len(seq)] = seq
        mask[i, :len(seq)] = 1
    return ids, mask


def final_states(H, lengths):
    """Each sequence's state at its last real step.

    Args:
        H: (B, T, H) the states of a batch padded at the end (the argument is named H; the H of the shape is the
            hidden size).
        lengths: B ints (a list or an array), 1 <= lengths[b] <= T.

    Returns:
        (B, H) a new array: row b is H[b, lengths[b] - 1].
    """
    lengths = np.asarray(lengths)
    return H[np.arange(len(lengths)), lengths - 1]


def masked_mean(token_losses, mask):
    """The mean loss over the real tokens only.

    Args:
        token_losses: (B, T) one loss per position; the values at padding are arbitrary.
        mask: (B, T) 1 (or True) for a real token, 0 (or False) for padding.

    Returns:
        float: the sum of the real tokens' losses divided by the number of real tokens.
    """
    real = np.asarray(mask, dtype=bool)
    return float(token_losses[real].sum() / real.sum())


def reverse_padded(X, lengths):
    """Reverse each sequence within its own length; the padding stays at the end.

    Args:
        X: (B, T, D) a batch padded at the end.
        lengths: B ints (a list or an array), 1 <= lengths[b] <= T.

    Returns:
        (B, T, D) a new array: out[b, t] = X[b, lengths[b] - 1 - t] for t < lengths[b],
        and out[b, t] = X[b, t] (the padding, unchanged) after it.
    """
    out = np.array(X, copy=True)
    for i, length in enumerate(lengths):
        out[i, :length] = X[i, :length][::-1]
    return out


def masked_elman_forward(X, lengths, h0, W_x, W_h, b):
    """The Elman RNN over a padded batch, as torch.nn.RNN on packed sequences.

    Sequence b is read for its first lengths[b] steps only: h_t = tanh(x_t W_x + h_{t-1} W_h + b).

    Args:
        X: (B, T, D) inputs padded at the end; the padding values are arbitrary.
        lengths: B ints (a list or an array), 1 <= lengths[b] <= T.
        h0: (B, H) initial states.
        W_x, W_h, b: (D, H), (H, H), (H,).

    Returns:
        (states, h_n): states (B, T, H), zero at padding (what pad_packed_sequence returns);
        h_n (B, H) each sequence's state after its last real step.
    """
    B, T, _ = X.shape
    real = np.arange(T)[None, :] < np.asarray(lengths)[:, None]  # (B, T)
    h = h0
    H = np.zeros((B, T, W_h.shape[0]))
    for t in range(T):
        h_new = np.tanh(X[:, t, :] @ W_x + h @ W_h + b)
        step = real[:, t, None]
        h = np.where(step, h_new, h)  # a sequence that has ended keeps its last state
        H[:, t] = np.where(step, h_new, 0.0)
    return H, h
