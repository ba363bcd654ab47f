"""Gradescope: an autograder bundle for one exercise, and what runs inside it for one submission.

``python -m autograder gradescope EXERCISE --out autograder.zip`` writes the
zip to upload as a Gradescope "programming assignment" autograder: the
``autograder`` package, the exercise's source notebook, a requirements file,
and the two scripts Gradescope runs (``templates/gradescope/``): ``setup.sh``
when it builds the image, ``run_autograder`` for each submission. The latter
calls ``python -m autograder gradescope-run EXERCISE``: the same grader as on
one machine, on a batch of one, writing ``results/results.json`` in
Gradescope's format. That is how a course outgrows one machine: Gradescope's
fleet runs many of these at once.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.course import EXERCISES, REPO, CourseError, exercise_names

TEMPLATES = Path(__file__).resolve().parent / "templates" / "gradescope"
# What grading needs, not what building the book or testing needs.
NOT_FOR_GRADING = ("jupyter-book", "myst-nb", "jupytext", "playwright", "pytest", "scipy", "pyyaml")


def requirements() -> str:
    lines = ["# The grader's requirements (generated from the repository's requirements.txt).",
             "# PyTorch's CPU-only build: the grader never uses a GPU.",
             "--extra-index-url https://download.pytorch.org/whl/cpu"]
    for line in (REPO / "requirements.txt").read_text().splitlines():
        name = line.split("==")[0].strip().lower()
        if line.strip() and not line.startswith("#") and name not in NOT_FOR_GRADING:
            lines.append(line.strip())
    return "\n".join(lines) + "\n"


def bundle(exercise: str, out: Path) -> int:
    """Write the Gradescope autograder zip for ``exercise`` to ``out``."""
    if exercise not in exercise_names():
        raise CourseError(f"Unknown exercise {exercise!r}; the exercises are {', '.join(exercise_names())}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    package = Path(__file__).resolve().parent
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope requires
            archive.writestr(info, (TEMPLATES / name).read_text())
        archive.writestr("requirements.txt", requirements())
        archive.writestr("EXERCISE", exercise)
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, Path("autograder") / path.relative_to(package))
        source = EXERCISES / exercise / f"{exercise}.ipynb"
        archive.write(source, Path("exercises") / exercise / source.name)
    print(f"wrote {out}: upload it as the autograder of the Gradescope assignment for {exercise}")
    return 0


def run(exercise: str, root: Path, sandbox: str = "auto") -> int:
    """Grade the one submission in ``root/submission`` and write ``root/results/results.json``.

    Run as root in Gradescope's container. Before any student code runs, the bundle's
    source (our package, the checks, the source notebook with its solutions) and the
    results folder become readable by root alone, so that the ``uid`` sandbox, used
    where bubblewrap cannot start, hides them as bubblewrap would. The submission is
    read without following links: a notebook that is a link is refused.
    """
    from autograder import grade
    from autograder.records import Limits, Status
    from autograder.files import NotAccepted, read_regular, write_fresh
    from autograder.discover import MAX_NOTEBOOK_BYTES

    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        for private in (root / "source", results):
            private.chmod(0o700)
    notebooks, links = submitted_notebooks(root / "submission")
    preferred = [p for p in notebooks if p.name == f"{exercise}.ipynb"] or notebooks
    if not preferred:
        why = (f"Your submission holds a symbolic link ({', '.join(links)}), and links are not graded: upload "
               f"the notebook file itself." if links else f"No notebook was submitted. Upload your {exercise}.ipynb.")
        write_fresh(results / "results.json", refusal(exercise, Status.MISSING, why))
        return 0
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        submitted = Path(tmp) / "submitted" / "student" / exercise
        submitted.mkdir(parents=True)
        try:
            write_fresh(submitted / preferred[0].name, read_regular(preferred[0], MAX_NOTEBOOK_BYTES))
        except NotAccepted as refused:
            write_fresh(results / "results.json", refusal(exercise, Status.INVALID, f"{refused} It was not graded."))
            return 0
        out = Path(tmp) / "graded"
        limits = Limits(jobs=1, sandbox=sandbox)
        grade.main(Path(tmp) / "submitted", out, limits, [exercise])
        result = json.loads((out / "results" / "student" / f"{exercise}.json").read_text())
    result["visibility"] = "visible"
    write_fresh(results / "results.json", json.dumps(result, indent=2))
    print(f"score {result['score']}", file=sys.stderr)
    return 0


def refusal(exercise: str, status, why: str) -> str:
    """results.json for a submission that could not be graded: no points, and why (``records.Result.failed``)."""
    import nbformat

    from autograder.course import EXERCISES
    from autograder.records import Result

    source = nbformat.read(EXERCISES / exercise / f"{exercise}.ipynb", as_version=4)
    points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("grade"))
    return json.dumps({**Result.failed("student", exercise, float(points), status, why).gradescope(),
                       "visibility": "visible"}, indent=2)


def submitted_notebooks(folder: Path) -> tuple[list[Path], list[str]]:
    """The regular ``.ipynb`` files under ``folder`` (sorted), and the names of the links found there (not followed)."""
    notebooks, links = [], []
    for parent, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(parent) / name
            if path.is_symlink():
                links.append(str(path.relative_to(folder)))
            elif name.endswith(".ipynb") and path.is_file() and not name.startswith("."):
                notebooks.append(path)
    return sorted(notebooks), links
