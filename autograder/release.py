"""``python -m autograder release``: the student version of every exercise."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograder.course import exercise_names, generate_student_versions


def main(out: Path, names: list[str] | None = None) -> int:
    """Write `out/<ex>/<ex>.ipynb` (and any data files) for every exercise."""
    names = names or exercise_names()
    with tempfile.TemporaryDirectory(prefix="rnn-release-") as tmp:
        folders = generate_student_versions(Path(tmp), names)
        for name, folder in folders.items():
            target = out / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder, target)
            print(f"released {name}: {target / (name + '.ipynb')}")
    return 0
