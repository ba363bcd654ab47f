"""nbgrader's Execute, which gives up on a kernel that stopped answering instead of waiting out every cell.

A cell that runs past its timeout is interrupted (as nbgrader does). If the
kernel then answers, the notebook goes on. If it does not (the submission broke
the kernel itself, for example by rebinding ``builtins.isinstance``, or its code
ignores the interrupt), every later cell would wait a whole timeout in vain: they
are marked as not run instead, and the run ends at once. The judge has already
decided every test, so nothing is lost but the visible tests' output.
"""

from __future__ import annotations

import time

from nbclient.exceptions import CellTimeoutError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

NOT_RUN = "NotRunError"  # the error name of a cell skipped after the kernel stopped answering
LAST_RUN: dict[str, float] = {}  # seconds of the last run in this process: its kernel's start, its cells
ANSWER_SECONDS = 5  # how long an interrupted kernel has to answer before it counts as stuck


class GuardedExecute(Execute):
    """Execute (nbgrader), stopping at the first cell after which the kernel no longer answers."""

    stuck_at: int | None = None  # index of the cell the kernel got stuck in

    def preprocess(self, nb, resources=None, km=None):
        self.stuck_at, self.started, self.first_cell = None, time.monotonic(), None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            ended = time.monotonic()
            first = self.first_cell or ended
            LAST_RUN.update({"kernel start": round(first - self.started, 2), "cells": round(ended - first, 2)})

    def preprocess_cell(self, cell, resources, index):
        if self.first_cell is None:  # the kernel has started and answered its first request
            self.first_cell = time.monotonic()
        if self.stuck_at is None or cell.cell_type != "code":
            try:
                return super().preprocess_cell(cell, resources, index)
            except CellTimeoutError:  # interrupted, and not even its output came to an end
                self.stuck_at = index
                cell.outputs.append(not_run(f"this cell did not stop when it was interrupted after "
                                            f"{self.timeout} s, so the rest of the notebook was skipped."))
                return cell, resources
        cell.outputs = [not_run(f"the kernel stopped answering in cell {self.stuck_at + 1} (it did not stop "
                                "when interrupted), so the rest of the notebook was skipped.")]
        return cell, resources

    async def _async_handle_timeout(self, timeout, cell=None):
        reply = await super()._async_handle_timeout(timeout, cell)
        if not await self._answers(ANSWER_SECONDS):
            index = next((i for i, c in enumerate(self.nb.cells) if c is cell), None)
            self.stuck_at = index if index is not None else -1
        return reply

    async def _answers(self, seconds: float) -> bool:
        """Whether the kernel replies to a kernel_info request within ``seconds`` (it is not stuck)."""
        msg_id = self.kc.kernel_info()
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await self.kc.shell_channel.get_msg(timeout=left)
            except Exception:  # queue.Empty on timeout; anything else means no answer either
                return False
            if message.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False


def not_run(why: str) -> NotebookNode:
    """The error output a skipped cell shows."""
    return NotebookNode(output_type="error", ename=NOT_RUN, evalue=why, traceback=[f"{NOT_RUN}: {why}"])


def with_guarded_execute(preprocessors: list) -> list:
    """nbgrader's autograde preprocessors, with its Execute replaced by :class:`GuardedExecute`."""
    return [GuardedExecute if p is Execute else p for p in preprocessors]
