"""The judge's edugrad extension: Tensors that cross between the judge and the student's process as mirrors.

Only the checks of exercises about edugrad (``ops``, ``decorators``) need it; a check
module opts in with ``MIRRORS_TENSORS = True``, and ``judge.run_check`` then gives
its student connection a :class:`TensorMirror`. Without it a Tensor crosses like
any other object: as a reference.

A student's Tensor arrives as a Tensor of the judge's process with the same value,
grad and parents, whose ``_backward`` asks the student's process to run its own
``_backward`` (verb ``BACKWARD``) and writes what reached each parent into the
parents' grads: edugrad's ``Tensor.backward()`` runs in the judge over a graph
whose nodes compute over there. A Tensor of the judge's crosses with its value;
after each call the student's process reports the values of the judge's Tensors
it holds (``mirrors``), so an operation that changed its inputs shows here too.
"""

from __future__ import annotations

import numpy as np

from autograder import protocol, wire


class TensorMirror:
    """The judge's side of crossing Tensors, for one student connection (``judge.Student``)."""

    @staticmethod
    def owns(value) -> bool:
        from edugrad.tensor import Tensor

        return isinstance(value, Tensor)

    def export(self, student, key: int, tensor) -> dict:
        """The tag of one of the judge's Tensors, sent by value."""
        return {"tensor": key, "value": student.encode(np.asarray(tensor.value))}

    def stand_in(self, student, tag: dict):
        """Our Tensor standing for the student's: same value, grad and parents; backward runs over there."""
        from edugrad.tensor import Tensor

        key = int(tag["tensor"])
        if key in student.remotes:
            return student.remotes[key]
        value = student.decode(tag["value"])
        parents = [student.decode(p) for p in wire.items(tag.get("parents", []))]
        node = Tensor(value, parents)
        node.grad = student.decode(tag.get("grad"))
        student.remember(key, node)

        def _backward():
            unique = list({id(p): p for p in parents}.values())
            given = [p.grad if type(getattr(p, "grad", None)) is np.ndarray else None for p in unique]
            reply = student.request({protocol.DO: protocol.BACKWARD, "target": {"ref": key, "yours": True},
                                     "grad": student.encode(node.grad), "parent_grads": [student.encode(g) for g in given]})
            protocol.raise_if_raised(reply)
            reports = wire.items(reply.get("parents"))
            if len(reports) != len(unique):
                raise wire.WireError("backward reported a different number of parents")
            for parent, report in zip(unique, reports):
                if "value" in report:
                    parent.grad = student.decode(report["value"])
                else:
                    for added in wire.items(report.get("added")):
                        parent.grad += student.decode(added)

        node._backward = _backward
        return node

    def update(self, student, mirrors) -> None:
        """Give the judge's Tensors the values the student's process reports for them after a call."""
        for key, value in wire.items(mirrors):
            tensor = student.exported.get(int(key))
            value = student.decode(value)
            if self.owns(tensor) and not (type(value) is type(tensor.value) is np.ndarray
                                           and np.array_equal(value, tensor.value, equal_nan=True)):
                tensor.value = value
