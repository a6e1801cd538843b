"""Find the input files under the paths records staff name on the command line.

Input folders come from scanners, file shares and old exports, so nothing found in one is
trusted. Symlink policy: a symlink inside a folder is followed only when its target lies
inside the folder named on the command line (then the target is read as if it were there);
one that points elsewhere is reported as "symlink leaves the input folder" and never opened,
so a link to a private file cannot carry its contents into the archive. A file named on the
command line itself is read as given. Named pipes, sockets and devices are reported, never
opened (reading a FIFO would wait for ever).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import InputFileError, QuarantineReason

_SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
SYMLINK_LEAVES = "symlink leaves the input folder (not followed)"


@dataclass(frozen=True, slots=True)
class Found:
    """One entry of an input folder; ``problem`` says why it will not be read."""

    path: Path
    problem: str | None = None


def discover(paths: list[str | Path]) -> Iterator[Path]:
    """Yield every file under ``paths`` (recursively, sorted, hidden files skipped).

    Raises InputFileError for a named path that does not exist: a typo must not look like
    an empty batch.
    """
    for found in scan(paths):
        yield found.path


def scan(paths: list[str | Path], archive: Path | None = None) -> Iterator[Found]:
    """Like :func:`discover`, applying the symlink policy and naming what cannot be read.

    Args:
        paths: files and folders named on the command line.
        archive: the archive folder; an input inside it is refused (InputFileError), and the
            archive is skipped where it lies inside an input folder.
    """
    archive = archive.resolve() if archive is not None else None
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise InputFileError(str(path), "no such file or directory")
        if archive is not None and _inside(path.resolve(), archive):
            raise InputFileError(str(path), f"lies inside the archive {archive}; only folders outside the archive can be ingested")
        if path.is_dir():
            yield from _walk(path, archive)
        else:
            yield _check_entry(path, None)


def _walk(folder: Path, archive: Path | None) -> Iterator[Found]:
    top = folder.resolve()
    for root, dirs, files in os.walk(folder):
        kept = []
        for name in sorted(dirs):
            sub = Path(root) / name
            if name.startswith("."):
                continue
            if sub.is_symlink():
                # Within the folder its files are found where they are; elsewhere it is refused.
                if not _inside(sub.resolve(), top):
                    yield Found(sub, SYMLINK_LEAVES)
                continue
            if archive is not None and sub.resolve() == archive:
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            if name.startswith(".") or name in _SKIP_NAMES:
                continue
            yield _check_entry(Path(root) / name, top)


def _check_entry(path: Path, top: Path | None) -> Found:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return Found(path, "cannot read file: a broken symlink (its target does not exist)" if path.is_symlink()
                     else "cannot read file: it disappeared while the folder was read")
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        return Found(path, f"cannot read file: {getattr(exc, 'strerror', None) or exc}")
    if top is not None and path.is_symlink() and not _inside(path.resolve(), top):
        return Found(path, SYMLINK_LEAVES)
    if not stat.S_ISREG(mode):
        return Found(path, not_regular(mode))
    return Found(path)


def not_regular(mode: int) -> str:
    """The reason for refusing a directory entry that is not a regular file."""
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a directory" if stat.S_ISDIR(mode)
            else "a special file")
    return f"not a regular file: {kind}; nothing was read from it"


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file (never blocks on a FIFO).

    Raises QuarantineReason for anything else, OSError when it cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise QuarantineReason(str(path), not_regular(mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
