"""Typical mistakes in the exercise ``decorators`` (see tests/exercises/mutants.py)."""

from tests.helpers.notebooks import Mutant

MUTANTS = [
    Mutant("drops_return", "count_calls", "return fn(*args, **kwargs)", "fn(*args, **kwargs)",
           {"test_count_calls_result": "drops the return value"}),
    Mutant("loses_metadata", "count_calls", "    @functools.wraps(fn)\n", "",
           {"test_count_calls_metadata": "functools.wraps"}),
    Mutant("shared_counter", "count_calls", "wrapper.calls += 1",
           "count_calls.total = getattr(count_calls, 'total', 0) + 1\n        wrapper.calls = count_calls.total",
           {"test_count_calls_counter": "one call counter is shared"}),
    Mutant("register_returns_none", "register", "        return fn\n", "\n",
           {"test_register": "becomes None"}),
    Mutant("register_returns_wrapper", "register", "        return fn\n",
           "        return lambda *args, **kwargs: fn(*args, **kwargs)\n",
           {"test_register": "unchanged"}),
    Mutant("backward_not_attached", "tensor_op", "output._backward = _backward", "pass",
           {"test_tensor_op_backward": "never reaches the inputs"}),
    Mutant("gradient_overwritten", "tensor_op", "tensor.grad += grad", "tensor.grad = grad",
           {"test_tensor_op_backward": "overwritten instead of added"}),
    Mutant("shared_ctx", "tensor_op", "    def fn(*inputs, **kwargs):\n        ctx = []\n",
           "    ctx = []\n\n    def fn(*inputs, **kwargs):\n",
           {"test_tensor_op_backward": "share one ctx"}),
    Mutant("no_parents", "tensor_op", "Tensor(value, inputs, op.__name__)", "Tensor(value, (), op.__name__)",
           {"test_tensor_op_forward": "parents", "test_tensor_op_backward": "never reaches"}),
    Mutant("kwargs_dropped", "tensor_op", "for tensor in inputs], **kwargs)", "for tensor in inputs])",
           {"test_tensor_op_forward": "keyword arguments"}),
]
