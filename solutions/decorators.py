"""Exercise ``decorators``: decorators.

Generated from exercises/decorators/decorators.ipynb by `python -m autograder reference`:
edit the notebook's solution regions, not this file.
"""

import functools
from edugrad.tensor import Tensor


def count_calls(fn):
    """Wrap ``fn`` so that ``wrapper.calls`` counts how often it was called.

    The wrapper returns what ``fn`` returns and keeps its ``__name__``,
    ``__doc__`` and ``__wrapped__`` (``functools.wraps``). Each decorated
    function has its own counter.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return fn(*args, **kwargs)

    wrapper.calls = 0
    return wrapper


def register(registry):
    """A decorator that stores ``fn`` in ``registry`` under ``fn.__name__``.

    Args:
        registry: a dict to store decorated functions in.

    Returns:
        a decorator that returns ``fn`` itself, unchanged.
    """
    def decorator(fn):
        registry[fn.__name__] = fn
        return fn

    return decorator


def tensor_op(op):
    """Turn an ``Operation`` into a function on Tensors that builds the graph.

    The function runs ``op.forward`` on the inputs' values with a fresh
    ``ctx`` list, wraps the result in a new Tensor whose parents are the
    inputs, and gives it a ``_backward`` that adds ``op.backward``'s
    gradients into each input's ``.grad``.
    """
    def fn(*inputs, **kwargs):
        ctx = []
        value = op.forward(ctx, *[tensor.value for tensor in inputs], **kwargs)
        output = Tensor(value, inputs, op.__name__)

        def _backward():
            grads = op.backward(ctx, output.grad)
            for tensor, grad in zip(inputs, grads):
                tensor.grad += grad

        output._backward = _backward
        return output

    return fn
