"""Typical mistakes in the exercise ``deep_bidirectional`` (see tests/exercises/mutants.py)."""

from tests.helpers.notebooks import Mutant

DEEP_VALUES = ("test_deep_elman_forward_top", "test_deep_elman_forward_h_n", "test_deep_elman_forward_h0")
DEEP_ALL = ("test_deep_elman_forward_shapes", *DEEP_VALUES)
BIDIRECTIONAL_VALUES = ("test_bidirectional_elman_forward_states", "test_bidirectional_elman_forward_h_n")
BIDIRECTIONAL_ALL = ("test_bidirectional_elman_forward_shapes", *BIDIRECTIONAL_VALUES)


def named(tests, phrase):
    """Each of these tests fails, and its feedback contains the phrase."""
    return {test: phrase for test in tests}


# A mistake in elman_layer also breaks the two functions that call it; their tests say so.
VIA_LAYER = "as your elman_layer computes it"
STEP = "        h = np.tanh(X[:, t, :] @ W_x + h @ W_h + b)\n        states.append(h)\n"
DEEP_LOOP = ("    for l, (W_x, W_h, b) in enumerate(layers):\n"
             "        states = elman_layer(states, h0[l], W_x, W_h, b)\n")
DEEP_BODY = ("    states = X\n    finals = []\n" + DEEP_LOOP +
             "        finals.append(states[:, -1])\n    return states, np.stack(finals)")
BACKWARD = "elman_layer(X[:, ::-1], h0_bwd, *bwd)[:, ::-1]"
CONCATENATE = "np.concatenate([forward_states, backward_states], axis=2)"
H_N = "np.stack([forward_states[:, -1], backward_states[:, 0]])"

MUTANTS = [
    # ------------------------------------------------------------------ elman_layer
    Mutant("layer_off_by_one", "elman_layer", STEP,
           "        states.append(h)\n        h = np.tanh(X[:, t, :] @ W_x + h @ W_h + b)\n",
           {"test_elman_layer": "h_0, ..., h_{T-1} instead of h_1, ..., h_T",
            **named(DEEP_VALUES + BIDIRECTIONAL_VALUES, VIA_LAYER)}),
    Mutant("layer_feeds_h0", "elman_layer", "@ W_x + h @ W_h", "@ W_x + h0 @ W_h",
           {"test_elman_layer": "every step is fed h_0", **named(DEEP_VALUES + BIDIRECTIONAL_VALUES, VIA_LAYER)}),
    Mutant("layer_time_major", "elman_layer", "np.stack(states, axis=1)", "np.stack(states)",
           {"test_elman_layer": "time-major", **named(DEEP_ALL, "raised in elman_layer"),
            **named(BIDIRECTIONAL_VALUES, VIA_LAYER), "test_bidirectional_elman_forward_shapes": ""}),
    # ----------------------------------------------------------- deep_elman_forward
    Mutant("deep_layers_read_X", "deep_elman_forward", "elman_layer(states, h0[l],", "elman_layer(X, h0[l],",
           named(DEEP_ALL, "every layer reads the input X: layer 1 reads X")),
    Mutant("deep_shared_weights", "deep_elman_forward", DEEP_LOOP,
           "    W_x, W_h, b = layers[0]\n    for l in range(len(layers)):\n"
           "        states = elman_layer(states, h0[l], W_x, W_h, b)\n",
           named(DEEP_ALL, "every layer uses the weights of layer 1")),
    Mutant("deep_every_layer_from_h0_0", "deep_elman_forward", "h0[l]", "h0[0]",
           {"test_deep_elman_forward_h0": "every layer starts from h0[0]"}),
    Mutant("deep_h0_ignored", "deep_elman_forward", "h0[l]", "np.zeros_like(h0[l])",
           {"test_deep_elman_forward_h0": "h0 is ignored"}),
    Mutant("deep_h_n_top_layer_only", "deep_elman_forward", "return states, np.stack(finals)",
           "return states, states[:, -1]",
           named(("test_deep_elman_forward_shapes", "test_deep_elman_forward_h_n", "test_deep_elman_forward_h0"),
                 "h_n holds only the top layer's last state")),
    Mutant("deep_h_n_reverse_layer_order", "deep_elman_forward", "finals.append(states[:, -1])",
           "finals.insert(0, states[:, -1])",
           named(("test_deep_elman_forward_h_n", "test_deep_elman_forward_h0"), "h_n is in reverse layer order")),
    Mutant("deep_h_n_batch_major", "deep_elman_forward", "np.stack(finals)", "np.stack(finals, axis=1)",
           named(("test_deep_elman_forward_shapes", "test_deep_elman_forward_h_n", "test_deep_elman_forward_h0"),
                 "h_n is stacked batch-major")),
    Mutant("deep_h_n_first_states", "deep_elman_forward", "finals.append(states[:, -1])",
           "finals.append(states[:, 0])",
           named(("test_deep_elman_forward_h_n", "test_deep_elman_forward_h0"), "each layer's first state h_1")),
    Mutant("deep_h_n_written_into_h0", "deep_elman_forward", DEEP_BODY,
           "    states = X\n    h_n = h0\n" + DEEP_LOOP + "        h_n[l] = states[:, -1]\n    return states, h_n",
           named(DEEP_VALUES, "changed its input h0 in place")),
    Mutant("deep_results_swapped", "deep_elman_forward", "return states, np.stack(finals)",
           "return np.stack(finals), states", named(DEEP_ALL, "the two results are swapped")),
    # -------------------------------------------------- bidirectional_elman_forward
    Mutant("backward_states_left_reversed", "bidirectional_elman_forward", BACKWARD,
           "elman_layer(X[:, ::-1], h0_bwd, *bwd)",
           {"test_bidirectional_elman_forward_states": "the backward states are left in reversed time order",
            "test_bidirectional_elman_forward_h_n": "h_n's backward state is taken at position T"}),
    Mutant("backward_reads_forwards", "bidirectional_elman_forward", BACKWARD, "elman_layer(X, h0_bwd, *bwd)",
           named(BIDIRECTIONAL_VALUES, "the backward direction reads X forwards, from x_1: it reads x_T first")),
    Mutant("backward_reverses_only_its_states", "bidirectional_elman_forward", BACKWARD,
           "elman_layer(X, h0_bwd, *bwd)[:, ::-1]",
           {"test_bidirectional_elman_forward_states": "only its states are reversed",
            "test_bidirectional_elman_forward_h_n": "only its states are reversed"}),
    Mutant("backward_reverses_the_batch", "bidirectional_elman_forward", BACKWARD,
           "elman_layer(X[::-1], h0_bwd, *bwd)[::-1]", named(BIDIRECTIONAL_VALUES, "X[::-1] reverses the batch")),
    Mutant("backward_uses_forward_weights", "bidirectional_elman_forward", "h0_bwd, *bwd)", "h0_bwd, *fwd)",
           named(BIDIRECTIONAL_VALUES, "the backward direction uses the forward weights")),
    Mutant("backward_starts_from_h0_fwd", "bidirectional_elman_forward", "X[:, ::-1], h0_bwd", "X[:, ::-1], h0_fwd",
           named(BIDIRECTIONAL_VALUES, "the backward direction starts from h0_fwd")),
    Mutant("halves_swapped", "bidirectional_elman_forward", CONCATENATE,
           "np.concatenate([backward_states, forward_states], axis=2)",
           {"test_bidirectional_elman_forward_states": "the two halves are in the wrong order"}),
    Mutant("concatenated_along_batch", "bidirectional_elman_forward", CONCATENATE,
           "np.concatenate([forward_states, backward_states])",
           named(("test_bidirectional_elman_forward_shapes", "test_bidirectional_elman_forward_states"),
                 "concatenated along the batch axis")),
    Mutant("stacked_not_concatenated", "bidirectional_elman_forward", CONCATENATE,
           "np.stack([forward_states, backward_states], axis=2)",
           named(("test_bidirectional_elman_forward_shapes", "test_bidirectional_elman_forward_states"),
                 "stacked on a new axis")),
    Mutant("h_n_backward_first", "bidirectional_elman_forward", H_N,
           "np.stack([backward_states[:, 0], forward_states[:, -1]])",
           {"test_bidirectional_elman_forward_h_n": "h_n has the backward final state first"}),
    Mutant("h_n_backward_at_position_T", "bidirectional_elman_forward", "backward_states[:, 0]",
           "backward_states[:, -1]",
           {"test_bidirectional_elman_forward_h_n": "h_n's backward state is taken at position T"}),
    Mutant("h_n_last_position_of_H", "bidirectional_elman_forward", "return H, h_n", "return H, H[:, -1]",
           {"test_bidirectional_elman_forward_shapes": "Y[:, -1]",
            "test_bidirectional_elman_forward_h_n": "h_n is Y[:, -1]"}),
    Mutant("h_n_batch_major", "bidirectional_elman_forward", H_N,
           "np.stack([forward_states[:, -1], backward_states[:, 0]], axis=1)",
           named(("test_bidirectional_elman_forward_shapes", "test_bidirectional_elman_forward_h_n"),
                 "h_n is stacked batch-major")),
]
