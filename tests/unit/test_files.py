"""files.py: what the grader reads of a submission or a job folder is a regular file reached without a link and no
larger than asked; what it writes replaces whatever was there without writing through a link; trees are copied
with regular files only."""

from __future__ import annotations

import os

import pytest

from autograder.files import NotAccepted, copy_regular_tree, is_link_free, read_regular, write_fresh


def test_read_regular_reads_a_file_up_to_its_limit(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_bytes(b"x" * 100)
    assert read_regular(path, 100) == b"x" * 100
    with pytest.raises(NotAccepted, match="more than"):
        read_regular(path, 99)


def test_read_regular_refuses_a_link_even_to_a_regular_file(tmp_path):
    (tmp_path / "real").write_text("secret")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(NotAccepted, match="symbolic link"):
        read_regular(tmp_path / "link", 1000)


def test_read_regular_refuses_folders_and_fifos_without_blocking(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(NotAccepted, match="not a regular file"):
        read_regular(tmp_path / "folder", 1000)
    os.mkfifo(tmp_path / "fifo")  # no writer: opening it for reading would block without O_NONBLOCK
    with pytest.raises(NotAccepted, match="not a regular file"):
        read_regular(tmp_path / "fifo", 1000)


def test_read_regular_says_when_nothing_is_there(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "absent", 1000)


def test_write_fresh_replaces_a_link_instead_of_writing_through_it(tmp_path):
    target = tmp_path / "grader.db"
    target.write_text("the grader's")
    (tmp_path / "out.json").symlink_to(target)
    write_fresh(tmp_path / "out.json", "mine")
    assert target.read_text() == "the grader's"
    assert not (tmp_path / "out.json").is_symlink() and (tmp_path / "out.json").read_text() == "mine"


def test_write_fresh_replaces_a_file_and_writes_bytes(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("an old and longer content")
    os.chmod(path, 0o600)
    write_fresh(path, b"\x00new")
    assert path.read_bytes() == b"\x00new" and os.stat(path).st_mode & 0o777 == 0o644 & ~_umask()
    write_fresh(tmp_path / "fresh.txt", "text")
    assert (tmp_path / "fresh.txt").read_text() == "text"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_is_link_free(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "folder")
    os.mkfifo(tmp_path / "fifo")
    assert is_link_free(tmp_path / "folder") and is_link_free(tmp_path / "file")
    assert not is_link_free(tmp_path / "link") and not is_link_free(tmp_path / "fifo")
    assert not is_link_free(tmp_path / "absent")


def test_copy_regular_tree_copies_files_and_folders_only(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "a.txt").write_text("a")
    (source / "sub" / "deeper" / "b.txt").write_text("b")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (source / "linked_file").symlink_to(outside / "secret.txt")
    (source / "sub" / "linked_folder").symlink_to(outside)
    os.mkfifo(source / "fifo")
    left_out = copy_regular_tree(source, target)
    assert sorted(left_out) == ["fifo", "linked_file", "sub/linked_folder"]
    copied = sorted(p.relative_to(target).as_posix() for p in target.rglob("*"))
    assert copied == ["a.txt", "sub", "sub/deeper", "sub/deeper/b.txt"]
    assert (target / "sub" / "deeper" / "b.txt").read_text() == "b"
    assert not any(p.is_symlink() for p in target.rglob("*"))


def test_copy_regular_tree_replaces_the_target(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "new.txt").write_text("new")
    target = tmp_path / "target"
    target.mkdir()
    (target / "stale.txt").write_text("stale")
    copy_regular_tree(source, target)
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]


def test_copy_regular_tree_does_not_write_through_a_linked_target(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "new.txt").write_text("new")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "target").symlink_to(elsewhere)
    copy_regular_tree(source, tmp_path / "target")
    assert list(elsewhere.iterdir()) == []
    assert not (tmp_path / "target").is_symlink() and (tmp_path / "target" / "new.txt").read_text() == "new"
