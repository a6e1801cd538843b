"""The scan station's page analysis on drawn pages, with real Tesseract and zxing-cpp."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from aktenarchiv.config import ScanSettings, load_settings
from aktenarchiv.errors import ConfigError
from aktenarchiv.ocr.ink import estimate_skew, measure_ink
from aktenarchiv.ocr.orientation import decide_orientation, rotate_upright, straighten
from aktenarchiv.ocr.pagecheck import (
    BLANK,
    DARK_BORDER,
    DARK_PAGE,
    LOW_CONFIDENCE,
    LOW_DPI,
    ORIENTATION_UNCERTAIN,
    RESCAN_DPI,
    TEXT_AT_EDGE,
    PageAnalysis,
    analyse_page,
    ink_issues,
    with_reading,
)
from aktenarchiv.ocr.resolution import effective_resolution
from aktenarchiv.ocr.separator import Separator, match_separator, read_barcodes, split_pages
from aktenarchiv.ocr.tools.tesseract_page import PageWords, Word
from aktenarchiv.ocr.wordlist import dictionary_share
from drawn_pages import BAUANTRAG, barcode_sheet, blank_back, letter_page
from PIL import Image

SCAN = ScanSettings()
BLANK_LIMITS = (SCAN.blank_max_ink, SCAN.blank_max_marks)


def analyse(image: Image.Image, default_dpi: int = 300, **changes):
    settings = ScanSettings(**changes) if changes else SCAN
    return analyse_page(image, settings=settings, languages="deu+eng", default_dpi=default_dpi)


# --- resolution -------------------------------------------------------------------------------

def test_a_resolution_tag_is_used_when_plausible():
    page = Image.new("L", (1240, 1754), 255)
    page.info["dpi"] = (150, 150)
    assert effective_resolution(page, 300) == (effective_resolution(page, 300).__class__(150, "tag"))


@pytest.mark.parametrize(
    ("size", "dpi", "paper"),
    [((827, 1169), 100, "A4"), ((1169, 827), 100, "A4"), ((1100, 850), 100, "Letter"),
     ((754, 1000), 90, "Letter"), ((1020, 1680), 120, "Legal"), ((874, 1240), 150, "A5")],
)
def test_untagged_images_get_their_resolution_from_the_paper_format(size, dpi, paper):
    found = effective_resolution(Image.new("L", size, 255), 300)
    assert found.source == f"paper:{paper}"
    assert abs(found.dpi - dpi) <= 2


def test_an_implausible_tag_or_odd_size_falls_back_to_estimate_or_setting():
    page = Image.new("L", (827, 1169), 255)
    page.info["dpi"] = (1, 1)  # a "no unit" density some tools write
    assert effective_resolution(page, 300).source == "paper:A4"
    assert effective_resolution(Image.new("L", (1000, 1000), 255), 240).dpi == 240


# --- ink, blank pages, dark areas, skew ----------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_blank_backs_with_dust_border_and_bleed_through_are_blank(seed):
    back = blank_back(seed=seed, speckle=0.002 * (seed + 1), border=40 * (seed % 2),
                      bleed=letter_page() if seed >= 2 else None)
    assert measure_ink(back, 150).is_blank(*BLANK_LIMITS)


def test_a_sparse_page_is_not_blank():
    assert not measure_ink(letter_page(["Seite 2"]), 150).is_blank(*BLANK_LIMITS)
    assert not measure_ink(letter_page(), 150).is_blank(*BLANK_LIMITS)


def _uncropped_receipt() -> Image.Image:
    receipt = letter_page(origin=(300, 300))
    receipt.paste(30, (0, 0, 1240, 120))  # the scanner lid around an uncropped sheet
    receipt.paste(30, (0, 0, 150, 1754))
    return receipt


def test_dark_pages_and_dark_borders_are_flagged():
    assert ink_issues(measure_ink(Image.new("L", (1240, 1754), 20), 150), SCAN) == [DARK_PAGE]
    stats = measure_ink(_uncropped_receipt(), 150)
    assert stats.border_share >= SCAN.dark_border_share and stats.dark_share < SCAN.dark_page_share
    assert not stats.is_blank(*BLANK_LIMITS)
    assert ink_issues(stats, SCAN) == [DARK_BORDER]


@pytest.mark.slow  # the whole analysis reads the receipt with Tesseract
def test_the_page_analysis_reports_dark_pages_and_borders():
    assert analyse(Image.new("L", (1240, 1754), 20), 150).issues[:1] == (DARK_PAGE,)
    assert DARK_BORDER in analyse(_uncropped_receipt(), 150).issues


def test_skew_is_measured_from_the_text_lines():
    page = letter_page(BAUANTRAG * 3)
    assert abs(estimate_skew(page, 150)) <= 0.2
    assert abs(estimate_skew(page.rotate(2.0, fillcolor=255), 150) - 2.0) <= 0.3
    assert abs(estimate_skew(page.rotate(-1.5, fillcolor=255), 150) + 1.5) <= 0.3


# --- orientation (real Tesseract) ---------------------------------------------------------------

def test_dictionary_share_tells_german_from_garbage():
    assert dictionary_share("Sehr geehrte Frau Müller, wir bestätigen den Eingang Ihres Antrags") > 0.8
    assert dictionary_share("'zZIeW g WOA sheruy saıyJ Sueßurg usp uSfTIEeISaq IM") < 0.2


@pytest.mark.slow
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_pages_fed_in_any_direction_are_turned_upright(rotation):
    page = letter_page()
    # Feeding a page turned counter-clockwise by r needs a clockwise turn by r to undo.
    scanned = rotate_upright(page, (360 - rotation) % 360)
    found = decide_orientation(scanned, dpi=150, languages="deu+eng", settings=SCAN)
    assert found.rotation == rotation
    assert not found.uncertain
    assert "Bauantrag" in found.words.text and "Grundstück" in found.words.text


@pytest.mark.slow
@pytest.mark.parametrize("rotation", [0, 90])
def test_trials_tell_a_sideways_page_from_an_upright_one_though_tesseract_reads_both(rotation):
    # Tesseract turns sideways text lines itself, so both orientations read well; the
    # upright word boxes give the sideways reading away.
    scanned = rotate_upright(letter_page(), (360 - rotation) % 360)
    found = decide_orientation(scanned, dpi=150, languages="deu+eng", settings=ScanSettings(osd_min_confidence=99,
                                                                                          min_confidence=101))
    assert found.method == "trial" and found.rotation == rotation and not found.uncertain


@pytest.mark.slow
def test_a_sparse_upside_down_page_is_turned_even_when_osd_is_unsure():
    page = letter_page(["Anlage 3", "Lageplan Müllerstraße"])
    found = decide_orientation(rotate_upright(page, 180), dpi=150, languages="deu+eng",
                               settings=ScanSettings(osd_min_confidence=99))
    assert found.rotation == 180 and found.method == "trial"
    assert "Lageplan" in found.words.text


# --- the whole page -----------------------------------------------------------------------------

@pytest.mark.slow
def test_an_untagged_low_resolution_page_is_read_at_its_own_resolution():
    page = letter_page(size=(1240, 1754)).resize((992, 1403))  # A4 at 120 dpi, no tag
    found = analyse(page)
    assert found.dpi_source == "paper:A4" and abs(found.dpi - 120) <= 2
    assert RESCAN_DPI in found.issues
    assert "Bauantrag" in found.text and found.rotation == 0


@pytest.mark.slow
def test_text_cut_off_at_the_edge_is_flagged():
    page = letter_page(origin=(-40, 160))
    page.info["dpi"] = (180, 180)
    found = analyse(page)
    assert TEXT_AT_EDGE in found.issues and LOW_DPI in found.issues
    assert TEXT_AT_EDGE not in analyse(letter_page()).issues


def test_a_blank_back_is_blank_and_not_recognised():
    found = analyse(blank_back(seed=7, speckle=0.003), 150)
    assert found.blank and found.issues == (BLANK,) and found.text == ""
    assert not found.needs_review


# --- separator sheets ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "fmt", [zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.DataMatrix]
)
def test_separator_sheets_are_found_in_each_barcode_format(fmt):
    sheet = barcode_sheet("PATCHT", fmt)
    assert read_barcodes(sheet) == ("PATCHT",)
    assert read_barcodes(rotate_upright(sheet, 90)) == ("PATCHT",)
    found = analyse(sheet, 150)
    assert found.separator == Separator("PATCHT", None) and not found.blank


def test_reference_barcodes_and_other_barcodes():
    assert match_separator(["AZ:63.2-4711/24"], SCAN) == Separator("AZ:63.2-4711/24", "63.2-4711/24")
    assert match_separator(["4006381333931"], SCAN) is None
    assert match_separator(["TRENN"], ScanSettings(separator_pattern="^TRENN$")) == Separator("TRENN", None)
    assert read_barcodes(letter_page()) == ()


def test_batches_are_split_at_separators_which_belong_to_no_document():
    sep, ref = Separator("PATCHT", None), Separator("AZ:1", "1")
    docs = split_pages([None, None, sep, None, ref, None, None, sep, sep, None])
    assert [d.pages for d in docs] == [(1, 2), (4,), (6, 7), (10,)]
    assert [d.reference for d in docs] == [None, None, "1", None]
    assert split_pages([sep, ref, None])[0].reference == "1"
    assert split_pages([sep]) == ()


# --- settings -----------------------------------------------------------------------------------

def test_scan_settings_come_from_the_settings_file(tmp_path):
    cfg = tmp_path / "akte.toml"
    cfg.write_text('[scan]\nsplit = "none"\nseparator_pattern = "^TRENN"\nmin_confidence = 70\n', encoding="utf-8")
    scan = load_settings(tmp_path, cfg, environ={}).scan
    assert (scan.split, scan.separator_pattern, scan.min_confidence) == ("none", "^TRENN", 70.0)
    cfg.write_text('[scan]\nsplit = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="split"):
        load_settings(tmp_path, cfg, environ={})
    cfg.write_text('[scan]\nreference_pattern = "AZ:("\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="reference_pattern"):
        load_settings(tmp_path, cfg, environ={})


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "CMYK", "YCbCr", "1", "I;16", "I;16B"])
def test_straightening_uncovers_paper_not_ink_in_every_mode(mode):
    """The corners a rotation uncovers are filled with white paper in the frame's own mode (a
    palette or CMYK scan got black wedges, which Tesseract read as marks)."""
    page = letter_page(["Seite eins"], size=(400, 300), origin=(40, 40))
    if mode.startswith("I;16"):  # 16-bit grey, both byte orders: v → v * 257
        frame = Image.frombytes(mode, page.size, bytes(b for v in page.tobytes() for b in (v, v)))
    else:
        frame = page.convert(mode)
    turned = straighten(frame, 3.0)
    assert turned.mode == mode
    corner = turned.getpixel((0, 0))
    if mode.startswith("I;16"):
        assert corner == 65535
    else:
        assert min(turned.convert("RGB").getpixel((0, 0))) >= 250, corner


def test_a_second_reading_brings_its_own_reading_issues():
    """A sideways page read again after straightening: the page keeps the issues of its scan
    and orientation, but confidence and cut-off text are those of the reading that is kept."""
    first = PageAnalysis(150, "tag", 90, False, None, "S3ite ein5", 41.0, 2.5, 0.05,
                         (LOW_DPI, LOW_CONFIDENCE, ORIENTATION_UNCERTAIN, TEXT_AT_EDGE), 1.5)
    clean = PageWords("Seite eins", (Word("Seite", 93.0, 200, 200, 80, 30), Word("eins", 91.0, 300, 200, 60, 30)))
    again = with_reading(first, clean, (1240, 1754), 2.5, SCAN)
    assert again.issues == (LOW_DPI, ORIENTATION_UNCERTAIN)
    assert (again.text, again.confidence, again.read_skew) == ("Seite eins", 92.0, 2.5)
    cut = PageWords("Seite", (Word("Seite", 20.0, 200, 200, 80, 30), Word("eins", 95.0, 0, 200, 60, 30)))
    worse = with_reading(again, cut, (1240, 1754), 2.5, SCAN)
    assert worse.issues == (LOW_DPI, ORIENTATION_UNCERTAIN, LOW_CONFIDENCE, TEXT_AT_EDGE)


@pytest.mark.slow
def test_a_16_bit_grey_scan_is_checked_and_read_not_taken_for_blank():
    """Ink at 15 % of full scale in a 16-bit scan: clipped to 8 bit it was all paper, the page
    "blank" and, without keep_blank_pages, left out of the archival copy unread."""
    ink = np.asarray(letter_page()).astype(np.float64) / 255
    frame = Image.fromarray(((0.15 + 0.85 * ink) * 65535).astype(np.uint16))
    frame.info["dpi"] = (150, 150)
    found = analyse(frame)
    assert not found.blank and "Grundstück" in found.text and found.dpi == 150, found
