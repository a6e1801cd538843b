"""Verification of the audit chain: every line, every link, every head recorded elsewhere.

Called by :meth:`AuditLog.verify` under the log's lock. Streams the segments once; memory
holds 8 bytes per entry (the sequence numbers) plus the latest manifest hash per record.
"""

from __future__ import annotations

import json
from array import array
from pathlib import Path
from typing import Any, Protocol

from .audit_entries import GENESIS, HEADS, MANIFEST_KEY, ChainReport, Entry, Finding, entry_hash


class ChainLog(Protocol):
    """What the check reads of an audit log (:class:`.audit.AuditLog`)."""

    dir: Path

    def segments(self) -> list[tuple[int, Path]]: ...

    def recorded_heads(self) -> list[dict[str, Any]]: ...

    def seen_heads(self) -> list[tuple[int, str]]: ...

    def records_of(self, first: int, last: int) -> tuple[str, ...]: ...
from .signing import PUBLIC, fingerprint, load_public_key, signature_problem


def check_chain(log: ChainLog, known_heads: list[tuple[int, str]], public_key_path: Path | None = None) -> ChainReport:
    """Recompute every entry's hash and link; compare with heads kept elsewhere, check their signatures.

    ``public_key_path``: a public key kept outside the archive; else ``audit/signing.pub``.
    """
    report = ChainReport()
    wanted = _wanted_heads(log, known_heads, report, public_key_path)
    found: dict[int, list[str]] = {}
    handed_out: list[int] = []  # entries that record `akte audit head`
    keys: set[str] = set()  # fingerprints of signing keys made with `akte audit keygen`
    seqs = array("q")
    prev_seq, prev_hash = 0, GENESIS
    for _, path in log.segments():
        with open(path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                where = f"audit/{path.name}:{lineno}"
                if not line.endswith(b"\n"):
                    report.findings.append(Finding("incomplete", where, "the last line is incomplete "
                                                   "(an interrupted write; the next entry sets it aside)"))
                    break
                try:
                    data = json.loads(line)
                    entry = Entry.from_json(data)
                except (ValueError, KeyError, TypeError) as exc:
                    report.findings.append(Finding("unreadable", where, f"not an audit entry ({exc})"))
                    prev_seq, prev_hash = prev_seq + 1, None
                    continue
                report.entries += 1
                _check_line(where, data, entry, prev_seq, prev_hash, report)
                seqs.append(entry.seq)
                if entry.seq in wanted:
                    found.setdefault(entry.seq, []).append(entry.hash)
                if entry.records and MANIFEST_KEY in entry.details:
                    report.seals[entry.records[0]] = str(entry.details[MANIFEST_KEY])
                if entry.event == "head":
                    handed_out.append(entry.seq)
                elif entry.event == "keygen":
                    keys.add(str(entry.details.get("key")))
                elif entry.event == "release":  # its certificate files are checked by archive/certificate.py
                    report.releases[str(entry.details.get("batch"))] = entry.details
                prev_seq, prev_hash = entry.seq, entry.hash
                report.head_seq, report.head_hash = entry.seq, entry.hash
    last = _check_sequence(log, seqs, report)
    _check_kept_files(log, handed_out, keys, report)
    for seq, heads in sorted(wanted.items()):
        for digest, source in heads:
            if seq > last:
                report.findings.append(Finding(
                    "cut", f"audit (entry {seq})", f"{source} names entry {seq}, but the chain ends at entry {last}: "
                    "entries were removed from its end", log.records_of(last + 1, seq)))
            elif digest not in found.get(seq, ()):
                report.findings.append(Finding(
                    "rewritten", f"audit (entry {seq})", f"entry {seq} differs from the head in {source}: "
                    "the chain was rewritten", log.records_of(seq, seq)))
    return report


def _check_kept_files(log: ChainLog, handed_out: list[int], keys: set[str], report: ChainReport) -> None:
    """Heads the chain says were handed out must be in ``heads.jsonl``; a key it says was made, in ``signing.pub``."""
    recorded = set()
    for head in log.recorded_heads():
        try:
            recorded.add(int(head["seq"]))
        except (KeyError, TypeError, ValueError):
            continue
    lost = [seq for seq in handed_out if seq not in recorded]
    if lost:
        report.findings.append(Finding("missing", f"audit/{HEADS}", f"{len(lost)} head(s) handed out (entries "
                                       f"{', '.join(map(str, lost[:10]))}) are no longer recorded here"))
    public = load_public_key(log.dir / PUBLIC)
    if keys and (public is None or fingerprint(public) not in keys):
        report.findings.append(Finding("missing", f"audit/{PUBLIC}", "the chain records a signing key "
                                       f"({', '.join(sorted(keys))}) that is not the archive's public key"))


def _check_line(where: str, data: dict, entry: Entry, prev_seq: int,
                prev_hash: str | None, report: ChainReport) -> None:
    """Findings about one line: its own hash, its place, its link to the line before."""
    if entry_hash(data) != entry.hash:
        report.findings.append(Finding("altered", where, f"entry {entry.seq} ({entry.event}) does not match "
                                       "its hash: it was changed after it was written", entry.records))
    elif entry.seq <= prev_seq:
        report.findings.append(Finding("reordered", where, f"entry {entry.seq} ({entry.event}) stands after "
                                       f"entry {prev_seq}", entry.records))
    elif entry.seq == prev_seq + 1 and prev_hash is not None and entry.prev != prev_hash:
        report.findings.append(Finding("broken-link", where, f"entry {entry.seq} ({entry.event}) does not "
                                       "continue from the line before it", entry.records))


def _check_sequence(log: ChainLog, seqs: array, report: ChainReport) -> int:
    """Report missing and doubled sequence numbers; returns the highest one."""
    ordered = sorted(seqs)
    expected = 1
    for seq in ordered:
        if seq < expected:
            report.findings.append(Finding("duplicate", f"audit (entry {seq})", f"entry {seq} appears more than once",
                                           log.records_of(seq, seq)))
            continue
        if seq > expected:
            span = f"entry {expected}" if seq == expected + 1 else f"entries {expected}–{seq - 1}"
            report.findings.append(Finding("removed", f"audit ({span})", f"{span} missing from the chain",
                                           log.records_of(expected, seq - 1)))
        expected = seq + 1
    return ordered[-1] if ordered else 0


def _wanted_heads(log: ChainLog, known_heads: list[tuple[int, str]], report: ChainReport,
                  public_key_path: Path | None) -> dict:
    """seq → [(hash, where the head was kept)] for every head the chain must still contain."""
    wanted: dict[int, list[tuple[str, str]]] = {}
    for seq, digest in known_heads:
        wanted.setdefault(int(seq), []).append((digest, "the head given"))
    for seq, digest in log.seen_heads():
        wanted.setdefault(seq, []).append((digest, "the audit index"))
    public_key = load_public_key(public_key_path or log.dir / PUBLIC)
    for lineno, head in enumerate(log.recorded_heads(), start=1):
        where = f"audit/heads.jsonl:{lineno}"
        try:
            wanted.setdefault(int(head["seq"]), []).append((str(head["hash"]), where))
        except (KeyError, TypeError, ValueError):
            report.findings.append(Finding("unreadable", where, "not a recorded head"))
            continue
        problem = signature_problem(head, public_key)
        if problem:
            report.findings.append(Finding("bad-signature", where, problem))
    wanted.pop(0, None)  # the head of an empty log
    return wanted
