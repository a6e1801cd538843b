"""Sealed records: changes outside akte, stray and missing files are found by `akte verify` (exit 6), named."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from aktenarchiv.archive.audit import AuditLog
from aktenarchiv.archive.seal import commit_record_change, finish_pending, write_record
from aktenarchiv.archive.store import ArchiveStore, manifest_bytes
from aktenarchiv.cli import app
from aktenarchiv.models import ArchiveRecord, PageText
from drawn_pages import write_text_pdf
from typer.testing import CliRunner


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, list[str]]:
    """Two born-digital letters ingested once per module (no OCR needed): the archive and its record ids.

    An ingest starts worker processes and loads the classifier; every test gets its own
    copy of this archive instead (:func:`archived`), so each test still starts from the
    same untouched, sealed archive.
    """
    base = tmp_path_factory.mktemp("seal")
    for name, line in (("satzung", "Satzung über die Erhebung der Hundesteuer"),
                       ("bescheid", "Bescheid über die Richtigkeit der Angaben")):
        write_text_pdf(base / "eingang" / f"{name}.pdf", [line])
    clean = {key: None for key in os.environ if key.startswith("AKTE_")}
    result = CliRunner().invoke(app, ["--archive", str(base / "archiv"), "ingest", str(base / "eingang")], env=clean)
    assert result.exit_code == 0, result.output
    ids = sorted(ArchiveStore(base / "archiv").record_ids())
    assert len(ids) == 2
    return base / "archiv", ids


@pytest.fixture
def archived(pristine, archive_dir) -> list[str]:
    """A fresh copy of the pristine two-record archive at ``archive_dir``; returns the record ids."""
    shutil.copytree(pristine[0], archive_dir, symlinks=True)
    return pristine[1]


def findings(cli) -> list[dict]:
    result = cli("verify", "--json")
    assert result.exit_code == 6, result.stderr
    assert "integrity check failed" in result.stderr
    return json.loads(result.stdout)["findings"]


def test_a_fresh_archive_verifies_and_every_record_is_sealed(cli, archived, archive_dir):
    result = cli("verify", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["findings"] == []
    log = AuditLog(archive_dir)
    for record_id in archived:
        [sealed] = [e for e in log.entries_for(record_id) if e.event == "ingested"]
        assert sealed.details["manifest_sha256"] == log.sealed_hash(record_id)
        assert sealed.details["pages"] == 1 and sealed.actor


@pytest.mark.parametrize("edit", [
    ("ocr text", lambda m: m["pages"][0].update(text=m["pages"][0]["text"].replace("e", "x", 1))),
    ("title", lambda m: m.update(title="Anderer Titel")),
    ("document type", lambda m: m["classification"].update(doc_type="rechnung")),
    ("transfer note", lambda m: m["audit"][0].update(user="jemand")),
    ("hash", lambda m: m.update(archival_sha256="0" * 64)),
    ("new field", lambda m: m.update(bemerkung="nachgetragen")),
])
def test_any_edit_of_a_manifest_is_named(cli, archived, archive_dir, edit):
    store = ArchiveStore(archive_dir)
    target = archived[1]
    path = store.manifest_path(target)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit[1](manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    found = [f for f in findings(cli) if f["kind"] == "altered" and f["where"].startswith("records/")]
    assert [f["records"] for f in found] == [[target]], edit[0]


def test_whitespace_in_a_manifest_counts_too(cli, archived, archive_dir):
    path = ArchiveStore(archive_dir).manifest_path(archived[0])
    path.write_bytes(path.read_bytes() + b"\n")
    assert [f["records"] for f in findings(cli)] == [[archived[0]]]


@pytest.mark.parametrize("rel", [
    "objects/stray.bin", "objects/ab/notes.txt", "objects/ab/deeper/x", "objects/abc/" + "a" * 64,
    "archival/ab/" + "a" * 64 + ".txt", "archival/readme", "records/ab/foo.json", "records/zz/x.json",
    "records/readme.txt", "Thumbs.db", "neu/scan.pdf", "audit/00000001.jsonl.bak",
])
def test_a_stray_file_anywhere_is_named(cli, archived, archive_dir, rel):
    target = archive_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"x")
    found = findings(cli)
    assert [f["kind"] for f in found] == ["stray"]
    where = found[0]["where"]
    assert rel == where or rel.startswith(where + "/"), where  # the file, or the folder that holds it


def test_a_removed_manifest_and_a_removed_audit_line(cli, archived, archive_dir):
    store = ArchiveStore(archive_dir)
    store.manifest_path(archived[0]).unlink()
    found = findings(cli)
    assert {"kind": "missing", "records": [archived[0]]}.items() <= found[0].items() or any(
        f["kind"] == "missing" and f["records"] == [archived[0]] for f in found)
    # Restore nothing; now delete the seal line of the other record from the audit log.
    segment = archive_dir / "audit" / "00000001.jsonl"
    lines = segment.read_bytes().splitlines(keepends=True)
    keep = [line for line in lines if not (archived[1].encode() in line and b'"ingested"' in line)]
    segment.write_bytes(b"".join(keep))
    kinds = {(f["kind"], tuple(f["records"])) for f in findings(cli)}
    assert ("removed", (archived[1],)) in kinds and ("unsealed", (archived[1],)) in kinds


def test_reordered_audit_lines_fail_verify(cli, archived, archive_dir):
    segment = archive_dir / "audit" / "00000001.jsonl"
    lines = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(b"".join([lines[1], lines[0], *lines[2:]]))
    assert any(f["kind"] == "reordered" for f in findings(cli))
    assert cli("audit", "verify").exit_code == 6


def test_reads_labels_and_verify_runs_are_logged(cli, archived, archive_dir, tmp_path):
    record = archived[0]
    assert cli("show", record[:10]).exit_code == 0
    assert cli("get", record[:10], "-o", tmp_path / "out.pdf").exit_code == 0
    assert cli("label", record[:10], "bescheid", "--note", "Bescheid, kein Brief").exit_code == 0
    trail = json.loads(cli("audit", "show", record[:10], "--json").stdout)
    events = [(e["event"], e["details"].get("what")) for e in trail]
    assert events == [("ingested", None), ("read", "show"), ("read", "get"), ("label", None)]
    assert trail[3]["details"]["to_type"] == "bescheid" and trail[3]["details"]["note"] == "Bescheid, kein Brief"
    assert cli("verify").exit_code == 0  # the label went through the seal
    assert AuditLog(archive_dir).latest(1)[0].event == "verify"


def test_label_refuses_a_manifest_changed_outside_akte(cli, archived, archive_dir):
    path = ArchiveStore(archive_dir).manifest_path(archived[0])
    path.write_bytes(path.read_bytes().replace(b'"title": "', b'"title": "X'))
    result = cli("label", archived[0][:10], "bescheid")
    assert result.exit_code == 6 and "differs from its seal" in result.stderr
    assert b'"title": "X' in path.read_bytes(), "the evidence stays as it was"


def test_a_change_interrupted_after_its_audit_entry_is_completed(cli, archived, archive_dir, monkeypatch):
    from dataclasses import replace

    import aktenarchiv.archive.seal as seal

    store = ArchiveStore(archive_dir)
    record = store.read_record(archived[0])
    changed = replace(record, title="Neuer Titel")

    def power_cut(pending, manifest):  # the machine stops between the audit entry and the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(seal, "_go_live", power_cut)
    with pytest.raises(KeyboardInterrupt):
        commit_record_change(store, changed, "label")
    monkeypatch.undo()
    result = cli("verify")
    assert result.exit_code == 0 and "interrupted change is pending" in result.stderr
    assert finish_pending(ArchiveStore(archive_dir)) == {archived[0]: "completed"}
    assert store.read_record(archived[0]).title == "Neuer Titel"
    assert cli("verify").exit_code == 0


def test_a_change_interrupted_before_its_audit_entry_never_happened(cli, archived, archive_dir):
    store = ArchiveStore(archive_dir)
    record = store.read_record(archived[0])
    pending = store.manifest_path(record.id).with_name(record.id + ".json.pending")
    from dataclasses import replace

    pending.write_bytes(manifest_bytes(replace(record, title="Nie geschehen")))  # as a crash leaves it
    assert cli("verify").exit_code == 0
    assert finish_pending(store) == {record.id: "dropped"}
    assert not pending.exists() and store.read_record(record.id).title == record.title


def test_export_import_keeps_records_sealed(cli, archived, archive_dir, tmp_path):
    assert cli("migrate", "export", tmp_path / "usb").exit_code == 0
    target = tmp_path / "neu"
    result = cli("--archive", target, "migrate", "import", tmp_path / "usb")
    assert result.exit_code == 0, result.stderr
    log = AuditLog(target)
    assert [e.event for e in log.entries_for(archived[0])] == ["imported"]
    assert cli("--archive", target, "verify").exit_code == 0


def test_an_archive_from_before_sealing_is_adopted(cli, archived, archive_dir):
    import shutil

    shutil.rmtree(archive_dir / "audit")  # as an archive made by an older akte looks
    kinds = sorted((f["kind"], f["records"][0]) for f in findings(cli))
    assert kinds == sorted(("unsealed", r) for r in archived)
    result = cli("audit", "adopt")
    assert result.exit_code == 0 and "2 record(s) sealed" in result.stderr
    assert cli("verify").exit_code == 0
    assert [e.event for e in AuditLog(archive_dir).entries_for(archived[0])] == ["adopted"]


def test_transfer_note_is_sealed_shown_and_embedded_in_the_pdfa(cli, make_scan, tmp_path, archive_dir):
    from aktenarchiv.archive.xmp import read_transfer_note

    archive_dir.mkdir(parents=True)
    (archive_dir / "akte.toml").write_text('[transfer]\nscanner = "Fujitsu fi-7160"\nprofile = "300 dpi grau"\n')
    make_scan("eingang/antrag.png")
    result = cli("ingest", tmp_path / "eingang", "--schutzbedarf", "hoch", "--operator", "Frau Müßig")
    assert result.exit_code == 0, result.stderr
    [record_id] = ArchiveStore(archive_dir).record_ids()
    note = json.loads(cli("show", record_id, "--json").stdout)["audit"][0]
    assert (note["operator"], note["scanner"], note["profile"]) == ("Frau Müßig", "Fujitsu fi-7160", "300 dpi grau")
    assert note["schutzbedarf"] == "hoch" and note["pages"] == 1 and note["approved_by"] is None
    assert note["checks"]["second_person"] and not note["checks"]["four_eyes"]
    assert note["checks"]["sample_share"] == 0.2
    shown = cli("show", record_id).stdout
    assert "Transfervermerk" in shown and "Fujitsu fi-7160" in shown and "schutzbedarf" in shown
    pdf = tmp_path / "akte.pdf"
    assert cli("get", record_id, "-o", pdf).exit_code == 0
    assert read_transfer_note(pdf) == note, "a PDF handed out carries the sealed note"
    import pikepdf

    with pikepdf.open(pdf) as handed_out:
        xmp = handed_out.Root.Metadata.read_bytes()
        assert "/Filter" not in handed_out.Root.Metadata.stream_dict  # PDF/A: metadata stays uncompressed
    assert b"pdfaid:part>2<" in xmp and b"pdfaExtension:schemas" in xmp and b"akteTV:Operator" in xmp
    assert cli("verify").exit_code == 0  # the stored archival PDF is the one with the note
    bad = cli("ingest", tmp_path / "eingang", "--schutzbedarf", "mittel")
    assert bad.exit_code == 2


def test_quarantined_inputs_are_in_the_chain(cli, tmp_path, archive_dir):
    bad = tmp_path / "eingang" / "kaputt.pdf"
    bad.parent.mkdir()
    bad.write_bytes(b"%PDF-1.7\n1 0 obj\n<<")  # truncated
    assert cli("ingest", bad.parent).exit_code == 4
    [entry] = [e for e in AuditLog(archive_dir).latest(10) if e.event == "quarantined"]
    assert entry.details["source_path"] == str(bad) and entry.details["kept"].startswith("quarantine/")
    assert cli("verify").exit_code == 0  # quarantine/ is the archive's own


def test_every_manifest_write_is_sealed(archive_dir):
    """Code that writes a manifest through the store (other commands, fixtures) seals it too."""
    sha = "d" * 64
    store = ArchiveStore(archive_dir)
    record = ArchiveRecord(id=sha, sha256=sha, source_name="x.pdf", media_type="application/pdf", size=1,
                           page_count=1, ingested_at="2024-03-05T10:00:00+00:00", title="x",
                           original_object=f"objects/dd/{sha}", archival_object=None, archival_sha256=None,
                           pages=(PageText(1, "x", "ocr", 90.0),), engine="t")
    write_record(store, record, "qa-approve", {"by": "pruefer"})
    [entry] = AuditLog(archive_dir).entries_for(sha)
    assert entry.event == "qa-approve" and entry.details["by"] == "pruefer"
    assert entry.details["manifest_sha256"] == hashlib.sha256(manifest_bytes(record)).hexdigest()


def test_samples_follow_the_protection_need_and_can_be_recomputed(settings):
    from dataclasses import replace

    from aktenarchiv.ocr.transfer import check_plan, sample_draw

    normal = check_plan("a" * 64, 4000, "normal", settings)
    assert 0.035 < len(normal["sample_pages"]) / 4000 < 0.065 and not normal["second_person"]
    again = [n for n in range(1, 4001) if sample_draw(normal["seed"], n) < normal["sample_share"]]
    assert again == normal["sample_pages"], "an auditor recomputes the sample from the recorded seed"
    assert check_plan("a" * 64, 4000, "normal", settings)["seed"] != normal["seed"], "a fresh draw per record"
    hoch = check_plan("a" * 64, 4000, "hoch", settings)
    assert 0.17 < len(hoch["sample_pages"]) / 4000 < 0.23 and hoch["second_person"]
    full = check_plan("a" * 64, 7, "sehr-hoch", settings)
    assert full["sample_pages"] == list(range(1, 8)) and full["four_eyes"]
    tuned = replace(settings, transfer=replace(settings.transfer, sample_normal=0.5))
    assert 0.45 < len(check_plan("b" * 64, 2000, "normal", tuned)["sample_pages"]) / 2000 < 0.55
