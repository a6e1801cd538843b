"""The ingest journal: where every input file stands, in SQLite (WAL), so a crash resumes.

States of one input (keyed by the SHA-256 of its bytes)::

    started ──► stored ──► archived
        └─────► quarantined

``stored`` means the record is safely in the store but not yet in the search index
("index pending"): the next run, or ``akte reindex --pending``, indexes it. When the index
refuses a record, the reason and the number of attempts are kept with it (``index_error``,
``index_attempts``) for ``akte verify``; runs stop retrying it after a few attempts.

While an input is ``started``, the objects the run creates for it are listed in ``written``
before they are written; a run killed before the manifest exists leaves them listed, and the
next run removes them (:meth:`Journal.unfinished_objects`), so no orphan stays behind.

Paths are file names as the system gives them: bytes on Linux. One that is not valid UTF-8
is stored as a BLOB of its bytes and read back exactly (``os.fsdecode``).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import storage_error
from ..models import now_iso
from ..states import JournalState
from ..textnorm import shown

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inputs (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('started', 'stored', 'archived', 'quarantined')),  -- JournalState
    record_id TEXT,
    reason TEXT,
    updated_at TEXT NOT NULL,
    index_error TEXT,
    index_attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS inputs_state ON inputs(state);
CREATE TABLE IF NOT EXISTS written (
    sha256 TEXT NOT NULL,
    rel TEXT NOT NULL,
    PRIMARY KEY (sha256, rel)
);
"""
# Journals written before the index columns existed get them on opening.
_ADDED_COLUMNS = {"index_error": "TEXT", "index_attempts": "INTEGER NOT NULL DEFAULT 0"}
_COLUMNS = "sha256, path, state, record_id, reason, index_error, index_attempts"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One input's last known state."""

    sha256: str
    path: str
    state: JournalState
    record_id: str | None
    reason: str | None
    index_error: str | None = None  # why the search index refused the record, last time
    index_attempts: int = 0  # failed attempts to index it


class Journal:
    """The journal of one archive (``<archive>/journal.sqlite``).

    Every SQLite failure becomes ArchiveUnavailableError (StorageFullError when the disk is
    full): the batch stops with a clear message and the next run resumes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._errors():
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a state change reported to the user must survive a power cut.
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            have = {row[1] for row in self.db.execute("PRAGMA table_info(inputs)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in have:
                    self.db.execute(f"ALTER TABLE inputs ADD COLUMN {column} {kind}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            raise storage_error(self.path.parent, f"journal {self.path.name}", exc) from None

    def get(self, sha256: str) -> JournalEntry | None:
        """The entry for these bytes, if any."""
        with self._errors():
            row = self.db.execute(f"SELECT {_COLUMNS} FROM inputs WHERE sha256 = ?", (sha256,)).fetchone()
        return _entry(row) if row else None

    def mark(self, sha256: str, path: str, state: JournalState, record_id: str | None = None,
             reason: str | None = None) -> None:
        """Record a new state for an input (a finished one forgets its planned objects; an
        archived one its index errors)."""
        with self._errors():
            self.db.execute(
                "INSERT INTO inputs (sha256, path, state, record_id, reason, updated_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(sha256) DO UPDATE SET path=excluded.path, state=excluded.state,"
                " record_id=excluded.record_id, reason=excluded.reason, updated_at=excluded.updated_at,"
                " index_error=CASE WHEN excluded.state = 'archived' THEN NULL ELSE index_error END,"
                " index_attempts=CASE WHEN excluded.state = 'archived' THEN 0 ELSE index_attempts END",
                (sha256, _db_path(path), state, record_id, reason and shown(reason), now_iso()),
            )
            if state != JournalState.STARTED:
                self.db.execute("DELETE FROM written WHERE sha256 = ?", (sha256,))

    def index_failed(self, sha256: str, error: str) -> None:
        """Keep why the search index refused a stored record, and count the attempt."""
        with self._errors():
            self.db.execute(
                "UPDATE inputs SET index_error = ?, index_attempts = index_attempts + 1, updated_at = ?"
                " WHERE sha256 = ?",
                (shown(error), now_iso(), sha256),
            )

    def plan_object(self, sha256: str, rel: str) -> None:
        """Note that the run is about to create object ``rel`` for the input ``sha256``."""
        with self._errors():
            self.db.execute("INSERT OR IGNORE INTO written (sha256, rel) VALUES (?, ?)", (sha256, rel))

    def unfinished_objects(self) -> dict[str, list[str]]:
        """Objects created for inputs that never got further than ``started``, by input."""
        with self._errors():
            rows = self.db.execute("SELECT sha256, rel FROM written ORDER BY sha256, rel").fetchall()
        found: dict[str, list[str]] = {}
        for sha, rel in rows:
            found.setdefault(sha, []).append(rel)
        return found

    def forget_objects(self, sha256: str) -> None:
        """Drop the list of planned objects of one input (they were removed or adopted)."""
        with self._errors():
            self.db.execute("DELETE FROM written WHERE sha256 = ?", (sha256,))

    def pending(self, max_attempts: int | None = None) -> list[JournalEntry]:
        """Inputs stored but not yet indexed; with ``max_attempts``, only those that failed fewer times."""
        with self._errors():
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM inputs WHERE state = ? AND (? IS NULL OR index_attempts < ?)"
                " ORDER BY updated_at",
                (JournalState.STORED, max_attempts, max_attempts),
            ).fetchall()
        return [_entry(row) for row in rows]

    def index_failures(self) -> list[JournalEntry]:
        """Stored records the search index refused, with the last reason."""
        with self._errors():
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM inputs WHERE state = ? AND index_error IS NOT NULL ORDER BY updated_at",
                (JournalState.STORED,),
            ).fetchall()
        return [_entry(row) for row in rows]

    def close(self) -> None:
        """Close the database."""
        self.db.close()


def _db_path(path: str) -> str | bytes:
    """A path as SQLite can store it without loss: text when it is UTF-8, else its bytes."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def _entry(row) -> JournalEntry:
    sha, path, state, *rest = row
    return JournalEntry(sha, os.fsdecode(path) if isinstance(path, bytes) else path, JournalState(state), *rest)
