"""A throwaway PostgreSQL server for tests: Debian's binaries, a data folder of its own, loopback only.

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` OS user (``runuser``), otherwise as
the current user. It listens on 127.0.0.1 at a free port (and a Unix socket in its own folder), with password
authentication for one role; it is stopped and its folder removed when the fixture ends.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Server:
    url: str  # the SQLAlchemy URL of its database
    port: int
    data: Path


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A running server with an empty database ``gradebook`` owned by the role ``grader``; yields a Server."""
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root, and there is no 'postgres' user to run the server as")
        as_user = ["runuser", "-u", "postgres", "--"]
    home = Path(tempfile.mkdtemp(prefix="rnn-postgres-"))
    data, password, port = home / "data", secrets.token_hex(16), free_port()
    (home / "password").write_text(password)
    if as_user:
        shutil.chown(home, "postgres", "postgres")
        shutil.chown(home / "password", "postgres", "postgres")
    run = lambda *args, **kw: subprocess.run([*as_user, *args], check=True, capture_output=True, text=True,
                                             timeout=120, **kw)
    started = False
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "grader", "--pwfile", str(home / "password"),
            "-A", "scram-sha-256", "--no-sync", "-E", "UTF8", "--locale", "C")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off -c full_page_writes=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "server.log"), "-w", "start")
        started = True
        env = {**os.environ, "PGPASSWORD": password}
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "grader", "gradebook", env=env)
        yield Server(f"postgresql://grader:{password}@127.0.0.1:{port}/gradebook", port, data)
    except subprocess.CalledProcessError as error:
        log = (home / "server.log").read_text() if (home / "server.log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{log}") from None
    finally:
        if started:
            subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)
