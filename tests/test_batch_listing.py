"""A batch's records come from the audit index, not a scan of the archive; none is skipped.
Sign-offs and approvals name their person in the Transfervermerk; the index never sees QA."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from aktenarchiv.archive.base import index_document
from aktenarchiv.archive.seal import adopt_unsealed
from aktenarchiv.archive.store import ArchiveStore, manifest_bytes
from aktenarchiv.models import PageText
from aktenarchiv.qa import decide
from aktenarchiv.release import batch_records, listed_records
from aktenarchiv.sampling import batch_sample, sign_off

pytestmark = pytest.mark.slow  # each test ingests two batches


def _as(monkeypatch, user: str) -> None:
    monkeypatch.setenv("LOGNAME", user)  # getpass.getuser() reads it first: the acting person


@pytest.fixture
def two_batches(cli, make_text_pdf, tmp_path, monkeypatch) -> dict[str, list[str]]:
    """Batch s1 of two documents and s2 of one, ingested by "scanner"; batch name → record ids."""
    _as(monkeypatch, "scanner")
    ids = {}
    for name, count in (("s1", 2), ("s2", 1)):
        inbox = tmp_path / name
        for i in range(count):
            make_text_pdf(f"antrag-{name}-{i}.pdf", [f"Bauantrag {name} {i}", "Stadt Musterstadt"], folder=inbox)
        assert cli("ingest", inbox, "--batch", name).exit_code == 0
        ids[name] = [r["id"] for r in json.loads(cli("batch", "show", name, "--json").stdout)["records"]]
    return ids


def test_a_batch_is_read_from_its_list_without_scanning_the_archive(cli, two_batches, archive_dir, monkeypatch):
    def no_scan(self):
        raise AssertionError("the whole archive was read")

    monkeypatch.setattr(ArchiveStore, "iter_records", no_scan)
    store = ArchiveStore(archive_dir)
    assert [r.id for r in batch_records(store, "s1")] == two_batches["s1"] and len(two_batches["s1"]) == 2
    assert [r.id for r in batch_records(store, "s2")] == two_batches["s2"]
    assert json.loads(cli("batch", "show", "s1", "--json").stdout)["documents"] == 2
    assert len(json.loads(cli("qa", "sample", "s1", "--json", "--all").stdout)) >= 1
    assert cli("qa", "--batch", "s2", "--json", "--all").exit_code == 0
    blocked = json.loads(cli("release", "s1", "--json").stdout)  # blocked by its sample, not by a scan
    assert {b["record"] for b in blocked["blockers"]} <= set(two_batches["s1"])


def test_a_record_sealed_before_seals_named_batches_is_still_found(two_batches, archive_dir):
    store = ArchiveStore(archive_dir)
    old = replace(store.read_record(two_batches["s2"][0]), id="ab" * 32, sha256="ab" * 32, batch="s1")
    store.manifest_path(old.id).parent.mkdir(parents=True, exist_ok=True)
    store.manifest_path(old.id).write_bytes(manifest_bytes(old))  # as an archive from before sealing has it
    assert adopt_unsealed(store) == [old.id]  # its seal names no batch
    assert old.id in store.audit.unlisted()
    assert [r.id for r in batch_records(store, "s1")] == [*two_batches["s1"], old.id]


def test_a_listed_record_whose_manifest_is_gone_blocks_the_release(cli, two_batches, archive_dir):
    store = ArchiveStore(archive_dir)
    gone = two_batches["s1"][1]
    store.manifest_path(gone).unlink()
    assert listed_records(store, "s1")[1] == [gone]
    result = cli("release", "s1", "--json")
    assert result.exit_code == 6
    blockers = json.loads(result.stdout)["blockers"]
    assert any(b["record"] == gone and "manifest is gone" in b["reason"] and b["integrity"] for b in blockers)


def test_signoffs_and_approvals_name_their_person_in_the_transfer_note(cli, two_batches, archive_dir, monkeypatch):
    record_id = two_batches["s2"][0]
    note = json.loads(cli("show", record_id, "--json").stdout)["audit"][0]
    assert note["approved_by"] is None
    _as(monkeypatch, "pruefer")
    assert cli("qa", "signoff", record_id[:12]).exit_code == 0
    shown = cli("show", record_id, "--json")
    assert json.loads(shown.stdout)["audit"][0]["approved_by"] == "pruefer"
    assert "pruefer" in cli("show", record_id).stdout
    _as(monkeypatch, "zweite")
    assert cli("qa", "signoff", record_id[:12], "--fail", "Seite 1 abgeschnitten").exit_code == 0
    assert json.loads(cli("show", record_id, "--json").stdout)["audit"][0]["approved_by"] == "pruefer"
    assert cli("qa", "signoff", record_id[:12]).exit_code == 0  # looked again: fine now
    assert json.loads(cli("show", record_id, "--json").stdout)["audit"][0]["approved_by"] == "pruefer, zweite"
    assert cli("verify").exit_code == 0 and cli("audit", "verify").exit_code == 0  # changed through the seal


def test_a_qa_decision_changes_nothing_the_search_index_holds(two_batches, archive_dir, monkeypatch):
    store = ArchiveStore(archive_dir)
    record = store.read_record(two_batches["s2"][0])
    scanned = replace(record, pages=tuple(replace(p, source="ocr", dpi=300, confidence=91.0) for p in record.pages)
                      + (PageText(2, "", "ocr", None, dpi=300, blank=True, issues=("blank",)),))
    _as(monkeypatch, "pruefer")
    approved = decide(scanned, approve=True, text="passt")
    rejected = decide(approved, approve=False, text="neu scannen")
    signed = sign_off(scanned, batch_sample([scanned]), [], True, None)
    assert approved.audit[0]["approved_by"] == "pruefer" and rejected.audit[0]["approved_by"] is None
    assert signed.audit[0]["approved_by"] == "pruefer"
    before = index_document(scanned)
    assert all(index_document(r) == before for r in (approved, rejected, signed))
