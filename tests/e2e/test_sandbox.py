"""What a student's process can do, seen from inside it, in each sandbox mode this machine can run.

Each test starts a small program through the grader's own ``Sandbox.command``
(``tests/helpers/sandboxed.py``) and asserts on what it reports: who it is, which
privileged calls fail, what it can see, reach and write. ``bwrap`` needs
bubblewrap (``.ci/run`` installs it); ``uid`` needs root and an interpreter an
unprivileged user may run (made by ``reachable_python`` where ours lies under
``/root``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from tests.helpers.sandboxed import REPO, inside

LOOK_AROUND = r"""
import ctypes, errno, json, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
def call(name, *args):
    result = getattr(libc, name)(*args)
    return "ok" if result == 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
report = {"uid": os.getuid(), "euid": os.geteuid(), "groups": os.getgroups(),
          "CapEff": status["CapEff"].strip(), "CapPrm": status["CapPrm"].strip(), "CapBnd": status["CapBnd"].strip(),
          "NoNewPrivs": status["NoNewPrivs"].strip()}
report["mount"] = call("mount", b"none", b"/usr", b"tmpfs", 0, None)
report["remount"] = call("mount", None, b"/", None, 32 | 4096, None)  # MS_REMOUNT | MS_BIND, read-write
report["umount2"] = call("umount2", b"/usr", 2)
report["unshare_user"] = call("unshare", 0x10000000)
report["unshare_mount"] = call("unshare", 0x00020000)
report["unshare_net"] = call("unshare", 0x40000000)
fd = os.open("/proc/self/ns/mnt", os.O_RDONLY)
report["setns"] = call("setns", fd, 0)
report["chroot"] = call("chroot", b"/tmp")
report["ptrace_1"] = call("ptrace", 16, 1, None, None)  # PTRACE_ATTACH to pid 1
report["environ"] = sorted(os.environ)
report["fds"] = sorted(int(n) for n in os.listdir("/proc/self/fd"))
report["root"] = sorted(os.listdir("/"))
seen = {}
for path in json.loads(HIDDEN):
    try:
        seen[path] = sorted(os.listdir(path))[:3]
    except OSError as error:
        seen[path] = errno.errorcode.get(error.errno, "?")
report["hidden"] = seen
try:
    s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
    s.sendall(b"escaped")
    report["connect"] = "ok"
except OSError as error:
    report["connect"] = type(error).__name__
try:
    with open("big", "wb") as handle:
        handle.write(b"\0" * (300 << 20))
    report["write_300MB"] = "ok"
except OSError as error:
    report["write_300MB"] = errno.errorcode.get(error.errno, "?")
try:
    open("/usr/written-by-a-student", "w")
    report["write_usr"] = "ok"
except OSError as error:
    report["write_usr"] = errno.errorcode.get(error.errno, "?")
open("mine.txt", "w").write("a file in the stage")
forks = 0
for _ in range(700):
    try:
        if os.fork() == 0:
            import time; time.sleep(5); os._exit(0)
        forks += 1
    except OSError:
        break
report["forks"] = forks
print(json.dumps(report))
"""


class Listener:
    """A TCP server on 127.0.0.1 that records whether anything connected (bounded: it stops by itself)."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.server.settimeout(30)
        self.port, self.connected = self.server.getsockname()[1], []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            connection, _ = self.server.accept()
            self.connected.append(connection.recv(100))
        except OSError:
            pass

    def close(self):
        self.server.close()
        self.thread.join(timeout=5)


def look_around(mode: str, python: str, hidden: list) -> tuple[dict, dict, Listener]:
    listener = Listener()
    code = f"HIDDEN = {json.dumps(json.dumps([str(p) for p in hidden]))}\nPORT = {listener.port}\n" + LOOK_AROUND
    env = {**os.environ, "RNN_TEST_SECRET": "s3cr3t-token"}
    try:
        report = inside(mode, code, hidden, python=python, env=env)
    finally:
        listener.close()
    assert report["returncode"] == 0, report["stderr"]
    return report, json.loads(report["stdout"].strip().splitlines()[-1]), listener


def root_or_skip():
    if os.geteuid() != 0:
        pytest.skip("the grader runs as root in CI and on Gradescope; this test is about that case")


def assert_no_privilege(seen: dict):
    assert seen["uid"] != 0 and seen["euid"] != 0 and seen["groups"] in ([], [seen["uid"]]), seen
    assert int(seen["CapEff"], 16) == 0 and int(seen["CapPrm"], 16) == 0, seen
    assert seen["NoNewPrivs"] == "1"
    for call in ("mount", "remount", "umount2", "unshare_user", "unshare_mount", "unshare_net", "setns", "chroot",
                 "ptrace_1"):
        assert seen[call] != "ok", (call, seen[call])


def assert_clean_start(seen: dict):
    from autograder.sandbox import PASSED_THROUGH

    allowed = {"PATH", "HOME", "TMPDIR", "MPLBACKEND", "MPLCONFIGDIR", "IPYTHONDIR", "OMP_NUM_THREADS", "PWD",
               "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONDONTWRITEBYTECODE", "PYDEVD_DISABLE_FILE_VALIDATION",
               *PASSED_THROUGH}
    assert set(seen["environ"]) <= allowed, set(seen["environ"]) - allowed
    assert seen["fds"][:3] == [0, 1, 2] and len(seen["fds"]) <= 5, seen["fds"]  # + the listing's own and the socket's


def test_bwrap_as_root_holds(tmp_path):
    from autograder import sandbox, slots
    from autograder.sandbox import INSIDE_UID

    root_or_skip()
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (.ci/run installs it)")
    out = tmp_path / "out"
    out.mkdir()
    report, seen, listener = look_around("bwrap", os.sys.executable, [REPO, out, "/root", "/home", "/var/tmp"])
    print(seen)
    assert report["kind"] == "bwrap" and report["drops_root"]
    assert_no_privilege(seen)
    assert seen["uid"] == INSIDE_UID
    assert seen["CapBnd"] == "0000000000000000"
    assert report["owners"] == [report["uid"]], "outside the sandbox, its files belong to the worker's own uid"
    assert_clean_start(seen)
    assert set(seen["root"]) <= {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "tmp",
                                 *{p.split("/")[1] for p in [str(REPO), os.sys.prefix, os.sys.base_prefix]}}
    _, interpreter = sandbox.interpreter()
    for path, listing in seen["hidden"].items():  # nothing there but the way to the interpreter's folders
        way = {f.relative_to(path).parts[0] for f in interpreter if f.is_relative_to(path) and f != Path(path)}
        assert listing == "ENOENT" or set(listing) <= way, (path, listing)
    assert seen["connect"] != "ok" and listener.connected == []
    assert seen["write_300MB"] == "EFBIG" and seen["write_usr"] in ("EROFS", "EACCES", "ENOENT")
    assert 0 < seen["forks"] < 700, "a fork bomb is held by the worker uid's RLIMIT_NPROC"


def test_uid_mode_holds(uid_python, tmp_path):
    out = tmp_path / "private"
    out.mkdir(mode=0o700)
    report, seen, listener = look_around("uid", uid_python, [out, "/root"])
    print(seen)
    assert report["kind"] == "uid" and report["drops_root"]
    assert_no_privilege(seen)
    assert seen["uid"] == report["uid"]
    assert_clean_start(seen)
    assert all(v == "EACCES" for v in seen["hidden"].values()), seen["hidden"]
    assert seen["write_300MB"] == "EFBIG" and seen["write_usr"] in ("EROFS", "EACCES")
    assert 0 < seen["forks"] < 700, "a fork bomb is held by RLIMIT_NPROC, with or without a cgroup"


def test_uid_mode_refuses_what_it_cannot_hide(uid_python):
    """A hidden folder that other users may read makes the uid mode refuse at once, saying which and how to fix it."""
    import tempfile

    visible = Path(tempfile.mkdtemp(prefix="rnn-readable-", dir="/var/tmp"))
    visible.chmod(0o755)
    code = ("from pathlib import Path\nfrom autograder import sandbox\ntry:\n"
            f"    sandbox.detect('uid', hidden=[Path({str(visible)!r})])\n    print('accepted')\n"
            "except sandbox.SandboxError as error:\n    print('refused:', error)")
    try:
        done = subprocess.run([uid_python, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        visible.rmdir()
    assert done.stdout.startswith("refused:") and str(visible) in done.stdout and "chmod" in done.stdout, done


def test_uid_mode_refuses_an_interpreter_it_cannot_run():
    """Where Python lies under a folder only root may enter, the uid mode says so at once, naming the interpreter."""
    import sys

    from autograder import sandbox
    from tests.helpers.sandboxed import _reachable

    root_or_skip()
    if _reachable(sys.executable) and _reachable(sys.base_prefix):
        pytest.skip("this interpreter is reachable by every user")
    with pytest.raises(sandbox.SandboxError, match="cannot be run by an unprivileged user"):
        sandbox.detect("uid", hidden=[])


def test_an_explicit_mode_that_cannot_work_fails_at_once(monkeypatch):
    from autograder import sandbox

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxError, match="bubblewrap .* not installed"):
        sandbox.detect("bwrap")


def test_none_names_its_real_reason():
    from autograder import sandbox

    box = sandbox.detect("none")
    assert box.kind == "none" and "you asked for --sandbox none" in box.warning and "not installed" not in box.warning


def test_kill_uid_ends_detached_processes(uid_python):
    """What a job leaves running, even detached and reparented to init, is gone when the job ends."""
    from autograder import slots

    marker = "rnn-sandbox-test-detached-sleeper"
    code = ("import os, subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(1)', {marker!r}], "
            "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\nprint('started')")
    report = inside("uid", code, python=uid_python)
    assert report["stdout"].strip() == "started"
    alive = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    assert alive == [], f"processes of the job survived it: {alive}"
    assert report["uid"] >= slots.SLOT_UID_BASE


def test_a_venv_reached_through_a_link_runs_in_bubblewrap():
    """`.venv -> /elsewhere/venv`, common on shared course machines: the sandbox binds and starts the real folder."""
    import sys
    import tempfile

    root_or_skip()
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (.ci/run installs it)")
    folder = Path(tempfile.mkdtemp(prefix="rnn-linked-venv-", dir="/var/tmp"))
    try:
        (folder / ".venv").symlink_to(Path(sys.prefix).resolve())
        linked = folder / ".venv" / "bin" / "python"
        report = inside("bwrap", "import numpy, edugrad; print('imports', numpy.__version__)", python=str(linked))
    finally:
        shutil.rmtree(folder)
    assert report["kind"] == "bwrap" and report["stdout"].startswith("imports"), report
