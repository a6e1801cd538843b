"""Crash-safe writes and file hashing (fsio): the one helper set every writer uses."""

import hashlib
import os

import pytest
from aktenarchiv.fsio import atomic_copy, atomic_open, atomic_write_bytes, file_digest, sha256_file


def test_write_replaces_and_leaves_no_part(tmp_path):
    target = tmp_path / "a" / "b" / "manifest.json"
    atomic_write_bytes(target, b"eins")
    atomic_write_bytes(target, b"zwei")
    assert target.read_bytes() == b"zwei"
    assert sorted(p.name for p in target.parent.iterdir()) == ["manifest.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "manifest.json"
    atomic_write_bytes(target, b"alt")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write(b"halb geschrieben")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"alt"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_copy_returns_the_hash_of_what_was_written(tmp_path):
    src = tmp_path / "scan.bin"
    data = bytes(range(256)) * 9000  # more than one chunk
    src.write_bytes(data)
    written = atomic_copy(src, tmp_path / "objects" / "ab" / "copy")
    assert written == hashlib.sha256(data).hexdigest() == sha256_file(src)
    assert (tmp_path / "objects" / "ab" / "copy").read_bytes() == data
    assert file_digest(src, "md5") == hashlib.md5(data).hexdigest()


def test_mode_is_kept_and_a_leftover_part_is_not_reused(tmp_path):
    target = tmp_path / "reason.json"
    leftover = tmp_path / "reason.json.part"
    leftover.write_bytes(b"alt")
    leftover.chmod(0o666)
    atomic_write_bytes(target, b"{}", mode=0o600)
    assert target.stat().st_mode & 0o777 == 0o600
    assert not leftover.exists()
    copy = tmp_path / "kopie"
    atomic_copy(target, copy, mode=0o640)
    assert copy.stat().st_mode & 0o777 == 0o640 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_a_hidden_write_leaves_a_users_part_file_alone(tmp_path):
    """Copies handed to a user (``akte get -o``) land in their folder, where ``<name>.part`` may be theirs."""
    theirs = tmp_path / "brief.pdf.part"
    theirs.write_bytes(b"mine")
    target = tmp_path / "brief.pdf"
    with atomic_open(target, hidden=True) as fh:
        fh.write(b"neu")
    assert target.read_bytes() == b"neu" and theirs.read_bytes() == b"mine"
    with pytest.raises(RuntimeError), atomic_open(target, hidden=True) as fh:
        fh.write(b"halb")
        raise RuntimeError("altered on the way")
    assert target.read_bytes() == b"neu"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.pdf", "brief.pdf.part"]


def test_a_hidden_write_of_a_long_name_fits_the_file_systems_limit(tmp_path):
    target = tmp_path / ("ü" * 125 + ".pdf")  # 254 bytes: a legal name, but not with ".part" and more
    with atomic_open(target, hidden=True) as fh:
        fh.write(b"lang")
    assert target.read_bytes() == b"lang" and [p.name for p in tmp_path.iterdir()] == [target.name]
