"""Batch files split into documents at separator sheets (real zxing-cpp, Tesseract, ocrmypdf)."""

from __future__ import annotations

import json

import pikepdf
import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import ScanSettings
from aktenarchiv.ingest.journal import Journal
from aktenarchiv.models import OcrResult, PageText, document_id
from aktenarchiv.ocr.split import split_documents
from drawn_pages import barcode_sheet, blank_back, letter_page
from PIL import Image


def _pdf(path, pages: int):
    pdf = pikepdf.new()
    for number in range(pages):
        pdf.add_blank_page(page_size=(200 + number, 300))  # the width tells the pages apart
    pdf.save(path)
    return str(path)


def test_documents_get_their_pages_renumbered_and_their_part_of_the_archival_pdf(tmp_path):
    page = lambda n, **kw: PageText(n, f"Seite {n}", "ocr", 90.0, dpi=300, **kw)  # noqa: E731
    pages = (page(1, separator="PATCHT"), page(2), page(3, blank=True, in_archival=False),
             page(4, separator="AZ:63.2-4711/24"), page(5), page(6))
    archival = _pdf(tmp_path / "batch.pdf", 5)  # page 3 was dropped from it
    ocr = OcrResult("ab" * 32, pages, "tesseract", archival, "PDF/A-2B")
    first, second = split_documents(ocr, ScanSettings(), tmp_path / "work")
    assert (first.pages, first.reference, second.pages, second.reference) == ((2, 3), None, (5, 6), "63.2-4711/24")
    assert [p.number for p in second.ocr.pages] == [1, 2] and second.ocr.pages[0].text == "Seite 5"
    assert first.separators == second.separators == (1, 4)
    with pikepdf.open(first.ocr.archival_pdf) as pdf:
        assert [int(p.mediabox[2]) for p in pdf.pages] == [201]  # batch page 2; page 3 stays dropped
    with pikepdf.open(second.ocr.archival_pdf) as pdf:
        assert [int(p.mediabox[2]) for p in pdf.pages] == [203, 204]
    assert split_documents(OcrResult("ab" * 32, (page(1), page(2)), "t", archival), ScanSettings(),
                           tmp_path / "w2") is None


@pytest.fixture
def batch_file(tmp_path):
    """Three documents with separator sheets (one names the Aktenzeichen, one is fed sideways)."""
    path = tmp_path / "eingang" / "stapel.tiff"
    path.parent.mkdir()
    pages = [
        barcode_sheet("PATCHT"),
        letter_page(["Bauantrag für das Grundstück", "Müllerstraße 12"]),
        letter_page(["Anlage: Lageplan", "Flurstück 4711"]),
        barcode_sheet("AZ:63.2-4711/24"),
        letter_page(["Widerspruch gegen den Gebührenbescheid", "vom 5. März 2024"]),
        blank_back(seed=9),
        barcode_sheet("PATCHT").transpose(Image.Transpose.ROTATE_90),
        letter_page(["Rechnung Nr. 2024-17", "Müllabfuhr erstes Quartal"]),
    ]
    pages[0].save(path, save_all=True, append_images=pages[1:], dpi=(150, 150), compression="tiff_lzw")
    return path


@pytest.mark.slow
def test_a_batch_file_becomes_one_record_per_document(cli, archive_dir, batch_file, tmp_path):
    result = cli("ingest", batch_file, "--batch", "stapel-1", "--expect-pages", "8", "--json")
    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)["outcomes"][0]
    store = ArchiveStore(archive_dir)
    records = sorted(store.iter_records(), key=lambda r: r.source_pages)
    assert [r.source_pages for r in records] == [(2, 3), (5, 6), (8,)]
    sha = records[0].sha256
    assert all(r.sha256 == sha and r.id == document_id(sha, r.source_pages) for r in records)
    assert outcome["record_id"] == records[0].id
    assert [r.separator_pages for r in records] == [(1, 4, 7)] * 3
    assert records[1].classification.reference == "63.2-4711/24"
    assert "Lageplan" in records[0].pages[1].text and records[1].pages[1].blank
    assert "Rechnung" in records[2].pages[0].text and records[2].page_count == 1
    for record in records:
        with pikepdf.open(store.path(record.archival_object)) as pdf:
            assert len(pdf.pages) == record.page_count
    # One original for all, byte-exact; verify accepts the derived ids.
    assert len({r.original_object for r in records}) == 1
    assert cli("verify").exit_code == 0
    summary = json.loads(cli("batch", "show", "stapel-1", "--json").stdout)
    assert (summary["documents"], summary["pages"], summary["separator_pages"]) == (3, 8, 3)
    assert summary["complete"] is True
    # Exported and imported elsewhere: the derived ids and the scan-station fields pass the import's checks.
    assert cli("migrate", "export", tmp_path / "usb").exit_code == 0
    imported = cli("--archive", tmp_path / "neu", "migrate", "import", tmp_path / "usb")
    assert imported.exit_code == 0, imported.stderr
    assert sorted(ArchiveStore(tmp_path / "neu").record_ids()) == sorted(r.id for r in records)
    assert ArchiveStore(tmp_path / "neu").read_record(records[1].id).pages[1].blank
    assert cli("--archive", tmp_path / "neu", "verify").exit_code == 0
    # The same batch file again is a duplicate, not three new records.
    again = json.loads(cli("ingest", batch_file, "--json").stdout)["outcomes"][0]
    assert again["status"] == "duplicate" and again["record_id"] == records[0].id
    assert len(list(store.record_ids())) == 3

    # A kill -9 after the first document's manifest: the rerun completes the batch file
    # with the same records, keeps the one already written, and leaves nothing orphaned.
    for record in records[1:]:
        (archive_dir / "records" / record.id[:2] / f"{record.id}.json").unlink()
    for record in records[1:]:
        (archive_dir / record.archival_object).unlink()
    journal = Journal(archive_dir / "journal.sqlite")
    journal.mark(sha, str(batch_file), "started")
    journal.close()
    resumed = json.loads(cli("ingest", batch_file, "--json").stdout)["outcomes"][0]
    assert resumed["status"] == "archived"
    assert sorted(store.record_ids()) == sorted(r.id for r in records)
    assert store.read_record(records[0].id) == records[0]
    assert store.verify().ok
    assert json.loads(cli("search", "Rechnung", "--json").stdout)[0]["id"] == records[2].id


@pytest.mark.slow
def test_split_none_keeps_a_batch_file_as_one_record(cli, archive_dir, tmp_path):
    path = tmp_path / "zwei.tiff"
    barcode_sheet("PATCHT").save(path, save_all=True, append_images=[letter_page()], dpi=(150, 150))
    assert cli("ingest", path, "--split", "sometimes").exit_code == 1
    assert cli("ingest", path, "--split", "none").exit_code == 0
    (record,) = ArchiveStore(archive_dir).iter_records()
    assert record.page_count == 2 and record.source_pages == () and record.pages[0].separator == "PATCHT"


@pytest.mark.slow
def test_a_run_stopped_between_documents_keeps_what_it_sealed(cli, archive_dir, batch_file, monkeypatch):
    """Stopped right after the first document's manifest was staged and its audit entry written
    (not yet fsync'd: group commit): the next run completes that document and does not sweep
    the shared original or its archival PDF away as a killed run's leftovers."""
    from aktenarchiv.archive.seal import SealGroup

    real, staged = SealGroup.add, []

    def stop_after_first(*args, **kwargs):
        if staged:
            raise KeyboardInterrupt  # the run stops here, with the journal as a kill leaves it
        staged.append(real(*args, **kwargs))
        return staged[-1]

    monkeypatch.setattr(SealGroup, "add", stop_after_first)
    assert cli("ingest", batch_file).exit_code != 0
    monkeypatch.setattr(SealGroup, "add", real)
    store = ArchiveStore(archive_dir)
    assert list(store.record_ids()) == []  # not live before its group's fsync
    (pending,) = (archive_dir / "records").glob("*/*.json.pending")
    first = pending.read_bytes()
    resumed = json.loads(cli("ingest", batch_file, "--json").stdout)["outcomes"][0]
    assert resumed["status"] == "archived"
    assert store.manifest_path(pending.name.split(".")[0]).read_bytes() == first  # completed, not redone
    assert len(list(store.record_ids())) == 3
    assert cli("verify").exit_code == 0
