"""End to end through real tesseract and ocrmypdf: ingest → store → search → show/get → verify.

The tests about OCR itself are slow (real Tesseract); pipeline logic runs with the instant
fake engine (tests/fake_engines.py).
"""

import json
from pathlib import Path

import pytest
from aktenarchiv.archive.base import SearchQuery
from aktenarchiv.archive.registry import open_backend
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.fsio import sha256_file
from aktenarchiv.pipeline import ingest
from aktenarchiv.states import OutcomeStatus


@pytest.fixture
def batch(tmp_path, make_scan, make_text_pdf):
    """A folder of scans in every accepted format plus two bad files."""
    folder = tmp_path / "eingang"
    make_scan("bauantrag.png", folder=folder)
    make_scan("unterlagen/akte.tiff",
              ["Widerspruch gegen den Gebührenbescheid", "Sehr geehrte Damen und Herren,"],
              ["Seite zwei der Akte", "Mit freundlichen Grüßen, Jürgen Weiß"], folder=folder)
    make_scan("rechnung.pdf", ["Rechnung Nr. 2024-17", "Müllabfuhr für das erste Quartal", "Betrag 123,45 Euro"],
              folder=folder)
    make_scan("foto.jpg", ["Protokoll der Sitzung des Stadtrats", "Tagesordnung: Haushalt"], folder=folder)
    make_text_pdf("digital/vertrag.pdf", ["Mietvertrag über Räume im Rathaus",
                                           "zwischen der Stadt Musterstadt und der Bürgerstiftung"],
                  ["Anlage: Grundriss der Räume im Erdgeschoss"], folder=folder)
    (folder / "leer.pdf").write_bytes(b"")
    (folder / "notiz.tif").write_text("keine Bilddaten", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_ingest_search_show_verify(batch, settings):
    report = ingest([batch], settings)
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert {n for n, o in by_name.items() if o.status == OutcomeStatus.ARCHIVED} == {
        "bauantrag.png", "akte.tiff", "rechnung.pdf", "foto.jpg", "vertrag.pdf"}
    assert by_name["leer.pdf"].status == OutcomeStatus.QUARANTINED and "empty" in by_name["leer.pdf"].reason
    assert by_name["notiz.tif"].status == OutcomeStatus.QUARANTINED
    assert report.exit_code == 4
    store = ArchiveStore(settings.archive_dir)
    # Nothing lost: quarantined files are kept with their reason.
    reasons = [json.loads(p.read_text()) for p in (settings.archive_dir / "quarantine").glob("*/reason.json")]
    assert sorted(Path(r["source"]).name for r in reasons) == ["leer.pdf", "notiz.tif"]

    backend = open_backend(settings)

    def titles(text, **filters):
        return [h.title for h in backend.search(SearchQuery(text=text, **filters)).hits]

    assert titles("Mueller Strasse") == ["bauantrag"]  # umlaut and ß folding on OCR text
    assert titles("Antrag") == ["bauantrag"]  # compound part
    assert "akte" in titles("Bescheid")  # "Gebührenbescheid"
    assert titles("Muellabfuhr Quartal") == ["rechnung"]
    assert titles("Gebuehren") == ["akte"]  # part of "Gebührenbescheid"
    assert titles('"Räume im Rathaus"') == ["vertrag"]  # phrase, from the text layer
    assert titles("Stadtrat Protokoll") == ["foto"]
    assert titles("Grüße Weiss") == ["akte"]
    hit = backend.search(SearchQuery(text="Bauantrag")).hits[0]
    assert "«Bauantrag" in hit.snippet

    tiff = store.read_record(by_name["akte.tiff"].record_id)
    assert tiff.page_count == 2 and [p.source for p in tiff.pages] == ["ocr", "ocr"]
    assert all(p.confidence and p.confidence > 60 for p in tiff.pages)
    assert tiff.archival_object and store.path(tiff.archival_object).read_bytes()[:5] == b"%PDF-"
    digital = store.read_record(by_name["vertrag.pdf"].record_id)
    assert [p.source for p in digital.pages] == ["text-layer", "text-layer"]
    assert digital.archival_object is None  # born-digital PDFs are kept as they are
    # Originals are byte-exact and content-addressed.
    for name, outcome in by_name.items():
        if outcome.status == OutcomeStatus.ARCHIVED:
            assert sha256_file(store.path(store.read_record(outcome.record_id).original_object)) == outcome.record_id
    assert store.verify().ok

    again = ingest([batch], settings)
    assert again.count(OutcomeStatus.ARCHIVED) == 0 and again.count(OutcomeStatus.DUPLICATE) == 5
    assert len(list(store.record_ids())) == 5


@pytest.mark.slow
def test_mixed_pdf_ocrs_only_the_scanned_pages(tmp_path, make_scan, make_text_pdf, settings):
    import pikepdf

    text_pdf = make_text_pdf("text.pdf", ["Eine Seite mit echtem Text aus der Textverarbeitung"])
    scan_pdf = make_scan("scan.pdf", ["Eingescannte Seite mit Unterschrift", "Bürgermeisterin Özdemir"])
    mixed = tmp_path / "gemischt" / "gemischt.pdf"
    mixed.parent.mkdir()
    with pikepdf.open(text_pdf) as a, pikepdf.open(scan_pdf) as b:
        a.pages.extend(b.pages)
        a.save(mixed)
    report = ingest([mixed], settings)
    record = ArchiveStore(settings.archive_dir).read_record(report.outcomes[0].record_id)
    assert [p.source for p in record.pages] == ["text-layer", "ocr"]
    assert "Textverarbeitung" in record.pages[0].text
    assert "Unterschrift" in record.pages[1].text


@pytest.mark.slow
def test_images_ocrmypdf_refuses_are_converted_not_quarantined(tmp_path, settings):
    """Alpha channels, 16-bit grey and CMYK without ICC profile: common scanner output."""
    import numpy as np
    from drawn_pages import draw_page
    from PIL import Image

    folder = tmp_path / "formate"
    folder.mkdir()
    page = draw_page(["Prüfung der Unterlagen", "Grundsteuer Bescheid"])
    page.convert("RGBA").save(folder / "alpha.png", dpi=(150, 150))
    Image.fromarray(np.array(page).astype("uint16") * 257).save(folder / "grau16.tif", dpi=(150, 150))
    page.convert("CMYK").save(folder / "cmyk.jpg", dpi=(150, 150))
    report = ingest([folder], settings)
    assert report.count(OutcomeStatus.ARCHIVED) == 3, [(o.path, o.reason) for o in report.outcomes]
    store = ArchiveStore(settings.archive_dir)
    for outcome in report.outcomes:
        record = store.read_record(outcome.record_id)
        assert "Unterlagen" in record.pages[0].text, outcome.path
        # The original is archived byte-exact, not the converted work copy.
        assert store.path(record.original_object).read_bytes() == Path(outcome.path).read_bytes()


def test_copies_within_a_batch_share_the_first_copys_fate(tmp_path, make_scan, instant_settings):
    settings = instant_settings
    folder = tmp_path / "doppelt"
    first = make_scan("a/brief.png", ["Ein Brief, zweimal gescannt"], folder=folder)
    (folder / "b").mkdir()
    (folder / "b" / "brief_kopie.png").write_bytes(first.read_bytes())
    (folder / "c_leer.pdf").write_bytes(b"")
    (folder / "d_auch_leer.pdf").write_bytes(b"")
    report = ingest([folder], settings)
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert len(report.outcomes) == 4
    assert by_name["brief.png"].status == OutcomeStatus.ARCHIVED
    copy = by_name["brief_kopie.png"]
    # The copy points at a record that exists.
    assert copy.status == OutcomeStatus.DUPLICATE and copy.record_id == by_name["brief.png"].record_id
    assert ArchiveStore(settings.archive_dir).has_record(copy.record_id)
    # A copy of a quarantined file is quarantined too, never "duplicate" of a missing record.
    empty = by_name["d_auch_leer.pdf"]
    assert empty.status == OutcomeStatus.QUARANTINED and "c_leer.pdf" in empty.reason and "empty file" in empty.reason
