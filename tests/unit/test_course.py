"""course.py: the gradebook's alembic revision read in process is the one the `alembic` command prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from autograder.course import alembic_head


def test_alembic_head_in_process_is_what_the_alembic_command_says(tmp_path):
    from nbgrader import dbutil

    alembic = Path(sys.executable).parent / "alembic"
    ini = tmp_path / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {dbutil.ALEMBIC_DIR}\nsqlalchemy.url = sqlite:///{tmp_path}/g.db\n")
    printed = subprocess.run([str(alembic), "-c", str(ini), "heads"], capture_output=True, text=True, check=True)
    assert alembic_head() == printed.stdout.split()[0]


def test_the_release_cache_key_follows_the_grading_sources(tmp_path):
    """A cached release for grading is reused only for the same sources (and checks, nbgrader, settings)."""
    import shutil

    from autograder.course import EXERCISES, release_key

    source = tmp_path / "source"
    shutil.copytree(EXERCISES / "elman", source / "elman")
    key = release_key(["elman"], source)
    assert release_key(["elman"], source) == key, "the same sources give the same key"
    notebook = source / "elman" / "elman.ipynb"
    notebook.write_text(notebook.read_text().replace("Elman", "Elman ", 1))
    assert release_key(["elman"], source) != key, "an edited source gives another key"
