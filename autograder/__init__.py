"""The grading pipeline: student versions, batch autograding, feedback, exports.

One module per verb of ``python -m autograder`` (``release``, ``grade``),
``course`` for what they share (paths and nbgrader's configuration),
``worker`` for grading one submission in its own process, and ``checks`` for
the hidden tests, which the judge runs in its own process against the
student's functions living in a sandboxed process (``judge``, ``probe``).
"""
