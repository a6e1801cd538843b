"""Everything the scan station decides about one page image, in one call.

:func:`analyse_page` takes a page as scanned and returns its effective resolution,
whether it is blank or a separator sheet, the rotation that makes it upright, the
recognised text of the upright page, and the quality issues a person should look at.
It works on one image and its settings only, so a per-page OCR loop can call it in a
worker process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..config import ScanSettings
from .ink import InkStats, estimate_skew, measure_ink
from .orientation import Orientation, decide_orientation, rotate_upright
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
    """Issues found by reading the upright page: confidence, orientation, skew, cut-off text."""
    issues = []
    confidence = orientation.words.mean_confidence
    if confidence is not None and confidence < settings.min_confidence:
        issues.append(LOW_CONFIDENCE)
    if orientation.uncertain:
        issues.append(ORIENTATION_UNCERTAIN)
    if text_at_edge(orientation.words, upright.size, dpi):
        issues.append(TEXT_AT_EDGE)
    return issues


def analyse_page(image: Image.Image, *, settings: ScanSettings, languages: str, default_dpi: int,
                 osd_first: bool = True, layer_dir: Path | None = None) -> PageAnalysis:
    """Resolution, blank/separator, orientation, text and issues of one scanned page.

    Args:
        image: the page as scanned (any Pillow mode).
        settings: the scan station's thresholds and patterns.
        languages: Tesseract languages (``deu+eng``).
        default_dpi: resolution assumed when neither a tag nor the paper size tells.
        osd_first, layer_dir: as for :func:`.orientation.decide_orientation` (the direct OCR
            path keeps the text layer of the recognition that decided the orientation).
    """
    resolution = effective_resolution(image, default_dpi)
    dpi = resolution.dpi
    ink = measure_ink(image, dpi)
    separator = match_separator(read_barcodes(image), settings)
    if separator is not None:
        return PageAnalysis(dpi, resolution.source, 0, False, separator, "", None, None, ink.coverage, ())
    issues = ink_issues(ink, settings)
    if ink.is_blank(settings.blank_max_ink, settings.blank_max_marks):
        # An empty sheet needs no rescan at a better resolution; a black one is looked at.
        return PageAnalysis(dpi, resolution.source, 0, True, None, "", None, None, ink.coverage,
                            tuple(issues + [BLANK]))
    issues = resolution_issues(resolution, settings) + issues
    orientation = decide_orientation(image, dpi=dpi, languages=languages, settings=settings,
                                     osd_first=osd_first, layer_dir=layer_dir)
    upright = rotate_upright(image, orientation.rotation)
    skew = estimate_skew(upright, dpi)
    issues += recognition_issues(orientation, upright, dpi, settings)
    if skew is not None and abs(skew) > settings.max_skew:
        issues.append(SKEWED)
    return PageAnalysis(dpi, resolution.source, orientation.rotation, False, None, orientation.words.text,
                        orientation.words.mean_confidence, skew, ink.coverage, tuple(issues))
