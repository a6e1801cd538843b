"""The QA queue: status from the pages' findings, decisions in the audit trail, ``akte qa``."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from aktenarchiv.archive.seal import write_record
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.errors import AkteError
from aktenarchiv.models import ArchiveRecord, PageText
from aktenarchiv.qa import QaStatus, QueueCache, decide, findings, qa_status, record_qa
from drawn_pages import letter_page


def _record(*pages: PageText) -> ArchiveRecord:
    return ArchiveRecord(id="ab" * 32, sha256="ab" * 32, source_name="scan.tiff", media_type="image/tiff", size=1,
                         page_count=len(pages), ingested_at="2026-01-01T00:00:00+00:00", title="scan",
                         original_object="objects/ab/x", archival_object=None, archival_sha256=None,
                         pages=pages, engine="tesseract")


def _page(number: int, issues=(), blank=False) -> PageText:
    return PageText(number, "" if blank else "Antrag", "ocr", None if blank else 90.0, dpi=300, blank=blank,
                    issues=tuple(issues))


def test_status_follows_the_pages_findings():
    assert qa_status(_record(_page(1), _page(2, ["blank"], blank=True))) == QaStatus.PASSED
    doubtful = _record(_page(1, ["low-dpi", "skewed"]), _page(2))
    assert qa_status(doubtful) == QaStatus.REVIEW
    assert findings(doubtful) == ["page 1: low-dpi, skewed"]
    assert findings(_record(_page(1, ["blank"], blank=True))) == ["all pages blank"]
    # Text layers and imported text were never checked: nothing to review.
    assert qa_status(_record(PageText(1, "Vertrag", "text-layer", None))) == QaStatus.PASSED


def test_decisions_are_audited_and_a_rejection_needs_a_reason():
    record = _record(_page(1, ["rescan-dpi"]))
    with pytest.raises(AkteError, match="reason"):
        decide(record, approve=False, text="  ")
    rejected = decide(record, approve=False, text="Seite 1 zu grob, neu scannen")
    assert qa_status(rejected) == QaStatus.REJECTED
    entry = rejected.audit[-1]
    assert entry["action"] == "qa-reject" and entry["reason"] == "Seite 1 zu grob, neu scannen"
    assert entry["findings"] == ["page 1: rescan-dpi"] and entry["from_status"] == "review"
    approved = decide(rejected, approve=True, text=None)
    assert qa_status(approved) == QaStatus.APPROVED and len(approved.audit) == 2
    assert record_qa(approved)["pages"][0] == {"number": 1, "dpi": 300, "confidence": 90.0, "rotation": 0,
                                               "blank": False, "issues": ["rescan-dpi"]}
    reloaded = ArchiveRecord.from_json(json.loads(json.dumps(approved.to_json())))
    assert qa_status(reloaded) == QaStatus.APPROVED


@pytest.mark.slow
def test_akte_qa_queue_approve_and_reject(cli, tmp_path):
    inbox = tmp_path / "eingang"
    inbox.mkdir()
    page = letter_page()
    page.save(inbox / "grob.png", dpi=(120, 120))  # too coarse: rescan-dpi
    page.resize((2480, 3508)).save(inbox / "fein.png", dpi=(300, 300))
    assert cli("ingest", inbox).exit_code == 0
    queue = json.loads(cli("qa", "--json").stdout)
    assert [(r["title"], r["findings"]) for r in queue] == [("grob", ["page 1: rescan-dpi"])]
    coarse = queue[0]["id"]
    shown = json.loads(cli("show", coarse, "--json").stdout)
    assert shown["qa"]["status"] == "review" and shown["qa"]["pages"][0]["dpi"] == 120

    assert cli("qa", "reject", coarse).exit_code != 0  # --reason is required
    assert cli("qa", "reject", coarse[:10], "--reason", "zu grob gescannt").exit_code == 0
    assert json.loads(cli("qa", "--json").stdout) == []
    decided = json.loads(cli("qa", "--json", "--all").stdout)
    assert [(r["id"], r["status"]) for r in decided] == [(coarse, "rejected")]
    audit = json.loads(cli("show", coarse, "--json").stdout)["audit"]
    assert audit[-1]["action"] == "qa-reject" and audit[-1]["reason"] == "zu grob gescannt"

    result = cli("qa", "approve", coarse, "--note", "Original ist nicht besser")
    assert result.exit_code == 0 and "rejected → approved" in result.stdout
    assert cli("qa", "approve", "ffffffffff").exit_code == 1  # unknown id: a clear error
    # Both decisions went through the seal: in the audit chain, and the archive still verifies.
    trail = json.loads(cli("audit", "show", coarse[:10], "--json").stdout)
    decisions = [e["details"] for e in trail if e["event"] == "qa"]
    assert [d["action"] for d in decisions] == ["qa-reject", "qa-approve"]
    assert decisions[0]["reason"] == "zu grob gescannt" and decisions[1]["note"] == "Original ist nicht besser"
    assert cli("verify").exit_code == 0


def test_two_decisions_from_the_same_stale_view_both_stay(instant_settings, make_scan, tmp_path):
    """Two people decide on one record, each from the page they loaded earlier: the second
    decision is added to the first, not written over it (the change re-reads under the lock)."""
    from aktenarchiv.archive.audit import Actor
    from aktenarchiv.archive.store import ArchiveStore
    from aktenarchiv.classify.editing import RecordEdit, apply_edit
    from aktenarchiv.pipeline import ingest
    from aktenarchiv.qa_decisions import record_decision

    make_scan("brief.png", folder=tmp_path / "eingang")
    [outcome] = ingest([tmp_path / "eingang"], instant_settings).outcomes
    store = ArchiveStore(instant_settings.archive_dir)
    seen = store.read_record(outcome.record_id)  # what both browsers show
    record_decision(store, seen, True, "lesbar", Actor("anna", "10.0.0.1"), via="web")
    record_decision(store, seen, False, "Seite 1 abgeschnitten", Actor("bernd", "10.0.0.2"), via="web")
    apply_edit(instant_settings, seen, RecordEdit(doc_type="antrag"), Actor("carla", "10.0.0.3"))
    stored = store.read_record(outcome.record_id)
    assert [e.get("by") for e in stored.audit[-3:]] == ["anna", "bernd", "carla"]
    assert store.verify().ok and store.audit.verify().ok


def test_the_queue_cache_reads_only_manifests_that_changed(tmp_path, monkeypatch):
    """The QS page asks for the queue on every view: unchanged manifests are not read again."""
    store = ArchiveStore(tmp_path / "archiv")
    doubtful, clean, coarse = (
        replace(_record(*pages), id=c * 64, sha256=c * 64, ingested_at=f"2026-01-0{n}T00:00:00+00:00")
        for n, c, pages in ((2, "a", [_page(1, ["low-dpi"])]), (1, "b", [_page(1)]), (3, "c", [_page(1, ["rescan-dpi"])])))
    for record in (doubtful, clean, coarse):
        write_record(store, record, "ingested")
    (store.root / "records" / "aa" / "notizen.json").write_text("{}")  # not a manifest: skipped by both
    (store.root / "records" / "aa" / ("aa" + "B" * 62 + ".json")).write_text("{}")  # 64 characters, not an id
    assert [record_id for record_id, _ in store.manifest_stats()] == list(store.record_ids())
    reads = []
    read = store.read_record
    monkeypatch.setattr(store, "read_record", lambda record_id: reads.append(record_id) or read(record_id))
    fresh = QueueCache()  # written just now: within the racy two seconds, read on every view
    assert [e.record.id for e in fresh.queue(store)] == [doubtful.id, coarse.id]  # oldest first
    reads.clear()
    fresh.queue(store)
    assert len(reads) == 3
    cache = QueueCache(racy_seconds=0)

    entries = cache.queue(store)
    assert [e.record.id for e in entries] == [doubtful.id, coarse.id]
    assert entries[0].record.pages[0].issues == ("low-dpi",) and entries[0].record.pages[0].text == ""  # slim
    reads.clear()
    assert [e.findings for e in cache.queue(store)] == [("page 1: low-dpi",), ("page 1: rescan-dpi",)]
    assert reads == []  # nothing changed: nothing read
    write_record(store, decide(read(doubtful.id), approve=True, text="geprüft"))
    assert [e.record.id for e in cache.queue(store)] == [coarse.id]
    assert reads == [doubtful.id]
