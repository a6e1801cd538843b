"""The scan station in the OCR stage: pages turned upright, effective dpi, blank pages (real Tesseract, default engine)."""

from __future__ import annotations

from dataclasses import replace

import pikepdf
import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.models import ArchiveRecord, PageText
from aktenarchiv.ocr.textlayer import read_text_layer
from aktenarchiv.pipeline import ingest
from aktenarchiv.states import OutcomeStatus
from drawn_pages import blank_back, letter_page
from PIL import Image

SIDEWAYS = Image.Transpose.ROTATE_90  # Pillow turns counter-clockwise: a clockwise 90 undoes it


def _archival(settings, record: ArchiveRecord):
    return ArchiveStore(settings.archive_dir).path(record.archival_object)


@pytest.fixture
def duplex_tiff(tmp_path):
    """Front upside down, a blank back with dust, a sideways page: one TIFF at 150 dpi."""
    path = tmp_path / "eingang" / "stapel.tiff"
    path.parent.mkdir()
    front = letter_page().transpose(Image.Transpose.ROTATE_180)
    back = blank_back(seed=5, speckle=0.002)
    side = letter_page(["Anlage zum Bauantrag", "Lageplan der Müllerstraße 12"]).transpose(SIDEWAYS)
    front.save(path, save_all=True, append_images=[back, side], dpi=(150, 150), compression="tiff_lzw")
    return path


@pytest.mark.slow
def test_pages_are_turned_upright_and_blank_backs_marked(duplex_tiff, settings):
    report = ingest([duplex_tiff], settings)
    (outcome,) = report.outcomes
    assert outcome.status == OutcomeStatus.ARCHIVED
    record = ArchiveStore(settings.archive_dir).read_record(outcome.record_id)
    first, back, side = record.pages
    assert (first.rotation, side.rotation) == (180, 90)
    assert "Bauantrag" in first.text and "Lageplan" in side.text
    assert back.blank and back.text == "" and back.issues == ("blank",) and back.in_archival
    assert first.dpi == 150 and "low-dpi" in first.issues
    # The archival PDF shows every page upright and portrait, with a readable text layer.
    with pikepdf.open(_archival(settings, record)) as pdf:
        assert len(pdf.pages) == 3
        assert all(p.mediabox[3] > p.mediabox[2] and int(p.obj.get("/Rotate", 0)) % 360 == 0 for p in pdf.pages)
    layer = read_text_layer(_archival(settings, record))
    assert "Bauantrag" in layer[1] and "Lageplan" in layer[3]


@pytest.mark.slow
def test_blank_pages_can_be_dropped_from_the_archival_copy(duplex_tiff, settings):
    settings = replace(settings, scan=replace(settings.scan, keep_blank_pages=False))
    (outcome,) = ingest([duplex_tiff], settings).outcomes
    record = ArchiveStore(settings.archive_dir).read_record(outcome.record_id)
    assert [p.in_archival for p in record.pages] == [True, False, True]
    assert record.page_count == 3  # the original keeps all its pages
    with pikepdf.open(_archival(settings, record)) as pdf:
        assert len(pdf.pages) == 2
    layer = read_text_layer(_archival(settings, record))
    assert "Lageplan" in layer[2]


@pytest.mark.slow
def test_an_upside_down_page_in_a_scanned_pdf_gets_a_rotate_and_is_read(tmp_path, settings):
    path = tmp_path / "scan.pdf"
    upright = letter_page(["Widerspruch gegen den Gebührenbescheid", "Sehr geehrte Damen und Herren,"])
    letter_page().save(path, save_all=True, resolution=150,
                       append_images=[upright.transpose(Image.Transpose.ROTATE_180)])
    (outcome,) = ingest([path], settings).outcomes
    record = ArchiveStore(settings.archive_dir).read_record(outcome.record_id)
    assert [p.rotation for p in record.pages] == [0, 180]
    assert [p.dpi for p in record.pages] == [150, 150]
    assert "Gebührenbescheid" in record.pages[1].text


@pytest.mark.slow
def test_an_untagged_low_resolution_image_is_read_at_its_estimated_dpi(tmp_path, settings):
    path = tmp_path / "formular.png"
    letter_page().resize((827, 1170)).save(path)  # A4 at 100 dpi, no resolution tag
    (outcome,) = ingest([path], settings).outcomes
    page = ArchiveStore(settings.archive_dir).read_record(outcome.record_id).pages[0]
    assert page.dpi == 100 and "rescan-dpi" in page.issues
    assert "Grundstück" in page.text


def test_manifests_from_before_the_scan_station_still_load():
    old = {"number": 1, "text": "Antrag", "source": "ocr", "confidence": 91.0}
    page = PageText.from_json(old)
    assert (page.rotation, page.dpi, page.blank, page.issues, page.in_archival) == (0, None, False, (), True)
    assert PageText.from_json({**old, "issues": ["low-dpi"]}).issues == ("low-dpi",)
