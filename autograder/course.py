"""Where things are, and nbgrader's configuration for a course directory.

The autograder never writes into the repository: every nbgrader run happens
in a temporary course directory whose source directory is `exercises/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from traitlets.config import Config

REPO = Path(__file__).resolve().parent.parent
EXERCISES = REPO / "exercises"
CHECKS = Path(__file__).resolve().parent / "checks"
COURSE_ID = "rnn"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


class CourseError(Exception):
    """Something an instructor must fix; the message says what."""


def exercise_names() -> list[str]:
    """Every exercise: a folder `exercises/<ex>/` holding `<ex>.ipynb`."""
    if not EXERCISES.is_dir():
        raise CourseError(f"No exercises folder at {EXERCISES}.")
    return sorted(p.name for p in EXERCISES.iterdir() if (p / f"{p.name}.ipynb").is_file())


def nbgrader_config(root: Path, cell_timeout: int = 60) -> Config:
    """nbgrader's configuration for a course directory at `root`."""
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    # An absolute path: nbgrader joins it onto the root, which leaves it as it is.
    c.CourseDirectory.source_directory = str(EXERCISES)
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.Execute.timeout = cell_timeout
    c.Execute.interrupt_on_timeout = True
    return c


def nbgrader_api(config: Config):
    """nbgrader's Python API, quiet unless something fails."""
    import logging
    import os
    import sys

    # nbgrader runs the `alembic` command; find it beside this interpreter
    # even when the virtual environment is not activated.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")

    from nbgrader.apps import NbGraderAPI

    api = NbGraderAPI(config=config)
    api.log.setLevel(logging.WARNING)
    return api


def generate_student_versions(root: Path, names: list[str]) -> dict[str, Path]:
    """Run nbgrader's generate_assignment for each exercise in a course at `root`.

    Returns:
        {exercise: folder of its student version}; the gradebook at
        `root/gradebook.db` then knows every exercise's cells and points.
    """
    api = nbgrader_api(nbgrader_config(root))
    folders = {}
    for name in names:
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            raise CourseError(
                f"nbgrader could not generate the student version of {name!r}:\n"
                f"{result.get('error') or result.get('log')}"
            )
        folders[name] = root / "release" / name
    return folders


def stage_checks(destination: Path) -> Path:
    """Copy the hidden checks (and nothing else of ours) to `destination`.

    The returned folder goes on the grading kernels' PYTHONPATH, so hidden
    test cells can `import autograder.checks` while `solutions/` stays out of
    reach of the submissions.
    """
    package = destination / "autograder"
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Hidden checks, staged for grading."""\n')
    shutil.copytree(CHECKS, package / "checks", ignore=shutil.ignore_patterns("__pycache__"))
    return destination
