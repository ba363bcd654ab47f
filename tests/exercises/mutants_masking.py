"""Typical mistakes in the exercise ``masking`` (see tests/exercises/mutants.py)."""

from tests.helpers.notebooks import Mutant

LOOP = "    for i, seq in enumerate(seqs):\n"
FILL = "        ids[i, :len(seq)] = seq\n        mask[i, :len(seq)] = 1\n"
PAD_TESTS = ("test_pad_batch_ids", "test_pad_batch_pad_id", "test_pad_batch_mask")
REVERSE = ("    out = np.array(X, copy=True)\n    for i, length in enumerate(lengths):\n"
           "        out[i, :length] = X[i, :length][::-1]\n    return out")
UPDATE = ("        h = np.where(step, h_new, h)  # a sequence that has ended keeps its last state\n"
          "        H[:, t] = np.where(step, h_new, 0.0)\n")
FORWARD_TESTS = ("test_masked_elman_forward_states", "test_masked_elman_forward_final")

MUTANTS = [
    # pad_batch
    Mutant("pad_at_front", "pad_batch", FILL,
           "        ids[i, T - len(seq):] = seq\n        mask[i, T - len(seq):] = 1\n",
           {test: "the padding is put at the front" for test in PAD_TESTS}),
    Mutant("pad_id_ignored", "pad_batch", "ids = np.full((B, T), pad_id, dtype=np.int64)",
           "ids = np.zeros((B, T), dtype=np.int64)",
           {"test_pad_batch_pad_id": "pad_id is ignored"}),
    Mutant("ids_float", "pad_batch", "ids = np.full((B, T), pad_id, dtype=np.int64)",
           "ids = pad_id * np.ones((B, T))",
           {"test_pad_batch_ids": "ids has dtype float64", "test_pad_batch_pad_id": "ids has dtype float64"}),
    Mutant("mask_float", "pad_batch", "mask = np.zeros((B, T), dtype=np.int64)", "mask = np.zeros((B, T))",
           {"test_pad_batch_mask": "mask has dtype float64"}),
    Mutant("mask_holds_ids", "pad_batch", "mask[i, :len(seq)] = 1", "mask[i, :len(seq)] = seq",
           {"test_pad_batch_mask": "the mask holds the token ids"}),
    Mutant("mask_transposed", "pad_batch", "    mask = np.zeros((B, T), dtype=np.int64)\n" + LOOP + FILL,
           "    mask = np.zeros((T, B), dtype=np.int64)\n" + LOOP
           + "        ids[i, :len(seq)] = seq\n        mask[:len(seq), i] = 1\n",
           {"test_pad_batch_mask": "the mask is transposed"}),
    Mutant("pads_the_callers_lists", "pad_batch", FILL,
           "        mask[i, :len(seq)] = 1\n        seq += [pad_id] * (T - len(seq))\n        ids[i] = seq\n",
           {test: "changed its input seqs in place" for test in PAD_TESTS}),
    # final_states
    Mutant("final_at_length", "final_states", "lengths - 1]", "lengths]",
           {"test_final_states": "taken at index lengths[b] instead of lengths[b] - 1"}),
    Mutant("final_last_column", "final_states", "return H[np.arange(len(lengths)), lengths - 1]",
           "return H[:, -1]",
           {"test_final_states": "the final state is taken at the last position, H[:, -1]"}),
    Mutant("final_all_lengths_per_row", "final_states", "H[np.arange(len(lengths)), lengths - 1]",
           "H[:, lengths - 1]",
           {"test_final_states": "pair each row with its own length"}),
    Mutant("final_lengths_as_list", "final_states", "    lengths = np.asarray(lengths)\n", "",
           {"test_final_states": "lengths may be a Python list"}),
    # masked_mean
    Mutant("mean_over_all_positions", "masked_mean", "return float(token_losses[real].sum() / real.sum())",
           "return float(np.mean(token_losses * mask))",
           {"test_masked_mean": "divided by B * T"}),
    Mutant("mean_divided_by_batch", "masked_mean", "/ real.sum()", "/ len(real)",
           {"test_masked_mean": "divided by the batch size B"}),
    Mutant("mean_includes_padding", "masked_mean", "token_losses[real].sum()", "token_losses.sum()",
           {"test_masked_mean": "the padding losses are included"}),
    Mutant("mean_of_sequence_means", "masked_mean", "return float(token_losses[real].sum() / real.sum())",
           "return float(np.mean((token_losses * real).sum(axis=1) / real.sum(axis=1)))",
           {"test_masked_mean": "each sequence is averaged first"}),
    Mutant("mean_integer_mask_as_index", "masked_mean", "real = np.asarray(mask, dtype=bool)",
           "real = np.asarray(mask)",
           {"test_masked_mean": "an integer mask is used as an index"}),
    # reverse_padded
    Mutant("reverse_with_padding", "reverse_padded", REVERSE, "    return np.flip(X, axis=1).copy()",
           {"test_reverse_padded": "the padding moves to the front"}),
    Mutant("reverse_zeroes_padding", "reverse_padded", "out = np.array(X, copy=True)", "out = np.zeros_like(X)",
           {"test_reverse_padded": "the padding positions are set to zero"}),
    Mutant("reverse_in_place", "reverse_padded", "out = np.array(X, copy=True)", "out = X",
           {"test_reverse_padded": "changed its input X in place"}),
    Mutant("reverse_features", "reverse_padded", "X[i, :length][::-1]", "X[i, :length, ::-1]",
           {"test_reverse_padded": "the features are reversed"}),
    # masked_elman_forward
    Mutant("padding_updates_state", "masked_elman_forward", "h = np.where(step, h_new, h)", "h = h_new",
           {"test_masked_elman_forward_final": "the padding steps still update the hidden state"}),
    Mutant("states_carried_into_padding", "masked_elman_forward", "H[:, t] = np.where(step, h_new, 0.0)",
           "H[:, t] = h",
           {"test_masked_elman_forward_states": "repeat each sequence's last real state"}),
    Mutant("no_masking_at_all", "masked_elman_forward", UPDATE, "        h = h_new\n        H[:, t] = h_new\n",
           {"test_masked_elman_forward_states": "computed from the padding inputs",
            "test_masked_elman_forward_final": "the padding steps still update the hidden state"}),
    Mutant("final_state_from_last_column", "masked_elman_forward", "return H, h", "return H, H[:, -1]",
           {"test_masked_elman_forward_final": "h_n is H[:, -1]"}),
    Mutant("forward_h0_ignored", "masked_elman_forward", "    h = h0\n", "    h = np.zeros_like(h0)\n",
           {test: "h0 is ignored" for test in FORWARD_TESTS}),
    Mutant("forward_lengths_as_list", "masked_elman_forward", "np.asarray(lengths)[:, None]", "lengths[:, None]",
           {test: "lengths may be a Python list" for test in FORWARD_TESTS}),
]
