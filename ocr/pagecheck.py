"""Everything the scan station decides about one page image, in one call.

:func:`analyse_page` takes a page as scanned and returns its effective resolution,
whether it is blank or a separator sheet, the rotation that makes it upright, the
recognised text of the upright page, and the quality issues a person should look at.
It works on one image and its settings only, so a per-page OCR loop can call it in a
worker process.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from ..config import ScanSettings
from .ink import InkStats, ink_stats, mask_skew, turned_content, work_page
from .orientation import Orientation, decide_orientation, rotate_upright, straighten
from .prepare import needs_conversion, to_accepted_mode
from .resolution import Resolution, effective_resolution
from .separator import Separator, match_separator, read_barcodes
from .tools.tesseract_page import PageWords

# Issue names, as they appear in manifests and `akte qa`.
RESCAN_DPI = "rescan-dpi"
LOW_DPI = "low-dpi"
LOW_CONFIDENCE = "low-confidence"
ORIENTATION_UNCERTAIN = "orientation-uncertain"
BLANK = "blank"
SKEWED = "skewed"
DARK_PAGE = "dark-page"
DARK_BORDER = "dark-border"
TEXT_AT_EDGE = "text-at-edge"
# Issues that only inform: a blank back of a duplex scan is normal.
INFORMATIONAL = frozenset({BLANK})
EDGE_MARGIN_MM = 0.5
MIN_EDGE_WORD_CONFIDENCE = 50


@dataclass(frozen=True, slots=True)
class PageAnalysis:
    """What the scan station found on one page."""

    dpi: int
    dpi_source: str  # "tag", "paper:A4", "setting"
    rotation: int  # clockwise degrees that make the page upright
    blank: bool
    separator: Separator | None
    text: str  # recognised text of the upright page ("" for blank and separator pages)
    confidence: float | None  # mean word confidence
    skew: float | None  # residual skew of the upright page in degrees
    ink: float  # ink coverage, 0–1
    issues: tuple[str, ...]
    # Degrees the page was turned back (clockwise when positive) before it was read: ``text``
    # is of the straightened page (``analyse_page(straighten_first=True)``), 0 when read as scanned.
    read_skew: float = 0.0

    @property
    def needs_review(self) -> bool:
        """True when a person should look at this page."""
        return any(issue not in INFORMATIONAL for issue in self.issues)


def resolution_issues(resolution: Resolution, settings: ScanSettings) -> list[str]:
    """``rescan-dpi`` / ``low-dpi`` for a page scanned too coarsely."""
    if resolution.dpi < settings.rescan_dpi:
        return [RESCAN_DPI]
    if resolution.dpi < settings.review_dpi:
        return [LOW_DPI]
    return []


def ink_issues(ink: InkStats, settings: ScanSettings) -> list[str]:
    """``dark-page`` / ``dark-border`` from the page's dark areas."""
    if ink.dark_share >= settings.dark_page_share:
        return [DARK_PAGE]
    if ink.border_share >= settings.dark_border_share:
        return [DARK_BORDER]
    return []


def text_at_edge(words: PageWords, size: tuple[int, int], dpi: int) -> bool:
    """True when a confidently read word touches the page's edge (text cut off by the scanner)."""
    margin = max(1, round(dpi * EDGE_MARGIN_MM / 25.4))
    width, height = size
    return any(
        w.confidence >= MIN_EDGE_WORD_CONFIDENCE
        and (w.left <= margin or w.top <= margin or w.left + w.width >= width - margin
             or w.top + w.height >= height - margin)
        for w in words.words
    )


def recognition_issues(orientation: Orientation, upright: Image.Image, dpi: int, settings: ScanSettings) -> list[str]:
    """Issues found by reading the upright page: confidence, cut-off text, orientation."""
    issues = reading_issues(orientation.words, upright.size, dpi, settings)
    if orientation.uncertain:
        issues.append(ORIENTATION_UNCERTAIN)
    return issues


def reading_issues(words: PageWords, size: tuple[int, int], dpi: int, settings: ScanSettings) -> list[str]:
    """Issues of one reading of the upright page (``size`` pixels): confidence, cut-off text."""
    issues = []
    confidence = words.mean_confidence
    if confidence is not None and confidence < settings.min_confidence:
        issues.append(LOW_CONFIDENCE)
    if text_at_edge(words, size, dpi):
        issues.append(TEXT_AT_EDGE)
    return issues


def with_reading(analysis: PageAnalysis, words: PageWords, size: tuple[int, int], read_skew: float,
                 settings: ScanSettings) -> PageAnalysis:
    """``analysis`` after the upright page was read again, straightened by ``read_skew`` (``size``
    pixels): text, confidence and the issues of a reading are the new reading's, not those of
    the one it replaces."""
    kept = tuple(i for i in analysis.issues if i not in (LOW_CONFIDENCE, TEXT_AT_EDGE))
    fresh = tuple(reading_issues(words, size, analysis.dpi, settings))
    return replace(analysis, text=words.text, confidence=words.mean_confidence, read_skew=read_skew,
                   issues=kept + fresh)


def analyse_page(image: Image.Image, *, settings: ScanSettings, languages: str, default_dpi: int,
                 osd_first: bool = True, layer_dir: Path | None = None, straighten_first: bool = False) -> PageAnalysis:
    """Resolution, blank/separator, orientation, text and issues of one scanned page.

    The page's pixels are reduced once to a ~100-dpi work copy (:func:`.ink.work_page`),
    which the ink, blank, border and skew checks share.

    Args:
        image: the page as scanned (any Pillow mode).
        settings: the scan station's thresholds and patterns.
        languages: Tesseract languages (``deu+eng``).
        default_dpi: resolution assumed when neither a tag nor the paper size tells.
        osd_first, layer_dir: as for :func:`.orientation.decide_orientation` (the direct OCR
            path keeps the text layer of the recognition that decided the orientation).
        straighten_first: a page skewed by ``settings.max_skew`` or more as it lies is
            straightened in memory before it is read, so the one recognition is of the
            straight page (``read_skew`` says by how much). The skew is measured as the page
            lies, which is the upright page's skew for pages fed upright or upside down.
    """
    resolution = effective_resolution(image, default_dpi)
    dpi = resolution.dpi
    if needs_conversion(image):
        # As ocrmypdf and the archival copy get it: 16-bit grey scaled to 8 bit (Pillow's
        # convert("L") clips it, so all but pure black ink was paper and the page "blank"),
        # alpha flattened onto white.
        image = to_accepted_mode(image)
    work = work_page(image, dpi)
    ink = ink_stats(work)
    separator = match_separator(read_barcodes(image, dpi), settings)
    if separator is not None:
        return PageAnalysis(dpi, resolution.source, 0, False, separator, "", None, None, ink.coverage, ())
    issues = ink_issues(ink, settings)
    if ink.is_blank(settings.blank_max_ink, settings.blank_max_marks):
        # An empty sheet needs no rescan at a better resolution; a black one is looked at.
        return PageAnalysis(dpi, resolution.source, 0, True, None, "", None, None, ink.coverage,
                            tuple(issues + [BLANK]))
    issues = resolution_issues(resolution, settings) + issues
    lying = mask_skew(work.content)
    read_skew = lying if straighten_first and lying is not None and abs(lying) >= settings.max_skew else 0.0
    read = straighten(image, read_skew)
    orientation = decide_orientation(read, dpi=dpi, languages=languages, settings=settings,
                                     osd_first=osd_first, layer_dir=layer_dir)
    # Turned by a half turn, text lines keep their slope; sideways, they are measured anew.
    skew = lying if orientation.rotation in (0, 180) else mask_skew(turned_content(work, orientation.rotation))
    issues += recognition_issues(orientation, rotate_upright(read, orientation.rotation), dpi, settings)
    if skew is not None and abs(skew) > settings.max_skew:
        issues.append(SKEWED)
    return PageAnalysis(dpi, resolution.source, orientation.rotation, False, None, orientation.words.text,
                        orientation.words.mean_confidence, skew, ink.coverage, tuple(issues), read_skew)
