"""Reference implementations of every graded function, one module per exercise.

The solution regions of ``exercises/<ex>/<ex>.ipynb`` hold exactly this code
(a test compares them), so this package is the single source of truth for
what the exercises ask. The grader never puts it on a student kernel's path.
"""
