"""The kernels nbgrader starts, forked by the worker's kernel zygote (``zygote.py``) in the sandbox.

``use_zygote`` makes the next kernel nbgrader (or nbclient) starts come from the
worker's zygote: a kernel spec whose provisioner, :class:`ZygoteProvisioner`,
asks the zygote to fork instead of starting a new interpreter. The zygote lives
as long as the worker, in a stage and under a uid of its own (the worker's
kernel slot, see ``slots.kernel_slot``), and is started again whenever it is
gone or does not answer. Where there is no sandbox that drops privileges
(``none`` mode), kernels start as plain processes instead (``nbgrader_run``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from importlib.metadata import EntryPoint
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner
from jupyter_client.provisioning.factory import KernelProvisionerFactory

from autograder import sandbox, slots, wire

HERE = Path(__file__).resolve().parent
PROVISIONER = "rnn-zygote"
ANSWER_SECONDS = 30  # a zygote that does not answer a request within this is replaced
START_SECONDS = 120  # for its imports, on a loaded machine

CURRENT: "Zygote | None" = None  # this worker's zygote (one per worker process)


class ZygoteGone(Exception):
    """The zygote exited, or did not answer in time."""


class Zygote:
    """The worker's handle on its kernel zygote: a sandboxed process, and a pipe each way."""

    def __init__(self, slot: slots.Slot, memory_mb: int):
        self.slot, self.memory_mb = slot, memory_mb
        self.process: subprocess.Popen | None = None
        self.read_fd = self.write_fd = -1
        self.home = Path()

    def start(self) -> None:
        stage = self.slot.fresh_stage()
        self.home = stage / "home"
        code = stage / "zygote"
        code.mkdir(mode=0o750)
        if self.slot.box.drops_root:
            os.chown(code, 0, slots.slot_uid(self.slot.number))
        for name in ("zygote.py", "wire.py"):
            shutil.copy(HERE / name, code / name)
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        python, _ = sandbox.interpreter()
        command = self.slot.command([python, "-I", str(code / "zygote.py"), str(to_r), str(from_w), str(self.home)],
                                    stage, readable=[code], writable=[self.home], cwd=self.home,
                                    env=sandbox.student_env(self.home), memory_mb=self.memory_mb, allow_torch=True,
                                    keep_fds=(to_r, from_w))
        self.process = subprocess.Popen(command, pass_fds=(to_r, from_w), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_r)
        os.close(from_w)
        self.read_fd, self.write_fd = from_r, to_w
        if not self._receive(START_SECONDS).get("ready"):
            self.stop()
            raise ZygoteGone("the kernel zygote did not start")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def request(self, message: dict, seconds: float = ANSWER_SECONDS) -> dict:
        try:
            wire.send(self.write_fd, message)
        except OSError as error:
            self.stop()
            raise ZygoteGone(f"the kernel zygote is gone ({error})") from None
        return self._receive(seconds)

    def _receive(self, seconds: float) -> dict:
        try:
            return wire.receive(self.read_fd, time.monotonic() + seconds)
        except (wire.WireError, wire.WireTimeout, OSError, ValueError) as error:
            self.stop()
            raise ZygoteGone(f"the kernel zygote did not answer ({error})") from None

    def fork(self, connection: dict, arguments: list[str]) -> int:
        """A new kernel on ``connection`` (a connection file's contents); its pid in the zygote's namespace."""
        pid = self.request({"do": "fork", "connection": connection, "arguments": arguments}).get("pid")
        if type(pid) is not int or pid <= 0:
            self.stop()
            raise ZygoteGone("the kernel zygote sent no process id")
        return pid

    def end_kernels(self) -> None:
        """Kill every kernel and whatever they started, keeping the zygote; if it does not answer, it goes too."""
        if self.alive():
            try:
                self.request({"do": "end"})
            except ZygoteGone:
                pass

    def stop(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            self.process.wait()
            self.process = None
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.read_fd = self.write_fd = -1
        self.slot.end_processes()

    def pids(self) -> set[int]:
        """The zygote's process and its descendants (seen from the worker), which a job's cleanup spares."""
        import psutil

        if not self.alive():
            return set()
        try:
            top = psutil.Process(self.process.pid)
            return {top.pid, *(p.pid for p in top.children(recursive=True))}
        except psutil.NoSuchProcess:
            return set()


class ForkedKernel:
    """What jupyter_client expects of a kernel's ``subprocess.Popen``, for a kernel the zygote forked."""

    stdin = stdout = stderr = None

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.zygote.request({"do": "poll"}).get("status")
            except ZygoteGone:
                self.returncode = -signal.SIGKILL
            if self.returncode is not None and type(self.returncode) is not int:
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                self.zygote.request({"do": "signal", "signal": int(signum)})
            except ZygoteGone:
                self.returncode = -signal.SIGKILL

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ZygoteProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with the kernel forked by this worker's zygote instead of launched."""

    async def launch_kernel(self, cmd: list[str], **kwargs) -> dict:
        if CURRENT is None:
            raise RuntimeError("no kernel zygote in this process (see kernels.use_zygote)")
        connection = json.loads(Path(self.parent.connection_file).read_text())
        arguments = [a for a in cmd if a.startswith("--")]  # nbgrader's extra arguments, e.g. in-memory history
        self.process = ForkedKernel(CURRENT, CURRENT.fork(connection, arguments))
        self.pid, self.pgid = self.process.pid, None
        self.cwd = str(CURRENT.home)
        return self.connection_info


def start_zygote(slot: slots.Slot, memory_mb: int) -> None:
    """This worker's zygote for ``slot``, started if there is none (or it is gone, or was for other limits)."""
    global CURRENT
    if CURRENT is None or CURRENT.slot != slot or CURRENT.memory_mb != memory_mb:
        if CURRENT is not None:
            CURRENT.stop()
        CURRENT = Zygote(slot, memory_mb)
    if not CURRENT.alive():
        CURRENT.start()


def use_zygote(config, slot: slots.Slot, workdir: Path, memory_mb: int) -> Path:
    """Make the kernels started with ``config`` ("python3") come from this worker's zygote; returns their home.

    Starts the zygote if there is none (or it is gone). Raises ZygoteGone if it cannot start.
    """
    start_zygote(slot, memory_mb)
    factory = KernelProvisionerFactory.instance()
    factory.provisioners.setdefault(PROVISIONER, EntryPoint(
        name=PROVISIONER, value=f"{__name__}:ZygoteProvisioner", group=KernelProvisionerFactory.GROUP_NAME))
    runtime, specs = workdir / "runtime", workdir / "jupyter" / "kernels" / "python3"
    shutil.rmtree(runtime, ignore_errors=True)
    runtime.mkdir(parents=True)
    specs.mkdir(parents=True, exist_ok=True)
    spec = {"argv": ["zygote-kernel", "-f", "{connection_file}"], "display_name": "Python 3 (graded)",
            "language": "python", "metadata": {"kernel_provisioner": {"provisioner_name": PROVISIONER}}}
    (specs / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(workdir / "jupyter")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    # jupyter_client writes connection files with tempfile, which caches its folder: set both.
    os.environ["TMPDIR"] = tempfile.tempdir = str(runtime)
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(CURRENT.home / "zmq")
    return CURRENT.home


def end_kernels() -> None:
    """After a job: no kernel of it is left running (the zygote stays for the next job)."""
    if CURRENT is not None:
        CURRENT.end_kernels()


def zygote_pids() -> set[int]:
    return CURRENT.pids() if CURRENT is not None else set()
