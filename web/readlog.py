"""Who read what (GDPR accountability): every read of the web archive goes into the audit chain.

:func:`log_read` appends one ``read`` entry to the archive's hash-chained audit log
(:mod:`aktenarchiv.archive.audit`) with the signed-in user and their client address as the
actor, before the read is answered: if the entry cannot be written, the read is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..archive.audit import Actor, AuditLog, Entry

READ_EVENT = "read"


def log_read(archive_dir: Path, actor: Actor, channel: str, action: str, record_id: str | None = None,
             **detail: Any) -> None:
    """Append one read to the audit log, durably.

    Args:
        archive_dir: the archive.
        actor: the signed-in user's name and client address.
        channel: ``web`` (browser) or ``api`` (bearer token).
        action: ``view``, ``page-image``, ``download``, ``download-original``, ``search``, ``review``.
        record_id: the record read, if one.
        detail: further plain values (page number, query, number of hits).

    Raises:
        ArchiveUnavailableError: the entry could not be written (the read must then be refused).
    """
    log = AuditLog(archive_dir)
    try:
        log.append(READ_EVENT, (record_id,) if record_id else (), {"channel": channel, "action": action, **detail},
                   actor)
    finally:
        log.close()


def read_entries(archive_dir: Path, limit: int = 1000) -> list[Entry]:
    """The newest logged reads, oldest first (for tests and the admin's view of a record)."""
    log = AuditLog(archive_dir)
    try:
        return [e for e in log.latest(limit) if e.event == READ_EVENT]
    finally:
        log.close()
