"""Migration jobs: legacy folders with metadata, paperless-ngx exports, archive export/import."""

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from aktenarchiv.archive.base import SearchQuery
from aktenarchiv.archive.registry import open_backend
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import load_settings
from aktenarchiv.fsio import sha256_file


@pytest.fixture
def legacy(tmp_path, make_scan, make_text_pdf):
    """A legacy share: scans and PDFs, a CSV with German headers, bad rows, an unlisted file."""
    src = tmp_path / "altbestand"
    make_text_pdf("2019/bauantrag_17.pdf", ["Bauantrag für eine Garage in der Lindenstraße"], folder=src)
    make_text_pdf("2019/rechnung_3.pdf", ["Rechnung über Streusalz für den Winterdienst"], folder=src)
    make_scan("2020/protokoll.png", ["Protokoll der Sitzung des Bauausschusses"], folder=src)
    make_text_pdf("ohne_zeile.pdf", ["Ein Schreiben ohne Zeile in der Tabelle"], folder=src)
    rows = [
        {"Pfad": "2019/bauantrag_17.pdf", "Typ": "Antrag", "Aktenzeichen": "63.2-4711/19",
         "Datum": "05.03.2019", "Titel": "Bauantrag Garage", "Sachbearbeiter": "Frau Weiß"},
        {"Pfad": "2019/rechnung_3.pdf", "Typ": "rechnung", "Aktenzeichen": "20.1-3/19",
         "Datum": "2019-11-30", "Titel": "Streusalz", "Sachbearbeiter": ""},
        {"Pfad": "2020/protokoll.png", "Typ": "protokoll", "Aktenzeichen": "", "Datum": "", "Titel": "",
         "Sachbearbeiter": "Herr Groß"},
        {"Pfad": "2020/fehlt.pdf", "Typ": "bescheid", "Aktenzeichen": "", "Datum": "", "Titel": "",
         "Sachbearbeiter": ""},
        {"Pfad": "2019/rechnung_3.pdf", "Typ": "rechnung", "Aktenzeichen": "", "Datum": "", "Titel": "",
         "Sachbearbeiter": ""},
        {"Pfad": "2019/x.pdf", "Typ": "Raumschiff", "Aktenzeichen": "", "Datum": "", "Titel": "",
         "Sachbearbeiter": ""},
        {"Pfad": "2019/y.pdf", "Typ": "", "Aktenzeichen": "", "Datum": "31.02.2019", "Titel": "",
         "Sachbearbeiter": ""},
    ]
    return src, write_metadata(tmp_path / "metadaten.csv", rows)


def write_metadata(path, rows):
    """A metadata CSV as German Excel writes it (``;``), from dicts with the same keys."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_import_folder_maps_metadata_and_reports_bad_rows(cli, ocr_engine, legacy, archive_dir):
    ocr_engine()
    src, meta = legacy
    dry = cli("migrate", "import-folder", src, "--metadata", meta, "--dry-run", "--json")
    assert dry.exit_code == 4, dry.output
    assert json.loads(dry.stdout)["counts"] == {"would-import": 4, "failed": 4}
    assert not list(archive_dir.glob("records/*/*.json"))
    assert not list(archive_dir.glob("objects/*/*")) and not (archive_dir / "quarantine").exists()

    result = cli("migrate", "import-folder", src, "--metadata", meta, "--json")
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert report["counts"] == {"imported": 4, "failed": 4}
    reasons = sorted(i["reason"] for i in report["items"] if i["status"] == "failed")
    assert any("file not found" in r for r in reasons)
    assert any("listed twice" in r for r in reasons)
    assert any("unknown document type 'Raumschiff'" in r for r in reasons)
    assert any("invalid date '31.02.2019'" in r for r in reasons)
    assert "row 5" in " ".join(i["origin"] or "" for i in report["items"])

    store = ArchiveStore(archive_dir)
    records = {r.source_name: r for r in store.iter_records()}
    antrag = records["bauantrag_17.pdf"]
    assert (antrag.doc_type, antrag.classification.reference, antrag.classification.doc_date, antrag.title) == (
        "antrag", "63.2-4711/19", "2019-03-05", "Bauantrag Garage")
    assert ("Sachbearbeiter", "Frau Weiß") in antrag.extra
    assert records["protokoll.png"].pages[0].source == "ocr"
    assert records["ohne_zeile.pdf"].doc_type is None or records["ohne_zeile.pdf"].classification.method != "import"

    backend = open_backend(load_settings(archive_dir, environ={}))
    hits = backend.search(SearchQuery(text="Garage", reference="63.2-4711/19"))
    assert [h.title for h in hits.hits] == ["Bauantrag Garage"]
    assert backend.search(SearchQuery(text="Streusalz", doc_type="rechnung")).total == 1

    again = json.loads(cli("migrate", "import-folder", src, "--metadata", meta, "--json").stdout)
    assert again["counts"] == {"skipped-as-duplicate": 4, "failed": 4}
    assert len(list(store.record_ids())) == 4


def _paperless_export(root, make_scan, make_text_pdf):
    """An export laid out as paperless-ngx's document_exporter writes it."""
    export = root / "paperless-export"
    export.mkdir()
    docs = []
    original = make_text_pdf("0000001.pdf", ["Gebührenbescheid über die Abfallentsorgung 2023"], folder=export)
    # paperless's archive version (its OCRed PDF/A) is other bytes than the original.
    archive = make_text_pdf("0000001-archive.pdf", ["Gebührenbescheid über die Abfallentsorgung 2023",
                                                    "Archivversion (PDF/A)"], folder=export)
    md5 = lambda p: hashlib.md5(p.read_bytes()).hexdigest()  # noqa: E731
    docs.append({"model": "documents.document", "pk": 1, "fields": {
        "title": "Abfallgebühren 2023", "content": "Gebührenbescheid über die Abfallentsorgung 2023",
        "created": "2023-02-01T00:00:00+01:00", "correspondent": 7, "document_type": 3, "tags": [11, 12],
        "checksum": md5(original), "archive_checksum": md5(archive), "mime_type": "application/pdf",
        "original_filename": "scan_0815.pdf", "archive_serial_number": 815},
        "__exported_file_name__": "0000001.pdf", "__archive_file_name__": "0000001-archive.pdf",
        "__thumbnail_file_name__": "0000001-thumbnail.webp"})
    scan = make_scan("0000002.png", ["Brief an die Bürgerstiftung"], folder=export)
    docs.append({"model": "documents.document", "pk": 2, "fields": {
        "title": "Brief Stiftung", "content": "Brief an die Buergerstiftung wegen Spende",
        "created": "2022-12-24", "correspondent": None, "document_type": 4, "tags": [],
        "checksum": md5(scan), "archive_checksum": None, "mime_type": "image/png"},
        "__exported_file_name__": "0000002.png"})
    bad = make_text_pdf("0000003.pdf", ["Vertrag über die Miete"], folder=export)
    docs.append({"model": "documents.document", "pk": 3, "fields": {
        "title": "Vertrag", "content": "Vertrag", "created": "2021-01-01", "document_type": None, "tags": [],
        "checksum": "0" * 32, "mime_type": "application/pdf"}, "__exported_file_name__": bad.name})
    docs.append({"model": "documents.document", "pk": 4, "fields": {
        "title": "Verloren", "content": "", "created": "2021-01-01", "tags": [], "checksum": "1" * 32},
        "__exported_file_name__": "0000004.pdf"})
    manifest = [
        {"model": "documents.correspondent", "pk": 7, "fields": {"name": "Abfallwirtschaftsbetrieb"}},
        {"model": "documents.tag", "pk": 11, "fields": {"name": "Gebühren"}},
        {"model": "documents.tag", "pk": 12, "fields": {"name": "2023"}},
        {"model": "documents.documenttype", "pk": 3, "fields": {"name": "Gebührenbescheid"}},
        {"model": "documents.documenttype", "pk": 4, "fields": {"name": "Brief"}},
        {"model": "documents.customfield", "pk": 5, "fields": {"name": "Aktenzeichen", "data_type": "string"}},
        {"model": "documents.customfield", "pk": 6, "fields": {"name": "Betrag", "data_type": "monetary"}},
        *docs,
        {"model": "documents.note", "pk": 1, "fields": {"document": 1, "note": "geprüft"}},
        {"model": "documents.customfieldinstance", "pk": 1, "fields": {"document": 1, "field": 5,
                                                                       "value_text": "70.3-2023/17"}},
        {"model": "documents.customfieldinstance", "pk": 2, "fields": {"document": 1, "field": 6,
                                                                       "value_monetary": "EUR123.45"}},
    ]
    (export / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return export


def test_import_paperless(cli, ocr_engine, tmp_path, make_scan, make_text_pdf, archive_dir):
    ocr_engine()
    export = _paperless_export(tmp_path, make_scan, make_text_pdf)
    result = cli("migrate", "import-paperless", export, "--json")
    assert result.exit_code == 4, result.output
    report = json.loads(result.stdout)
    assert report["counts"] == {"imported": 2, "failed": 2}
    failed = {i["origin"]: i["reason"] for i in report["items"] if i["status"] == "failed"}
    assert "checksum mismatch" in failed["paperless document 3"]
    assert "missing from the export" in failed["paperless document 4"]

    records = {dict(r.extra)["paperless_id"]: r for r in ArchiveStore(archive_dir).iter_records()}
    bescheid = records["1"]
    assert (bescheid.title, bescheid.doc_type, bescheid.classification.reference, bescheid.classification.doc_date) \
        == ("Abfallgebühren 2023", "bescheid", "70.3-2023/17", "2023-02-01")
    extra = dict(bescheid.extra)
    assert extra["correspondent"] == "Abfallwirtschaftsbetrieb"
    assert [v for k, v in bescheid.extra if k == "tag"] == ["Gebühren", "2023"]
    assert extra["Betrag"] == "EUR123.45" and extra["note"] == "geprüft"
    # paperless's archive file kept as the archival copy, the original as the original
    assert bescheid.archival_sha256 == sha256_file(export / "0000001-archive.pdf")
    assert bescheid.sha256 == sha256_file(export / "0000001.pdf")
    brief = records["2"]
    assert brief.doc_type == "korrespondenz"
    # paperless's text is kept instead of OCRing again
    assert brief.pages[0].source == "imported" and "Spende" in brief.pages[0].text


def test_export_then_import_into_a_non_empty_archive(cli, ocr_engine, legacy, tmp_path, make_scan, archive_dir):
    ocr_engine()
    src, meta = legacy
    assert cli("migrate", "import-folder", src, "--metadata", meta).exit_code == 4
    dest = tmp_path / "export"
    first = json.loads(cli("migrate", "export", dest, "--json").stdout)
    assert first["counts"] == {"exported": 4}
    assert json.loads((dest / "akte-export.json").read_text())["records"] == 4
    again = json.loads(cli("migrate", "export", dest, "--json").stdout)
    assert again["counts"] == {"skipped-unchanged": 4}  # incremental

    from aktenarchiv.cli import app
    from typer.testing import CliRunner

    other = tmp_path / "anderes-archiv"
    make_scan("eigenes/brief.png", ["Ein eigener Brief im anderen Archiv"])
    runner = CliRunner()
    assert runner.invoke(app, ["--archive", str(other), "ingest", str(tmp_path / "eigenes")]).exit_code == 0
    # Damage one object in the export (not the Bauantrag's): that record must fail, the rest import.
    exported = ArchiveStore(dest)
    victim_id = next(r.id for r in exported.iter_records() if r.doc_type != "antrag")
    victim = dest / exported.read_record(victim_id).original_object
    victim.write_bytes(victim.read_bytes() + b"!")
    result = runner.invoke(app, ["--archive", str(other), "migrate", "import", str(dest), "--json"])
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert report["counts"] == {"imported": 3, "failed": 1}
    store = ArchiveStore(other)
    assert len(list(store.record_ids())) == 4 and store.verify().ok
    imported = [r for r in store.iter_records() if r.doc_type == "antrag"][0]
    assert imported.classification.reference == "63.2-4711/19" and imported.audit[-1]["event"] == "imported"
    backend = open_backend(load_settings(other, environ={}))
    assert backend.search(SearchQuery(text="Garage")).total == 1


@pytest.mark.slow  # two full CLI processes over twelve documents
def test_kill_9_mid_import_then_resume(tmp_path, make_text_pdf, archive_dir):
    # More files than one audit group commit (32 records) holds: manifests go live a group at
    # a time, so with fewer the kill could come only after the whole import was done.
    count = 40
    src = tmp_path / "viele"
    rows = []
    for i in range(count):
        make_text_pdf(f"akte_{i:02d}.pdf", [f"Vorgang Nummer {i} über die Sondernutzung"] * 3, folder=src)
        rows.append({"path": f"akte_{i:02d}.pdf", "type": "antrag", "aktenzeichen": f"32-2024-{i:04d}"})
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(rows))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKTE_")}
    env["AKTE_OCR_WORKERS"] = "1"
    cmd = [sys.executable, "-m", "aktenarchiv", "--archive", str(archive_dir), "migrate", "import-folder",
           str(src), "--metadata", str(meta), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(archive_dir.glob("records/*/*.json"))) < 3:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list(archive_dir.glob("records/*/*.json"))) < count
    done = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    store = ArchiveStore(archive_dir)
    refs = sorted(r.classification.reference for r in store.iter_records())
    assert refs == [f"32-2024-{i:04d}" for i in range(count)]
    assert store.verify().ok
