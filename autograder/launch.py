"""The first code that runs in a student's process: limits, a clean start, and no privilege.

Run by the sandbox (``sandbox.py``) as ``python -I -S -c <this file's source> SPEC -- COMMAND...``
before the student's interpreter: it has no import of ours, so it runs where the
repository is not visible. SPEC is a hex-encoded JSON object:

* ``memory_mb``, ``file_mb``: address-space and file-size limits (RLIMIT_AS, RLIMIT_FSIZE);
* ``uid``: when the grader is root, the unprivileged uid to become (every capability,
  the bounding set included, is given up first; ``nproc`` then bounds its processes);
* ``env``: the whole environment of COMMAND (nothing of the grader's passes unless listed);
* ``keep``: descriptors to keep open (the probe's pipes); every other one above 2 is
  closed; 0 becomes /dev/null, and so do 1 and 2 when ``quiet`` is true;
* ``connection``: where to copy a kernel's connection file (``-f FILE`` in COMMAND, which
  only the grader may read) for the unprivileged uid; ``-f FILE`` then names the copy;
* ``cwd``: the folder COMMAND starts in.

It then sets ``no_new_privs`` and executes COMMAND in place (same pid, same process group,
so a kernel interrupt still reaches it).
"""

import ctypes
import json
import os
import resource
import sys

PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38


def main(spec_hex, command):
    spec = json.loads(bytes.fromhex(spec_hex))
    libc = ctypes.CDLL(None, use_errno=True)
    for limit, megabytes in ((resource.RLIMIT_AS, spec["memory_mb"]), (resource.RLIMIT_FSIZE, spec["file_mb"])):
        resource.setrlimit(limit, (megabytes << 20, megabytes << 20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if spec.get("connection"):
        copy, at = spec["connection"], command.index("-f") + 1
        with open(command[at], "rb") as handle:
            data = handle.read()
        descriptor = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.write(descriptor, data)
        if spec.get("uid") is not None and os.geteuid() == 0:
            os.fchown(descriptor, spec["uid"], spec["uid"])
        os.close(descriptor)
        command[at] = copy
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2) if spec.get("quiet") else (0,):
        os.dup2(null, target)
    keep = sorted(set(spec.get("keep", [])))
    low = 3
    for fd in keep + [1 << 20]:
        os.closerange(low, fd)
        low = fd + 1
    uid = spec.get("uid")
    if uid is not None and os.geteuid() == 0:
        for capability in range(64):
            libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
        resource.setrlimit(resource.RLIMIT_NPROC, (spec["nproc"], spec["nproc"]))
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid:
            os._exit(126)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        os._exit(126)
    if spec.get("cwd"):
        os.chdir(spec["cwd"])
    os.execve(command[0], command, spec["env"])


if __name__ == "__main__":
    split = sys.argv.index("--")
    main(sys.argv[split - 1], sys.argv[split + 1:])
