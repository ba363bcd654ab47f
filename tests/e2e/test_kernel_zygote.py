"""Kernels forked by one zygote (autograder/kernels.py, zygote.py) share nothing from one submission to the next.

One worker grades, in order: a submission that leaves files in its kernel's home,
/tmp and /dev/shm and processes running, and tries the channels a fork could share (System
V shared memory, the zygote's memory); one that looks for all of that; one that
kills the zygote; and a reference after it, which must still be graded in full.
Each answer is the reference solution, plus code in the last answer cell.
"""

from __future__ import annotations

import json
import os
import shutil

import nbformat
import pytest

from tests.helpers.grading import autograder, read_grades, write
from tests.helpers.notebooks import reference_answers, submission

pytestmark = pytest.mark.slow
EXERCISE = "elman"
MARK = "ZYGOTE-REPORT "

LEAVE = r'''
import ctypes, os, subprocess
open("/tmp/left-by-a.txt", "w").write("answers")
open(os.path.expanduser("~/left-by-a.txt"), "w").write("answers")
try:
    open("/dev/shm/left-by-a.txt", "w").write("answers")
except OSError:
    pass
subprocess.Popen(["sleep", "600"], start_new_session=True)
_libc = ctypes.CDLL(None, use_errno=True)
_shm = _libc.shmget(0x5EC2E7, 4096, 0o1666)  # IPC_CREAT | 0666
try:
    open(f"/proc/{os.getppid()}/mem", "rb").read(1)
    _mem = "readable"
except OSError as error:
    _mem = type(error).__name__
print("ZYGOTE-REPORT " + __import__("json").dumps({"shmget": _shm, "errno": ctypes.get_errno(), "parent_mem": _mem}))
'''

FIND = r'''
import ctypes, json, os
def _others():
    mine, seen, pid = os.getuid(), set(), os.getpid()
    while pid > 0 and pid not in seen:
        seen.add(pid)
        pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in seen:
            try:
                status = open(f"/proc/{name}/status").read()
            except OSError:
                continue
            uid = int(status.split("Uid:")[1].split()[0])
            if uid == mine and "State:\tZ" not in status:
                found.append(open(f"/proc/{name}/cmdline").read().replace("\0", " "))
    return found
print("ZYGOTE-REPORT " + json.dumps({
    "tmp": sorted(os.listdir("/tmp")), "home": sorted(os.listdir(os.path.expanduser("~"))),
    "shm": sorted(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else [],
    "others": _others(), "sysv": ctypes.CDLL(None).shmget(0x5EC2E7, 0, 0)}))
'''

KILL = ("import os, signal\n"  # in the kernel only (the judge's process would lose its own tests)
        "if 'zygote.py' in open(f'/proc/{os.getppid()}/cmdline').read():\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n")


def with_code(student_version, code: str):
    answers = reference_answers(EXERCISE)
    last = list(answers)[-1]
    answers[last] += "\n\n" + code
    return submission(student_version, answers)


def reports(out, student: str) -> list[dict]:
    graded = nbformat.read(out / "autograded" / student / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    return [json.loads(line[len(MARK):]) for cell in graded.cells for output in cell.get("outputs", [])
            if output.get("output_type") == "stream" for line in output.get("text", "").splitlines()
            if line.startswith(MARK)]


@pytest.fixture(scope="module")
def graded(release, tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which("bwrap"):
        pytest.fail("this test needs root and bubblewrap (as in CI): the zygote runs in the bwrap or uid sandbox")
    submitted = tmp_path_factory.mktemp("zygote-submitted")
    student_version = nbformat.read(release / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    for student, code in (("a_leaves", LEAVE), ("b_finds", FIND), ("c_kills_the_zygote", KILL), ("d_after", "")):
        write(submitted / student, EXERCISE, with_code(student_version, code))
    out = tmp_path_factory.mktemp("zygote-graded")
    done = autograder("grade", str(submitted), "--out", str(out), "--jobs", "1", "--sandbox", "bwrap")
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_channels_a_fork_could_share_are_closed(graded):
    [report] = reports(graded, "a_leaves")
    assert report["shmget"] == -1 and report["errno"] == 1, "System V IPC is refused (EPERM) by seccomp"
    assert report["parent_mem"] in ("PermissionError", "FileNotFoundError"), "the zygote's memory is not readable"


def test_nothing_of_a_submission_reaches_the_next(graded):
    [report] = reports(graded, "b_finds")
    assert "left-by-a.txt" not in report["tmp"] + report["home"] + report["shm"]
    assert report["others"] == [], f"processes of an earlier kernel are still running: {report['others']}"
    assert report["sysv"] == -1


def test_a_killed_zygote_is_replaced_and_every_submission_graded_in_full(graded):
    grades = read_grades(graded)
    for student in ("a_leaves", "b_finds", "c_kills_the_zygote", "d_after"):
        row = grades[(student, EXERCISE)]
        print(student, row["score"], row["message"])
        assert row["status"] == "graded" and float(row["score"]) == float(row["max_score"]), (student, row)
    assert "could not be run in Jupyter" not in grades[("d_after", EXERCISE)]["message"]
