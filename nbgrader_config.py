"""nbgrader's configuration for working in this repository by hand.

`exercises/` is nbgrader's source directory (configured, not copied), so an
instructor can run nbgrader's own commands from the repository root, e.g.
``nbgrader generate_assignment decorators``. The `autograder` package builds
the same configuration for its own temporary course directories
(autograder/course.py); there the generated folders land under _build/.
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn"
c.CourseDirectory.source_directory = "exercises"
c.CourseDirectory.release_directory = "_build/nbgrader/release"
c.CourseDirectory.submitted_directory = "_build/nbgrader/submitted"
c.CourseDirectory.autograded_directory = "_build/nbgrader/autograded"
c.CourseDirectory.feedback_directory = "_build/nbgrader/feedback"
c.CourseDirectory.db_url = "sqlite:///_build/nbgrader/gradebook.db"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
