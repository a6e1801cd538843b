"""Group commit of the audit chain: one fsync for the entries of records finished together,
and nothing live or reported archived before its entry is durable; a crash in between heals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from aktenarchiv import pipeline, run
from aktenarchiv.archive.audit import AuditLog
from aktenarchiv.archive.seal import SealGroup, check_store, finish_pending
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.ingest.journal import Journal
from aktenarchiv.models import ArchiveRecord, PageText
from aktenarchiv.states import JournalState


def _record(n: int) -> ArchiveRecord:
    sha = hashlib.sha256(f"Akte {n}".encode()).hexdigest()
    return ArchiveRecord(id=sha, sha256=sha, source_name=f"scan{n}.pdf", media_type="application/pdf", size=7,
                         page_count=1, ingested_at="2026-01-01T00:00:00+00:00", title=f"Akte {n}",
                         original_object=f"objects/{sha[:2]}/{sha}", archival_object=None, archival_sha256=None,
                         pages=(PageText(1, f"Bescheid {n}", "text-layer", None),), engine="text-layer")


def _segment(root: Path) -> Path:
    (number, path), = AuditLog(root).segments()
    return path


def _manifests(root: Path) -> list[Path]:
    return sorted((root / "records").glob("*/*.json"))


def test_a_group_is_fsynced_once_before_any_of_its_manifests_goes_live(tmp_path, monkeypatch):
    store = ArchiveStore(tmp_path / "archiv")
    seen = []
    real_sync = AuditLog.sync

    def watched_sync(log):  # the real fsync, watched: what is live when it runs
        seen.append(("sync", len(_manifests(store.root))))
        real_sync(log)

    monkeypatch.setattr(AuditLog, "sync", watched_sync)
    group = SealGroup(store, size=3, max_wait=3600)
    for n in range(3):
        group.add(_record(n), "ingested", {"pages": 1})
        group.then(lambda n=n: seen.append(("done", n, len(_manifests(store.root)))))
    # The third record filled the group: one fsync with nothing live yet, then each record goes
    # live followed by what waited for it.
    assert seen == [("sync", 0), ("done", 0, 1), ("done", 1, 2), ("done", 2, 3)]
    group.add(_record(3), "ingested")
    group.then(lambda: seen.append(("done", 3)))
    assert seen[-1] == ("done", 2, 3) and len(_manifests(store.root)) == 3  # waits for its group
    group.flush()
    assert seen[-2:] == [("sync", 3), ("done", 3)]
    chain = store.audit.verify()
    assert chain.ok and chain.entries == 4 and check_store(store, chain).ok


@pytest.mark.parametrize("crash", ["power cut", "process killed", "torn last line"])
def test_a_crash_between_the_entries_and_their_fsync_heals(tmp_path, crash):
    store = ArchiveStore(tmp_path / "archiv")
    group = SealGroup(store, size=100, max_wait=3600)
    group.add(_record(0), "ingested")
    group.then(lambda: None)
    group.flush()  # one record durable and live before the crash
    durable = _segment(store.root).stat().st_size
    records = [_record(n) for n in (1, 2, 3)]
    for record in records:
        group.add(record, "ingested")
    segment = _segment(store.root)
    data = segment.read_bytes()
    if crash == "power cut":  # the page cache is lost: the unsynced entries never reached the disk
        segment.write_bytes(data[:durable])
    elif crash == "torn last line":  # only part of the last entry reached the disk
        segment.write_bytes(data[:-40])
    # "process killed": the entries are in the file (the kernel still writes them), not yet fsync'd.

    after = ArchiveStore(store.root)  # the next writing command
    done = finish_pending(after)
    expected = {"power cut": [], "process killed": records, "torn last line": records[:2]}[crash]
    assert done == {r.id: "completed" if r in expected else "dropped" for r in records}
    live = {p.stem for p in _manifests(store.root)}
    assert live == {_record(0).id, *(r.id for r in expected)}
    if crash == "torn last line":  # verify says so until the next entry sets the torn bytes aside
        assert [f.kind for f in after.audit.verify().findings] == ["incomplete"]
    after.audit.append("verify")  # the next command's entry
    chain = after.audit.verify()
    assert chain.ok, chain.findings
    assert check_store(after, chain).ok
    assert after.audit.head().seq == 2 + len(expected)
    if crash == "torn last line":
        assert list((store.root / "audit" / "torn").iterdir())  # the torn bytes are kept aside, not lost


def test_ingest_killed_at_the_groups_fsync_resumes_with_every_file_archived_once(tmp_path, make_text_pdf, settings,
                                                                              monkeypatch, cli):
    inbox = tmp_path / "eingang"
    for n in range(4):
        make_text_pdf(f"bescheid{n}.pdf", [f"Gebührenbescheid Nummer {n}", "Stadt Musterstadt"], folder=inbox)
    monkeypatch.setattr(run, "AUDIT_GROUP", 100)
    monkeypatch.setattr(run, "AUDIT_GROUP_SECONDS", 3600)  # one group: flushed at the end of the run

    def killed(group):  # the process dies right before the group's fsync
        raise KeyboardInterrupt

    monkeypatch.setattr(SealGroup, "flush", killed)
    with pytest.raises(KeyboardInterrupt):
        pipeline.ingest([inbox], settings)
    monkeypatch.undo()
    root = settings.archive_dir
    journal = Journal(root / "journal.sqlite")
    states = {journal.get(hashlib.sha256(p.read_bytes()).hexdigest()).state for p in inbox.iterdir()}
    journal.close()
    assert states == {JournalState.STARTED}  # nothing was reported stored or archived
    assert _manifests(root) == [] and len(list((root / "records").glob("*/*.json.pending"))) == 4
    # A power cut: the four entries written since the last fsync are lost.
    segment = _segment(root)
    lines = segment.read_bytes().splitlines(keepends=True)
    unsynced = [line for line in lines if json.loads(line)["event"] == "ingested"]
    assert len(unsynced) == 4 and lines[-4:] == unsynced
    segment.write_bytes(b"".join(lines[:-4]))

    report = pipeline.ingest([inbox], settings)
    assert report.count("archived") == 4
    store = ArchiveStore(root)
    assert len(list(store.record_ids())) == 4 and not list((root / "records").glob("*/*.pending"))
    assert [e.event for e in store.audit.latest(4)] == ["ingested"] * 4  # each sealed once, by the rerun
    assert cli("verify").exit_code == 0 and cli("audit", "verify").exit_code == 0
