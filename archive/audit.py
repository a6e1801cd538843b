"""The archive's audit log: append-only, hash-chained JSON Lines in ``<archive>/audit/``.

Layout::

    audit/00000001.jsonl     entries 1 … SEGMENT_ENTRIES, one JSON object per line
    audit/00000002.jsonl     the next SEGMENT_ENTRIES entries, and so on
    audit/index.sqlite       where each entry is, which records it names and which batch a sealed record
                             belongs to (rebuilt from the segments)
    audit/heads.jsonl        heads handed out by ``akte audit head`` (optionally signed, see ``signing.py``)

Each entry holds ``seq``, ``at``, ``actor``, ``host``, ``event``, ``records``, ``details``, the
previous entry's hash (``prev``) and its own ``hash``: the SHA-256 of its canonical JSON without
``hash``. Changing, removing or reordering a line breaks the chain at that line. Cutting entries
off the end leaves a valid but shorter chain; that shows against any head recorded earlier
(``heads.jsonl``, a head kept on paper, the index's high-water mark) and against manifests whose
seal entry is gone. Someone who can rewrite the whole directory can rebuild a valid chain: only
heads kept outside the archive (or signed with a key kept outside) expose that.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import ArchiveUnavailableError, IntegrityError
from ..fsio import fsync_dir
from ..models import now_iso
from .audit_check import check_chain
from .audit_entries import (  # noqa: F401  (re-exported: Actor, Entry … are used as audit.X)
    BATCH_KEY,
    GENESIS,
    HEADS,
    INDEX,
    MANIFEST_KEY,
    SEGMENT,
    SEGMENT_ENTRIES,
    Actor,
    ChainReport,
    Entry,
    Finding,
    canonical_bytes,
    entry_hash,
)


class AuditLog:
    """The audit log of one archive; safe to use from several processes at once."""

    def __init__(self, archive_root: Path, segment_entries: int = SEGMENT_ENTRIES) -> None:
        self.root = Path(archive_root)
        self.dir = self.root / "audit"
        self.segment_entries = segment_entries
        self._db: sqlite3.Connection | None = None
        self._held = False
        self._unsynced: dict[Path, bool] = {}  # segment written but not yet fsync'd → it is new
        self._durable: dict[Path, int] = {}  # segment → bytes known to be fsync'd (by this object)

    # -- writing -----------------------------------------------------------------------
    def append(self, event: str, records: tuple[str, ...] | list[str] = (), details: dict[str, Any] | None = None,
               actor: Actor | None = None, durable: bool = True) -> Entry:
        """Append one entry, flushed to disk before this returns.

        With ``durable=False`` the entry is written but not fsync'd (nor indexed): :meth:`sync`
        (or the next durable append) makes it durable. Group commit uses that
        (``seal.SealGroup``); nothing may rely on such an entry before then.

        Raises:
            ArchiveUnavailableError: the audit directory cannot be written.
            IntegrityError: the log's last line is damaged, so the chain cannot be continued.
        """
        actor = actor or Actor.current()
        try:
            with self.locked():
                seq, prev, segment = self._tail()
                data = {"seq": seq + 1, "at": now_iso(), "actor": actor.name, "host": actor.host, "event": event,
                        "records": list(records), "details": details or {}, "prev": prev}
                data["hash"] = entry_hash(data)
                if self._segment_full(segment, seq):
                    segment += 1
                path = self._segment_path(segment)
                fresh = not path.exists()
                with open(path, "ab") as fh:
                    fh.write(canonical_bytes(data) + b"\n")
                self._unsynced[path] = self._unsynced.get(path, False) or fresh
                if durable:
                    self.sync()
                    self._sync_index()
        except OSError as exc:
            raise ArchiveUnavailableError(f"cannot write the audit log in {self.dir}: {exc.strerror or exc}") from None
        return Entry.from_json(data)

    def sync(self) -> None:
        """Make every entry this object appended durable: one fsync per segment written, and
        the folder's when a segment is new (its name must survive a power cut too).

        Raises:
            OSError: the disk refused the fsync.
        """
        for path, fresh in list(self._unsynced.items()):
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                os.fsync(fh.fileno())  # the file's every byte so far, whoever wrote it
            self._durable[path] = max(self._durable.get(path, 0), size)
            if fresh:
                fsync_dir(self.dir)
            del self._unsynced[path]

    def _tail(self) -> tuple[int, str, int]:
        """(seq, hash, segment number) of the last entry; an incomplete last line (a write cut
        by a crash) is set aside in ``audit/torn/``."""
        segments = self.segments()
        while segments:
            number, path = segments[-1]
            with open(path, "rb+") as fh:
                size = fh.seek(0, os.SEEK_END)
                block, start = b"", size
                while block.count(b"\n") < 2 and start > 0:
                    start = max(0, size - len(block) - 65536)
                    fh.seek(start)
                    block = fh.read(size - start)
                if not block.endswith(b"\n"):
                    cut = block.rfind(b"\n") + 1
                    torn = self.dir / "torn"
                    torn.mkdir(exist_ok=True)
                    (torn / f"{path.name}.{start + cut}").write_bytes(block[cut:])
                    fh.truncate(start + cut)
                    block = block[:cut]
            if block:
                try:
                    last = json.loads(block.rstrip(b"\n").rsplit(b"\n", 1)[-1])
                    return int(last["seq"]), str(last["hash"]), number
                except (ValueError, KeyError, TypeError):
                    raise IntegrityError(f"the last line of audit/{path.name} is not an audit entry: nothing can be "
                                         "appended to the chain until it is repaired (see `akte audit verify`)") from None
            path.unlink()  # an empty segment: a crash right after it was created
            segments.pop()
        return 0, GENESIS, 1

    def _segment_full(self, number: int, last_seq: int) -> bool:
        """True when segment ``number``, ending with entry ``last_seq``, holds ``segment_entries`` entries."""
        try:
            with open(self._segment_path(number), "rb") as fh:
                first = int(json.loads(fh.readline())["seq"])
        except (OSError, ValueError, KeyError, TypeError):
            return False  # no segment yet, or a damaged first line: verify reports that, appending goes on
        return last_seq - first + 1 >= self.segment_entries

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the log's lock (re-entrant within this object): a manifest change and its entry go together."""
        if self._held:
            yield
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            self._held = True
            try:
                yield
            finally:
                self._held = False

    # -- segments ----------------------------------------------------------------------
    def _segment_path(self, number: int) -> Path:
        return self.dir / f"{number:08d}.jsonl"

    def segments(self) -> list[tuple[int, Path]]:
        """(number, path) of every segment, in order."""
        if not self.dir.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.dir.iterdir() if (m := SEGMENT.match(p.name))]
        return sorted(found)

    def _lines(self, start_segment: int = 1, start_offset: int = 0) -> Iterator[tuple[int, int, bytes]]:
        """(segment number, byte offset, line) of every complete line from a position on."""
        for number, path in self.segments():
            if number < start_segment:
                continue
            offset = start_offset if number == start_segment else 0
            with open(path, "rb") as fh:
                fh.seek(offset)
                for line in fh:
                    if not line.endswith(b"\n"):
                        break  # an incomplete last line: not an entry (yet)
                    yield number, offset, line
                    offset += len(line)

    # -- index -------------------------------------------------------------------------
    def _index(self) -> sqlite3.Connection:
        if self._db is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.dir / INDEX, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # derived data: rebuilt from the segments if lost
            db.executescript("""
                CREATE TABLE IF NOT EXISTS entry(seq INTEGER PRIMARY KEY, seg INTEGER, off INTEGER, len INTEGER,
                                                 hash TEXT);
                CREATE TABLE IF NOT EXISTS rec(record TEXT, seq INTEGER, PRIMARY KEY(record, seq)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS seal(record TEXT PRIMARY KEY, seq INTEGER, sha TEXT) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS seen_head(seq INTEGER, hash TEXT, PRIMARY KEY(seq, hash)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS member(record TEXT PRIMARY KEY, batch TEXT) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS member_batch ON member(batch);
            """)
            self._db = db
        return self._db

    def close(self) -> None:
        """Close the index connection."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def _sync_index(self) -> None:
        """Index the entries appended since the last call; rebuild when the segments changed underneath."""
        db = self._index()
        last = db.execute("SELECT seq, seg, off, len, hash FROM entry ORDER BY seq DESC LIMIT 1").fetchone()
        start = (1, 0)
        if last is not None:
            seq, seg, off, length, digest = last
            if self._line_hash(seg, off, length) == digest:
                start = (seg, off + length)
            else:  # entries were cut or rewritten: remember the head the index had seen, then rebuild
                db.execute("INSERT OR IGNORE INTO seen_head VALUES (?, ?)", (seq, digest))
                # ``rec`` rows stay: they still tell which records a removed entry named.
                db.execute("DELETE FROM entry")
                db.execute("DELETE FROM seal")
                db.execute("DELETE FROM member")
        batch_entries, batch_recs, batch_seals, members = [], [], [], []
        lines = list(self._lines(*start))
        ends = {number: offset + len(line) for number, offset, line in lines}
        for number, end in ends.items():
            # Only durable lines may be indexed: an entry the index saw and a power cut then took
            # (written, never fsync'd, e.g. by a group commit) would look like a cut tail.
            path = self._segment_path(number)
            if self._durable.get(path, 0) < end:
                with open(path, "rb") as fh:
                    os.fsync(fh.fileno())
                self._durable[path] = end
        for number, offset, line in lines:
            try:
                data = json.loads(line)
                seq, records = int(data["seq"]), [str(r) for r in data["records"]]
                digest, details = str(data["hash"]), data["details"]
            except (ValueError, KeyError, TypeError):
                continue  # unreadable lines are verify's business; the index skips them
            batch_entries.append((seq, number, offset, len(line), digest))
            batch_recs.extend((r, seq) for r in records)
            if isinstance(details, dict) and MANIFEST_KEY in details and records:
                batch_seals.append((records[0], seq, str(details[MANIFEST_KEY])))
                if BATCH_KEY in details:  # seals written before batches were named there: see unlisted()
                    members.append((records[0], str(details[BATCH_KEY] or "")))
        if batch_entries:
            with db:
                db.executemany("INSERT OR REPLACE INTO entry VALUES (?,?,?,?,?)", batch_entries)
                db.executemany("INSERT OR IGNORE INTO rec VALUES (?,?)", batch_recs)
                db.executemany("INSERT OR REPLACE INTO seal VALUES (?,?,?)", batch_seals)
                db.executemany("INSERT OR REPLACE INTO member VALUES (?,?)", members)
        else:
            db.commit()

    def _line_hash(self, seg: int, off: int, length: int) -> str | None:
        try:
            with open(self._segment_path(seg), "rb") as fh:
                fh.seek(off)
                line = fh.read(length)
            return str(json.loads(line)["hash"]) if line.endswith(b"\n") else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _read_at(self, seg: int, off: int, length: int) -> Entry | None:
        try:
            with open(self._segment_path(seg), "rb") as fh:
                fh.seek(off)
                return Entry.from_json(json.loads(fh.read(length)))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # -- reading -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Bring the index up to date with the segments (under the lock)."""
        with self.locked():
            self._sync_index()

    def head(self) -> Entry | None:
        """The last entry, or None for an empty log."""
        self.refresh()
        row = self._index().execute("SELECT seg, off, len FROM entry ORDER BY seq DESC LIMIT 1").fetchone()
        return self._read_at(*row) if row else None

    def entries_for(self, record_id: str) -> list[Entry]:
        """Every entry naming ``record_id``, oldest first (via the index: fast at any log size)."""
        self.refresh()
        rows = self._index().execute(
            "SELECT e.seg, e.off, e.len FROM rec r JOIN entry e ON e.seq = r.seq WHERE r.record = ? ORDER BY r.seq",
            (record_id,)).fetchall()
        return [e for e in (self._read_at(*row) for row in rows) if e is not None and record_id in e.records]

    def latest(self, limit: int) -> list[Entry]:
        """The last ``limit`` entries, oldest first."""
        self.refresh()
        rows = self._index().execute("SELECT seg, off, len FROM entry ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [e for e in (self._read_at(*row) for row in reversed(rows)) if e is not None]

    def sealed_hash(self, record_id: str) -> str | None:
        """The manifest hash of the record's latest seal entry (per the index)."""
        self.refresh()
        row = self._index().execute("SELECT sha FROM seal WHERE record = ?", (record_id,)).fetchone()
        return row[0] if row else None

    def batch_members(self, batch: str) -> list[str]:
        """Records whose latest seal names ``batch`` (every seal entry names its record's batch)."""
        self.refresh()
        return [r[0] for r in self._index().execute("SELECT record FROM member WHERE batch = ?", (batch,))]

    def unlisted(self) -> list[str]:
        """Sealed records whose latest seal names no batch either way (sealed before seals named
        batches): only their manifests can say which batch they belong to."""
        self.refresh()
        rows = self._index().execute("SELECT s.record FROM seal s LEFT JOIN member m ON m.record = s.record "
                                     "WHERE m.record IS NULL")
        return [r[0] for r in rows]

    def recorded_heads(self) -> list[dict[str, Any]]:
        """Heads handed out earlier (``heads.jsonl``), oldest first."""
        path = self.dir / HEADS
        if not path.is_file():
            return []
        heads = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                heads.append(json.loads(line))
            except ValueError:
                heads.append({"unreadable": line[:80]})
        return heads

    def record_head(self, head: dict[str, Any]) -> None:
        """Keep a handed-out head in ``heads.jsonl`` (appended, fsync'd)."""
        with self.locked(), open(self.dir / HEADS, "ab") as fh:
            fh.write(json.dumps(head, sort_keys=True).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())

    def seen_heads(self) -> list[tuple[int, str]]:
        """Heads the index had seen before the segments changed underneath it, plus its current last entry."""
        db = self._index()
        heads = [(int(s), str(h)) for s, h in db.execute("SELECT seq, hash FROM seen_head")]
        last = db.execute("SELECT seq, hash FROM entry ORDER BY seq DESC LIMIT 1").fetchone()
        return heads + ([(int(last[0]), str(last[1]))] if last else [])

    def records_of(self, first: int, last: int) -> tuple[str, ...]:
        """Records the index saw named by entries ``first`` … ``last`` (also after they were removed)."""
        rows = self._index().execute("SELECT DISTINCT record FROM rec WHERE seq BETWEEN ? AND ?", (first, last))
        return tuple(sorted(r[0] for r in rows))

    # -- verifying ---------------------------------------------------------------------
    def verify(self, known_heads: list[tuple[int, str]] = (), public_key: Path | None = None) -> ChainReport:
        """Recompute the whole chain; report altered, removed, reordered and cut-off entries.

        ``known_heads`` are (seq, hash) pairs kept elsewhere (on paper, in a mail); the
        heads in ``heads.jsonl`` (and their signatures, against ``public_key`` or
        ``audit/signing.pub``) and the last head the index had seen are checked as well.
        """
        with self.locked():
            report = check_chain(self, list(known_heads), public_key)
            self._sync_index()
        return report

