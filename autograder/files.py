"""Reading and writing files that a submission or a job could have touched, without following a link.

A student controls the submission folder and, while graded, whatever its own
processes may write. The grader's process, which may be root, reads such files
only through :func:`read_regular` (a regular file, no link anywhere in its last
component, at most so many bytes) and writes only through :func:`write_fresh`
(a new file in place of whatever was there, never through a link), and copies
trees with :func:`copy_regular_tree` (regular files only).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


class NotAccepted(Exception):
    """A file the grader will not read: a link, not a regular file, or too large. The message says which."""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file (not a link) of at most ``limit`` bytes.

    Raises:
        FileNotFoundError: nothing is there.
        NotAccepted: a link, a folder, a device or FIFO, or a file over ``limit`` bytes.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == 40:  # ELOOP: the last component is a symbolic link
            raise NotAccepted(f"{path.name} is a symbolic link, and links are not graded: submit the file itself.") from None
        raise
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotAccepted(f"{path.name} is not a regular file.")
        if info.st_size > limit:
            raise NotAccepted(f"{path.name} is {info.st_size // 1024} KB, more than the {limit // 1024} KB accepted.")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise NotAccepted(f"{path.name} is more than the {limit // 1024} KB accepted.")
        return data
    finally:
        os.close(descriptor)


def write_fresh(path: Path, content: str | bytes) -> None:
    """Write ``content`` as a new file at ``path``, replacing (never writing through) what was there."""
    data = content.encode() if isinstance(content, str) else content
    try:
        if path.is_symlink() or path.is_file():
            path.unlink()
    except FileNotFoundError:
        pass
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def is_link_free(path: Path) -> bool:
    """Whether ``path`` itself is a real folder or file (``lstat``: a link to one does not count)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(mode) or stat.S_ISREG(mode)


def copy_regular_tree(source: Path, target: Path) -> list[str]:
    """Copy the folders and regular files under ``source`` to ``target`` (replaced); returns what was left out.

    Links, devices, FIFOs and sockets are not copied (a link could point anywhere the
    grader may read); neither is anything below a linked folder.
    """
    if target.is_symlink():
        target.unlink()
    shutil.rmtree(target, ignore_errors=True)
    left_out = []
    for folder, dirs, files in os.walk(source, followlinks=False):
        relative = Path(folder).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in dirs + files:
            path = Path(folder) / name
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as handle:
                    write_fresh(target / relative / name, handle.read())
            elif not stat.S_ISDIR(mode):
                left_out.append(str(relative / name))
        dirs[:] = [d for d in dirs if stat.S_ISDIR(os.lstat(Path(folder) / d).st_mode)]
    return left_out
