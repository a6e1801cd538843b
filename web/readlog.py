"""Who read what: the web archive's append-only read log (GDPR accountability).

One JSON line per read in ``<archive>/audit/web-reads.jsonl``, written with ``O_APPEND`` and
fsynced before the read is answered: if the line cannot be written, the read is refused.
:func:`log_read` is the only writer, so switching to the archive's audit chain is one change.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ..errors import ArchiveUnavailableError
from ..models import now_iso

_LOCK = threading.Lock()


def read_log_path(archive_dir: Path) -> Path:
    """Where the read log of an archive lives."""
    return Path(archive_dir) / "audit" / "web-reads.jsonl"


def log_read(archive_dir: Path, user: str, channel: str, action: str, record_id: str | None = None,
             **detail: Any) -> None:
    """Append one read to the log, durably.

    Args:
        archive_dir: the archive.
        user: the signed-in user's name.
        channel: ``web`` (browser) or ``api`` (bearer token).
        action: ``view``, ``page-image``, ``download``, ``download-original``, ``search`` …
        record_id: the record read, if one.
        detail: further plain values (page number, query).

    Raises:
        ArchiveUnavailableError: the line could not be written (the read must then be refused).
    """
    entry = {"at": now_iso(), "user": user, "channel": channel, "action": action}
    if record_id:
        entry["record"] = record_id
    entry.update(detail)
    line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    path = read_log_path(archive_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as exc:
        raise ArchiveUnavailableError(f"read log {path}: {exc.strerror or exc}") from exc


def read_entries(archive_dir: Path) -> list[dict[str, Any]]:
    """Every logged read, oldest first (for tests and the admin page)."""
    path = read_log_path(archive_dir)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
