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
import shutil
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


def run(exercise: str, root: Path) -> int:
    """Grade the one submission in ``root/submission`` and write ``root/results/results.json``."""
    from autograder import grade

    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    notebooks = sorted((root / "submission").rglob("*.ipynb"))
    preferred = [p for p in notebooks if p.name == f"{exercise}.ipynb"]
    if not notebooks:
        (results / "results.json").write_text(json.dumps({"score": 0, "output": (
            f"No notebook was submitted. Upload your {exercise}.ipynb.")}))
        return 0
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        submitted = Path(tmp) / "submitted" / "student" / exercise
        submitted.mkdir(parents=True)
        shutil.copy((preferred or notebooks)[0], submitted / (preferred or notebooks)[0].name)
        out = Path(tmp) / "graded"
        limits = grade.Limits(jobs=1)
        grade.main(Path(tmp) / "submitted", out, limits, [exercise])
        result = json.loads((out / "results" / "student" / f"{exercise}.json").read_text())
    result["visibility"] = "visible"
    (results / "results.json").write_text(json.dumps(result, indent=2))
    print(f"score {result['score']}", file=sys.stderr)
    return 0
