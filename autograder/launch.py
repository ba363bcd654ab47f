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

It then sets ``no_new_privs``, installs a seccomp filter that refuses the calls that
change namespaces, mounts or another process (``unshare``, ``setns``, ``mount`` and the
new mount API, ``chroot``, ``ptrace``, ``clone`` into new namespaces, kernel keys, bpf;
and System V IPC, message queues and ``process_vm_*``, channels between processes that
would outlive a kernel of the zygote, see zygote.py),
and executes COMMAND in place (same pid, same process group, so a kernel interrupt
still reaches it). When COMMAND is bubblewrap, which needs those calls to build the
sandbox, the filter goes to it instead (``--seccomp FD``), for the process it starts.
"""

import ctypes
import json
import os
import resource
import sys

PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 24, 38, 22, 2
# Refused system calls by architecture (audit arch, {name: number}); clone is refused only with namespace flags.
REFUSED = {
    "x86_64": (0xC000003E, {"unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
                            "chroot": 161, "ptrace": 101, "open_tree": 428, "move_mount": 429, "fsopen": 430,
                            "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "keyctl": 250,
                            "add_key": 248, "request_key": 249, "bpf": 321, "userfaultfd": 323, "kexec_load": 246,
                            "init_module": 175, "finit_module": 313, "delete_module": 176, "shmget": 29,
                            "semget": 64, "msgget": 68, "mq_open": 240, "process_vm_readv": 310,
                            "process_vm_writev": 311}, 56, 435),
    "aarch64": (0xC00000B7, {"unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41,
                             "chroot": 51, "ptrace": 117, "open_tree": 428, "move_mount": 429, "fsopen": 430,
                             "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "keyctl": 219,
                             "add_key": 217, "request_key": 218, "bpf": 280, "userfaultfd": 282, "kexec_load": 104,
                             "init_module": 105, "finit_module": 273, "delete_module": 106, "shmget": 194,
                             "semget": 190, "msgget": 186, "mq_open": 180, "process_vm_readv": 270,
                             "process_vm_writev": 271}, 220, 435),
}
NEW_NAMESPACES = 0x7E020080  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME


def seccomp_filter(machine):
    """The classic-BPF program (bytes of ``struct sock_filter``) refusing REFUSED[machine] with EPERM, or None."""
    if machine not in REFUSED:
        return None
    arch, numbers, clone, clone3 = REFUSED[machine]
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, JGE, JSET, BPF_RET|K
    allow, deny, nosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38  # RET_ALLOW, RET_ERRNO|EPERM, |ENOSYS
    body = [(jeq, 0, 0, n) for n in numbers.values()]
    # Layout: arch check, nr, x32 check, each refused number, clone3, clone (+ its flags), allow, deny, nosys.
    program = [(ld, 0, 0, 4), None, (ld, 0, 0, 0), None, *body, None, None, (ld, 0, 0, 16), None,
               (ret, 0, 0, allow), (ret, 0, 0, deny), (ret, 0, 0, nosys)]
    deny_at, nosys_at = len(program) - 2, len(program) - 1

    def jump(at, code, k, true, false=None):  # a jump from instruction ``at`` to absolute targets
        program[at] = (code, true - at - 1, (at + 1 if false is None else false) - at - 1, k)

    jump(1, jeq, arch, 2, deny_at)
    jump(3, jge, 0x40000000, deny_at)  # the x32 ABI's numbers
    for at in range(4, 4 + len(body)):
        jump(at, jeq, program[at][3], deny_at)
    at = 4 + len(body)
    jump(at, jeq, clone3, nosys_at)  # its flags are in memory a filter cannot read: make libc use clone
    jump(at + 1, jeq, clone, at + 2, len(program) - 3)
    jump(at + 3, jset, NEW_NAMESPACES, deny_at, len(program) - 3)
    import struct

    return b"".join(struct.pack("HBBI", *instruction) for instruction in program)


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
    program = seccomp_filter(os.uname().machine)
    if program is not None and os.path.basename(command[0]) == "bwrap":
        descriptor = os.memfd_create("seccomp", 0)  # inherited by bubblewrap, which loads it for its child
        os.write(descriptor, program)
        os.lseek(descriptor, 0, os.SEEK_SET)
        command = [command[0], "--seccomp", str(descriptor), *command[1:]]
    elif program is not None:
        buffer = ctypes.create_string_buffer(program)
        fprog = struct_fprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            os._exit(126)
    if spec.get("cwd"):
        os.chdir(spec["cwd"])
    os.execve(command[0], command, spec["env"])


class struct_fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


if __name__ == "__main__":
    split = sys.argv.index("--")
    main(sys.argv[split - 1], sys.argv[split + 1:])
