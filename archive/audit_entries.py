"""The entries of the audit chain and what checking it finds: plain data, no I/O.

Shared by :mod:`.audit` (the log that writes entries) and :mod:`.audit_check` (which
recomputes the chain), so that neither has to import the other's internals.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
SEGMENT_ENTRIES = 100_000
SEGMENT = re.compile(r"^(\d{8})\.jsonl$")
HEADS = "heads.jsonl"
INDEX = "index.sqlite"
MANIFEST_KEY = "manifest_sha256"  # details key of entries that seal a manifest
BATCH_KEY = "batch"  # … and the batch of the record they seal (None: none), for batch lookups


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, and from where (a host name, or a client address in the web interface)."""

    name: str
    host: str

    @classmethod
    def current(cls) -> Actor:
        """The operating-system user on this machine."""
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers): the uid still identifies
            name = f"uid:{os.getuid()}"
        return cls(name, socket.gethostname())


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the audit log."""

    seq: int
    at: str
    actor: str
    host: str
    event: str
    records: tuple[str, ...]
    details: dict[str, Any]
    prev: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form, as written to the segment."""
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "host": self.host, "event": self.event,
                "records": list(self.records), "details": self.details, "prev": self.prev, "hash": self.hash}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        """Rebuild an entry from its line; raises KeyError/TypeError on a malformed one."""
        return cls(int(data["seq"]), str(data["at"]), str(data["actor"]), str(data["host"]), str(data["event"]),
                   tuple(str(r) for r in data["records"]), dict(data["details"]), str(data["prev"]),
                   str(data["hash"]))

    @property
    def intact(self) -> bool:
        """True when the entry's own hash matches its content."""
        return entry_hash(self.to_json()) == self.hash


def canonical_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(data: dict[str, Any]) -> str:
    """SHA-256 of an entry's canonical JSON without its ``hash`` field."""
    return hashlib.sha256(canonical_bytes({k: v for k, v in data.items() if k != "hash"})).hexdigest()


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by a verification: what, where, and which records it concerns."""

    kind: str  # "altered", "removed", "reordered", "broken-link", "cut", "unreadable", "stray", …
    where: str  # a path relative to the archive, with ":line" for audit lines
    detail: str
    records: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a person: kind, place, records, detail."""
        named = f" [record {', '.join(r[:12] for r in self.records)}]" if self.records else ""
        return f"{self.kind}: {self.where}{named}: {self.detail}"


@dataclass
class ChainReport:
    """What ``AuditLog.verify`` found."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    findings: list[Finding] = field(default_factory=list)
    seals: dict[str, str] = field(default_factory=dict)  # record id → manifest hash of its latest seal
    releases: dict[str, dict[str, Any]] = field(default_factory=dict)  # batch → details of its release entry

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings
