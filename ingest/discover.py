"""Find the input files under the paths records staff name on the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from ..errors import InputFileError

_SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def discover(paths: list[str | Path]) -> Iterator[Path]:
    """Yield every regular file under ``paths`` (recursively, sorted, hidden files skipped).

    Raises InputFileError for a named path that does not exist: a typo must not look like
    an empty batch.
    """
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise InputFileError(str(path), "no such file or directory")
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(".") or name in _SKIP_NAMES:
                        continue
                    yield Path(root) / name
        else:
            yield path
