"""The QA sample of a batch per protection need, and who may sign its pages off."""

from __future__ import annotations

from pathlib import Path

import pytest
from aktenarchiv.config import Settings, TransferSettings
from aktenarchiv.errors import AkteError
from aktenarchiv.models import ArchiveRecord, PageText
from aktenarchiv.ocr.transfer import check_plan, sample_draw
from aktenarchiv.sampling import batch_sample, check_plan_of, sign_off


def _record(name: str, pages: int, schutzbedarf: str | None, share: dict | None = None) -> ArchiveRecord:
    sha = name * 64
    audit = ()
    if schutzbedarf is not None:
        settings = Settings(Path("/nonexistent"), transfer=TransferSettings(**(share or {})))
        audit = ({"event": "ingested", "operator": "scanner", "schutzbedarf": schutzbedarf,
                  "checks": check_plan(sha, pages, schutzbedarf, settings)},)
    return ArchiveRecord(id=sha, sha256=sha, source_name=f"{name}.tiff", media_type="image/tiff", size=1,
                         page_count=pages, ingested_at="2026-01-01T00:00:00+00:00", title=name,
                         original_object="objects/x", archival_object=None, archival_sha256=None,
                         pages=tuple(PageText(n, "", "ocr", 90.0, dpi=300) for n in range(1, pages + 1)),
                         engine="t", audit=audit, batch="s1")


def _as(monkeypatch, user: str) -> None:
    monkeypatch.setenv("LOGNAME", user)  # getpass.getuser() reads it first: the acting person


def test_the_sample_is_recomputable_from_the_recorded_seed():
    record = _record("a", 400, "normal")
    checks = record.audit[0]["checks"]
    assert checks["sample_pages"] == [n for n in range(1, 401) if sample_draw(checks["seed"], n) < 0.05]
    assert 5 <= len(checks["sample_pages"]) <= 40  # about 20 of 400
    plan = check_plan_of(record)
    assert (plan.pages, plan.people, plan.not_scanner) == (tuple(checks["sample_pages"]), 1, False)
    high = check_plan_of(_record("b", 400, "hoch"))
    assert 50 <= len(high.pages) <= 110 and high.not_scanner and high.people == 1
    every = check_plan_of(_record("c", 7, "sehr-hoch"))
    assert (every.pages, every.people, every.not_scanner) == (tuple(range(1, 8)), 2, True)
    assert check_plan_of(_record("d", 3, None)).pages == (1, 2, 3)  # no plan recorded: every page


def test_a_batch_whose_draw_is_empty_still_gets_its_lowest_draw_checked():
    records = [_record(c, 2, "normal", {"sample_normal": 0.0}) for c in "abc"]
    sample = batch_sample(records)
    assert len(sample) == 1
    draws = {(r.id, n): sample_draw(r.audit[0]["checks"]["seed"], n) for r in records for n in (1, 2)}
    assert (sample[0].record_id, sample[0].page) == min(draws, key=draws.get)


def test_hoch_needs_a_person_other_than_the_scanner(monkeypatch):
    record = _record("a", 2, "hoch", {"sample_hoch": 1.0})
    _as(monkeypatch, "scanner")
    record = sign_off(record, batch_sample([record]), [], True, None)
    assert all(p.missing == "needs a person other than the scanner (scanner)" for p in batch_sample([record]))
    _as(monkeypatch, "pruefer")
    record = sign_off(record, batch_sample([record]), [1], True, None)
    assert [p.missing for p in batch_sample([record])] == [None, "needs a person other than the scanner (scanner)"]


def test_sehr_hoch_needs_four_eyes_and_a_failed_page_blocks(monkeypatch):
    record = _record("a", 2, "sehr-hoch")
    _as(monkeypatch, "pruefer")
    record = sign_off(record, batch_sample([record]), [], True, None)
    record = sign_off(record, batch_sample([record]), [], True, None)  # the same person twice is two eyes
    assert {p.missing for p in batch_sample([record])} == {"needs 1 more person(s) (four eyes)"}
    _as(monkeypatch, "zweite")
    record = sign_off(record, batch_sample([record]), [2], False, "Seite abgeschnitten")
    record = sign_off(record, batch_sample([record]), [1], True, None)
    missing = [p.missing for p in batch_sample([record])]
    assert missing == [None, "found wrong by zweite: Seite abgeschnitten"]
    record = sign_off(record, batch_sample([record]), [2], True, None)  # rescanned page looked at again
    assert [p.missing for p in batch_sample([record])] == [None, None]


def test_only_sampled_pages_can_be_signed_off_and_a_failure_needs_a_reason():
    record = _record("a", 3, "sehr-hoch")
    other = _record("b", 3, "sehr-hoch")
    sample = batch_sample([record])
    with pytest.raises(AkteError, match="not in the sample"):
        sign_off(record, sample, [4], True, None)
    with pytest.raises(AkteError, match="needs a reason"):
        sign_off(record, sample, [1], False, " ")
    with pytest.raises(AkteError, match="none of its pages"):
        sign_off(other, sample, [], True, None)
