"""Running code as a student's process would run, for the sandbox's tests.

``python -m tests.helpers.sandboxed MODE CODE HIDDEN_JSON`` (run by :func:`inside`, with
whichever interpreter the test names) starts ``CODE`` through the grader's own
``Sandbox.command`` in a fresh stage and prints one JSON line: the mode in force,
what the code printed, and who owns the files it wrote (seen from outside).

:func:`reachable_python` gives an interpreter an unprivileged user can run, for the
``uid`` mode on a machine whose Python lies under a folder only root may enter
(``/root/.pyenv`` here): a venv of Debian's ``python3.11`` holding hard links to this
venv's packages. Gradescope's own Python (``/autograder/venv``) is reachable as it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def inside(mode: str, code: str, hidden: list[Path] = (), python: str = sys.executable,
           env: dict[str, str] | None = None) -> dict:
    """Run ``code`` as a student's process in sandbox ``mode`` (by ``python``); the driver's JSON report."""
    done = subprocess.run([python, "-m", "tests.helpers.sandboxed", mode, code, json.dumps([str(p) for p in hidden])],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**(env or os.environ), "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _drive(mode: str, code: str, hidden: list[str]) -> None:
    from autograder import sandbox, slots

    slot = slots.claim_slots()
    box = sandbox.detect(mode, hidden=[Path(p) for p in hidden], slot=slot)
    root = slots.make_stage_root()
    try:
        home = slots.make_stage(root, slot, box) / "home"
        python, _ = sandbox.interpreter()
        command = box.command([python, "-I", "-c", code], slot=slot, stage=home.parent, writable=[home], cwd=home,
                              env=sandbox.student_env(home), memory_mb=2048, allow_torch=False, quiet=False)
        done = subprocess.run(command, capture_output=True, text=True, timeout=240)
        owners = sorted({os.lstat(p).st_uid for p in home.iterdir()})
        if box.drops_root:
            slots.kill_uid(slots.slot_uid(slot))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({"kind": box.kind, "drops_root": box.drops_root, "uid": slots.slot_uid(slot),
                      "stdout": done.stdout, "stderr": done.stderr[-3000:], "returncode": done.returncode,
                      "owners": owners}))


def reachable_python() -> str | None:
    """An interpreter with this venv's packages that any user may run, or None where none can be made."""
    if _reachable(Path(sys.executable)) and _reachable(Path(sys.prefix)) and _reachable(Path(sys.base_prefix)):
        return sys.executable
    debian = Path("/usr/bin/python3.11")
    if not debian.is_file() or sys.version_info[:2] != (3, 11):
        return None
    folder = Path(tempfile.mkdtemp(prefix="rnn-uid-python-", dir="/var/tmp"))
    folder.chmod(0o755)
    venv = folder / "venv"
    subprocess.run([str(debian), "-m", "venv", "--without-pip", str(venv)], check=True)
    packages = venv / "lib" / "python3.11" / "site-packages"
    shutil.rmtree(packages)
    linked = subprocess.run(["cp", "-al", sysconfig.get_paths()["purelib"], str(packages)], capture_output=True)
    if linked.returncode != 0:  # another filesystem: a real copy
        shutil.rmtree(packages, ignore_errors=True)
        shutil.copytree(sysconfig.get_paths()["purelib"], packages, symlinks=True)
    for script in Path(sys.executable).parent.iterdir():  # console scripts nbgrader runs (alembic)
        target = venv / "bin" / script.name
        if script.is_file() and not script.is_symlink() and not target.exists():
            head = script.read_bytes()[:200]
            if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
                body = script.read_text().split("\n", 1)[1]
                target.write_text(f"#!{venv / 'bin' / 'python'}\n{body}")
                target.chmod(0o755)
    return str(venv / "bin" / "python")


def _reachable(path: Path) -> bool:
    """Whether every folder above ``path`` lets other users through (o+x)."""
    return all(os.stat(parent).st_mode & 0o001 for parent in Path(os.path.realpath(path)).parents)


if __name__ == "__main__":
    _drive(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
