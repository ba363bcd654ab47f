"""Reading an LMS export (a .zip, or the folder it was unpacked into) without trusting what it holds.

An export is written by students as much as by the LMS: file names, and in a folder links too. Nothing is
extracted to disk here; :class:`Export` lists every member as an :class:`Entry` and reads one at a time, capped.
A member is refused (``Entry.refused`` says why, and :meth:`Export.read` will not read it) when it is:

* a symbolic link (a zip member whose Unix mode says link, or a link in the folder; a linked folder is not
  entered), a device, FIFO or anything else that is not a regular file;
* named by an absolute path (``/etc/passwd``, ``C:\\x``) or by a path with a ``..`` component, in either
  slash; a second member with the same name;
* encrypted, or larger than ``max_file_bytes`` (as declared, and as actually read);
* past ``max_entries`` members, or past ``max_total_bytes`` read in all.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder.files import NotAccepted, read_regular

MAX_FILE_BYTES = 50 * 1024 * 1024  # as the grader accepts a notebook (worker.MAX_NOTEBOOK_BYTES)
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_ENTRIES = 100_000
WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class ExportError(Exception):
    """An export that cannot be read at all; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One member of an export: its path (``/``-separated, relative to the export) and size."""

    path: str
    size: int
    refused: str = ""  # why it is not read; "" for a regular file within the limits

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def parts(self) -> tuple[str, ...]:
        return PurePosixPath(self.path).parts


def checked_path(name: str) -> tuple[str, str]:
    """(a member's path, normalized, or "") and why it is refused ("" if it is not)."""
    if "\x00" in name:
        return "", "its name holds a NUL character"
    unified = name.replace("\\", "/")
    if unified.startswith("/") or WINDOWS_DRIVE.match(unified):
        return "", "an absolute path, which would write outside the export"
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "", "a path with '..', which would write outside the export"
    if not parts:
        return "", "an empty name"
    return "/".join(parts), ""


class Export:
    """The members of an LMS export at ``source`` (a zip file or a folder), read safely; a context manager."""

    def __init__(self, source: Path, max_file_bytes: int = MAX_FILE_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES,
                 max_entries: int = MAX_ENTRIES):
        self.source = Path(source)
        self.max_file_bytes, self.max_total_bytes, self.max_entries = max_file_bytes, max_total_bytes, max_entries
        self.read_so_far = 0
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, zipfile.ZipInfo] = {}
        try:
            mode = os.lstat(self.source).st_mode
        except FileNotFoundError:
            raise ExportError(f"{self.source} does not exist.") from None
        if stat.S_ISLNK(mode):
            raise ExportError(f"{self.source} is a symbolic link; give the export itself (links are not followed).")
        if stat.S_ISDIR(mode):
            self.kind = "folder"
            self.entries = self._list_folder()
        elif stat.S_ISREG(mode) and zipfile.is_zipfile(self.source):
            self.kind = "zip"
            self.entries = self._list_zip()
        else:
            raise ExportError(f"{self.source} is neither a folder nor a zip file.")

    def __enter__(self) -> "Export":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    # ------------------------------------------------------------------ listing

    def _list_zip(self) -> list[Entry]:
        try:
            self._zip = zipfile.ZipFile(self.source)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError) as error:
            raise ExportError(f"{self.source} is not a readable zip file ({error}).") from None
        entries, seen = [], set()
        for number, info in enumerate(infos):
            if number >= self.max_entries:
                entries.append(Entry(f"(members {number + 1} and after)", 0,
                                     f"the export has more than {self.max_entries} members; the rest are not read"))
                break
            path, refused = checked_path(info.filename)
            shown = path or info.filename
            if not refused and info.is_dir():
                continue
            mode = (info.external_attr >> 16) & 0o170000 if info.create_system == 3 else 0
            if not refused and mode == stat.S_IFLNK:
                refused = "a symbolic link; links are not followed"
            elif not refused and mode not in (0, stat.S_IFREG):
                refused = "not a regular file"
            elif not refused and info.flag_bits & 0x1:
                refused = "encrypted"
            elif not refused and info.file_size > self.max_file_bytes:
                refused = f"{info.file_size // 1024} KB, more than the {self.max_file_bytes // 1024} KB accepted"
            elif not refused and path in seen:
                refused = "a second member with the same name"
            seen.add(path)
            entries.append(Entry(shown, info.file_size, refused))
            if not refused:
                self._members[path] = info
        return entries

    def _list_folder(self) -> list[Entry]:
        entries: list[Entry] = []
        for folder, dirs, files in os.walk(self.source, followlinks=False):
            relative = Path(folder).relative_to(self.source)
            for name in sorted(dirs):
                if os.path.islink(Path(folder) / name):
                    entries.append(Entry((relative / name).as_posix(), 0,
                                         "a symbolic link to a folder; links are not followed"))
            dirs[:] = sorted(d for d in dirs if not os.path.islink(Path(folder) / d))
            for name in sorted(files):
                if len(entries) >= self.max_entries:
                    entries.append(Entry(f"(files {len(entries) + 1} and after)", 0,
                                         f"the export has more than {self.max_entries} files; the rest are not read"))
                    return entries
                path = Path(folder) / name
                shown = (relative / name).as_posix()
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    entries.append(Entry(shown, 0, "a symbolic link; links are not followed"))
                elif not stat.S_ISREG(info.st_mode):
                    entries.append(Entry(shown, 0, "not a regular file"))
                elif info.st_size > self.max_file_bytes:
                    entries.append(Entry(shown, info.st_size, f"{info.st_size // 1024} KB, more than the "
                                                              f"{self.max_file_bytes // 1024} KB accepted"))
                else:
                    entries.append(Entry(shown, info.st_size))
        return entries

    # ------------------------------------------------------------------ reading

    def read(self, entry: Entry) -> bytes:
        """The bytes of ``entry``, at most ``max_file_bytes``. Raises NotAccepted for a refused member."""
        if entry.refused:
            raise NotAccepted(f"{entry.path}: {entry.refused}")
        if self.read_so_far + entry.size > self.max_total_bytes:
            raise NotAccepted(f"{entry.path}: the export holds more than {self.max_total_bytes // 2**20} MB in all")
        if self.kind == "zip":
            try:
                with self._zip.open(self._members[entry.path]) as handle:
                    data = handle.read(self.max_file_bytes + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as error:
                raise NotAccepted(f"{entry.path}: cannot be read from the zip ({error})") from None
            if len(data) > self.max_file_bytes:  # the header understated it: a bomb, or a broken archive
                raise NotAccepted(f"{entry.path}: more than the {self.max_file_bytes // 1024} KB accepted")
        else:
            data = read_regular(self.source / entry.path, self.max_file_bytes)
        self.read_so_far += len(data)
        return data
