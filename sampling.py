"""The pages a person must look at before a batch's paper may go, and their sign-offs.

Every record's transfer note carries its check plan, drawn by the system at ingest
(:func:`aktenarchiv.ocr.transfer.check_plan`): the protection need, the sample share, a
random seed and the pages it chose (page ``n`` is in when ``sha256(seed:n)`` falls below the
share). What a person must do follows from the protection need:

- *normal*: look at each sampled page; anyone may sign it off;
- *hoch*: each sampled page is signed off by a second person, not the one who scanned it;
- *sehr-hoch*: every page, four eyes: two different people, at least one not the scanner.

A small batch at *normal* can draw no page at all (20 pages at 5 %: a one-in-three chance).
Then the page with the lowest draw of the whole batch is taken, so a person always looks at
one page at least; like the sample itself, an auditor can recompute that choice from the
recorded seeds. A record without a check plan (archived before transfer notes existed) is
checked on every page.

Sign-offs are entries in the record's audit trail (``qa-signoff``: who, which pages, fine or
not and why), written through the sealed-change path, so they are in the audit chain too. A
person's latest verdict on a page counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

from .archive.audit import Actor
from .errors import AkteError
from .models import ArchiveRecord, now_iso
from .ocr.transfer import sample_draw
from .qa import SIGNOFF, with_approvers


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """What a person must check in one record."""

    schutzbedarf: str
    operator: str | None  # who scanned it (the transfer note's operator)
    pages: tuple[int, ...]  # the record's own page numbers
    people: int  # how many different people must sign each page off (1, or 2 for four eyes)
    not_scanner: bool  # one of them must not be the operator
    seed: str | None  # the recorded seed of the draw; None without a plan
    share: float


@dataclass(frozen=True, slots=True)
class SamplePage:
    """One page of a batch's sample, and where its sign-offs stand."""

    record_id: str
    title: str
    page: int
    source_page: int  # the page of the scanned batch file (for the person holding the paper)
    plan: CheckPlan
    verdicts: tuple[tuple[str, bool, str | None], ...]  # (person, fine?, reason): latest per person

    @property
    def failed(self) -> list[str]:
        """Who found the page wrong, with the reason."""
        return [f"{who}: {reason or 'not fine'}" for who, ok, reason in self.verdicts if not ok]

    @property
    def signed_by(self) -> tuple[str, ...]:
        """People whose latest verdict on the page is fine."""
        return tuple(who for who, ok, _ in self.verdicts if ok)

    @property
    def missing(self) -> str | None:
        """What sign-off the page still needs, or None when it is complete (and not failed)."""
        if self.failed:
            return "found wrong by " + "; ".join(self.failed)
        signed = self.signed_by
        other = [who for who in signed if who != self.plan.operator]
        if self.plan.not_scanner and not other:
            scanner = f" ({self.plan.operator})" if self.plan.operator else ""
            return f"needs a person other than the scanner{scanner}"
        if len(signed) < self.plan.people:
            return f"needs {self.plan.people - len(signed)} more person(s) (four eyes)"
        return None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form for ``akte qa sample --json``."""
        return {"record": self.record_id, "title": self.title, "page": self.page, "source_page": self.source_page,
                "schutzbedarf": self.plan.schutzbedarf, "operator": self.plan.operator,
                "signed_by": list(self.signed_by), "failed": self.failed, "missing": self.missing}


def transfer_of(record: ArchiveRecord) -> dict[str, Any]:
    """The record's transfer note (the first audit entry with a check plan), or ``{}``."""
    return next((entry for entry in record.audit if isinstance(entry.get("checks"), dict)), {})


def check_plan_of(record: ArchiveRecord) -> CheckPlan:
    """The record's check plan as recorded at ingest; every page when it has none."""
    note = transfer_of(record)
    checks = note.get("checks") or {}
    level = str(note.get("schutzbedarf") or "unbekannt")
    every = tuple(range(1, record.page_count + 1))
    operator = note.get("operator")
    if not checks:
        return CheckPlan(level, operator, every, 1, False, None, 1.0)
    four_eyes = bool(checks.get("four_eyes"))
    pages = every if four_eyes else tuple(n for n in checks.get("sample_pages", ()) if 1 <= n <= record.page_count)
    return CheckPlan(level, operator, pages, 2 if four_eyes else 1, bool(checks.get("second_person")),
                     str(checks["seed"]) if checks.get("seed") else None, float(checks.get("sample_share", 1.0)))


def verdicts(record: ArchiveRecord, page: int) -> tuple[tuple[str, bool, str | None], ...]:
    """Each person's latest verdict on ``page`` of ``record``, in the order they first signed."""
    latest: dict[str, tuple[bool, str | None]] = {}
    for entry in record.audit:
        if entry.get("action") == SIGNOFF and page in entry.get("pages", ()):
            latest[str(entry.get("by"))] = (bool(entry.get("ok")), entry.get("reason"))
    return tuple((who, ok, reason) for who, (ok, reason) in latest.items())


def batch_sample(records: Iterable[ArchiveRecord]) -> list[SamplePage]:
    """Every page of a batch a person must sign off, in record order (see the module docstring)."""
    mine = list(records)
    chosen: list[tuple[ArchiveRecord, CheckPlan, int]] = []
    for record in mine:
        plan = check_plan_of(record)
        chosen.extend((record, plan, n) for n in plan.pages)
    if not chosen:
        # Nothing drawn: take the page with the lowest draw of the whole batch.
        draws = [(sample_draw(plan.seed, n), i, record, plan, n) for i, record in enumerate(mine)
                 if (plan := check_plan_of(record)).seed for n in range(1, record.page_count + 1)]
        if draws:
            _, _, record, plan, n = min(draws)
            chosen.append((record, plan, n))
    return [SamplePage(record.id, record.title, n, record.source_pages[n - 1] if record.source_pages else n, plan,
                       verdicts(record, n)) for record, plan, n in chosen]


def sign_off(record: ArchiveRecord, sample: list[SamplePage], pages: list[int], ok: bool,
             reason: str | None) -> ArchiveRecord:
    """``record`` with a person's sign-off of some of its sampled pages appended to its trail.

    Args:
        record: the record whose pages were looked at.
        sample: the batch's sample (only its pages can be signed off).
        pages: the pages looked at; empty means every sampled page of the record.
        ok: True when the pages show the paper correctly, False when not.
        reason: what is wrong (required when ``ok`` is False).
    """
    drawn = sorted(p.page for p in sample if p.record_id == record.id)
    if not drawn:
        raise AkteError(f"record {record.id[:12]}: none of its pages is in the sample of its batch")
    outside = sorted(set(pages) - set(drawn))
    if outside:
        raise AkteError(f"record {record.id[:12]}: page(s) {', '.join(map(str, outside))} are not in the sample "
                        f"(sampled: {', '.join(map(str, drawn))})")
    if not ok and not (reason or "").strip():
        raise AkteError("a page found wrong needs a reason (--fail \"page 2 is cut off\")")
    entry: dict[str, Any] = {"at": now_iso(), "action": SIGNOFF, "by": Actor.current().name,
                             "pages": sorted(set(pages)) or drawn, "ok": ok}
    if reason:
        entry["reason"] = reason.strip()
    return with_approvers(replace(record, audit=record.audit + (entry,)))
