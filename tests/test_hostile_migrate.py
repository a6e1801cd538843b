"""Hostile migration sources (issue 8, items 6-8 and dry runs): real exports made at test time.

Every attack must end as a failed (or conflicting) item with its reason, exit 4 when some
items fail, exit 2 for an unusable source file, nothing outside the target archive created,
changed or read into it, existing records unchanged, ``akte verify`` clean, no traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.cli import app
from aktenarchiv.ingest.journal import Journal
from typer.testing import CliRunner

SECRET = "Geheimes Personalgespräch, nur für die Amtsleitung"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path, skip: Path | None = None) -> dict[str, tuple]:
    """Every entry under ``root`` (except ``skip``) with its kind, content hash, mode and mtime."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if skip is not None and (path == skip or skip in path.parents):
                continue
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[str(path.relative_to(root))] = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                found[str(path.relative_to(root))] = ("file", sha256(path), st.st_mode, st.st_mtime_ns)
            else:
                found[str(path.relative_to(root))] = ("other", stat.S_IFMT(st.st_mode), st.st_mode)
    return found


@pytest.fixture
def akte(cli):
    """Run ``akte --archive ARCHIVE …`` in-process (``cli`` cleans the environment); no traceback, ever."""
    runner = CliRunner()

    def run(archive: Path, *args):
        result = runner.invoke(app, ["--archive", str(archive), *map(str, args)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        return result

    return run


def said(result, text: str) -> bool:
    """True when the command printed ``text`` (rich wraps long lines, so whitespace is ignored)."""
    return "".join(text.split()) in "".join(result.output.split())


def existing_record(akte, archive: Path, make_text_pdf) -> tuple[Path, bytes]:
    """Ingest one record of the archive's own; returns its manifest and the manifest's bytes."""
    own = make_text_pdf("eigen/brief.pdf", ["Ein eigener Brief, der nicht ersetzt werden darf"])
    assert akte(archive, "ingest", own.parent).exit_code == 0
    manifest = archive / "records" / sha256(own)[:2] / f"{sha256(own)}.json"
    return manifest, manifest.read_bytes()


def _items(result) -> dict[str, dict]:
    report = json.loads(result.stdout)
    return {(i["id"] or i["origin"] or i["path"]): i for i in report["items"]}


# -- migrate import (item 7) ----------------------------------------------------------------


def _edit(manifest: Path, **changes) -> None:
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data.update(changes)
    manifest.write_text(json.dumps(data), encoding="utf-8")


def test_import_of_a_hostile_export(akte, tmp_path, make_text_pdf):
    names = ["gut", "dotdot", "absolut", "symlink", "verfaelscht", "typen", "latin1", "liste", "fremde_id",
             "manifest_link", "datum"]
    src = tmp_path / "scans"
    files = {n: make_text_pdf(f"{n}.pdf", [f"Vorgang {n} über die Sondernutzung der Lindenstraße"], folder=src)
             for n in names}
    ids = {n: sha256(p) for n, p in files.items()}
    source, export, target = tmp_path / "quelle", tmp_path / "export", tmp_path / "ziel"
    assert akte(source, "ingest", src).exit_code == 0
    assert akte(source, "migrate", "export", export).exit_code == 0
    own_manifest, own_before = existing_record(akte, target, make_text_pdf)  # the target's own record
    own_id = own_manifest.stem
    own = tmp_path / "eigen" / "brief.pdf"

    outside = tmp_path / "draussen"
    outside.mkdir()
    (outside / "ESC_ORIG").write_text(SECRET, encoding="utf-8")
    manifest = {n: export / "records" / i[:2] / f"{i}.json" for n, i in ids.items()}
    obj = {n: export / "objects" / i[:2] / i for n, i in ids.items()}
    # Paths that climb out of the export, or are absolute.
    _edit(manifest["dotdot"], original_object="../draussen/ESC_ORIG")
    esc = sha256(outside / "ESC_ORIG")  # a manifest made for the outside file, hashes and all
    escaping = export / "records" / esc[:2] / f"{esc}.json"
    escaping.parent.mkdir(exist_ok=True)
    escaping.write_bytes(manifest["gut"].read_bytes())
    _edit(escaping, id=esc, sha256=esc, size=(outside / "ESC_ORIG").stat().st_size,
          original_object="../draussen/ESC_ORIG",
          archival_object="../draussen/ESC_ORIG", archival_sha256=esc)
    _edit(manifest["absolut"], archival_object=str(outside / "ESC_ORIG"), archival_sha256=sha256(outside / "ESC_ORIG"))
    # An object that is a symlink to a file outside (with the right bytes, even).
    shutil.copy(obj["symlink"], outside / "copy.pdf")
    obj["symlink"].unlink()
    obj["symlink"].symlink_to(outside / "copy.pdf")
    # Altered bytes, wrong types, a latin-1 manifest, a manifest that is no object.
    obj["verfaelscht"].write_bytes(obj["verfaelscht"].read_bytes() + b"%")
    _edit(manifest["typen"], title=5, pages="keine")
    _edit(manifest["datum"], ingested_at="gestern")
    manifest["latin1"].write_bytes('{"title": "Gebühren"}'.encode("latin-1"))
    manifest["liste"].write_text("[1, 2, 3]")
    # A manifest that claims another id; a manifest under a name that is no id.
    _edit(manifest["fremde_id"], id=ids["gut"], sha256=ids["gut"])
    (export / "records" / "zz").mkdir()
    (export / "records" / "zz" / "ESC.json").write_bytes(manifest["gut"].read_bytes())
    # A manifest that is a symlink to one outside.
    shutil.move(manifest["manifest_link"], outside / "manifest.json")
    manifest["manifest_link"].symlink_to(outside / "manifest.json")
    # The target's own record, carried in by the export with a different title: a conflict.
    own_in_export = export / "records" / own_id[:2] / f"{own_id}.json"
    own_in_export.parent.mkdir(exist_ok=True)
    own_in_export.write_bytes(own_before)
    _edit(own_in_export, title="Gefälscht")
    (export / "objects" / own_id[:2]).mkdir(exist_ok=True)
    shutil.copy(own, export / "objects" / own_id[:2] / own_id)

    before = snapshot(tmp_path, skip=target)
    dry = akte(target, "migrate", "import", export, "--dry-run", "--json")
    result = akte(target, "migrate", "import", export, "--json")
    assert snapshot(tmp_path, skip=target) == before

    assert dry.exit_code == result.exit_code == 4, result.output
    items = _items(result)
    assert items[ids["gut"]]["status"] == "imported"
    expected = {
        "dotdot": "original_object '../draussen/ESC_ORIG' is not objects/",
        "absolut": "is not archival/ab/<its sha256>.pdf",
        "symlink": "symlink that leaves the source folder",
        "verfaelscht": "does not match its hash",
        "typen": "'title' has the wrong type",
        "latin1": "utf-8",
        "liste": "manifest is not an object",
        "fremde_id": "not its file name",
        "manifest_link": "symlink that leaves the source folder",
        "datum": "ingested_at or the document date is not an ISO date",
    }
    for name, reason in expected.items():
        assert items[ids[name]]["status"] == "failed", (name, items[ids[name]])
        assert reason in items[ids[name]]["reason"], (name, items[ids[name]]["reason"])
    assert items["ESC"]["status"] == "failed" and "not a record id" in items["ESC"]["reason"]
    assert items[esc]["status"] == "failed" and "is not objects/" in items[esc]["reason"]
    assert items[own_id]["status"] == "conflict" and "differs in: title" in items[own_id]["reason"]
    assert {i["status"] for i in _items(dry).values()} == {"would-import", "failed", "conflict"}

    store = ArchiveStore(target)
    assert own_manifest.read_bytes() == own_before
    assert sorted(store.record_ids()) == sorted({own_id, ids["gut"]})
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in target.rglob("*") if p.is_file())
    assert akte(target, "verify").exit_code == 0

    # Running it again changes nothing: what is here is skipped, the rest still fails.
    again = _items(akte(target, "migrate", "import", export, "--json"))
    assert again[ids["gut"]]["status"] == "skipped-as-duplicate"
    assert again[own_id]["status"] == "conflict" and own_manifest.read_bytes() == own_before


def test_import_refuses_a_descriptor_that_is_not_ours(akte, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "akte-export.json").write_text('["aktenarchiv-export", 1]')
    result = akte(tmp_path / "ziel", "migrate", "import", export)
    assert result.exit_code == 2 and said(result, "akte-export.json is not a JSON object")
    (export / "akte-export.json").write_text('{"format": "aktenarchiv-export", "version": {"major": 1}}')
    assert akte(tmp_path / "ziel", "migrate", "import", export).exit_code == 2
    assert not (tmp_path / "ziel").exists()


# -- migrate import-paperless (items 6 and 8) -------------------------------------------------


def _doc(pk, name, **fields):
    base = {"title": f"Dokument {pk}", "content": f"Text von Dokument {pk}", "created": "2023-02-01",
            "tags": [], "checksum": None}
    base.update(fields)
    return {"model": "documents.document", "pk": pk, "fields": base, "__exported_file_name__": name}


def test_import_paperless_hostile_manifest(akte, tmp_path, make_text_pdf, make_scan, archive_dir):
    export = tmp_path / "paperless"
    make_text_pdf("0000001.pdf", ["Gebührenbescheid über die Abfallentsorgung 2023"], folder=export)
    make_text_pdf("0000002.pdf", ["Ein Vertrag über die Miete des Bauhofs"], folder=export)
    outside = tmp_path / "draussen"
    png = make_scan("geheim.png", [SECRET], folder=outside)
    pdf = make_text_pdf("geheim.pdf", [SECRET], folder=outside)
    (outside / "geheim.txt").write_text(SECRET, encoding="utf-8")
    (export / "verweis.pdf").symlink_to(pdf)
    os.mkfifo(export / "0000009.pdf")
    archived = _doc(4, "0000002.pdf")
    archived["__archive_file_name__"] = "../draussen/geheim.pdf"
    odd_fields = _doc(7, "0000001.pdf")
    odd_fields["fields"] = "kaputt"
    manifest = [
        {"model": "documents.tag", "pk": "x", "fields": {"name": "Steuer"}},
        {"model": "documents.tag", "pk": 11, "fields": {"name": "Gebühren"}},
        _doc(1, "0000001.pdf", tags=[11]),
        _doc(2, "../draussen/geheim.png"),
        _doc(3, str(png)),
        archived,
        _doc(5, "verweis.pdf"),
        _doc(6, "../../draussen/geheim.txt"),
        odd_fields,
        _doc(8, "0000001.pdf", tags=5),
        _doc({"a": 1}, "0000001.pdf"),
        _doc(10, 5),
        _doc(11, "0000009.pdf"),
        _doc(12, "0000001.pdf", checksum=5),
        _doc(13, "0000001.pdf", created="gestern"),
        _doc(14, "0000001.pdf", checksum="../" * 10),
        42,
    ]
    (export / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    own_manifest, own_before = existing_record(akte, archive_dir, make_text_pdf)
    before = snapshot(tmp_path, skip=archive_dir)
    result = akte(archive_dir, "migrate", "import-paperless", export, "--json")
    assert snapshot(tmp_path, skip=archive_dir) == before
    assert result.exit_code == 4, result.output
    items = _items(result)
    assert json.loads(result.stdout)["counts"] == {"imported": 1, "failed": 15}
    expected = {
        "paperless documents.tag 'x'": "pk 'x' is not an integer",
        "paperless document 2": "climbs out with '..'",
        "paperless document 3": "absolute path",
        "paperless document 4": "__archive_file_name__: path '../draussen/geheim.pdf' climbs out",
        "paperless document 5": "symlink that leaves the source folder",
        "paperless document 6": "climbs out with '..'",
        "paperless document 7": "'fields' is not an object",
        "paperless document 8": "field 'tags' has an unexpected value 5",
        "paperless document {'a': 1}": "pk {'a': 1} is not an integer",
        "paperless document 10": "file name is not a string: 5",
        "paperless document 11": "is not a regular file",
        "paperless document 12": "field 'checksum' has an unexpected value 5",
        "paperless document 13": "'created' is not a date",
        "paperless document 14": "not an MD5 or SHA-256 hex digest",
        "paperless manifest": "element is not an object: 42",
    }
    for origin, reason in expected.items():
        assert items[origin]["status"] == "failed" and reason in items[origin]["reason"], (origin, items[origin])
    record = next(r for r in ArchiveStore(archive_dir).iter_records() if r.title == "Dokument 1")
    assert ("tag", "Gebühren") in record.extra and own_manifest.read_bytes() == own_before
    stored = b"".join(p.read_bytes() for p in archive_dir.rglob("*") if p.is_file())
    assert SECRET.encode() not in stored and png.read_bytes() not in stored and pdf.read_bytes() not in stored
    assert not (archive_dir / "quarantine").exists()
    assert akte(archive_dir, "verify").exit_code == 0


def test_import_paperless_unreadable_manifest_is_a_clear_file_error(akte, tmp_path, archive_dir):
    export = tmp_path / "paperless"
    export.mkdir()
    (export / "manifest.json").write_bytes('[{"model": "documents.tag", "pk": 1, "fields": {"name": "Gebühren"}}]'
                                           .encode("latin-1"))
    result = akte(archive_dir, "migrate", "import-paperless", export)
    assert result.exit_code == 2 and said(result, "manifest.json: not utf-8 text")
    (export / "manifest.json").write_text('{"model": "documents.tag"}')
    result = akte(archive_dir, "migrate", "import-paperless", export)
    assert result.exit_code == 2 and said(result, "expected a JSON array")
    assert not archive_dir.exists()


# -- migrate import-folder (items 6 and 8) ----------------------------------------------------


def test_import_folder_reads_cp1252_and_refuses_paths_leaving_the_folder(akte, tmp_path, make_text_pdf, archive_dir):
    src = tmp_path / "altablage"
    make_text_pdf("Bescheid_Müller.pdf", ["Gebührenbescheid für Herrn Müller"], folder=src)
    make_text_pdf("rechnung.pdf", ["Rechnung über Streusalz für den Winterdienst"], folder=src)
    outside = tmp_path / "draussen"
    secret = make_text_pdf("geheim.pdf", [SECRET], folder=outside)
    (src / "verweis.pdf").symlink_to(secret)
    (src / "gelistet.pdf").symlink_to(secret)
    os.mkfifo(src / "rohr.pdf")
    meta = tmp_path / "metadaten.csv"
    rows = ["Pfad;Typ;Titel;Sachbearbeiter", "Bescheid_Müller.pdf;Bescheid;Gebührenbescheid Müßig;Frau Weiß",
            "rechnung.pdf;rechnung;Streusalz;", "../draussen/geheim.pdf;bescheid;;", f"{secret};bescheid;;",
            "gelistet.pdf;;;"]
    meta.write_bytes("\r\n".join(rows).encode("cp1252"))

    refused = akte(archive_dir, "migrate", "import-folder", src, "--metadata", meta, "--encoding", "utf-8")
    assert refused.exit_code == 2 and said(refused, "not readable as utf-8: byte")
    assert akte(archive_dir, "migrate", "import-folder", src, "--metadata", meta, "--encoding", "klingonisch").exit_code == 1
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\r\n".join(rows).encode("utf-8-sig"))
    dry = akte(archive_dir, "migrate", "import-folder", src, "--metadata", bom, "--dry-run", "--json")
    assert json.loads(dry.stdout)["counts"]["would-import"] == 2 and not archive_dir.exists()

    own_manifest, own_before = existing_record(akte, archive_dir, make_text_pdf)
    before = snapshot(tmp_path, skip=archive_dir)
    result = akte(archive_dir, "migrate", "import-folder", src, "--metadata", meta, "--json")
    assert snapshot(tmp_path, skip=archive_dir) == before
    assert result.exit_code == 4, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["imported"] == 2
    reasons = {i["origin"]: i["reason"] for i in report["items"] if i["status"] == "failed"}
    assert "climbs out with '..'" in reasons["metadaten.csv row 4"]
    assert "absolute path" in reasons["metadaten.csv row 5"]
    assert "symlink that leaves the source folder" in reasons["metadaten.csv row 6"]
    assert "is not a regular file" in reasons["rohr.pdf (no metadata row)"]
    records = {r.source_name: r for r in ArchiveStore(archive_dir).iter_records()}
    assert set(records) == {"Bescheid_Müller.pdf", "rechnung.pdf", "brief.pdf"}
    assert own_manifest.read_bytes() == own_before
    assert records["Bescheid_Müller.pdf"].title == "Gebührenbescheid Müßig"
    assert ("Sachbearbeiter", "Frau Weiß") in records["Bescheid_Müller.pdf"].extra
    stored = b"".join(p.read_bytes() for p in archive_dir.rglob("*") if p.is_file())
    assert secret.read_bytes() not in stored and SECRET.encode() not in stored
    assert akte(archive_dir, "verify").exit_code == 0

    garbage = tmp_path / "kaputt.csv"
    garbage.write_bytes(b"Pfad;Titel\r\nrechnung.pdf;\x81\x8d\xff\r\n")
    result = akte(archive_dir, "migrate", "import-folder", src, "--metadata", garbage)
    assert result.exit_code == 2 and said(result, "neither UTF-8 nor Windows-1252")


# -- dry runs ---------------------------------------------------------------------------------


def test_dry_runs_write_nothing(akte, tmp_path, make_text_pdf):
    src = tmp_path / "scans"
    first = make_text_pdf("erste.pdf", ["Ein Antrag auf Sondernutzung"], folder=src)
    archive, export, paperless = tmp_path / "archiv", tmp_path / "export", tmp_path / "paperless"
    assert akte(archive, "ingest", src).exit_code == 0
    assert akte(archive, "migrate", "export", export).exit_code == 0
    make_text_pdf("0000001.pdf", ["Ein Bescheid aus paperless"], folder=paperless)
    (paperless / "manifest.json").write_text(json.dumps([_doc(1, "0000001.pdf")]))
    make_text_pdf("zweite.pdf", ["Ein zweiter Antrag, noch nicht archiviert"], folder=src)
    journal = Journal(archive / "journal.sqlite")  # a record waiting for the index, as after an outage
    journal.mark(sha256(first), str(first), "stored", sha256(first))
    journal.close()
    jobs = [("import-folder", src), ("import-paperless", paperless), ("import", export)]

    fresh = tmp_path / "neu"
    for job in jobs:
        result = akte(fresh, "migrate", *job, "--dry-run", "--json")
        assert result.exit_code == 0 and "would-import" in json.loads(result.stdout)["counts"], result.output
        assert not fresh.exists(), job

    before = snapshot(archive)
    for job in jobs:
        result = akte(archive, "migrate", *job, "--dry-run", "--json")
        assert result.exit_code == 0, result.output
    assert snapshot(archive) == before
