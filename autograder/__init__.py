"""The grading pipeline: student versions, batch autograding, feedback, exports.

One module per verb of ``python -m autograder`` (``release``, ``grade``),
``course`` for what they share (paths and nbgrader's configuration),
``worker`` for grading one submission in its own process, and ``checks`` for
the hidden tests, which the judge runs in its own process against the
student's functions living in a sandboxed process (``judge``, ``probe``).
"""

import sys

# nbformat validates notebooks with jsonschema, which imports rfc3987_syntax where it is installed (a dependency
# of jupyter's event schemas); that module builds a grammar when imported: 0.8 s of a core in every process that
# reads a notebook. The notebook schema checks no IRI format, so it is kept out of ours.
sys.modules.setdefault("rfc3987_syntax", None)
