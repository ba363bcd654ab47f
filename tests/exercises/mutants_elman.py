"""Typical mistakes in the exercise ``elman`` (see tests/exercises/mutants.py)."""

from tests.helpers.notebooks import Mutant

STEP = "return np.tanh(x_t @ W_x + h_prev @ W_h + b)"
LOOP = "        h = elman_step(X[:, t, :], h, W_x, W_h, b)\n        states.append(h)\n"
# A mistake in elman_step also breaks elman_forward, which calls it; the forward tests say so.
VIA_STEP = "as your elman_step computes it"
FORWARD_VIA_STEP = {"test_elman_forward_values": VIA_STEP, "test_elman_forward_h0": VIA_STEP}
FORWARD_STEP_CRASH = {test: "raised in elman_step" for test in
                      ("test_elman_forward_shape", "test_elman_forward_values", "test_elman_forward_h0")}

MUTANTS = [
    # elman_step
    Mutant("step_no_bias", "elman_step", STEP, "return np.tanh(x_t @ W_x + h_prev @ W_h)",
           {"test_elman_step_bias": "the bias b is forgotten", **FORWARD_VIA_STEP}),
    Mutant("step_no_tanh", "elman_step", STEP, "return x_t @ W_x + h_prev @ W_h + b",
           {"test_elman_step_weights": "tanh is missing", "test_elman_step_bias": "tanh is missing",
            **FORWARD_VIA_STEP}),
    Mutant("step_sigmoid", "elman_step", STEP, "return 1 / (1 + np.exp(-(x_t @ W_x + h_prev @ W_h + b)))",
           {"test_elman_step_weights": "sigmoid is used instead of tanh",
            "test_elman_step_bias": "sigmoid is used instead of tanh", **FORWARD_VIA_STEP}),
    Mutant("step_W_h_transposed", "elman_step", "h_prev @ W_h", "h_prev @ W_h.T",
           {"test_elman_step_weights": "W_h is transposed", "test_elman_step_bias": "W_h is transposed",
            **FORWARD_VIA_STEP}),
    Mutant("step_W_x_transposed", "elman_step", "x_t @ W_x", "x_t @ W_x.T",
           {"test_elman_step_weights": "W_x is transposed", "test_elman_step_bias": "W_x is transposed",
            **FORWARD_STEP_CRASH}),
    Mutant("step_weights_swapped", "elman_step", "x_t @ W_x + h_prev @ W_h", "x_t @ W_h + h_prev @ W_x",
           {"test_elman_step_weights": "the weights are swapped", "test_elman_step_bias": "the weights are swapped",
            **FORWARD_STEP_CRASH}),
    Mutant("step_ignores_h_prev", "elman_step", " + h_prev @ W_h", "",
           {"test_elman_step_weights": "h_prev is ignored", "test_elman_step_bias": "h_prev is ignored",
            **FORWARD_VIA_STEP}),
    # elman_forward
    Mutant("forward_feeds_h0", "elman_forward", "elman_step(X[:, t, :], h, ", "elman_step(X[:, t, :], h0, ",
           {"test_elman_forward_values": "instead of the previous state h_{t-1}",
            "test_elman_forward_h0": "every step is fed h_0 instead of the previous state"}),
    Mutant("forward_reads_empty_slot", "elman_forward",
           "    h = h0\n    states = []\n    for t in range(X.shape[1]):\n" + LOOP + "    return np.stack(states, axis=1)",
           "    out = np.zeros((X.shape[0], X.shape[1], W_h.shape[0]))\n    for t in range(X.shape[1]):\n"
           "        out[:, t] = elman_step(X[:, t, :], out[:, t], W_x, W_h, b)\n    return out",
           {"test_elman_forward_values": "instead of the previous state h_{t-1}",
            "test_elman_forward_h0": "the slot of h_t, still empty"}),
    Mutant("forward_off_by_one", "elman_forward", LOOP,
           "        states.append(h)\n        h = elman_step(X[:, t, :], h, W_x, W_h, b)\n",
           {"test_elman_forward_values": "h_0, ..., h_{T-1} instead of h_1, ..., h_T",
            "test_elman_forward_h0": "h_0, ..., h_{T-1} instead of h_1, ..., h_T"}),
    Mutant("forward_h0_ignored", "elman_forward", "    h = h0\n", "    h = np.zeros_like(h0)\n",
           {"test_elman_forward_h0": "h0 is ignored"}),
    Mutant("forward_time_major", "elman_forward", "np.stack(states, axis=1)", "np.stack(states)",
           {"test_elman_forward_shape": "time-major", "test_elman_forward_values": "time-major",
            "test_elman_forward_h0": "time-major"}),
    Mutant("forward_last_state_only", "elman_forward", "return np.stack(states, axis=1)", "return h",
           {"test_elman_forward_shape": "only the last state", "test_elman_forward_values": "only the last state",
            "test_elman_forward_h0": "only the last state"}),
    Mutant("forward_includes_h0", "elman_forward", "    states = []\n", "    states = [h0]\n",
           {"test_elman_forward_shape": "h_0 is returned too", "test_elman_forward_values": "h_0 is returned too",
            "test_elman_forward_h0": "h_0 is returned too"}),
    Mutant("forward_overwrites_h0", "elman_forward", "        h = elman_step(", "        h[:] = elman_step(",
           {"test_elman_forward_values": "changed its input h0 in place",
            "test_elman_forward_h0": "changed its input h0 in place"}),
    Mutant("forward_same_array_stored", "elman_forward",
           "    h = h0\n    states = []\n    for t in range(X.shape[1]):\n        h = elman_step(",
           "    h = h0.copy()\n    states = []\n    for t in range(X.shape[1]):\n        h[:] = elman_step(",
           {"test_elman_forward_values": "every stored state is the same array",
            "test_elman_forward_h0": "every stored state is the same array"}),
    Mutant("forward_reads_batch_as_time", "elman_forward",
           "    for t in range(X.shape[1]):\n        h = elman_step(X[:, t, :], h,",
           "    for x_t in X:\n        h = elman_step(x_t, h,",
           {"test_elman_forward_shape": "X is batch-major", "test_elman_forward_values": "X is batch-major",
            "test_elman_forward_h0": "X is batch-major"}),
    Mutant("forward_backwards", "elman_forward", "for t in range(X.shape[1])",
           "for t in reversed(range(X.shape[1]))",
           {"test_elman_forward_values": "read backwards", "test_elman_forward_h0": "read backwards"}),
    # params_from_torch
    Mutant("params_W_x_not_transposed", "params_from_torch", "W_x = np.array(weight_ih, dtype=np.float64).T",
           "W_x = np.array(weight_ih, dtype=np.float64)",
           {"test_params_from_torch_weights": "weight_ih is not transposed"}),
    Mutant("params_W_h_not_transposed", "params_from_torch", "W_h = np.array(weight_hh, dtype=np.float64).T",
           "W_h = np.array(weight_hh, dtype=np.float64)",
           {"test_params_from_torch_weights": "weight_hh is not transposed"}),
    Mutant("params_weights_swapped", "params_from_torch", "W_x = np.array(weight_ih, dtype=np.float64).T\n"
           "    W_h = np.array(weight_hh, dtype=np.float64).T",
           "W_x = np.array(weight_hh, dtype=np.float64).T\n    W_h = np.array(weight_ih, dtype=np.float64).T",
           {"test_params_from_torch_weights": "W_x and W_h are swapped"}),
    Mutant("params_only_bias_ih", "params_from_torch", " + np.array(bias_hh, dtype=np.float64)", "",
           {"test_params_from_torch_bias": "only one of torch's two biases"}),
    Mutant("params_only_bias_hh", "params_from_torch", "np.array(bias_ih, dtype=np.float64) + ", "",
           {"test_params_from_torch_bias": "only one of torch's two biases"}),
    Mutant("params_bias_in_place", "params_from_torch",
           "b = np.array(bias_ih, dtype=np.float64) + np.array(bias_hh, dtype=np.float64)",
           "bias_ih += bias_hh\n    b = np.array(bias_ih, dtype=np.float64)",
           {"test_params_from_torch_bias": "changed its input bias_ih in place"}),
]
