"""The direct OCR path: each page recognised once, its own image data in a PDF/A-2b (real Tesseract, pikepdf)."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from aktenarchiv.config import OcrSettings, ScanSettings
from aktenarchiv.ingest.sniff import sniff
from aktenarchiv.ocr import direct
from aktenarchiv.ocr.recognize import recognize
from aktenarchiv.ocr.textlayer import read_text_layer
from ci import unavailable
from drawn_pages import blank_back, letter_page
from PIL import Image

OCR = OcrSettings(engine="direct")
SCAN = ScanSettings()
REPO = Path(__file__).resolve().parent.parent


def _recognize(path: Path, workdir: Path, scan: ScanSettings = SCAN):
    source = sniff(path, "a" * 64, path.stat().st_size, OCR)
    return recognize(source, OCR, workdir / "doc", jobs=2, scan=scan)


def _images(page: pikepdf.Page) -> list[pikepdf.Object]:
    return [x for x in page.resources.XObject.values() if x.Subtype == pikepdf.Name.Image]


@pytest.fixture
def stack(tmp_path) -> Path:
    """Upside down, a blank back, sideways, skewed by 2.5°: one TIFF at 150 dpi."""
    path = tmp_path / "stapel.tiff"
    front = letter_page().transpose(Image.Transpose.ROTATE_180)
    side = letter_page(["Anlage zum Bauantrag", "Lageplan der Müllerstraße 12"]).transpose(Image.Transpose.ROTATE_90)
    skewed = letter_page(["Widerspruch gegen den Gebührenbescheid", "Sehr geehrte Damen und Herren,"]
                         ).rotate(2.5, fillcolor=255)
    front.save(path, save_all=True, append_images=[blank_back(seed=5, speckle=0.002), side, skewed],
               dpi=(150, 150), compression="tiff_lzw")
    return path


@pytest.mark.slow
def test_a_stack_comes_out_upright_straight_and_as_pdfa(stack, tmp_path):
    result = _recognize(stack, tmp_path)
    assert result.engine.endswith("(direct)") and result.archival_format == "PDF/A-2B"
    first, back, side, skewed = result.pages
    assert (first.rotation, back.rotation, side.rotation, skewed.rotation) == (180, 0, 90, 0)
    assert back.blank and back.text == "" and back.issues == ("blank",)
    assert "Bauantrag" in first.text and "Lageplan" in side.text and "Gebührenbescheid" in skewed.text
    assert "skewed" in skewed.issues and all(p.dpi == 150 for p in result.pages)
    with pikepdf.open(result.archival_pdf) as pdf:
        assert len(pdf.pages) == 4
        # Upright and portrait by the drawing matrix, not by /Rotate.
        assert all(p.mediabox[3] > p.mediabox[2] and "/Rotate" not in p.obj for p in pdf.pages)
        assert pdf.open_metadata().pdfa_status == "2B"
        assert pdf.Root.OutputIntents[0].S == pikepdf.Name.GTS_PDFA1
    layer = read_text_layer(Path(result.archival_pdf))
    assert "Bauantrag" in layer[1] and layer[2] == "" and "Lageplan" in layer[3] and "Widerspruch" in layer[4]


@pytest.mark.slow
def test_an_upright_german_page_is_recognised_once(tmp_path):
    path = tmp_path / "brief.png"
    letter_page().save(path, dpi=(150, 150))
    result = _recognize(path, tmp_path)
    assert result.pages[0].rotation == 0 and "Grundstück" in result.pages[0].text
    # One Tesseract run, with its text layer; no OSD, no other orientation tried.
    assert sorted(p.name for p in (tmp_path / "doc" / "page-000001").glob("r*.pdf")) == ["r0.pdf"]


@pytest.mark.slow
def test_a_jpeg_scan_keeps_its_bytes_even_when_turned(tmp_path):
    path = tmp_path / "scan.jpg"
    letter_page().transpose(Image.Transpose.ROTATE_180).save(path, quality=80, dpi=(150, 150))
    result = _recognize(path, tmp_path)
    assert result.pages[0].rotation == 180 and "Grundstück" in result.pages[0].text
    with pikepdf.open(result.archival_pdf) as pdf:
        (image,) = _images(pdf.pages[0])
        assert image.Filter == pikepdf.Name.DCTDecode and image.read_raw_bytes() == path.read_bytes()


@pytest.mark.slow
def test_a_scanned_pdf_keeps_its_image_and_gets_a_rotate(tmp_path):
    path = tmp_path / "scan.pdf"
    upright = letter_page(["Widerspruch gegen den Gebührenbescheid", "Sehr geehrte Damen und Herren,"])
    letter_page().save(path, save_all=True, resolution=150, append_images=[upright.transpose(Image.Transpose.ROTATE_180)])
    result = _recognize(path, tmp_path)
    assert [p.rotation for p in result.pages] == [0, 180] and [p.dpi for p in result.pages] == [150, 150]
    assert "Gebührenbescheid" in result.pages[1].text
    with pikepdf.open(path) as original, pikepdf.open(result.archival_pdf) as pdf:
        assert int(pdf.pages[1].obj.Rotate) == 180
        for before, after in zip(original.pages, pdf.pages):
            assert [i.read_raw_bytes() for i in _images(after)] == [i.read_raw_bytes() for i in _images(before)]
    assert "Gebührenbescheid" in read_text_layer(Path(result.archival_pdf))[2]


@pytest.fixture
def mixed_pdf(tmp_path, make_text_pdf) -> Path:
    """A born-digital page (embedded font) followed by a scanned page upside down, whose image
    has a soft mask and asks for smoothing (as Quartz writes scans)."""
    text = make_text_pdf("brief.pdf", ["Sehr geehrte Frau Müller, anbei der Bescheid über die Gebühren."])
    scan = tmp_path / "scan.pdf"
    page = letter_page(["Widerspruch gegen den Gebührenbescheid", "Sehr geehrte Damen und Herren,"])
    page.transpose(Image.Transpose.ROTATE_180).save(scan, resolution=150)
    path = tmp_path / "gemischt.pdf"
    with pikepdf.open(text) as pdf, pikepdf.open(scan) as scanned:
        pdf.pages.extend(scanned.pages)
        (image,) = _images(pdf.pages[1])
        mask = pdf.make_stream(b"\xff" * (page.width * page.height), Type=pikepdf.Name.XObject,
                               Subtype=pikepdf.Name.Image, Width=page.width, Height=page.height,
                               ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8, Interpolate=True)
        image.SMask, image.Interpolate = mask, True
        pdf.save(path)
    return path


def _core_font_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=12)  # one of the standard 14 fonts: not embedded
    pdf.add_page()
    pdf.cell(0, 8, "Sehr geehrte Damen und Herren, anbei der Bescheid.")
    pdf.output(str(path))
    return path


def test_which_pdfs_the_direct_path_takes(tmp_path, mixed_pdf):
    scan = tmp_path / "scan.pdf"
    buffer = io.BytesIO()
    letter_page().save(buffer, format="PDF", resolution=150)
    scan.write_bytes(buffer.getvalue())
    assert direct.takes(sniff(scan, "c" * 64, scan.stat().st_size, OCR))
    # A text page with its font embedded is PDF/A content as it is: the direct path copies it.
    mixed = sniff(mixed_pdf, "b" * 64, mixed_pdf.stat().st_size, OCR)
    assert mixed.text_pages == (1,) and direct.takes(mixed)
    # A font that is not embedded needs ocrmypdf (Ghostscript embeds it for PDF/A).
    with pikepdf.open(mixed_pdf) as pdf, pikepdf.open(_core_font_pdf(tmp_path / "core.pdf")) as core:
        pdf.pages.extend(core.pages)
        pdf.save(tmp_path / "core-mixed.pdf")
    core_mixed = sniff(tmp_path / "core-mixed.pdf", "d" * 64, 1, OCR)
    assert core_mixed.text_pages == (1, 3) and not direct.takes(core_mixed)
    # A damaged font resource (an array where a dictionary belongs) is ocrmypdf's to repair or
    # refuse with its reason, not an internal error of the direct path.
    with pikepdf.open(mixed_pdf) as pdf:
        pdf.pages[0].Resources.Font = pikepdf.Array([pikepdf.Name.F1])
        pdf.save(tmp_path / "odd-font.pdf")
    odd = sniff(tmp_path / "odd-font.pdf", "e" * 64, 1, OCR)
    assert odd.text_pages == (1,) and not direct.takes(odd)
    # CMYK colour set through a colour space, or an inline image, is no sRGB content either.
    # A colour-space operator without its operand is a damaged page: ocrmypdf's, not an internal error.
    for number, painting in enumerate((b"/DeviceCMYK cs 0 0 0 1 sc", b"BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI",
                                       b"cs 0 0 m")):
        with pikepdf.open(mixed_pdf) as pdf:
            pdf.pages[0].contents_add(pdf.make_stream(b"q " + painting + b" Q"))
            pdf.save(tmp_path / f"painted-{number}.pdf")
        painted = sniff(tmp_path / f"painted-{number}.pdf", f"{number}" * 64, 1, OCR)
        assert painted.text_pages == (1,) and not direct.takes(painted), painting


@pytest.mark.slow
def test_a_mixed_pdf_keeps_its_text_page_and_reads_its_scan_once(tmp_path, mixed_pdf):
    result = _recognize(mixed_pdf, tmp_path)
    assert result.engine.endswith("(direct)") and result.archival_format == "PDF/A-2B"
    text, scan = result.pages
    assert text.source == "text-layer" and "Bescheid" in text.text
    assert scan.source == "ocr" and scan.rotation == 180 and "Gebührenbescheid" in scan.text
    with pikepdf.open(mixed_pdf) as original, pikepdf.open(result.archival_pdf) as pdf:
        assert len(pdf.pages) == 2 and pdf.open_metadata().pdfa_status == "2B"
        assert pdf.pages[0].Contents.read_bytes() == original.pages[0].Contents.read_bytes()
        assert int(pdf.pages[1].obj.Rotate) == 180
    assert "Gebührenbescheid" in read_text_layer(Path(result.archival_pdf))[2]
    # Tesseract never ran on the text page.
    assert not list((tmp_path / "doc" / "page-000001").glob("r*.pdf"))


def test_cpu_slots_let_no_more_pages_run_than_there_are_slots(tmp_path):
    slots = direct.CpuSlots(tmp_path, 2)
    other = direct.CpuSlots(tmp_path, 2)  # a second worker process of the same run sees the same slots
    running, peak, lock = 0, 0, threading.Lock()

    def page(pool: direct.CpuSlots) -> None:
        nonlocal running, peak
        with pool.slot():
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1

    threads = [threading.Thread(target=page, args=(slots if i % 2 else other,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2 and running == 0


@pytest.mark.slow
@pytest.mark.parametrize("document", ["stack", "mixed_pdf"])
def test_verapdf_accepts_the_archival_copy(document, request, tmp_path):
    if not (shutil.which("java") and shutil.which("mvn")):
        # CI must never pass by not checking: there the missing tools are a failure, not a skip.
        unavailable("veraPDF needs java and mvn (bash scripts/setup.sh installs them)")
    result = _recognize(request.getfixturevalue(document), tmp_path)
    proc = subprocess.run(["bash", str(REPO / "scripts" / "verapdf.sh"), result.archival_pdf],
                          capture_output=True, text=True, timeout=600)
    assert proc.stdout.startswith("PASS"), proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_grey_palette_scan_is_read_as_grey(tmp_path):
    from aktenarchiv.ocr.tools.tesseract_page import _save

    page = letter_page().convert("P")  # a grey PNG with a palette, as some scanners write
    assert _save(page, tmp_path, 150).read_bytes()[:2] == b"P5"  # PGM: grey, not RGB
    assert _save(Image.new("RGB", (20, 20), "red").convert("P"), tmp_path, 150).read_bytes()[:2] == b"P6"
    path = tmp_path / "brief.png"
    page.save(path, dpi=(150, 150))
    result = _recognize(path, tmp_path)
    assert "Grundstück" in result.pages[0].text and result.pages[0].rotation == 0


@pytest.mark.slow
def test_a_16_bit_grey_scan_is_read_not_taken_for_blank(tmp_path):
    """A 16-bit grey scan whose ink is dark grey, not black: Pillow's convert("L") clips 16-bit
    values at 255, so every pixel but pure black turned paper-white and the page came out blank,
    left unread and out of the archival copy."""
    ink = np.asarray(letter_page()).astype(np.float64) / 255  # 0 ink, 1 paper
    grey = ((0.15 + 0.85 * ink) * 65535).astype(np.uint16)  # ink at 15 % of full scale: 9830 of 65535
    path = tmp_path / "brief16.png"
    Image.fromarray(grey).save(path, dpi=(150, 150))
    assert Image.open(path).mode == "I;16"
    result = _recognize(path, tmp_path)
    page = result.pages[0]
    assert not page.blank and "Grundstück" in page.text and page.dpi == 150, page


@pytest.mark.slow
def test_a_scan_with_alpha_keeps_its_resolution(tmp_path):
    """Flattening the alpha channel starts a new image: the page's resolution tag must survive it."""
    path = tmp_path / "brief.png"
    letter_page().convert("RGBA").save(path, dpi=(200, 200))
    page = _recognize(path, tmp_path).pages[0]
    assert page.dpi == 200 and "Grundstück" in page.text, page
