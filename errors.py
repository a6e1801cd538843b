"""Typed errors of aktenarchiv; ``cli.py`` alone maps them to exit codes.

Hierarchy::

    AkteError                      exit 1 unless a subclass says otherwise
    ├── ConfigError                bad settings file, flag or environment value (1)
    ├── InputFileError             one input cannot be processed (2); carries path + reason
    │   └── QuarantineReason       raised by ingest checks; the file is kept in quarantine
    ├── MissingToolError           an external program is absent or too old (3)
    ├── ToolFailedError            an external program failed on one document
    ├── ArchiveUnavailableError    the archive/search backend cannot be reached (5)
    │   └── StorageFullError       the disk under the archive is full (5)
    ├── RecordNotFoundError        no record with that id (1)
    ├── ModelError                 a classification model is missing, broken or foreign (1)
    └── IntegrityError             verify found missing/altered/orphaned objects (6)

Every exception carries plain data (paths as strings, hashes) so it pickles into and out of
worker processes.
"""

from __future__ import annotations

import errno
import sqlite3
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the ``akte`` command (see DESIGN.md)."""

    OK = 0
    USAGE = 1
    INPUT = 2
    MISSING_TOOL = 3
    PARTIAL = 4
    UNAVAILABLE = 5
    INTEGRITY = 6
    INTERNAL = 70  # a bug: an exception no typed error covers (sysexits' EX_SOFTWARE)


class AkteError(Exception):
    """Base of all errors this project raises on purpose."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self):  # keep picklable with the subclass signatures below
        return (_rebuild, (type(self), self.__dict__))


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    Exception.__init__(obj, state.get("message", ""))
    obj.__dict__.update(state)
    return obj


class ConfigError(AkteError):
    """A setting is invalid (settings file, environment or flag)."""


class InputFileError(AkteError):
    """An input file cannot be processed; ``reason`` is short and human-readable."""

    exit_code = ExitCode.INPUT

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class QuarantineReason(InputFileError):
    """Raised by the ingest checks: the file goes to quarantine with this reason."""


class MissingToolError(AkteError):
    """An external program is not installed or too old."""

    exit_code = ExitCode.MISSING_TOOL


class ToolFailedError(AkteError):
    """An external program failed on one input (the batch carries on)."""

    exit_code = ExitCode.INPUT


class ArchiveUnavailableError(AkteError):
    """The archive store or search backend cannot be reached."""

    exit_code = ExitCode.UNAVAILABLE


class StorageFullError(ArchiveUnavailableError):
    """The disk under the archive (object store or one of its SQLite files) is full."""


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def storage_error(root, what: str, exc: BaseException) -> ArchiveUnavailableError:
    """The error for a failed write to the archive, the same for files and SQLite.

    Args:
        root: the archive folder.
        what: what was being written, e.g. "journal journal.sqlite" or "while storing a.pdf".
        exc: the OSError or sqlite3.Error that occurred.
    """
    full = (isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS) or (
        isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL)
    if full:
        return StorageFullError(
            f"cannot write to the archive {root} ({what}): the disk is full; free space and run the same command again"
        )
    detail = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
    return ArchiveUnavailableError(f"cannot write to the archive {root} ({what}): {detail}")


class RecordNotFoundError(AkteError):
    """No record matches the given id or id prefix."""


class ModelError(AkteError):
    """A classification model file is missing, broken, or of a foreign format."""


class IntegrityError(AkteError):
    """``verify`` found problems in the store."""

    exit_code = ExitCode.INTEGRITY


class QaClosedError(AkteError):
    """A QA decision or sign-off on a record of a released batch: its quality control is closed."""
