"""Typical mistakes in the exercise ``bptt`` (see tests/exercises/mutants.py)."""

from tests.helpers.notebooks import Mutant

ALL = ("test_dW_h", "test_dW_x", "test_db", "test_dX", "test_dh0")


def everywhere(phrase):
    """A mistake in the recursion itself: every gradient is wrong, and each test names it."""
    return {test: phrase for test in ALL}


MUTANTS = [
    # ---------------------------------------------------------------- elman_backward
    Mutant("no_recurrence", "elman_backward", "dh = dH[:, t] + dh_next", "dh = dH[:, t]",
           everywhere("does not flow back through time")),
    Mutant("dH_last_step_only", "elman_backward", "dh = dH[:, t] + dh_next",
           "dh = dh_next + (dH[:, t] if t == T - 1 else 0)",
           everywhere("used only at the last step")),
    Mutant("no_tanh_derivative", "elman_backward", "da = dh * (1 - H[:, t] ** 2)", "da = dh",
           everywhere("tanh derivative is missing")),
    Mutant("tanh_derivative_at_h_prev", "elman_backward", "(1 - H[:, t] ** 2)", "(1 - h_prev ** 2)",
           everywhere("taken at the previous state")),
    Mutant("tanh_applied_twice", "elman_backward", "(1 - H[:, t] ** 2)", "(1 - np.tanh(H[:, t]) ** 2)",
           everywhere("tanh is applied again")),
    Mutant("recurrence_W_h_not_transposed", "elman_backward", "dh_next = da @ W_h.T", "dh_next = da @ W_h",
           everywhere("instead of W_h.T")),
    Mutant("dW_h_overwritten", "elman_backward", "dW_h += h_prev.T @ da", "dW_h = h_prev.T @ da",
           {"test_dW_h": "only one time step"}),
    Mutant("dW_h_last_step_only", "elman_backward", "        dW_h += h_prev.T @ da",
           "        if t == T - 1:\n            dW_h += h_prev.T @ da",
           {"test_dW_h": "contribution (the last)"}),
    Mutant("dW_h_from_h_t", "elman_backward", "dW_h += h_prev.T @ da", "dW_h += H[:, t].T @ da",
           {"test_dW_h": "h_t instead of h_{t-1}"}),
    Mutant("h_prev_wraps_around", "elman_backward", "h_prev = H[:, t - 1] if t > 0 else h0",
           "h_prev = H[:, t - 1]", {"test_dW_h": "H[:, -1]"}),
    Mutant("dW_h_transposed", "elman_backward", "dW_h += h_prev.T @ da", "dW_h += da.T @ h_prev",
           {"test_dW_h": "dW_h is transposed"}),
    Mutant("dW_x_transposed", "elman_backward", "return dX, dh_next, dW_x, dW_h, db",
           "return dX, dh_next, dW_x.T, dW_h, db", {"test_dW_x": "dW_x is transposed"}),
    Mutant("dW_x_overwritten", "elman_backward", "dW_x += X[:, t].T @ da", "dW_x = X[:, t].T @ da",
           {"test_dW_x": "only one time step"}),
    Mutant("db_not_summed_over_batch", "elman_backward", "db += da.sum(axis=0)", "db = db + da",
           {"test_db": "not summed over the batch"}),
    Mutant("db_overwritten", "elman_backward", "db += da.sum(axis=0)", "db = da.sum(axis=0)",
           {"test_db": "only one time step"}),
    Mutant("dX_not_computed", "elman_backward", "dX[:, t] = da @ W_x.T", "pass",
           {"test_dX": "dX is not computed"}),
    Mutant("dX_without_tanh_derivative", "elman_backward", "dX[:, t] = da @ W_x.T", "dX[:, t] = dh @ W_x.T",
           {"test_dX": "dX skips the tanh derivative"}),
    Mutant("dh0_zeros", "elman_backward", "return dX, dh_next,", "return dX, np.zeros_like(h0),",
           {"test_dh0": "dh0 is not computed"}),
    Mutant("dh0_is_gradient_on_h1", "elman_backward", "return dX, dh_next,", "return dX, dh,",
           {"test_dh0": "the gradient on h_1"}),
    Mutant("modifies_dH_in_place", "elman_backward", "dh = dH[:, t] + dh_next",
           "dh = dH[:, t]\n        dh += dh_next", {"test_dh0": "changed its input dH"}),
    Mutant("uses_torch_autograd", "elman_backward", "    T = X.shape[1]\n",
           "    import torch\n"
           "    leaves = [torch.tensor(a, requires_grad=True) for a in (X, h0, W_x, W_h, b)]\n"
           "    h, states = leaves[1], []\n"
           "    for t in range(X.shape[1]):\n"
           "        h = torch.tanh(leaves[0][:, t] @ leaves[2] + h @ leaves[3] + leaves[4])\n"
           "        states.append(h)\n"
           "    loss = (torch.stack(states, 1) * torch.as_tensor(dH)).sum()\n"
           "    return tuple(g.numpy() for g in torch.autograd.grad(loss, leaves))\n"
           "    T = X.shape[1]\n",
           everywhere("write it with NumPy")),
    # ----------------------------------------------------------- numerical_gradient
    Mutant("one_sided_difference", "numerical_gradient",
           "        x[i] = saved - eps\n        f_minus = f(x)\n        x[i] = saved\n"
           "        grad[i] = (f_plus - f_minus) / (2 * eps)",
           "        x[i] = saved\n        grad[i] = (f_plus - f(x)) / eps",
           {"test_numerical_gradient_accuracy": "one-sided"}),
    Mutant("precedence", "numerical_gradient", "(f_plus - f_minus) / (2 * eps)", "(f_plus - f_minus) / 2 * eps",
           {"test_numerical_gradient_accuracy": "parentheses"}),
    Mutant("divides_by_eps", "numerical_gradient", "(f_plus - f_minus) / (2 * eps)", "(f_plus - f_minus) / eps",
           {"test_numerical_gradient_accuracy": "instead of 2 * eps"}),
    Mutant("eps_ignored", "numerical_gradient", "    grad = np.zeros(x.shape)\n",
           "    eps = 1e-6\n    grad = np.zeros(x.shape)\n",
           {"test_numerical_gradient_accuracy": "eps keyword is ignored"}),
    Mutant("x_not_restored", "numerical_gradient", "        x[i] = saved\n", "",
           {"test_numerical_gradient_leaves_x": "left x changed",
            "test_numerical_gradient_accuracy": "x is not restored"}),
    Mutant("x_restored_by_arithmetic", "numerical_gradient", "        x[i] = saved\n", "        x[i] += eps\n",
           {"test_numerical_gradient_leaves_x": "rounding errors"}),
]
