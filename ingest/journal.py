"""The ingest journal: where every input file stands, in SQLite (WAL), so a crash resumes.

States of one input (keyed by the SHA-256 of its bytes)::

    started ──► stored ──► archived
        └─────► quarantined

``stored`` means the record is safely in the store but not yet in the search index
("index pending"): the next run, or ``akte reindex --pending``, indexes it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..states import JournalState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inputs (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('started', 'stored', 'archived', 'quarantined')),  -- JournalState
    record_id TEXT,
    reason TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inputs_state ON inputs(state);
"""


def now_iso() -> str:
    """The current UTC time, ISO 8601 with seconds."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One input's last known state."""

    sha256: str
    path: str
    state: JournalState
    record_id: str | None
    reason: str | None


def _entry(row: tuple) -> JournalEntry:
    sha256, path, state, record_id, reason = row
    return JournalEntry(sha256, path, JournalState(state), record_id, reason)


class Journal:
    """The journal of one archive (``<archive>/journal.sqlite``)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a state change reported to the user must survive a power cut.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def get(self, sha256: str) -> JournalEntry | None:
        """The entry for these bytes, if any."""
        row = self.db.execute(
            "SELECT sha256, path, state, record_id, reason FROM inputs WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return _entry(row) if row else None

    def mark(self, sha256: str, path: str, state: JournalState, record_id: str | None = None, reason: str | None = None) -> None:
        """Record a new state for an input."""
        self.db.execute(
            "INSERT INTO inputs (sha256, path, state, record_id, reason, updated_at) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT(sha256) DO UPDATE SET path=excluded.path, state=excluded.state,"
            " record_id=excluded.record_id, reason=excluded.reason, updated_at=excluded.updated_at",
            (sha256, path, state, record_id, reason, now_iso()),
        )

    def pending(self) -> list[JournalEntry]:
        """Inputs stored but not yet indexed."""
        rows = self.db.execute(
            "SELECT sha256, path, state, record_id, reason FROM inputs WHERE state = ? ORDER BY updated_at",
            (JournalState.STORED,),
        ).fetchall()
        return [_entry(row) for row in rows]

    def close(self) -> None:
        """Close the database."""
        self.db.close()
