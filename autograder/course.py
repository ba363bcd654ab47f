"""Where things are, and nbgrader's configuration for a course directory.

The autograder never writes into the repository: every nbgrader run happens
in a temporary course directory whose source directory is `exercises/`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from traitlets.config import Config

REPO = Path(__file__).resolve().parent.parent
EXERCISES = REPO / "exercises"
COURSE_ID = "rnn"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


class CourseError(Exception):
    """Something an instructor must fix; the message says what."""


def exercise_names() -> list[str]:
    """Every exercise: a folder `exercises/<ex>/` holding `<ex>.ipynb`."""
    if not EXERCISES.is_dir():
        raise CourseError(f"No exercises folder at {EXERCISES}.")
    return sorted(p.name for p in EXERCISES.iterdir() if (p / f"{p.name}.ipynb").is_file())


def nbgrader_config(root: Path, cell_timeout: int = 60, source: Path = EXERCISES) -> Config:
    """nbgrader's configuration for a course directory at `root` whose sources are in `source`."""
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    # An absolute path: nbgrader joins it onto the root, which leaves it as it is.
    c.CourseDirectory.source_directory = str(source)
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.Execute.timeout = cell_timeout
    c.Execute.interrupt_on_timeout = True
    from nbgrader.converters import Autograde

    from autograder.execute import with_guarded_execute

    c.Autograde.autograde_preprocessors = with_guarded_execute(Autograde.class_traits()["autograde_preprocessors"].default())
    # The feedback page renders what a submission wrote: HTML in it is cleaned (nbconvert's bleach allow-list),
    # on top of the inert notebook (inert.py) and the page's own policy (no script runs).
    c.HTMLExporter.sanitize_html = True
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

    read_alembic_head_in_process()
    api = NbGraderAPI(config=config)
    api.log.setLevel(logging.WARNING)
    return api


def open_gradebook(url: str):
    """nbgrader's Gradebook at ``url`` (any SQLAlchemy URL), for our course; a context manager."""
    from nbgrader.api import Gradebook

    read_alembic_head_in_process()
    return Gradebook(url, COURSE_ID)


def read_alembic_head_in_process() -> None:
    """A new gradebook is stamped with alembic's head revision, which nbgrader learns by running the ``alembic``
    command (a second or more each time, and it must be on PATH); the same revision, read here once."""
    from nbgrader import api

    api.get_alembic_version = alembic_head


@functools.cache
def alembic_head() -> str:
    """The head revision of nbgrader's gradebook migrations (what ``alembic heads`` prints), read in process."""
    from alembic.script import ScriptDirectory
    from nbgrader import dbutil

    return ScriptDirectory(dbutil.ALEMBIC_DIR).get_current_head()


def generate_student_versions(root: Path, names: list[str], source: Path = EXERCISES) -> dict[str, Path]:
    """Run nbgrader's generate_assignment for each exercise in a course at `root`, once its hidden blocks are verified.

    Returns:
        {exercise: folder of its student version}; the gradebook at
        `root/gradebook.db` then knows every exercise's cells and points.
    """
    for name in names:
        verify_hidden_blocks(name)
    api = nbgrader_api(nbgrader_config(root, source=source))
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


def cached_student_versions(root: Path, names: list[str], source: Path) -> dict[str, Path]:
    """``generate_student_versions``, kept in a cache keyed by all it depends on, so that a rerun copies it.

    An instructor regrades after every fix to a check; the release for grading changes only
    when an exercise, a check or nbgrader does. The cache is a folder of ours under
    ``$XDG_CACHE_HOME`` (or ``~/.cache``); where it cannot be written, nothing is cached.
    """
    cached = release_cache() / release_key(names, source)
    if (cached / "gradebook.db").is_file() and all((cached / "release" / n).is_dir() for n in names):
        shutil.copytree(cached / "release", root / "release", dirs_exist_ok=True)
        shutil.copy(cached / "gradebook.db", root / "gradebook.db")
        return {name: root / "release" / name for name in names}
    folders = generate_student_versions(root, names, source)
    making = None
    try:
        cached.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        making = Path(tempfile.mkdtemp(dir=cached.parent))
        shutil.copytree(root / "release", making / "release")
        shutil.copy(root / "gradebook.db", making / "gradebook.db")
        making.rename(cached)
    except OSError:  # not writable here, or another batch has just cached the same
        if making is not None:
            shutil.rmtree(making, ignore_errors=True)
    return folders


def release_cache() -> Path:
    """Our folder of cached releases: under $XDG_CACHE_HOME, else ~/.cache, else the temporary folder."""
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home directory to be found
        base = Path(tempfile.gettempdir())
    return base / "rnn-autograder" / "release"


def release_key(names: list[str], source: Path) -> str:
    """A digest of what the release for grading depends on: the sources, the checks, nbgrader and our settings."""
    import nbgrader

    digest = hashlib.sha256(f"{nbgrader.__version__}|{COURSE_ID}|{CODE_STUB}".encode())
    for name in sorted(names):  # the hidden blocks are verified against the checks in the exercises' sources
        for folder in (source, EXERCISES):
            digest.update(name.encode() + b"\0" + (folder / name / f"{name}.ipynb").read_bytes())
    for path in sorted((REPO / "autograder" / "checks").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


# ------------------------------------------------------------- hidden checks
HIDDEN_BLOCK = re.compile(r"^### BEGIN HIDDEN TESTS\n.*?^### END HIDDEN TESTS$\n?", re.S | re.M)


def hidden_checks(name: str) -> dict:
    """{test cell grade_id: its ``Test`` (autograder/checks/table.py)}: the table of ``autograder/checks/<name>.py``."""
    import importlib

    tests = getattr(importlib.import_module(f"autograder.checks.{name}"), "TESTS", None)
    if not isinstance(tests, dict):
        raise CourseError(f"autograder/checks/{name}.py has no test table (TESTS = {{grade_id: Test(...)}}).")
    return tests


def verify_hidden_blocks(name: str, notebook=None) -> None:
    """Raise a CourseError unless exercise ``name``'s test cells and its test table agree.

    Every graded test cell of ``notebook`` (by default the source notebook) must hold one hidden block,
    exactly the one its table row writes (``Test.hidden_block``), and the table must have no other rows.
    """
    import nbformat

    notebook = notebook or nbformat.read(EXERCISES / name / f"{name}.ipynb", as_version=4)
    tests = hidden_checks(name)
    problems, graded = [], set()
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        graded.add(meta.get("grade_id"))
        test = tests.get(meta.get("grade_id"))
        if test is None:
            problems.append(f"the test cell {meta.get('grade_id')!r} has no row in its TESTS")
        elif [b.rstrip("\n") for b in HIDDEN_BLOCK.findall(cell.source)] != [test.hidden_block()]:
            problems.append(f"the test cell {meta.get('grade_id')!r} should hold this hidden block and no other:\n"
                            f"{test.hidden_block()}")
    problems += [f"TESTS has a row {extra!r}, which is no test cell of the notebook"
                 for extra in sorted(set(tests) - graded)]
    if problems:
        raise CourseError(f"exercises/{name}/{name}.ipynb and autograder/checks/{name}.py disagree:\n- "
                          + "\n- ".join(problems))


def write_grading_sources(destination: Path, names: list[str]) -> Path:
    """Copies of the source notebooks without their hidden blocks: what the student's kernel runs when graded.

    The hidden checks run in the judge's process instead (see judge.py), so the
    kernel sees only the visible tests.
    """
    import nbformat

    for name in names:
        notebook = nbformat.read(EXERCISES / name / f"{name}.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = HIDDEN_BLOCK.sub("", cell.source)
        (destination / name).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, destination / name / f"{name}.ipynb")
    return destination
