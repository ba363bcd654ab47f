"""The sandbox under attack: what a determined student would try, graded in one batch through
``python -m autograder grade``.

The promise (README, "How grading works, and what it defends against"): a submission earns exactly its honest
score; it cannot read what is hidden (the repository with ``solutions/`` and ``autograder/checks/``, the source
notebooks, the batch's temporary folder ``/tmp/rnn-grade-*`` with the release and the gradebook, the OUT folder,
other students' submissions, ``/root``, ``/home``), cannot write outside its own scratch folder, cannot reach the
network, runs with no capability and a non-root uid, and cannot steer the grader's own process through the files it
writes, the links it makes or the text it prints.

Every attack below is code a student could put in a cell. It is added at the top of the ``elman_step`` answer cell
of the honest partial answer of ``test_attacks.py`` (a right ``elman_step``, a zero ``elman_forward`` and
``params_from_torch``: 4 of 10 points), so it runs twice: in the judge's student process (``probe``, where points
are decided) and in nbgrader's kernel (whose outputs reach the feedback page). The honest answer cells take the
reference functions instead of their own whenever an attack managed to read them (``_STOLEN``), so a leak shows as
points. Each attack reports what it saw the only ways a student can: the kernel prints ``SANDBOX-REPORT {json}
END-REPORT`` in the answer cell (it reaches the graded notebook and the feedback page), and in the judge's process
``params_from_torch`` raises the report (which reaches the verdict in results.json); params_from_torch earns
nothing either way. One module-scoped batch grades every attack with correct neighbours (the reference solution,
10/10) sorted between and after them, on 2 workers.

The attacks (ATTACKS): ``unmounts`` (umount2 every mount point, remount / writable, then take the reference);
``reads_everything`` (every hidden place, every mount point and its parent, a second copy of the reference in
/var/tmp, a search of the disk); ``writes_everywhere`` (the grader's code, the release, gradebooks, other
submissions and results, files outside the scratch folder); ``network`` (a socket of the test's on 127.0.0.1);
``privileges`` (capabilities, uid, mount, umount2, unshare, setns, chroot, a user namespace); ``big_file`` (300 MB);
``html_and_script`` (script in an exception message, in outputs and in a Markdown cell of the student's, checked
in Chromium); ``links_*`` (the kernel replaces its notebook by a link to the release, the source notebook, the
gradebook or the reference, and dies so that the grader retries); ``environment`` (variables and inherited
descriptors); ``background_killer`` (a detached process that kills what it can); ``fork_bomb``;
``stalled_message`` (a frame of the wire announced and never finished). Beside them, submissions that are links
(LINKED), and, in a simulated Gradescope, a linked notebook and an attack on /autograder.

Safety: the tests run as root on the machine that runs them. Where an attack could harm that machine if the
sandbox failed (unmounting every mount point, remounting ``/``, killing every process), it first checks that it
does not run in the test's own mount or PID namespace and, if it does, makes the harmless version of the call
(signal 0) or none, and says so in its report; the tests fail on that report. Files of the repository that the
batch changed are restored from a copy taken before it (the changed versions are kept beside, and named in the
failure), so a failing run does not leave the checkout broken. ``os.kill(-1, 9)`` is left out for the same
reason: in a PID namespace of its own it only kills the student's own kernel; outside one, as root, it would kill
the machine's processes. The killer below kills every process it can see except its own ancestors instead.

Run with ``-s`` (or ``-rP``) to see what each attack observed.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from tests.helpers.browser import ARGS as BROWSER_ARGS
from tests.helpers.browser import chromium as browser_path
from tests.helpers.browser import keep_local
from tests.helpers.grading import autograder, read_grades, results_of, write
from tests.helpers.notebooks import REPO, grade_id, reference_answers, submission

pytestmark = pytest.mark.slow
EXERCISE = "elman"
HONEST = 4.0  # elman_step (3) and the shape of the zero elman_forward (1); the zero params_from_torch earns nothing
# --timeout bounds what a grader that hangs on the stalled message costs (the default is 600 s); the stalled
# submission itself must take far less (test_a_stalled_message_costs_only_call_timeouts).
GRADE_OPTIONS = ["--exercise", EXERCISE, "--jobs", "2", "--cell-timeout", "10", "--call-timeout", "5",
                 "--timeout", "240"]
REPORT = re.compile(r"SANDBOX-REPORT (\{.*?\}) END-REPORT", re.S)
HOST_MNT_NS = os.readlink("/proc/self/ns/mnt")
HOST_PID_NS = os.readlink("/proc/self/ns/pid")

# ------------------------------------------------------------------------------------------ the honest answer

PLAIN_FORWARD = """def elman_forward(X, h0, W_x, W_h, b):
    return np.zeros((np.shape(X)[0], np.shape(X)[1], np.shape(W_h)[0]))
"""
PLAIN_PARAMS = """def params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh):
    return np.zeros(np.shape(weight_ih)[::-1]), np.zeros(np.shape(weight_hh)), np.zeros(np.shape(bias_ih))
"""
# The same answers in an attacker's notebook: the reference instead, if the attack could read it; and the report.
ZERO_FORWARD = PLAIN_FORWARD + """elman_forward = globals().get("_STOLEN", {}).get("elman_forward", elman_forward)
"""
ZERO_PARAMS = """def params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh):
    found = globals().get("_FOUND")
    if found:  # what the attack saw, raised so that the judge's verdict shows it
        raise RuntimeError("SANDBOX-REPORT " + _compact({"where": _WHERE, **found}) + " END-REPORT")
    return np.zeros(np.shape(weight_ih)[::-1]), np.zeros(np.shape(weight_hh)), np.zeros(np.shape(bias_ih))
params_from_torch = globals().get("_STOLEN", {}).get("params_from_torch", params_from_torch)
"""

# What every attack shares (at the top of its cell): where it runs, its report, and the guard (see the docstring).
PRELUDE = r'''
import ctypes, glob, json, os, re, sys
_WHERE = "kernel" if "ipykernel" in sys.modules else "probe"  # nbgrader's kernel, or the judge's student process
REPO, OUT, SUBMITTED, COPY = ${REPO}, ${OUT}, ${SUBMITTED}, ${COPY}
HIDDEN = [REPO, OUT, SUBMITTED, COPY, "/root", "/home"]  # and the batch folders, /tmp/rnn-grade-*
_FOUND = globals().setdefault("_FOUND", {})
_STOLEN = globals().setdefault("_STOLEN", {})
_libc = ctypes.CDLL(None, use_errno=True)


def _report(**found):
    _FOUND.update(found)
    if _WHERE == "kernel":
        print("SANDBOX-REPORT", json.dumps({"where": _WHERE, **_FOUND}, default=str), "END-REPORT")


def _compact(found, limit=1700):
    """The report as JSON short enough for an exception message (the largest entries summarised first)."""
    text = json.dumps(found, default=str)
    for key in sorted(found, key=lambda k: -len(json.dumps(found[k], default=str))):
        if len(text) <= limit:
            break
        found = {**found, key: f"<{len(json.dumps(found[key], default=str))} characters left out>"}
        text = json.dumps(found, default=str)
    return text


def _call(name, *args):
    """A libc call: "ok", or the error it gave."""
    if getattr(_libc, name)(*args) == 0:
        return "ok"
    return os.strerror(ctypes.get_errno())


def _mounts():
    """(mount point, file system type, line) of every mount this process sees."""
    found = []
    try:
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                fields = line.split()
                found.append((fields[4].encode().decode("unicode_escape"), fields[fields.index("-") + 1], line))
    except (OSError, ValueError):
        pass
    return found


def _batches():
    """The grader's batch folders: listed in /tmp, or named by the mounts that hide them."""
    found = set(glob.glob("/tmp/rnn-grade-*"))
    for point, _, line in _mounts():
        found.update(re.findall(r"/tmp/rnn-grade-[^/\s]+", line))
    return sorted(found)


def _guard():
    """Why a call that would harm the machine running the test is not made here ("" if it may be)."""
    try:
        if os.readlink("/proc/self/ns/mnt") == ${HOST_MNT_NS}:
            return "runs in the grader's own mount namespace"
    except OSError as error:
        return f"cannot tell its mount namespace ({error})"
    if any(" shared:" in line for _, _, line in _mounts()):
        return "its mounts propagate to the grader's (shared)"
    return ""


def _own_paths():
    """What is this process's own: its folder, the interpreter, the kernel's connection file (but never a folder
    that holds a hidden one, such as /tmp when the current folder is /tmp)."""
    own = {os.getcwd(), sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    if "-f" in sys.argv[:-1]:
        own.add(os.path.dirname(os.path.abspath(sys.argv[sys.argv.index("-f") + 1])))
    own |= {os.path.realpath(p) for p in own}
    broad = HIDDEN + _batches() + ["/", "/tmp", "/var/tmp"]
    return sorted(p for p in own if not any(_under(b, [p]) for b in broad))


def _under(path, roots):
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _in_child(fn):
    """fn() in a forked child, so that what it changes (a root, a namespace) stays there; its result as text."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            result = str(fn())
        except BaseException as error:
            result = f"{type(error).__name__}: {error}"
        os.write(write, result.encode()[:2000])
        os._exit(0)
    os.close(write)
    chunks = []
    while True:
        chunk = os.read(read, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode(errors="replace")


def _steal(path):
    """Take the reference's functions from a file that holds them (a module, or a notebook's code cells)."""
    try:
        with open(path, errors="replace") as handle:
            text = handle.read(5_000_000)
    except OSError:
        return False
    if "np.stack(states" not in text:
        return False
    cells = [text]
    if path.endswith(".ipynb"):
        try:
            cells = ["".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code"]
        except (ValueError, KeyError, TypeError):
            return False
    space = {}
    for cell in cells:
        try:
            exec(cell, space)
        except Exception:
            pass
    got = {n: space[n] for n in ("elman_step", "elman_forward", "params_from_torch") if callable(space.get(n))}
    _STOLEN.update(got)
    return bool(got)
'''

# ------------------------------------------------------------------------------------------------- attacks

UNMOUNTS = r'''
def attack():
    """Take every mount off (the ones that hide the repository and the batch first), remount / writable, steal."""
    MS_REMOUNT, MS_BIND, MNT_DETACH = 32, 4096, 2
    refused = _guard()
    if refused:
        return {"refused": refused}
    unmounted = []
    for point, _, _ in reversed(_mounts()):
        if point not in ("/", "/proc", "/dev") and _call("umount2", point.encode(), MNT_DETACH) == "ok":
            unmounted.append(point)
    remount = _call("mount", None, b"/", None, ctypes.c_ulong(MS_REMOUNT | MS_BIND), None)
    places = [REPO + "/solutions/elman.py", REPO + "/exercises/elman/elman.ipynb"]
    places += [batch + "/source/elman/elman.ipynb" for batch in _batches()]
    return {"refused": "", "unmounted": unmounted, "remount_rw": remount, "stolen": [p for p in places if _steal(p)]}
'''

READS_EVERYTHING = r'''
PRUNE = {".git", "__pycache__", "node_modules", "site-packages", "dist-packages", ".venv", ".pyenv", ".cache"}
SYSTEM = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/boot", "/etc", "/var/lib",
          "/var/cache", "/var/log", "/snap", "/opt"}


def attack():
    """Read every hidden place, every mount point and what lies beside it; search the disk for the exercise."""
    import time
    batches, copies = _batches(), glob.glob("/var/tmp/rnn-copy-*")
    hidden = HIDDEN + batches + copies
    own = _own_paths()
    listed, read, excerpts, stolen = {}, [], {}, []

    def consider(path):
        if _under(path, own) or os.access(os.path.dirname(path), os.W_OK):  # its own, or its scratch folder
            return
        if _under(path, hidden):
            try:
                with open(path, "rb") as handle:
                    head = handle.read(400).decode(errors="replace")
                read.append(path)
            except OSError:
                return
            # What a student would print, for the grader's files (not the machine's own, such as /root/.ssh).
            if (_under(path, [REPO, COPY, OUT, SUBMITTED] + batches) or "rnn-canary-" in path) and len(excerpts) < 40:
                excerpts[path] = head
        if os.path.basename(path) in ("elman.py", "elman.ipynb") and _steal(path):
            stolen.append(path)

    def walk(start, seconds, only=None):
        deadline, depth = time.monotonic() + seconds, start.rstrip("/").count("/")
        for folder, dirs, files in os.walk(start):
            dirs[:] = [d for d in dirs if d not in PRUNE and os.path.join(folder, d) not in SYSTEM]
            if time.monotonic() > deadline or folder.count("/") - depth > 8:
                dirs[:] = []
            for name in files[:500]:
                if only is None or name in only:
                    consider(os.path.join(folder, name))

    for path in ("/solutions/elman.py", "/autograder/checks/elman.py", "/exercises/elman/elman.ipynb"):
        consider(REPO + path)
    for start in hidden:  # the hidden places, whole
        try:
            listed[start] = sorted(os.listdir(start))[:30]
        except OSError as error:
            listed[start] = error.strerror
        walk(start, 0.5)
    for point, _, _ in _mounts():  # every mount point, and what lies beside it
        for place in {point, os.path.dirname(point)}:
            if os.path.isfile(place):
                consider(place)
            elif os.path.isdir(place) and place not in SYSTEM:
                try:
                    for name in os.listdir(place)[:500]:
                        if os.path.isfile(os.path.join(place, name)):
                            consider(os.path.join(place, name))
                except OSError:
                    pass
    walk("/", 2.5, only={"elman.py", "elman.ipynb"})  # anything named like the exercise, anywhere
    if _WHERE == "probe":
        excerpts = len(excerpts)
    return {"listed": listed, "read": read[:300], "how_many_read": len(read), "stolen": sorted(set(stolen)),
            "own": own, "excerpts": excerpts, "mounts": sorted({point for point, _, _ in _mounts()}),
            "tmp": sorted(os.listdir("/tmp"))[:40],
            "var_tmp": sorted(os.listdir("/var/tmp"))[:40] if os.path.isdir("/var/tmp") else "absent"}
'''

WRITES_EVERYWHERE = r'''
def attack():
    """Append to the grader's code, the release, other submissions and results; set every grade in any gradebook."""
    import sqlite3
    line = "\nrun = expect = expect_close = lambda *a, **k: None  # every check passes\n"
    files = []
    for folder, _, names in os.walk(REPO + "/autograder"):
        files += [os.path.join(folder, n) for n in names if n.endswith(".py")]
    for batch in _batches():
        files += glob.glob(batch + "/release/*/*.ipynb") + glob.glob(batch + "/source/*/*.ipynb")
    files += glob.glob(SUBMITTED + "/*/*/*.ipynb") + glob.glob(OUT + "/work/*/*/*.json")
    files += glob.glob(OUT + "/*.csv") + glob.glob(OUT + "/results/*/*.json")
    files = [f for f in files if not _under(f, [os.getcwd()])]
    appended = []
    for path in files:
        try:
            with open(path, "a") as handle:
                handle.write(line)
            appended.append(path)
        except OSError:
            pass
    gradebooks = glob.glob(OUT + "/**/gradebook.db", recursive=True) + [b + "/gradebook.db" for b in _batches()]
    rewritten = []
    for path in gradebooks:
        try:
            with sqlite3.connect(path, timeout=1) as db:
                db.execute("UPDATE grade SET manual_score = 100")
            rewritten.append(path)
        except Exception:
            pass
    mark = "rnn-pwned-" + ${TOKEN}
    places = ["/var/tmp", "/tmp", "/root", "/home", "/dev/shm", REPO, OUT, SUBMITTED, os.path.dirname(os.getcwd()),
              os.path.expanduser("~")] + glob.glob(OUT + "/work/*") + glob.glob(OUT + "/work/*/*")
    created = []
    for place in places:
        try:
            with open(os.path.join(place, mark), "w") as handle:
                handle.write("written by a student\n")
            created.append(place)
        except OSError:
            pass
    return {"appended": appended, "gradebooks": rewritten, "created": created}
'''

NETWORK = r'''
def attack():
    """Connect to the test's listening socket on this machine."""
    import socket
    outcome = {}
    for host in ("127.0.0.1", "localhost"):
        try:
            with socket.create_connection((host, ${PORT}), timeout=2) as connection:
                connection.sendall(("hello from the " + _WHERE).encode())
            outcome[host] = "connected"
        except OSError as error:
            outcome[host] = f"{type(error).__name__}: {error}"
    interfaces = sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []
    return {"connect": outcome, "interfaces": interfaces}
'''

PRIVILEGES = r'''
def attack():
    """Who am I, what may I do: capabilities, uid, and the calls that would undo the sandbox."""
    import tempfile
    status = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                       "Seccomp"):
                status[key] = value.split()
    calls, refused, spot = {}, _guard(), tempfile.mkdtemp()
    if refused:
        calls["mount a tmpfs"] = calls["umount2 the hidden repository"] = "not tried: " + refused
    else:
        calls["mount a tmpfs"] = _call("mount", b"none", spot.encode(), b"tmpfs", ctypes.c_ulong(0), None)
        if calls["mount a tmpfs"] == "ok":
            _call("umount2", spot.encode(), 2)
        calls["umount2 the hidden repository"] = _call("umount2", REPO.encode(), 2)
    calls["unshare(CLONE_NEWUSER)"] = _in_child(lambda: _call("unshare", 0x10000000))
    calls["unshare(CLONE_NEWNS)"] = _in_child(lambda: _call("unshare", 0x20000))
    calls["setns(/proc/1/ns/mnt)"] = _in_child(lambda: _call("setns", os.open("/proc/1/ns/mnt", os.O_RDONLY), 0))
    calls["chroot(/tmp)"] = _in_child(lambda: _call("chroot", b"/tmp"))

    def escalate():  # a user namespace of its own, root in it, then take the cover off the repository
        uid, gid = os.getuid(), os.getgid()
        step = _call("unshare", 0x10000000 | 0x20000)
        if step != "ok":
            return step
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            try:
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
            except OSError as error:
                return f"{name}: {error.strerror}"
        step = _call("umount2", REPO.encode(), 2)
        try:
            with open(REPO + "/solutions/elman.py") as handle:
                handle.read(10)
            return "ok: read the reference"
        except OSError as error:
            return f"umount2: {step}; the reference: {error.strerror}"

    calls["user namespace, then umount2 and read"] = _in_child(escalate)
    return {"uid": os.getuid(), "euid": os.geteuid(), "status": status, "calls": calls}
'''

BIG_FILE = r'''
def attack():
    """Write 300 MB into the current folder."""
    written, outcome = 0, {"errno": 0, "error": ""}
    try:
        with open("big.bin", "wb") as handle:
            block = b"\0" * (1 << 20)
            for _ in range(300):
                handle.write(block)
                written += 1
    except OSError as error:
        outcome = {"errno": error.errno, "error": error.strerror}
    size = os.path.getsize("big.bin") if os.path.exists("big.bin") else None
    return {"write": outcome, "megabytes_written": written, "size": size, "cwd": os.getcwd()}
'''

HTML_AND_SCRIPT = r'''
def attack():
    """Outputs that a browser would run."""
    from IPython.display import HTML, SVG, Javascript, Markdown, display
    display(HTML("<b>an HTML output</b><script>PWN(4)</script>"))
    display(Javascript("PWN(5)"))
    display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                '<script>PWN(8)</script><circle r="4"/></svg>'))
    display(Markdown("[a markdown link](javascript:void(PWN(9)))"))
    return {"displayed": 4}
'''
HOSTILE_PARAMS = """HOSTILE = ('<script>PWN(1)</script>'
           '<img src=x onerror="PWN(2)"> '
           '[x](javascript:void(PWN(3))) |\\n| test_injected | 10 / 10 | '
           '<script>alert(12)</script> |')
def params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh):
    raise RuntimeError(HOSTILE)  # its message reaches the summary table of the feedback page
"""
STUDENT_MARKDOWN = """My notes on the exercise.

<script>PWN(6)</script>
<iframe src="javascript:void(PWN(7))"></iframe>
<img src=y onerror="PWN(10)">
<a href="javascript:void(PWN(11))">a link</a>
"""



def pwn(text: str) -> str:
    """PWN(n) in a payload: JavaScript that sets window.PWNED and window.PWNED<n> (so that every payload that ran can
    be named), without a space, "|", "*", "_" or brackets, which Markdown would take for its own."""
    return re.sub(r"PWN\((\d+)\)", r"window.PWNED=\1,window.PWNED\1=\1", text)


HTML_AND_SCRIPT, HOSTILE_PARAMS, STUDENT_MARKDOWN = pwn(HTML_AND_SCRIPT), pwn(HOSTILE_PARAMS), pwn(STUDENT_MARKDOWN)

LINKS = r'''
def attack():
    """Replace its own notebook (and the judge's staged files) by links to the grader's files, then die, so the
    grader retries and writes or reads through them."""
    import signal
    here = os.getcwd()
    made = []
    if _WHERE == "probe":  # the judge copies probe.py, wire.py... here again when it restarts this process
        for name, target in (("probe.py", REPO + "/autograder/checks/elman.py"),
                             ("wire.py", REPO + "/autograder/wire.py"),
                             ("shared_ops.py", REPO + "/solutions/elman.py"),
                             ("cells.json", REPO + "/exercises/elman/elman.ipynb")):
            try:
                if os.path.lexists(os.path.join(here, name)):
                    os.remove(os.path.join(here, name))
                os.symlink(target, os.path.join(here, name))
                made.append(name)
            except OSError:
                pass
        return {"linked": made}  # params_from_torch stops this process, so that the judge starts it again
    batches = _batches()
    batch = batches[0] if batches else None
    targets = {
        "release": (batch or "/tmp/rnn-grade-unknown") + "/release/elman/elman.ipynb",
        "source": REPO + "/exercises/elman/elman.ipynb",
        "gradebook": os.path.relpath(batch + "/gradebook.db", here) if batch else "../" * 7 + "gradebook.db",
        "solution": REPO + "/solutions/elman.py",
    }
    decoys = dict(targets, **{f"gradebook-up-{k}": "../" * k + "gradebook.db" for k in range(1, 10)})
    for name, target in decoys.items():
        try:
            os.symlink(target, os.path.join(here, f"notes-{name}.txt"))
            made.append(f"notes-{name}.txt")
        except OSError:
            pass
    for notebook in glob.glob(os.path.join(here, "*.ipynb")):
        os.remove(notebook)
        os.symlink(targets[${KIND}], notebook)
        made.append(f"{os.path.basename(notebook)} -> {targets[${KIND}]}")
    _report(attack="links", linked=made)
    os.kill(os.getpid(), signal.SIGKILL)
'''
LINK_PARAMS = """def params_from_torch(weight_ih, weight_hh, bias_ih, bias_hh):
    if _WHERE == "probe":  # stop, so that the judge starts this process again (through the links, had they been made)
        os.kill(os.getpid(), 9)
    return np.zeros(np.shape(weight_ih)[::-1]), np.zeros(np.shape(weight_hh)), np.zeros(np.shape(bias_ih))
"""

ENVIRONMENT = r'''
def attack():
    """Print the environment; list the open descriptors and write into every file one of them holds."""
    import stat
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError as error:
            fds[fd] = error.strerror
    mark = "rnn-fd-" + "write-" + ${FD_TOKEN}
    wrote = []
    for fd, target in fds.items():
        try:
            if stat.S_ISREG(os.fstat(int(fd)).st_mode) and not _under(target, _own_paths()):
                os.write(int(fd), f"\n{mark}\n".encode())
                wrote.append(target)
        except (OSError, ValueError):
            pass
    print(dict(os.environ))
    return {"env": dict(os.environ), "fds": fds, "wrote_to": wrote, "own": _own_paths()}
'''

KILLER = r'''
import json, os, sys, time
marker, keep, host_pid_ns, report = sys.argv[1], {int(p) for p in sys.argv[2].split(",")}, sys.argv[3], sys.argv[4]
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
isolated = os.readlink("/proc/self/ns/pid") != host_pid_ns
signalled = {}
stop = time.time() + 900
while time.time() < stop:
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in keep or int(name) in (1, os.getpid()):
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")[:100]
            # In the test's own PID namespace, signal 0: count what it could kill, without killing the machine.
            os.kill(int(name), 9 if isolated else 0)
            signalled[name] = command
        except (OSError, IndexError):
            pass
    try:
        with open(report, "w") as handle:
            json.dump({"isolated": isolated, "signalled": signalled}, handle)
    except OSError:
        pass
    time.sleep(0.2)
'''
BACKGROUND_KILLER = r'''
KILLER = ${KILLER}


def attack():
    """A detached process (new session, double fork) that kills every process it can see but its own ancestors."""
    import subprocess, tempfile, time
    keep, pid = [], os.getpid()
    while pid > 1:
        keep.append(pid)
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    report = os.path.join(tempfile.gettempdir(), "killer-report.json")
    subprocess.Popen([sys.executable, "-c", KILLER, ${MARKER}, ",".join(map(str, keep)), ${HOST_PID_NS}, report],
                     start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    try:
        with open(report) as handle:
            seen = json.load(handle)
    except (OSError, ValueError) as error:
        seen = str(error)
    return {"killer": seen}
'''

FORK_BOMB = r'''
def attack():
    """Fork 3000 times (bounded in number and time, so that a machine without a process limit survives the test, and
    the cell ends within --cell-timeout)."""
    import time
    made, refused, started = 0, "", time.monotonic()
    for _ in range(3000):
        if time.monotonic() - started > 6:
            refused = "(stopped after 6 s)"
            break
        try:
            if os.fork() == 0:
                time.sleep(3)
                os._exit(0)
            made += 1
        except OSError as error:
            refused = str(error)
            break
    return {"forks": made, "refused": refused, "seconds": round(time.monotonic() - started, 1)}
'''

STALLED_FORWARD = r'''
import struct, time


def _write_ends():
    """Where this process writes to the judge: `probe.py CELLS.json READ_FD WRITE_FD`, else every pipe open for
    writing."""
    try:
        return [int(sys.argv[3])]
    except (IndexError, ValueError):
        ends = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                with open(f"/proc/self/fdinfo/{fd}") as handle:
                    flags = int(handle.read().split("flags:")[1].split()[0], 8)
                if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:") and flags & 3 == 1:
                    ends.append(int(fd))
            except (OSError, ValueError, IndexError):
                pass
        return ends


def elman_forward(X, h0, W_x, W_h, b):
    if _WHERE == "probe":  # a frame that announces 1000 bytes, 10 of them, then nothing for 10 minutes
        for fd in _write_ends():
            os.write(fd, struct.pack(">Q", 1000) + b'{"value": ')
        time.sleep(600)
    return np.zeros((np.shape(X)[0], np.shape(X)[1], np.shape(W_h)[0]))
'''


@dataclass
class Attack:
    """Code added at the top of the ``elman_step`` answer cell (it defines ``attack()``, which is called and
    reported), or replacing the answer cell ``cell``; what it must earn."""

    code: str
    score: float = HONEST
    cell: str = "elman_step"
    params: str = ZERO_PARAMS
    markdown: str | None = None  # a cell of the student's own (no nbgrader metadata), after elman_step
    values: dict = field(default_factory=dict)


ATTACKS = {
    "unmounts": Attack(UNMOUNTS),
    "reads_everything": Attack(READS_EVERYTHING),
    "writes_everywhere": Attack(WRITES_EVERYWHERE),
    "network": Attack(NETWORK),
    "privileges": Attack(PRIVILEGES),
    "big_file": Attack(BIG_FILE),
    "html_and_script": Attack(HTML_AND_SCRIPT, params=HOSTILE_PARAMS, markdown=STUDENT_MARKDOWN),
    **{f"links_{kind}": Attack(LINKS, params=LINK_PARAMS, values={"KIND": repr(kind)})
       for kind in ("release", "source", "gradebook", "solution")},
    "environment": Attack(ENVIRONMENT),
    "background_killer": Attack(BACKGROUND_KILLER),
    "fork_bomb": Attack(FORK_BOMB),
    # elman_forward stalls the judge: only elman_step's 3 points are honest (the zero forward's shape point is lost).
    "stalled_message": Attack(STALLED_FORWARD, score=3.0, cell="elman_forward"),
}
LINKED = ("linked_notebook", "linked_folder", "linked_timestamp")  # links in the submitted folder itself
# Graded in this (sorted) order on 2 workers: correct neighbours between and after the attacks.
LINEUP = ["unmounts", "reads_everything", "writes_everywhere", "neighbour", "network", "privileges", "big_file",
          "html_and_script", "neighbour", "links_release", "links_source", "links_gradebook", "links_solution",
          "neighbour", "environment", "background_killer", "fork_bomb", "neighbour", "stalled_message", *LINKED,
          "neighbour"]


def attack_cells(attack: Attack, values: dict[str, str]) -> dict[str, str]:
    """The answer cells of a submission carrying ``attack``."""
    def fill(code: str) -> str:
        return string.Template(code).substitute({**values, **attack.values})

    answers = reference_answers(EXERCISE)
    call = ("\ntry:\n    _report(**attack())\nexcept Exception as error:\n"
            "    _report(error=f'{type(error).__name__}: {error}')\n")
    if attack.cell == "elman_step":
        answers["elman_step"] = fill(PRELUDE + attack.code) + call + "\n\n" + answers["elman_step"]
        answers["elman_forward"] = ZERO_FORWARD
    else:
        answers["elman_step"] = fill(PRELUDE) + "\n\n" + answers["elman_step"]
        answers[attack.cell] = fill(attack.code)
    answers["params_from_torch"] = attack.params
    return answers


# ------------------------------------------------------------------------------------------------- helpers


class Listener:
    """A TCP server on 127.0.0.1 that records every connection: an attack that reaches it has the network."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections: list[tuple] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                connection, address = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            connection.settimeout(2)
            try:
                data = connection.recv(200)
            except OSError:
                data = b""
            connection.close()
            self.connections.append((address, data))

    def close(self):
        self.stopping.set()
        self.thread.join(5)
        self.server.close()


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (a link: its target's name), ``__pycache__`` left out."""
    digests = {}
    if root.is_symlink():
        return {".": "link -> " + os.readlink(root)}
    for folder, dirs, files in os.walk(root):
        for name in [d for d in dirs if os.path.islink(os.path.join(folder, d))] + files:
            path = Path(folder) / name
            relative = str(path.relative_to(root))
            if path.is_symlink():
                digests[relative] = "link -> " + os.readlink(path)
            elif path.is_file():
                digests[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
        dirs[:] = [d for d in dirs if d != "__pycache__" and not os.path.islink(os.path.join(folder, d))]
    return {k: v for k, v in digests.items() if not k.endswith(".pyc")}


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted([f"changed: {k}" for k in before if k in after and before[k] != after[k]]
                  + [f"removed: {k}" for k in before if k not in after]
                  + [f"added: {k}" for k in after if k not in before])


def restore(root: Path, backup: Path, kept: Path, changes: list[str]) -> list[str]:
    """Put back what the batch changed in ``root`` (from ``backup``); what it left is kept in ``kept``."""
    notes = []
    for change in changes:
        what, relative = change.split(": ", 1)
        path, original = root / relative, backup / relative
        if path.exists() or path.is_symlink():
            (kept / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(kept / relative))
        if original.exists() or original.is_symlink():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(original, path, follow_symlinks=False)
        notes.append(f"{root / relative}: {what} by the batch, restored; the batch's version is in {kept / relative}")
    return notes


def _under_or_at(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def processes_with(*texts: str) -> list[tuple[int, str]]:
    listing = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    found = []
    for line in listing.splitlines():
        pid, _, args = line.strip().partition(" ")
        if pid.isdigit() and int(pid) != os.getpid() and any(t in args for t in texts):
            found.append((int(pid), args.strip()[:200]))
    return found


def files_holding(root: Path, needles: dict[str, bytes], skip_larger: int = 64 << 20) -> dict[str, list[str]]:
    """For each needle, the files under ``root`` that contain it."""
    found = {name: [] for name in needles}
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.stat().st_size > skip_larger:
            continue
        data = path.read_bytes()
        for name, needle in needles.items():
            if needle in data:
                found[name].append(str(path.relative_to(root)))
    return found


def reports_in(out: Path, student: str) -> dict[str, dict | None]:
    """What an attack reported: {"kernel": ..., "probe": ...} (None where nothing arrived)."""
    reports: dict[str, dict | None] = {"kernel": None, "probe": None}
    graded = out / "autograded" / student / EXERCISE / f"{EXERCISE}.ipynb"
    if graded.is_file():
        for cell in nbformat.read(graded, as_version=4).cells:
            if cell.cell_type == "code" and grade_id(cell) == "elman_step":
                text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
                found = REPORT.findall(text)
                reports["kernel"] = json.loads(found[-1]) if found else None
    try:
        tests = results_of(out, student, EXERCISE)
    except (OSError, ValueError):
        tests = {}
    for test in tests.values():
        for text in REPORT.findall(test.get("output", "")):
            try:
                report = json.loads(text)
            except ValueError:
                continue
            if report.get("where") == "probe":
                reports["probe"] = report
    return reports


def redacted(value):
    """A report fit for a CI log: the environment's names only, no file excerpts."""
    if isinstance(value, dict):
        return {k: (sorted(v) if k == "env" and isinstance(v, dict) else
                    sorted(v) if k == "excerpts" and isinstance(v, dict) else redacted(v)) for k, v in value.items()}
    return value


def shown(value, limit: int = 2500) -> str:
    text = json.dumps(redacted(value), default=str, indent=None)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


# ------------------------------------------------------------------------------------------------ the batch


@dataclass
class Batch:
    """One graded batch and what it did. What must not reach a CI log (the secret, /etc/shadow) has no repr."""

    out: Path
    submitted: Path
    students: dict[str, str]  # role (attack name, linked_*, neighbour-N) -> student folder
    done: subprocess.CompletedProcess = field(repr=False)
    seconds: float
    grades: dict = field(repr=False)
    changed: dict[str, list[str]]
    restored: list[str]
    connections: list
    leftovers: list
    planted: list[str]
    secret: str = field(repr=False)
    fd_token: str = field(repr=False)
    canary: str = field(repr=False)
    shadow_line: str = field(repr=False)

    def row(self, role: str) -> dict | None:
        return self.grades.get((self.students[role], EXERCISE))

    def reports(self, role: str) -> dict[str, dict | None]:
        return reports_in(self.out, self.students[role])

    def show(self, role: str) -> None:
        row = self.row(role) or {}
        print(f"\n== {role} ({self.students[role]}): {row.get('status')} {row.get('score')}/{row.get('max_score')}"
              f" -- {row.get('message', '')[:400]}")
        for view, report in self.reports(role).items():
            print(f"   {view}: {shown(report) if report is not None else 'no report'}")


@pytest.fixture(scope="module")
def preconditions():
    if os.geteuid() != 0:
        pytest.skip("these attacks are written for a grader running as root (as in CI and the course's machine)")
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap (bwrap) is not installed: the grader cannot sandbox here")
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--", "true"], capture_output=True,
                           text=True)
    if probe.returncode != 0:
        pytest.skip(f"bubblewrap cannot run here: {probe.stderr.strip()[:200]}")


@pytest.fixture(scope="module")
def batch(preconditions, release, tmp_path_factory) -> Batch:
    """Every attack, with correct neighbours, graded in one batch; what it changed, left running or received."""
    token = secrets.token_hex(6)
    submitted = tmp_path_factory.mktemp("sandbox-attacks")
    out = tmp_path_factory.mktemp("sandbox-attacks-graded")
    keep = tmp_path_factory.mktemp("sandbox-attacks-kept")
    copy = Path(f"/var/tmp/rnn-copy-{token}")  # a second copy of the reference, elsewhere on the machine
    canary = f"rnn-canary-content-{secrets.token_hex(8)}"
    canaries = [Path(f"/root/rnn-canary-{token}.txt"), Path(f"/home/rnn-canary-{token}/secret.txt")]
    secret, fd_token = f"rnn-secret-{secrets.token_hex(8)}", secrets.token_hex(8)
    marker = f"rnn-killer-{token}"
    listener = Listener()
    values = {"REPO": repr(str(REPO)), "OUT": repr(str(out)), "SUBMITTED": repr(str(submitted)),
              "COPY": repr(str(copy)), "PORT": str(listener.port), "TOKEN": repr(token), "FD_TOKEN": repr(fd_token),
              "HOST_MNT_NS": repr(HOST_MNT_NS), "HOST_PID_NS": repr(HOST_PID_NS), "MARKER": repr(marker),
              "KILLER": repr(KILLER)}
    try:
        shadow_line = Path("/etc/shadow").read_text().splitlines()[0]
    except (OSError, IndexError):
        shadow_line = ""
    watched = {"autograder/": REPO / "autograder", "exercises/": REPO / "exercises", "solutions/": REPO / "solutions",
               "release fixture": release, "submitted": submitted, "the second copy": copy}
    backups = {}
    leftovers: list = []
    try:
        shutil.copytree(REPO / "solutions", copy / "solutions")
        shutil.copytree(REPO / "exercises" / EXERCISE, copy / "exercises" / EXERCISE)
        for path in canaries:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(canary + "\n")

        student_version = nbformat.read(release / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
        honest = reference_answers(EXERCISE)
        honest.update(elman_forward=PLAIN_FORWARD, params_from_torch=PLAIN_PARAMS)
        students: dict[str, str] = {}
        for index, role in enumerate(LINEUP):
            if role == "neighbour":
                role = f"neighbour-{index:02d}"
            student = f"s{index:02d}_{role.split('-')[0]}"
            students[role] = student
            folder = submitted / student
            if role.startswith("neighbour"):
                write(folder, EXERCISE, submission(student_version, reference_answers(EXERCISE)))
            elif role == "linked_notebook":  # the source notebook, solutions and all, as the submission
                (folder / EXERCISE).mkdir(parents=True)
                source = REPO / "exercises" / EXERCISE / f"{EXERCISE}.ipynb"
                (folder / EXERCISE / f"{EXERCISE}.ipynb").symlink_to(source)
            elif role == "linked_folder":
                folder.mkdir()
                (folder / EXERCISE).symlink_to(REPO / "exercises" / EXERCISE, target_is_directory=True)
            elif role == "linked_timestamp":  # an honest notebook, with links beside it
                write(folder, EXERCISE, submission(student_version, honest))
                (folder / EXERCISE / "timestamp.txt").symlink_to(REPO / "solutions" / f"{EXERCISE}.py")
                (folder / EXERCISE / "notes.txt").symlink_to("/etc/shadow")
            else:
                attack = ATTACKS[role]
                notebook = submission(student_version, attack_cells(attack, values))
                if attack.markdown is not None:
                    at = next(i for i, c in enumerate(notebook.cells) if grade_id(c) == "elman_step")
                    notebook.cells.insert(at + 1, nbformat.v4.new_markdown_cell(attack.markdown))
                write(folder, EXERCISE, notebook)
        assert set(ATTACKS) | set(LINKED) <= set(students), "every attack is in the lineup"

        for name, path in watched.items():
            if path.is_relative_to(REPO):
                backups[name] = keep / "before" / name.strip("/")
                shutil.copytree(path, backups[name], symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        before = {name: tree_digest(path) for name, path in watched.items()}
        env = {**os.environ, "RNN_TEST_SECRET": secret}
        started = time.monotonic()
        done = autograder("grade", str(submitted), "--out", str(out), *GRADE_OPTIONS, timeout=1800, env=env)
        seconds = time.monotonic() - started
        print(done.stdout[-6000:], done.stderr[-4000:])
        print(f"the batch of {len(LINEUP)} submissions took {seconds:.0f} s (exit code {done.returncode})")

        for _ in range(20):  # what the batch started must be gone; give dying processes a moment
            leftovers = processes_with(marker, str(out), str(submitted))
            if not leftovers:
                break
            time.sleep(0.5)
        changed = {name: differences(before[name], tree_digest(path)) for name, path in watched.items()}
        changed = {name: found for name, found in changed.items() if found}
        restored = []
        for name, found in changed.items():
            if name in backups:
                restored += restore(watched[name], backups[name], keep / "left-by-the-batch" / name.strip("/"), found)
        mark = f"rnn-pwned-{token}"
        planted = [str(p) for root in ("/var/tmp", "/tmp", "/root", "/home", "/dev/shm", str(REPO))
                   for p in Path(root).glob(mark)]
        planted += [str(p) for root in (out, submitted) for p in root.rglob(mark)]
        for path in planted:
            Path(path).unlink(missing_ok=True)
        try:
            grades = read_grades(out)
        except OSError:
            grades = {}
        return Batch(out, submitted, students, done, seconds, grades, changed, restored, list(listener.connections),
                     leftovers, planted, secret, fd_token, canary, shadow_line)
    finally:
        listener.close()
        for pid, _ in leftovers:  # processes our batch started and left running
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(copy, ignore_errors=True)
        for path in canaries:
            path.unlink(missing_ok=True)
        shutil.rmtree(canaries[1].parent, ignore_errors=True)


# --------------------------------------------------------------------------------------------- the outcome


def test_the_batch_finishes(batch):
    print(f"wall time of the batch: {batch.seconds:.0f} s; exit code {batch.done.returncode}")
    for role in batch.students:
        row = batch.row(role) or {}
        print(f"  {batch.students[role]:28} {row.get('status', '-'):8} {row.get('score', '-'):>3}/"
              f"{row.get('max_score', '-')}  {row.get('message', '')[:150]}")
    assert batch.done.returncode == 0, batch.done.stdout[-3000:] + batch.done.stderr[-3000:]
    assert len(batch.grades) == len(LINEUP), sorted(batch.grades)


@pytest.mark.parametrize("role", list(ATTACKS))
def test_an_attack_earns_exactly_its_honest_part(batch, role):
    batch.show(role)
    row = batch.row(role)
    assert row is not None, f"{role} has no row in grades.csv"
    assert row["status"] == "graded", row
    assert float(row["score"]) == ATTACKS[role].score, row


def test_neighbours_earn_full_marks(batch):
    rows = {role: batch.row(role) for role in batch.students if role.startswith("neighbour")}
    wrong = {role: (row or {}).get("score") for role, row in rows.items()
             if row is None or row["status"] != "graded" or float(row["score"]) != 10}
    assert not wrong, f"neighbours that did not earn 10: {wrong}"


def test_grader_files_and_other_submissions_are_unchanged(batch):
    """sha256 of every file of autograder/, exercises/, solutions/, the release, the submissions, the copy."""
    for note in batch.restored:
        print(note)
    assert not batch.changed, "the batch changed: " + shown(batch.changed, 4000)


def test_unmounting_reveals_nothing(batch):
    for view, report in batch.reports("unmounts").items():
        assert report is not None, f"no report from the {view}"
        assert report.get("refused") == "", f"{view}: {report.get('refused') or report}"
        assert report["unmounted"] == [], f"{view} unmounted {report['unmounted']}"
        assert report["remount_rw"] != "ok", f"{view} remounted / read-write"
        assert report["stolen"] == [], f"{view} read the reference from {report['stolen']}"


def test_hidden_files_cannot_be_read(batch):
    """Nothing under the repository, OUT, the submissions, the batch folder, the copy, /root, /home, but the
    process's own folder and interpreter; of a hidden folder, it may list only the names on the way to those or to
    a mount point of its sandbox (the kernel's runtime folder, say)."""
    for view, report in batch.reports("reads_everything").items():
        assert report is not None, f"no report from the {view}"
        assert report.get("error") is None, report.get("error")
        assert isinstance(report["listed"], dict), f"{view}: the report was cut ({report['listed']})"
        ways = report["own"] + (report["mounts"] if isinstance(report.get("mounts"), list) else [])
        for folder, entries in report["listed"].items():
            if isinstance(entries, list):
                extra = [e for e in entries if not any(_under_or_at(w, f"{folder.rstrip('/')}/{e}") for w in ways)]
                assert not extra, f"{view} lists {folder}: {extra}"
        assert report["read"] == [], f"{view} read {report['read']}"
        assert report["stolen"] == [], f"{view} took the reference from {report['stolen']}"
        assert not [e for e in report["tmp"] if e.startswith("rnn-grade-")], f"{view} sees {report['tmp']} in /tmp"


def test_nothing_hidden_reaches_out(batch):
    """No line of the reference, the checks, the source notebook, the canaries, /etc/shadow or the secret in OUT."""
    needles = {"solutions/elman.py": b"Generated from exercises/elman/elman.ipynb by",
               "autograder/checks/elman.py": b"Hidden checks for the exercise ``elman``",
               "the source notebook": b"### BEGIN SOLUTION",
               "the canaries of /root and /home": batch.canary.encode(),
               "RNN_TEST_SECRET": batch.secret.encode()}
    if batch.shadow_line:
        needles["/etc/shadow"] = batch.shadow_line.encode()
    found = {name: paths for name, paths in files_holding(batch.out, needles).items() if paths}
    assert not found, "OUT holds " + shown(found, 4000)


def test_writes_stay_in_the_scratch_folder(batch):
    report = batch.reports("writes_everywhere")
    print("what the attack believed it wrote (a private, throwaway view is fine):", shown(report))
    assert batch.planted == [], f"files the student created outside its folder: {batch.planted}"
    with sqlite3.connect(batch.out / "gradebook.db") as db:
        manual = db.execute("SELECT COUNT(*) FROM grade WHERE manual_score IS NOT NULL").fetchone()[0]
    assert manual == 0, f"{manual} grades got a manual score"


def test_no_network(batch):
    print("the attack saw:", shown(batch.reports("network")))
    assert batch.connections == [], f"the student's code connected to the test's socket: {batch.connections}"
    for view, report in batch.reports("network").items():
        assert report is not None, f"no report from the {view}"
        assert "connected" not in report["connect"].values(), f"{view}: {report['connect']}"


def test_student_code_has_no_privilege(batch):
    for view, report in batch.reports("privileges").items():
        assert report is not None, f"no report from the {view}"
        assert report.get("error") is None, report.get("error")
        assert int(report["status"]["CapEff"][0], 16) == 0, f"{view} has capabilities {report['status']}"
        assert report["uid"] != 0 and report["euid"] != 0, f"{view} runs as root ({report['status']['Uid']})"
        worked = {call: outcome for call, outcome in report["calls"].items()
                  if outcome.startswith("ok") or outcome.startswith("not tried")}
        assert not worked, f"{view}: {worked}"


def test_a_large_file_is_refused(batch):
    report = batch.reports("big_file")["kernel"]
    sizes = sorted(((p.stat().st_size, str(p.relative_to(batch.out))) for p in batch.out.rglob("*")
                    if p.is_file() and not p.is_symlink()), reverse=True)[:3]
    print("the kernel saw:", shown(report), "\nthe largest files under OUT:", sizes)
    assert report is not None, "no report from the kernel"
    assert report["write"]["errno"] in (errno.EFBIG, errno.ENOSPC, errno.EDQUOT), report
    assert not sizes or sizes[0][0] < 300 * 10**6, f"a file of {sizes[0][0]} bytes under OUT: {sizes[0][1]}"


def test_graded_notebook_holds_no_active_output(batch):
    """No script-bearing output in OUT/autograded/<student>/elman/elman.ipynb (what formgrader shows)."""
    path = batch.out / "autograded" / batch.students["html_and_script"] / EXERCISE / f"{EXERCISE}.ipynb"
    assert path.is_file(), f"no graded notebook at {path}"
    active = re.compile(r"<script|javascript:|\son\w+\s*=", re.I)
    found = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/javascript" in data:
                found.append((index, "application/javascript", data["application/javascript"]))
            for mime in ("text/html", "image/svg+xml", "text/markdown"):
                text = data.get(mime, "")
                text = "".join(text) if isinstance(text, list) else text
                if active.search(text):
                    found.append((index, mime, text[:200]))
    assert not found, f"outputs that a browser would run: {found}"


def test_feedback_page_runs_no_script(batch):
    """The student's feedback page in headless Chromium: window.PWNED stays undefined in every frame (each payload
    that runs sets it, and window.PWNED<n>), even after clicking every javascript: link; no dialog (payload 12 is an
    alert); no request leaves the page's folder."""
    chromium = browser_path()
    from playwright.sync_api import sync_playwright

    student = batch.students["html_and_script"]
    page_path = batch.out / "feedback" / student / f"{EXERCISE}.html"
    assert page_path.is_file(), f"no feedback page at {page_path}"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(batch.out / "feedback"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served = f"http://127.0.0.1:{server.server_port}"
    dialogs, pwned, clicked = [], {}, []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
            try:
                tab = browser.new_page()
                outside = keep_local(tab, served)
                tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
                tab.goto(f"{served}/{student}/{EXERCISE}.html", wait_until="load")
                try:
                    tab.wait_for_load_state("networkidle", timeout=10000)
                except Exception:
                    pass
                tab.wait_for_timeout(1000)
                links = tab.locator('a[href^="javascript:" i]')
                for index in range(links.count()):
                    clicked.append(links.nth(index).get_attribute("href"))
                    try:
                        links.nth(index).click(timeout=2000, force=True)
                    except Exception:
                        pass
                tab.wait_for_timeout(500)
                for frame in tab.frames:
                    try:
                        value = frame.evaluate("() => Object.keys(window).filter(k => k.startsWith('PWNED')).sort()"
                                               ".join(' ') || null")
                    except Exception as error:
                        value = f"(could not read: {error})"
                    if value is not None and not value.startswith("(could not"):
                        pwned[frame.url or "(frame)"] = value
                urls = tab.evaluate("""() => Array.from(document.querySelectorAll('[href],[src],[action]'))
                    .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))
                    .filter(u => /^\\s*javascript:/i.test(u))""")
            finally:
                browser.close()
    finally:
        server.shutdown()
    print(f"PWNED: {pwned}; dialogs: {dialogs}; requests outside: {outside}; javascript: URLs: {urls}")
    assert pwned == {}, f"the student's script ran in the feedback page: {pwned}"
    assert dialogs == [], dialogs
    assert outside == [], outside
    assert urls == [], f"javascript: URLs a reader could click or load: {urls}"


def test_links_in_a_submission_are_refused(batch):
    """A notebook (or exercise folder) that is a link to the source notebook is not graded: `invalid`, links refused."""
    for role in ("linked_notebook", "linked_folder"):
        batch.show(role)
        row = batch.row(role)
        assert row is not None, f"{role} has no row"
        assert float(row["score"]) == 0, row
        assert row["status"] == "invalid", row
        assert re.search(r"\blinks?\b|symbolic|symlink", row["message"], re.I), row["message"]


def test_a_link_beside_the_notebook_is_not_read(batch):
    """timestamp.txt -> solutions/elman.py and notes.txt -> /etc/shadow: the honest notebook earns its part, and
    neither file's content reaches OUT."""
    batch.show("linked_timestamp")
    row = batch.row("linked_timestamp")
    assert row is not None and row["status"] == "graded" and float(row["score"]) == HONEST, row
    needles = {"solutions/elman.py": b"Generated from exercises/elman/elman.ipynb by"}
    if batch.shadow_line:
        needles["/etc/shadow"] = batch.shadow_line.encode()
    found = {k: v for k, v in files_holding(batch.out, needles).items() if v}
    assert not found, f"OUT holds {found}"


def test_the_environment_and_descriptors_hold_no_secret(batch):
    reports = batch.reports("environment")
    for view, report in reports.items():
        print(f"{view}: environment {shown(report and sorted(report.get('env', {})))}; descriptors "
              f"{report and report.get('fds')}; wrote to {report and report.get('wrote_to')}")
    found = {k: v for k, v in files_holding(batch.out, {"RNN_TEST_SECRET": batch.secret.encode(),
                                                         "a write through an inherited descriptor":
                                                             f"rnn-fd-write-{batch.fd_token}".encode()}).items() if v}
    assert not found, f"OUT holds {found}"
    for view, report in reports.items():
        assert report is not None, f"no report from the {view}"
        sees_the_secret = batch.secret in json.dumps(report["env"])  # (the values stay out of the log)
        assert not sees_the_secret, f"{view} sees RNN_TEST_SECRET"
        bad = {fd: target for fd, target in report["fds"].items()
               if target.endswith(".log") or "gradebook" in target
               or (_under_or_at(target, str(batch.out)) and not any(_under_or_at(target, o) for o in report["own"]))}
        assert not bad, f"{view} holds descriptors of the grader's files: {bad}"


def test_no_process_outlives_the_batch(batch):
    """The detached killer, the fork bomb's children, the stalled process: none alive after the batch; and the
    killer could not signal a process outside its own sandbox."""
    print("left running after the batch:", batch.leftovers)
    reports = batch.reports("background_killer")
    print("the killer saw:", shown(reports))
    assert batch.leftovers == [], f"processes of the batch still running: {batch.leftovers}"
    for view, report in reports.items():
        assert report is not None, f"no report from the {view}"
        killer = report.get("killer")
        assert isinstance(killer, dict), f"{view}: the killer did not report ({killer})"
        assert killer["isolated"], f"{view}: the student's process shares the grader's PID namespace"
        assert killer["signalled"] == {}, f"{view}: the killer could signal {killer['signalled']}"


def test_a_stalled_message_costs_only_call_timeouts(batch):
    """A frame announcing 1000 bytes, 10 sent, then silence: each call gives up after --call-timeout (5 s)."""
    batch.show("stalled_message")
    result = batch.out / "work" / batch.students["stalled_message"] / EXERCISE / "result.json"
    seconds = json.loads(result.read_text()).get("seconds") if result.is_file() else None
    if seconds is None:  # the grader's own progress line: "  student/elman: 3/10 (graded, 21.4 s)"
        line = re.search(rf"{batch.students['stalled_message']}/{EXERCISE}: .*?, ([\d.]+) s\)", batch.done.stdout)
        seconds = float(line.group(1)) if line else None
    print(f"the stalled submission took {seconds} s")
    assert seconds is not None, "no time recorded for the stalled submission"
    # Three calls stall (5 s each) and the process is started again for each: far below --timeout (240 s; 600 s by
    # default), with room for a loaded machine.
    assert seconds < 120, f"the stalled submission took {seconds} s"


# ------------------------------------------------------------------------------------------------ Gradescope

GRADESCOPE_ATTACK = r'''
WRITER = """
import json, sys, time
stop = time.time() + 60
while time.time() < stop:
    try:
        with open(sys.argv[2], "w") as handle:
            json.dump({"score": 10, "output": "written by the student"}, handle)
    except OSError:
        pass
    time.sleep(0.2)
"""


def attack():
    """Read /autograder/source, take the reference from its notebook, write results.json now and later."""
    import subprocess
    read = []
    for folder, _, names in os.walk(REPO):
        for name in names:
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    handle.read(100)
                read.append(os.path.join(folder, name))
            except OSError:
                pass
    stolen = [p for p in [REPO + "/exercises/elman/elman.ipynb"] if _steal(p)]
    wrote = []
    for path in [OUT + "/results.json"] + [p for p in read if p.endswith(".py")]:
        try:
            with open(path, "w" if path.endswith("results.json") else "a") as handle:
                handle.write('{"score": 10, "output": "written by the student"}' if path.endswith(".json") else "\n#\n")
            wrote.append(path)
        except OSError:
            pass
    subprocess.Popen([sys.executable, "-c", WRITER, ${MARKER}, OUT + "/results.json"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"read": len(read), "stolen": stolen, "wrote": wrote}
'''


@dataclass
class GradescopeRun:
    results: dict | None
    done: subprocess.CompletedProcess
    source_changes: list[str]
    leftovers: list


def run_gradescope(bundle: Path, root: Path, prepare) -> GradescopeRun:
    """Gradescope's run_autograder in a simulated /autograder (``root``), on what ``prepare(root)`` submits."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    marker = prepare(root)
    before = tree_digest(root / "source")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=900)
    time.sleep(2)  # a writer left behind would have overwritten results.json by now
    results_file = root / "results" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else None
    leftovers = processes_with(marker, str(root)) if marker else processes_with(str(root))
    for pid, _ in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return GradescopeRun(results, done, differences(before, tree_digest(root / "source")), leftovers)


@pytest.fixture(scope="module")
def gradescope(preconditions, release, tmp_path_factory) -> dict[str, GradescopeRun]:
    bundle = tmp_path_factory.mktemp("gradescope-attacks") / "autograder.zip"
    done = autograder("gradescope", EXERCISE, "--out", str(bundle))
    assert done.returncode == 0, done.stderr
    student_version = nbformat.read(release / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)

    def linked(root: Path) -> str:
        (root / "submission" / f"{EXERCISE}.ipynb").symlink_to(
            root / "source" / "exercises" / EXERCISE / f"{EXERCISE}.ipynb")
        return ""

    def attacker(root: Path) -> str:
        marker = f"rnn-writer-{secrets.token_hex(6)}"
        values = {"REPO": repr(str(root / "source")), "OUT": repr(str(root / "results")),
                  "SUBMITTED": repr(str(root / "submission")), "COPY": repr("/nonexistent"), "MARKER": repr(marker),
                  "HOST_MNT_NS": repr(HOST_MNT_NS)}
        notebook = submission(student_version, attack_cells(Attack(GRADESCOPE_ATTACK), values))
        nbformat.write(notebook, root / "submission" / f"{EXERCISE}.ipynb")
        return marker

    runs = {}
    for name, prepare in (("linked", linked), ("attacker", attacker)):
        started = time.monotonic()
        runs[name] = run_gradescope(bundle, tmp_path_factory.mktemp(f"gradescope-{name}") / "autograder", prepare)
        print(f"gradescope {name}: {time.monotonic() - started:.0f} s, exit {runs[name].done.returncode}, "
              f"results {shown(runs[name].results, 1500)}")
    return runs


def test_gradescope_refuses_a_linked_notebook(gradescope):
    """submission/elman.ipynb -> /autograder/source/exercises/elman/elman.ipynb (the source, with solutions)."""
    run = gradescope["linked"]
    assert run.done.returncode == 0, run.done.stdout[-2000:] + run.done.stderr[-2000:]
    assert run.results is not None, "no results.json"
    assert run.results["score"] == 0, f"a link to the source notebook scored {run.results['score']}"
    text = json.dumps(run.results)
    assert re.search(r"\blinks?\b|symbolic|symlink", text, re.I), f"the results do not say why: {text[:1000]}"


def test_gradescope_attack_cannot_touch_results_or_source(gradescope):
    run = gradescope["attacker"]
    assert run.done.returncode == 0, run.done.stdout[-2000:] + run.done.stderr[-2000:]
    assert run.results is not None, "no results.json"
    print("tests:", [(t["name"], t["score"], t["output"][:300]) for t in run.results.get("tests", [])])
    assert "written by the student" not in json.dumps(run.results), run.results
    assert run.results["score"] == HONEST, run.results.get("score")
    assert len(run.results["tests"]) == 7
    assert run.source_changes == [], f"/autograder/source changed: {run.source_changes}"
    assert run.leftovers == [], f"left running: {run.leftovers}"
