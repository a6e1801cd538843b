"""Confine paths that come from a migration source (manifests, metadata files) to its folder.

A manifest or spreadsheet is input like any other: a name in it may be absolute, climb out
with ``..``, or lead through a symlink to a private file elsewhere. Every such name goes
through :func:`confined_file` before anything is opened, so nothing outside the source
folder is ever read, archived or copied into quarantine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath


class OutsideError(ValueError):
    """A path from a migration source is unsafe or not a regular file; the message says why."""


class MissingFileError(OutsideError):
    """A safe path that names no file."""


def confined_file(base: Path, name: object) -> Path:
    """The real path of the regular file ``name`` (relative, from a manifest) inside ``base``.

    Args:
        base: the source folder (export, share); it bounds every path, symlinks resolved.
        name: the path as the source gave it; must be a relative, non-empty string.

    Returns:
        The resolved path (no symlinks left), so later opens cannot be redirected.

    Raises:
        OutsideError: not a string, absolute, with ``..``, leaving ``base`` (also through a
            symlink), missing, or not a regular file (a FIFO would block the reader).
    """
    if not isinstance(name, str):
        raise OutsideError(f"file name is not a string: {name!r:.80}")
    if not name or "\x00" in name:
        raise OutsideError("empty or invalid file name")
    rel = PurePosixPath(name)
    if rel.is_absolute():
        raise OutsideError(f"absolute path {name!r} (only paths inside the source folder are read)")
    if ".." in rel.parts:
        raise OutsideError(f"path {name!r} climbs out with '..' (only paths inside the source folder are read)")
    return inside(base, base / rel, name)


def inside(base: Path, path: Path, name: str | None = None) -> Path:
    """The real path of the regular file ``path`` if it lies inside ``base`` once symlinks are resolved.

    Raises:
        OutsideError: as :func:`confined_file`; ``name`` is how messages call the file.
    """
    name = name or str(path)
    root = base.resolve()
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise MissingFileError(f"file not found: {name}") from None
    except (OSError, RuntimeError) as exc:  # symlink loop, permission, name too long
        raise OutsideError(f"{name}: cannot resolve ({getattr(exc, 'strerror', None) or exc})") from None
    if not real.is_relative_to(root):
        raise OutsideError(f"{name} is a symlink that leaves the source folder")
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        raise OutsideError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise OutsideError(f"{name} is not a regular file")
    return real


def printable(name: object) -> str:
    """A name as it can be printed, journaled and stored in JSON: bytes that are not UTF-8
    (a file name from an old SMB share) appear escaped as ``\\xff`` instead of failing."""
    return str(name).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
