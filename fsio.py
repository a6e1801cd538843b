"""Crash-safe file writes and file hashing: the one home of both, at the bottom of the imports.

Every file the archive writes goes to ``<name>.part`` first, is flushed and fsynced, renamed
over the final name, and then the directory is fsynced so that the rename itself survives a
power cut. A crash therefore leaves either the old file, the new file or a ``.part`` leftover
(which :meth:`ArchiveStore.clean_partials` removes), never a half-written file under a final
name. Files are hashed in 1 MiB chunks, so a 2 GB scan needs no more memory than a letter.

This module imports nothing of the package: ingest, ocr, classify and archive all use it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

CHUNK = 1 << 20
NAME_BYTES = 200  # of a file name we make: 255 is the usual limit, and ".part" names must fit too


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(CHUNK):
        yield chunk


def file_digest(path: str | Path, algo: str = "sha256") -> str:
    """Hex digest of a file's bytes (``algo`` as :func:`hashlib.new` names it, e.g. ``md5``).

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in _chunks(fh):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file: the record id of an original."""
    return file_digest(path, "sha256")


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: Path, mode: int = 0o666, *, hidden: bool = False) -> Iterator[BinaryIO]:
    """Open ``<path>.part`` for writing; on success it is fsynced and renamed to ``path``.

    The new file gets ``mode`` less the umask. A leftover ``.part`` is replaced, not
    reused, so it cannot carry a wider mode over. On an exception the ``.part`` file is
    removed and the exception propagates; ``path`` keeps whatever it held before.
    ``hidden``: the temporary name is ``.<name>.<random>.part`` instead, for a folder of the
    user's, where a ``<name>.part`` may be a file of theirs that must not be replaced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if hidden:
        # At most 200 bytes of the name (125 "ü" are 250 bytes), so that the temporary name
        # stays within the usual 255-byte limit; a character cut in two stays the bytes it was.
        stem = os.fsdecode(os.fsencode(path.name)[:NAME_BYTES])
        part = path.with_name(f".{stem}.{secrets.token_hex(4)}.part")
    else:
        part = path.with_name(path.name + ".part")
        part.unlink(missing_ok=True)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Write ``data`` to ``path`` via a ``.part`` file, fsync and a rename (``mode`` as above)."""
    with atomic_open(path, mode) as fh:
        fh.write(data)


def atomic_copy(src: Path, dst: Path, mode: int = 0o666) -> str:
    """Copy ``src`` to ``dst`` via a ``.part`` file; returns the SHA-256 of what was written.

    The hash is taken from the bytes as they are written, so a caller can compare it with
    the hash it expects and catch a source that changed during the copy. ``mode`` less the
    umask is the new file's mode.
    """
    with open(src, "rb") as fin, atomic_open(dst, mode) as fout:
        return copy_hashing(fin, fout)


def copy_hashing(fin: BinaryIO, fout: BinaryIO) -> str:
    """Copy ``fin`` to ``fout`` in chunks; returns the SHA-256 of the bytes copied."""
    digest = hashlib.sha256()
    for chunk in _chunks(fin):
        digest.update(chunk)
        fout.write(chunk)
    return digest.hexdigest()
