"""Where the ink is on a page: coverage, dark borders, dark pages, skew.

Works on a copy reduced to about 100 dpi, averaged (box filter): single-pixel scanner
speckle fades to light grey there and falls under the ink threshold, while text strokes
stay dark. Ink is what is clearly darker than the paper (the page's bright percentile), so
bleed-through from the other side of thin paper does not count. Dark regions connected to
the image edge are the scanner lid around an uncropped sheet, not content; tiny components
left over are dust.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

WORK_DPI = 100
INK_RATIO = 0.6  # ink is darker than 60 % of the paper's brightness
DARK_LEVEL = 90  # absolute grey level of a dark (lid, black background) pixel
MIN_COMPONENT = 4  # pixels at 100 dpi (~1 mm²): smaller is dust
MIN_BORDER_COMPONENT = 0.002  # share of the page: a dark edge region at least this big is scanner border


@dataclass(frozen=True, slots=True)
class InkStats:
    """Measurements of one page image (shares are of the whole page)."""

    coverage: float  # ink of the content, without dust and dark border
    components: int  # ink components of the content
    largest_component: float  # share of the biggest content component
    dark_share: float  # pixels darker than DARK_LEVEL, border included
    border_share: float  # dark regions connected to the image edge

    def is_blank(self, max_coverage: float, max_components: int) -> bool:
        """No content: almost no ink, or only a few small marks (hole punches, a stray dot)."""
        if self.coverage <= max_coverage / 10:
            return True
        return self.coverage <= max_coverage and self.components <= max_components


def work_grey(image: Image.Image, dpi: int) -> np.ndarray:
    """The page as a grey array at about :data:`WORK_DPI` (never enlarged)."""
    grey = image if image.mode == "L" else image.convert("L")
    scale = min(1.0, WORK_DPI / max(dpi, 1))
    if scale < 1.0:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        # reducing_gap: an integer box reduction first, several times faster on a large page
        grey = grey.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    return np.asarray(grey, dtype=np.uint8)


def _paper_level(grey: np.ndarray) -> float:
    # The 90th percentile is paper even on a dense page; a lid-dark page keeps it honest.
    return max(float(np.percentile(grey, 90)), 1.0)


def content_mask(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ink of the content without dust, dark regions connected to the edge)."""
    # scipy.ndimage takes a few tenths of a second to import; commands that never look at a
    # page (search, show, qa) import this module through the QA findings and should not pay it.
    from scipy import ndimage

    paper = _paper_level(grey)
    ink = grey < paper * INK_RATIO
    dark = grey < DARK_LEVEL
    labels, count = ndimage.label(dark)
    border = np.zeros_like(dark)
    if count:
        edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        edge_labels = edge_labels[edge_labels > 0]
        if edge_labels.size:
            sizes = ndimage.sum_labels(dark, labels, edge_labels)
            big = edge_labels[sizes >= MIN_BORDER_COMPONENT * dark.size]
            border = np.isin(labels, big)
    content = ink & ~ndimage.binary_dilation(border, iterations=2) if border.any() else ink
    labels, count = ndimage.label(content, structure=np.ones((3, 3)))
    if count:
        sizes = np.bincount(labels.ravel(), minlength=count + 1)  # pixels per component
        sizes[0] = 0  # the background
        content = (sizes >= MIN_COMPONENT)[labels]
    return content, border


@dataclass(frozen=True, slots=True)
class WorkPage:
    """The ~100-dpi work copy of a page and its ink, made once and shared by every check."""

    grey: np.ndarray
    content: np.ndarray  # ink of the content (see :func:`content_mask`)
    border: np.ndarray  # dark regions connected to the edge


def work_page(image: Image.Image, dpi: int) -> WorkPage:
    """Reduce ``image`` to the work copy and find its ink (the one decode of the page's pixels)."""
    grey = work_grey(image, dpi)
    content, border = content_mask(grey)
    return WorkPage(grey, content, border)


def ink_stats(page: WorkPage) -> InkStats:
    """Ink coverage and dark areas of a page's work copy."""
    from scipy import ndimage  # imported late, see content_mask

    grey, content = page.grey, page.content
    total = float(grey.size)
    labels, count = ndimage.label(content, structure=np.ones((3, 3)))
    largest = float(np.bincount(labels.ravel())[1:].max()) / total if count else 0.0
    return InkStats(
        coverage=float(content.sum()) / total,
        components=int(count),
        largest_component=largest,
        dark_share=float((grey < DARK_LEVEL).sum()) / total,
        border_share=float(page.border.sum()) / total,
    )


def measure_ink(image: Image.Image, dpi: int) -> InkStats:
    """Ink coverage and dark areas of a page (see the module docstring)."""
    return ink_stats(work_page(image, dpi))


def turned_content(page: WorkPage, rotation: int) -> np.ndarray:
    """The content mask of the page turned clockwise by ``rotation`` (a multiple of 90)."""
    return np.rot90(page.content, k=-(rotation % 360) // 90)


def mask_skew(content: np.ndarray, max_angle: float = 5.0, step: float = 0.1) -> float | None:
    """Skew of the text lines of a content mask in degrees (see :func:`estimate_skew`)."""
    ys, xs = np.nonzero(content)
    if ys.size < 200:
        return None
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - xs.mean()
    best_angle, best_score = 0.0, -1.0
    for angle in np.arange(-max_angle, max_angle + step / 2, step):
        theta = np.deg2rad(angle)
        rows = np.round(ys * np.cos(theta) + xs * np.sin(theta)).astype(np.int64)
        hist = np.bincount(rows - rows.min())
        score = float(np.dot(hist, hist))
        if score > best_score:
            best_angle, best_score = float(angle), score
    return round(best_angle, 2)


def estimate_skew(image: Image.Image, dpi: int, max_angle: float = 5.0, step: float = 0.1) -> float | None:
    """Skew of the text lines in degrees (positive: counter-clockwise), None without enough text.

    The projection-profile method: text lines give the sharpest row histogram of the ink
    when the page is turned by minus its skew.
    """
    return mask_skew(work_page(image, dpi).content, max_angle, step)
