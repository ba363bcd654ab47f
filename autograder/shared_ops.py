"""edugrad operations that the checks of ``decorators`` hand to a student's ``tensor_op``.

The student's ``tensor_op`` must run them in the student's process, so this
module is staged there too (judge.py passes the class by name). They are test
material, not answers: any Operation would do.
"""

from edugrad.tensor import Operation


class ScaledMatmul(Operation):
    """(a @ b) * scale, with a keyword argument, saving its inputs in ctx."""

    @staticmethod
    def forward(ctx, a, b, scale=1.0):
        ctx.extend([a, b, scale])
        return (a @ b) * scale

    @staticmethod
    def backward(ctx, grad_output):
        a, b, scale = ctx
        return grad_output @ b.T * scale, a.T @ grad_output * scale


class Cube(Operation):
    """Elementwise x**3: backward needs the saved input."""

    @staticmethod
    def forward(ctx, x):
        ctx.append(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx[-1]  # as edugrad's relu reads it: a shared ctx would hand it another call's input
        return [3 * x**2 * grad_output]
