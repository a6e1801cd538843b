"""Turn every page upright before it is recognised: 0, 90, 180 or 270 degrees.

Tesseract's orientation detection (OSD) finds the right angle on upside-down pages but
with low confidence, and often none at all on half-empty pages (DESIGN.md), so its answer
is only a first guess. The page is recognised the way OSD says; when that reading looks
wrong (low mean word confidence or few German dictionary words), the other orientations
are tried and the one that reads best is kept. The recognition of the chosen orientation
is returned too, so an OCR loop need not recognise the page again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..config import ScanSettings
from .tools.tesseract_page import PageWords, detect_osd, recognize_page
from .wordlist import dictionary_share

ROTATIONS = (0, 90, 180, 270)
SURE_CONFIDENCE = 85.0  # mean word confidence of a reading that needs no second opinion ...
SURE_WORDS = 20  # ... over at least this many words ...
SURE_VERTICAL = 0.2  # ... with at most this share of the words of ...
SURE_LETTERS = 5  # ... this many letters or more standing upright (a sideways page)
_TRANSPOSE = {
    90: Image.Transpose.ROTATE_270,  # Pillow's ROTATE_n turns counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class Orientation:
    """The rotation that makes a page upright, and how sure that is."""

    rotation: int  # clockwise degrees applied to the scan: 0, 90, 180, 270
    method: str  # "osd" (OSD's answer read well) or "trial" (orientations compared)
    score: float  # reading quality of the chosen orientation, 0–1
    uncertain: bool  # two orientations read about equally well (or equally badly)
    words: PageWords  # recognition of the upright page


def rotate_upright(image: Image.Image, rotation: int) -> Image.Image:
    """``image`` turned clockwise by ``rotation`` degrees (a multiple of 90)."""
    rotation %= 360
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be a multiple of 90, not {rotation}")
    return image if rotation == 0 else image.transpose(_TRANSPOSE[rotation])


def straighten(image: Image.Image, skew: float) -> Image.Image:
    """``image`` turned back by its ``skew`` (degrees, counter-clockwise positive) about its centre."""
    if not skew:
        return image
    return image.rotate(-skew, resample=Image.Resampling.BILINEAR, fillcolor=_paper(image))


def _paper(image: Image.Image) -> int | float | str | tuple[int, ...]:
    """White paper in the image's own mode: the fill of the corners a rotation uncovers.

    Pillow's "white" is palette entry 0 in a palette image, full ink in CMYK and 255 of
    65535 in 16-bit grey: black wedges in the corners, which Tesseract then reads.
    """
    mode = image.mode
    if mode == "1":
        return 1
    if mode in ("P", "PA"):  # the palette's lightest entry (opaque)
        palette = image.getpalette() or [255, 255, 255]
        lightest = max(range(len(palette) // 3), key=lambda i: sum(palette[3 * i:3 * i + 3]))
        return lightest if mode == "P" else (lightest, 255)
    if mode == "CMYK":
        return (0, 0, 0, 0)
    if mode in ("YCbCr", "LAB"):  # full lightness, no colour
        return (255, 128, 128)
    if mode.startswith("I") or mode == "F":  # 16-bit, 32-bit or float grey: the paper is the brightest
        return (image if mode in ("I", "F") else image.convert("I")).getextrema()[1]
    return "white"


def vertical_share(words: PageWords, min_letters: int = 3) -> float:
    """Share of the words of ``min_letters`` or more whose box stands upright: lines Tesseract turned itself.

    Tesseract reads a page lying on its side by turning the text lines internally, so a
    sideways page and the upright one can read equally well; only the word boxes show
    that the lines run vertically on the image as it was given.
    """
    longer = [w for w in words.words if len(w.text) >= min_letters]
    if not longer:
        return 0.0
    return sum(w.height > w.width for w in longer) / len(longer)


def reading_score(words: PageWords) -> float:
    """How much a recognition looks like upright readable text: confidence, German words,
    and horizontal lines, 0–1."""
    if not words.words:
        return 0.0
    confidence = (words.mean_confidence or 0.0) / 100
    return (0.5 * confidence + 0.5 * dictionary_share(words.text)) * (1 - vertical_share(words))


def reads_well(words: PageWords, settings: ScanSettings) -> bool:
    """True when a recognition needs no second opinion on its orientation."""
    return agrees_upright(words, settings) and dictionary_share(words.text) >= settings.min_dictionary_share


def reads_surely(words: PageWords) -> bool:
    """True when a reading as the page lies is so confident that it needs no orientation check.

    A page read upside down or sideways as it lies has a mean word confidence far below
    :data:`SURE_CONFIDENCE` (public scans: upright 92–95, upside down 29–51), whatever its
    language; the dictionary check (:func:`reads_well`) knows only German words.
    """
    # Only long words: on a coarse scan a short word's box (with its line's height) can be square.
    return (len(words.words) >= SURE_WORDS and (words.mean_confidence or 0.0) >= SURE_CONFIDENCE
            and vertical_share(words, SURE_LETTERS) <= SURE_VERTICAL)


def agrees_upright(words: PageWords, settings: ScanSettings) -> bool:
    """True when a reading of the page as it lies is confident and in horizontal lines."""
    return bool(words.words) and vertical_share(words) <= 0.5 and (
        (words.mean_confidence or 0.0) >= settings.min_confidence)


def decide_orientation(image: Image.Image, *, dpi: int, languages: str, settings: ScanSettings,
                       osd_first: bool = True, layer_dir: Path | None = None) -> Orientation:
    """The rotation that makes ``image`` upright, with the recognition of the upright page.

    Args:
        image: the page as scanned.
        dpi: its effective resolution.
        languages: Tesseract languages, e.g. ``deu+eng``.
        settings: thresholds (``osd_min_confidence``, ``min_confidence`` …).
        osd_first: ask OSD before the first recognition. False: recognise the page as it lies
            first (most pages are fed upright) and ask OSD only when that reading looks wrong,
            so an upright page costs one Tesseract run instead of two.
        layer_dir: when given, every recognition also writes its invisible text layer there
            as ``r<rotation>.pdf`` (:func:`layer_path`), so the chosen one need not be redone;
            Tesseract works there too (in the archive's work folder, not the system's).
    """
    def read(rotation: int) -> PageWords:
        layer = layer_path(layer_dir, rotation) if layer_dir is not None else None
        return recognize_page(rotate_upright(image, rotation), languages=languages, dpi=dpi, layer=layer,
                              workdir=layer_dir)

    tried: dict[int, PageWords] = {}
    if not osd_first:
        tried[0] = read(0)
        if reads_well(tried[0], settings) or reads_surely(tried[0]):
            return Orientation(0, "upright", reading_score(tried[0]), False, tried[0])
    osd = detect_osd(image, dpi=dpi, workdir=layer_dir)
    first = osd.rotate if osd is not None and osd.confidence >= settings.osd_min_confidence else 0
    osd_upright = osd is not None and osd.rotate == 0 and osd.confidence >= settings.osd_min_confidence
    if 0 in tried and osd_upright and agrees_upright(tried[0], settings):
        # A page read confidently in lines as it lies, and OSD sure it is upright: text in
        # another language than the word list knows, not a page that needs turning.
        return Orientation(0, "osd", reading_score(tried[0]), False, tried[0])
    if first not in tried:
        tried[first] = read(first)
        if reads_well(tried[first], settings):
            return Orientation(first, "osd" if first else "upright", reading_score(tried[first]), False, tried[first])
    for rotation in ROTATIONS:
        if rotation not in tried:
            tried[rotation] = read(rotation)
    scores = {rotation: reading_score(words) for rotation, words in tried.items()}
    # Ties go to OSD's guess, then to the page as scanned.
    ranked = sorted(scores, key=lambda r: (scores[r], r == first, r == 0), reverse=True)
    best, runner_up = ranked[0], ranked[1]
    uncertain = scores[best] - scores[runner_up] < settings.orientation_margin
    return Orientation(best, "trial", scores[best], uncertain, tried[best])


def layer_path(layer_dir: Path, rotation: int) -> Path:
    """Where :func:`decide_orientation` leaves the text layer of the page turned by ``rotation``."""
    return layer_dir / f"r{rotation}.pdf"
