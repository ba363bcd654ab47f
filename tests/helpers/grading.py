"""Running the autograder from tests and reading what it wrote."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.helpers.notebooks import REPO


def autograder(*args: str, timeout: int = 3600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` in the repository; ``env`` replaces the environment (default: ours)."""
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)


def read_grades(out: Path) -> dict[tuple[str, str], dict]:
    with (out / "grades.csv").open() as handle:
        return {(row["student"], row["exercise"]): row for row in csv.DictReader(handle)}


def results_of(out: Path, student: str, exercise: str) -> dict[str, dict]:
    result = json.loads((out / "results" / student / f"{exercise}.json").read_text())
    return {test["name"]: test for test in result["tests"]}


def write(folder: Path, exercise: str, notebook) -> None:
    (folder / exercise).mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / exercise / f"{exercise}.ipynb")
