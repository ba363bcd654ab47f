"""Hidden checks for the exercise ``bptt``: elman_backward and numerical_gradient.

The oracle for ``elman_backward`` is torch autograd in float64 through a
plain torch loop of the Elman step, for L = sum(H * dH) with a random dH on
every state. The oracle for ``numerical_gradient`` is each test function's
analytic gradient. Known mistakes are computed by :func:`_bptt` (numpy, one
flag per mistake) and :func:`_differences`, only to name them in a failure.
"""

from __future__ import annotations

import contextlib

import numpy as np

from autograder.checks.oracles import torch_states_and_gradients
from autograder.checks.compare import CheckFailure, as_array, call, changed_inputs, expect, expect_close, seeds
from autograder.checks.table import Test

NAMES = ("dX", "dh0", "dW_x", "dW_h", "db")
SHAPES = [(2, 6, 3, 4), (4, 5, 2, 3), (3, 7, 5, 6)]  # (B, T, D, H), all different within each

# ------------------------------------------------------------ elman_backward


def _inputs(seed):
    """Random inputs (B, T, D, H all different; W_h not symmetric), the states H and the oracle's gradients."""
    B, T, D, n_h = SHAPES[seed % len(SHAPES)]
    rng = np.random.default_rng(1000 + seed)
    X = rng.normal(size=(B, T, D))
    h0 = rng.normal(size=(B, n_h)) * 0.5
    W_x = rng.normal(size=(D, n_h)) / np.sqrt(D)
    W_h = rng.normal(size=(n_h, n_h)) / np.sqrt(n_h)
    b = rng.normal(size=n_h) * 0.3
    dH = rng.normal(size=(B, T, n_h))
    H, grads = _oracle(X, h0, W_x, W_h, b, dH)
    context = f"B={B}, T={T}, D={D}, H={n_h}, seed {seed}"
    return (X, h0, W_x, W_h, b, H, dH), dict(zip(NAMES, grads)), context


def _oracle(X, h0, W_x, W_h, b, dH):
    """The states h_1..h_T and the gradients of L = sum(H * dH), by torch autograd in float64."""
    H, grads = torch_states_and_gradients(X, h0, W_x, W_h, b, dH)
    return H, list(grads)


def _bptt(X, h0, W_x, W_h, b, H, dH, mistake=None):
    """BPTT in numpy with at most one known mistake; also each step's pieces, for more fingerprints."""
    T = X.shape[1]
    dX = np.zeros_like(X)
    dW_x, dW_h, db = np.zeros_like(W_x), np.zeros_like(W_h), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    steps = {}
    for t in reversed(range(T)):
        h_prev = H[:, t - 1] if t > 0 or mistake == "wraparound" else h0
        upstream = dH[:, t] if mistake != "dH_last_only" or t == T - 1 else 0.0
        dh = upstream + (0.0 if mistake == "no_recurrence" else dh_next)
        derivative = {"no_tanh_derivative": 1.0, "derivative_at_h_prev": 1 - h_prev**2,
                      "tanh_twice": 1 - np.tanh(H[:, t]) ** 2}.get(mistake, 1 - H[:, t] ** 2)
        da = dh * derivative
        dX[:, t] = da @ W_x.T
        dW_x += X[:, t].T @ da
        dW_h += (H[:, t] if mistake == "h_t" else h_prev).T @ da
        db += da.sum(axis=0)
        dh_next = da @ (W_h if mistake == "W_h_not_transposed" else W_h.T)
        steps[t] = {"dh": dh, "da": da, "dW_x": X[:, t].T @ da, "dW_h": h_prev.T @ da, "db": da.sum(axis=0)}
    return {"dX": dX, "dh0": dh_next, "dW_x": dW_x, "dW_h": dW_h, "db": db}, steps


# Mistakes that change every gradient (computed by _bptt with the flag).
EVERYWHERE = {
    "no_recurrence": "the gradient does not flow back through time: the gradient on h_t is dH[:, t] plus what "
                     "comes back from step t+1 through W_h (dh_next = da_{t+1} @ W_h.T), accumulated backwards "
                     "from the last step",
    "dH_last_only": "the upstream gradient dH is used only at the last step: the loss reads every state, "
                    "so add dH[:, t] at every step t",
    "no_tanh_derivative": "the tanh derivative is missing: multiply the gradient on h_t by (1 - h_t**2) "
                          "before passing it to the parameters and back in time",
    "derivative_at_h_prev": "the tanh derivative is taken at the previous state: it is 1 - h_t**2 with "
                            "h_t = H[:, t], the output of that step's tanh, not h_{t-1}",
    "tanh_twice": "tanh is applied again in its derivative: H already holds tanh's outputs, so the "
                  "derivative is 1 - H[:, t]**2, not 1 - tanh(H[:, t])**2",
    "W_h_not_transposed": "the gradient flows back through W_h instead of W_h.T: the step computes "
                          "h_{t-1} @ W_h, so dL/dh_{t-1} gets da_t @ W_h.T",
}
ONLY_DW_H = {
    "h_t": "dW_h is built from h_t instead of h_{t-1}: W_h multiplies the previous state, so "
           "dW_h = sum over t of h_{t-1}.T @ da_t (with h0 at the first step)",
    "wraparound": "at the first step the previous state is taken as H[:, -1], which is Python's last element "
                  "(the final state): the state before the first step is h0",
}


def _mistakes(inputs, name):
    """{description: what that mistake returns for gradient ``name``} on these inputs."""
    X, h0, W_x, W_h, b, H, dH = inputs
    right, steps = _bptt(*inputs)
    T = X.shape[1]
    found = {}
    for flag, description in {**EVERYWHERE, **(ONLY_DW_H if name == "dW_h" else {})}.items():
        found[description] = _bptt(*inputs, mistake=flag)[0][name]
    if name in ("dW_x", "dW_h", "db"):
        found[f"{name} holds only one time step's contribution (the last): BPTT sums every step's "
              f"contribution (+=, not =)"] = steps[T - 1][name]
        found[f"{name} holds only one time step's contribution (the first step's, which a backward "
              f"loop visits last): BPTT sums every step's contribution (+=, not =)"] = steps[0][name]
    if name in ("dW_x", "dW_h"):
        found[f"{name} is transposed: the gradient of a weight W in a @ W is a.T @ da, "
              f"shaped like W"] = right[name].T
    if name == "db":
        found["db is not summed over the batch: b is shared by every example, so db sums da over the "
              "batch (and over time), shape (H,)"] = sum(steps[t]["da"] for t in range(T))
    if name == "dX":
        found["dX is not computed (zeros): dX[:, t] = da_t @ W_x.T"] = np.zeros_like(X)
        found["dX skips the tanh derivative: dX[:, t] = da_t @ W_x.T with da_t = dh_t * (1 - h_t**2), "
              "not dh_t @ W_x.T"] = np.stack([steps[t]["dh"] @ W_x.T for t in range(T)], axis=1)
    if name == "dh0":
        da0 = steps[0]["da"]
        found["dh0 is not computed (zeros): h0 feeds the first step, so dh0 = da_1 @ W_h.T"] = np.zeros_like(h0)
        found["dh0 is the gradient on h_1, the first state, not on h0: go one step further back, through "
              "the tanh and W_h (dh0 = da_1 @ W_h.T)"] = steps[0]["dh"]
        found["dh0 stops after the tanh derivative: multiply by W_h.T too (dh0 = da_1 @ W_h.T)"] = da0
        found["dh0 uses W_h instead of W_h.T (dh0 = da_1 @ W_h.T)"] = da0 @ W_h
    return found


@contextlib.contextmanager
def _without_autograd(name):
    """While the student's function runs, torch's backward engine refuses to run."""
    import torch.autograd as autograd

    original = getattr(autograd, "_engine_run_backward", None)
    if original is None:  # another torch version: no guard
        yield
        return

    def refuse(*args, **kwargs):
        raise CheckFailure(f"{name} used torch's autograd (.backward() or torch.autograd.grad): "
                           "this exercise is about computing the gradients yourself: write it with NumPy.")

    autograd._engine_run_backward = refuse
    try:
        yield
    finally:
        autograd._engine_run_backward = original


def _student_gradients(elman_backward, inputs):
    """The student's five gradients on copies of the inputs, and whether the inputs came back unchanged."""
    copies = [np.array(a, copy=True) for a in inputs]
    with _without_autograd("elman_backward"):
        out = call("elman_backward", elman_backward, *copies)
    if out is None:
        raise CheckFailure("elman_backward returned None: did it forget to `return dX, dh0, dW_x, dW_h, db`?")
    expect(isinstance(out, (tuple, list)) and len(out) == 5,
           f"elman_backward must return the five gradients (dX, dh0, dW_x, dW_h, db); it returned "
           f"{type(out).__name__}{f' of length {len(out)}' if isinstance(out, (tuple, list)) else ''}.")
    return dict(zip(NAMES, out)), changed_inputs(("X", "h0", "W_x", "W_h", "b", "H", "dH"), inputs, copies)


def _check_gradient(elman_backward, name):
    for seed in seeds():
        inputs, want, context = _inputs(seed)
        got, _ = _student_gradients(elman_backward, inputs)
        expect_close(name, got[name], want[name], _mistakes(inputs, name), f"{context}, L = sum(H * dH)")


def check_dW_h(elman_backward):
    """dW_h, the gradient of the recurrent weight, against torch autograd."""
    _check_gradient(elman_backward, "dW_h")


def check_dW_x(elman_backward):
    """dW_x, the gradient of the input weight, against torch autograd."""
    _check_gradient(elman_backward, "dW_x")


def check_db(elman_backward):
    """db, the gradient of the bias, against torch autograd."""
    _check_gradient(elman_backward, "db")


def check_dX(elman_backward):
    """dX, the gradient of the inputs, against torch autograd."""
    _check_gradient(elman_backward, "dX")


def check_dh0(elman_backward):
    """dh0 against torch autograd; and elman_backward leaves its inputs unchanged."""
    _check_gradient(elman_backward, "dh0")
    for seed in seeds():
        inputs, _, context = _inputs(seed)
        _, changed = _student_gradients(elman_backward, inputs)
        if changed:
            raise CheckFailure(
                f"elman_backward changed its input {', '.join(changed)} in place (on {context}): the caller's "
                "arrays must not change. A slice such as dH[:, t] is a view, so `dh = dH[:, t]; dh += ...` "
                "writes into dH; write `dh = dH[:, t] + ...` (a new array) instead.")


# -------------------------------------------------------- numerical_gradient


def _exp_function(shape, a, seed):
    """f(x) = sum(exp(a * x @ M)), curved (large a, small x): one-sided differences are visibly off."""
    rng = np.random.default_rng(2000 + seed)
    x = rng.normal(size=shape) * 0.01
    M = rng.uniform(0.5, 1.5, size=(shape[-1], shape[-1] + 2)) / shape[-1]

    def f(x):
        return float(np.sum(np.exp(a * (x @ M))))

    return f, x, a * np.exp(a * (x @ M)) @ M.T, f"f(x) = sum(exp({a} * x @ M)), x of shape {shape}"


def _elman_loss(wrt, seed):
    """f = sum(H * dH) as a function of X (3-D) or W_x (2-D) of an Elman RNN; gradient by torch."""
    inputs, grads, context = _inputs(seed)
    X, h0, W_x, W_h, b, _, dH = inputs

    def f(value):
        Xv, W_xv = (value, W_x) if wrt == "X" else (X, value)
        h, total = h0, 0.0
        for t in range(Xv.shape[1]):
            h = np.tanh(Xv[:, t] @ W_xv + h @ W_h + b)
            total += float(np.sum(h * dH[:, t]))
        return total

    x = X if wrt == "X" else W_x
    return f, x.copy(), grads["dX" if wrt == "X" else "dW_x"], f"f({wrt}) = sum(H * dH) of an Elman RNN, {context}"


def _differences(f, x, eps):
    """Known wrong finite differences of f at x: one-sided (forward, backward), and central without restoring x."""
    forward, backward, unrestored = np.zeros(x.shape), np.zeros(x.shape), np.zeros(x.shape)
    x, shifted = x.copy(), x.copy()
    f0 = f(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        f_plus = f(x)
        x[i] = saved - eps
        f_minus = f(x)
        x[i] = saved
        forward[i], backward[i] = (f_plus - f0) / eps, (f0 - f_minus) / eps
        shifted[i] = saved + eps
        f_plus = f(shifted)
        shifted[i] = saved - eps  # and left there
        unrestored[i] = (f_plus - f(shifted)) / (2 * eps)
    return forward, backward, unrestored


def _accuracy_mistakes(f, x, want, eps):
    forward, backward, unrestored = _differences(f, x, eps)
    one_sided = ("a one-sided difference is used, (f(x + eps) - f(x)) / eps: its error is of order eps, "
                 "visible on a curved function; the central difference (f(x + eps) - f(x - eps)) / (2 * eps) "
                 "has an error of order eps**2")
    return {
        one_sided: forward,
        one_sided.replace("(f(x + eps) - f(x)) / eps", "(f(x) - f(x - eps)) / eps"): backward,
        "the central difference is divided by eps instead of 2 * eps": 2 * want,
        "the difference is divided by 2 and then multiplied by eps: write / (2 * eps), with parentheses":
            want * eps**2,
        "the gradient is returned flat: return an array shaped like x": want.ravel(),
        "x is not restored after an entry is perturbed, so the later entries are differentiated at a shifted "
        "point: put each entry back (x[i] = saved) before perturbing the next": unrestored,
    }


def _numerical(numerical_gradient, f, x, **kwargs):
    got = call("numerical_gradient", numerical_gradient, f, x, **kwargs)
    if got is None:
        raise CheckFailure("numerical_gradient returned None: did it forget to `return` the gradient?")
    return got


def check_numerical_gradient_accuracy(numerical_gradient):
    """Central differences: accurate to O(eps**2) on curved functions of 1-D, 2-D and 3-D arrays; eps is used."""
    cases = [_exp_function(shape, a, seed) for seed, (shape, a) in enumerate([((7,), 400), ((3, 5), 300),
                                                                                ((2, 3, 4), 250)])]
    cases += [_elman_loss("W_x", 0), _elman_loss("X", 1)]
    for f, x, want, context in cases:
        got = _numerical(numerical_gradient, f, x.copy())
        expect_close("numerical_gradient(f, x)", got, want, _accuracy_mistakes(f, x, want, 1e-6),
                     f"{context} (eps=1e-6 by default)")

    # The eps keyword: for a cubic, the central difference is exactly 3 c x**2 + c eps**2.
    rng = np.random.default_rng(3000)
    x = rng.uniform(0.5, 1.5, size=(4, 3)) * rng.choice([-1, 1], size=(4, 3))
    c = rng.uniform(0.5, 2.0, size=(4, 3))

    def cubic(x):
        return float(np.sum(c * x**3))

    eps = 0.01
    want = c * (3 * x**2 + eps**2)
    mistakes = {"the eps keyword is ignored (a fixed step is used): use the eps that is passed in": 3 * c * x**2}
    mistakes.update(_accuracy_mistakes(cubic, x, want, eps))
    got = _numerical(numerical_gradient, cubic, x.copy(), eps=eps)
    expect_close("numerical_gradient(f, x, eps=0.01)", got, want, mistakes,
                 "f(x) = sum(c * x**3), whose central difference is exactly 3 c x**2 + c eps**2")


def check_numerical_gradient_leaves_x(numerical_gradient):
    """numerical_gradient(f, x) leaves x exactly as it was (f is called with x itself, or a copy)."""
    for seed, shape in enumerate([(4, 3), (2, 3, 2), (5,)]):
        rng = np.random.default_rng(4000 + seed)
        x = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 1, size=shape)  # tiny entries: x - eps + eps != x
        w = rng.normal(size=shape)
        calls = []

        def f(v):
            calls.append(1)
            return float(np.sum(w * np.sin(v)) + 0.5 * np.sum(v) ** 2)

        saved = x.copy()
        got = as_array("numerical_gradient(f, x)", _numerical(numerical_gradient, f, x))
        if got.shape != x.shape or len(calls) < x.size:
            raise CheckFailure(
                f"numerical_gradient(f, x) with x of shape {shape} called f {len(calls)} times and returned shape "
                f"{got.shape}: it does not compute a finite-difference gradient yet (f evaluated around every "
                "entry, a result shaped like x), so this test cannot check that it leaves x unchanged.")
        if not np.array_equal(x, saved):
            change = np.max(np.abs(x - saved))
            if change < 1e-9:  # far below eps: the entries were put back by arithmetic
                raise CheckFailure(
                    f"numerical_gradient changed x by rounding errors (largest change {change:.2g}, x of shape "
                    f"{shape}): undoing a perturbation with arithmetic (x[i] -= eps after x[i] += eps) does not "
                    "give back the same float. Save the entry and assign it back (x[i] = saved), or perturb a copy.")
            raise CheckFailure(
                f"numerical_gradient left x changed (largest change {change:.3g}, x of shape {shape}): after "
                "evaluating f, restore each entry to its saved value (x[i] = saved), or perturb a copy of x.")


# ------------------------------------------------------------- the test table

TESTS = {
    "test_numerical_gradient_accuracy": Test(check_numerical_gradient_accuracy, ("numerical_gradient",)),
    "test_numerical_gradient_leaves_x": Test(check_numerical_gradient_leaves_x, ("numerical_gradient",)),
    "test_dW_h": Test(check_dW_h, ("elman_backward",)),
    "test_dW_x": Test(check_dW_x, ("elman_backward",)),
    "test_db": Test(check_db, ("elman_backward",)),
    "test_dX": Test(check_dX, ("elman_backward",)),
    "test_dh0": Test(check_dh0, ("elman_backward",)),
}
