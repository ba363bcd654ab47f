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
