"""Scan batches: the records of one ``akte ingest --batch NAME`` run, checked for completeness.

A records clerk scans a stack and notes on the cover sheet how many pages it has; given as
``--expect-pages N``, it is kept in ``<archive>/batches/NAME.json``. Every record of the
run carries the batch name, so :func:`batch_summary` can always recount the batch from the
manifests: documents, pages, blank and separator pages, QA state, and whether pages are
missing or extra against the cover sheet.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from .errors import AkteError, ConfigError
from .fsio import atomic_write_bytes
from .models import ArchiveRecord, now_iso
from .qa import QaStatus, qa_status

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}\Z")  # \Z: "$" would let a final newline in


class BatchNotFoundError(AkteError):
    """No batch of that name in the archive."""


@dataclass(frozen=True, slots=True)
class Batch:
    """What the archive knows about a batch beyond its records."""

    name: str
    created_at: str
    expected_pages: int | None = None


def check_name(name: str) -> str:
    """``name`` if it is a valid batch name (it becomes a file name), else a ConfigError."""
    if not _NAME.match(name or ""):
        raise ConfigError(f"batch name {name!r}: use letters, digits, '.', '_' and '-' (at most 80, "
                          "starting with a letter or digit), e.g. 2024-03-05-bauamt")
    return name


def _path(root: Path, name: str) -> Path:
    return root / "batches" / f"{check_name(name)}.json"


def load_batch(root: Path, name: str) -> Batch:
    """The stored batch ``name``; BatchNotFoundError when there is none."""
    path = _path(root, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchNotFoundError(f"no batch named {name!r} in {root}") from None
    except (OSError, ValueError) as exc:
        raise AkteError(f"{path}: cannot read the batch file ({exc})") from None
    # The file is trusted no more than any input: its name becomes the certificate's file name.
    pages = data.get("expected_pages") if isinstance(data, dict) else None
    if not (isinstance(data, dict) and data.get("name") == name and isinstance(data.get("created_at"), str)
            and (pages is None or (type(pages) is int and pages >= 1))):
        raise AkteError(f"{path}: not a batch file of batch {name!r} (name, created_at, expected_pages)")
    return Batch(name, data["created_at"], pages)


def open_batch(root: Path, name: str, expected_pages: int | None) -> Batch:
    """Create batch ``name`` or reopen it (a resumed run); a new page count replaces the old one."""
    try:
        batch = load_batch(root, name)
    except BatchNotFoundError:
        batch = Batch(check_name(name), now_iso(), expected_pages)
    if expected_pages is not None and expected_pages < 1:
        raise ConfigError(f"--expect-pages {expected_pages}: must be at least 1")
    if expected_pages is not None:
        batch = Batch(batch.name, batch.created_at, expected_pages)
    atomic_write_bytes(_path(root, name), json.dumps(asdict(batch), ensure_ascii=False).encode("utf-8"))
    return batch


def batch_summary(batch: Batch, records: Iterable[ArchiveRecord]) -> dict[str, Any]:
    """Documents, pages and QA state of a batch, and its completeness against the cover sheet."""
    mine = sorted((r for r in records if r.batch == batch.name), key=lambda r: (r.ingested_at, r.source_name))
    # Separator sheets of a split batch file belong to none of its records: count each once.
    split_sheets = {(r.sha256, n) for r in mine for n in r.separator_pages}
    pages = sum(r.page_count for r in mine) + len(split_sheets)
    separators = len(split_sheets) + sum(p.separator is not None for r in mine if not r.source_pages
                                         for p in r.pages)
    statuses = Counter(str(qa_status(r)) for r in mine)
    summary: dict[str, Any] = {
        "name": batch.name,
        "created_at": batch.created_at,
        "documents": len(mine),
        "pages": pages,
        "blank_pages": sum(p.blank for r in mine for p in r.pages),
        "separator_pages": separators,
        "qa": {str(s): statuses.get(str(s), 0) for s in QaStatus},
        "expected_pages": batch.expected_pages,
        "missing_pages": None,
        "extra_pages": None,
        "complete": None,
        "records": [{"id": r.id, "title": r.title, "source_name": r.source_name, "pages": r.page_count,
                     "qa": str(qa_status(r))} for r in mine],
    }
    if batch.expected_pages is not None:
        summary["missing_pages"] = max(0, batch.expected_pages - pages)
        summary["extra_pages"] = max(0, pages - batch.expected_pages)
        summary["complete"] = pages == batch.expected_pages
    return summary
