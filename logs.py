"""Where failures keep their evidence: a rotated log file in the archive, and stderr.

``<archive>/logs/akte.log`` receives our own messages from INFO up and everybody's warnings,
always with tracebacks; it is opened on the first message, so a read-only command that
logs nothing creates nothing. stderr shows warnings and errors, tracebacks only under
``--verbose`` (which also shows debug messages): no traceback reaches a user unasked.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FILE = Path("logs") / "akte.log"  # relative to the archive directory
_MAX_BYTES = 5_000_000
_BACKUPS = 5  # akte.log.1 … akte.log.5
_OURS = "aktenarchiv"


def log_path(archive_dir: Path) -> Path:
    """The log file of the archive at ``archive_dir``."""
    return Path(archive_dir) / LOG_FILE


class _ArchiveLogFile(logging.handlers.RotatingFileHandler):
    """A rotated log file in an archive, opened (its folder made) when the first message arrives.

    While the archive directory does not exist, messages go to stderr only: a mistyped
    ``--archive`` must not create an archive just to hold a log.
    """

    def __init__(self, archive_dir: Path) -> None:
        self.archive_dir = Path(archive_dir)
        super().__init__(log_path(archive_dir), maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8",
                         delay=True)

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is None and not self.archive_dir.is_dir():
            return
        super().emit(record)

    def _open(self):
        Path(self.baseFilename).parent.mkdir(exist_ok=True)
        return super()._open()


class _Brief(logging.Formatter):
    """One line per message: the traceback stays in the log file."""

    def format(self, record: logging.LogRecord) -> str:
        brief = logging.makeLogRecord(record.__dict__)
        brief.exc_info, brief.exc_text, brief.stack_info = None, None, None
        return super().format(brief)


def _not_shown(record: logging.LogRecord) -> bool:
    # A message the command already printed for the user (``extra={"shown": True}``; with its
    # traceback under --verbose) is for the log file only.
    return not getattr(record, "shown", False)


def _ours_or_warning(record: logging.LogRecord) -> bool:
    # Third-party libraries (ocrmypdf, elasticsearch) log every page and request at INFO.
    return record.name.startswith(_OURS) or record.levelno >= logging.WARNING


def setup_logging(archive_dir: Path | None, verbose: bool = False,
                  filters: tuple[logging.Filter, ...] = ()) -> None:
    """Send log messages to stderr and, given ``archive_dir``, to the archive's log file;
    ``filters`` (e.g. one that takes secrets out) apply to both.

    Safe to call more than once in a process (tests run many commands): the handlers of an
    earlier call are replaced, not added to.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "akte", False)]:
        root.removeHandler(handler)
        handler.close()
    to_stderr = logging.StreamHandler()
    to_stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    fmt = "%(levelname)s %(name)s: %(message)s"
    to_stderr.setFormatter(logging.Formatter(fmt) if verbose else _Brief(fmt))
    to_stderr.addFilter(_not_shown)
    handlers: list[logging.Handler] = [to_stderr]
    if archive_dir is not None:
        to_file = _ArchiveLogFile(archive_dir)
        to_file.setLevel(logging.DEBUG if verbose else logging.INFO)
        to_file.addFilter(_ours_or_warning)
        to_file.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        handlers.append(to_file)
    for handler in handlers:
        handler.akte = True
        for extra in filters:
            handler.addFilter(extra)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
