"""The archival PDF/A-2b of the direct OCR path, put together with pikepdf.

Each page is made on its own (:func:`image_page`, :func:`pdf_page`) in the worker that
recognised it, as a one-page PDF in the document's work folder: the scan as it came, never
re-encoded lossily (a JPEG stays the same JPEG, a CCITT/JBIG2 page of a scanned PDF stays as
it is), turned upright and straightened by the page's drawing matrix instead of by new
pixels, and under it Tesseract's invisible text layer of the very recognition the page was
read with. :func:`assemble` then joins the pages and adds what PDF/A-2b asks of the file: an
sRGB output intent, XMP with the PDF/A identification, a document ID.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import img2pdf
import pikepdf
from lxml import etree
from PIL import ImageCms

PDFA_FORMAT = "PDF/A-2B"
PRODUCER = "aktenarchiv (direct OCR: Tesseract, pikepdf)"


@dataclass(frozen=True, slots=True)
class PagePlan:
    """How one archival page is drawn."""

    rotation: int  # clockwise degrees that turn the scan upright (0, 90, 180, 270)
    skew: float  # degrees the upright page is turned clockwise to straighten it (0: left as it is)
    layer: Path | None  # Tesseract's text-only PDF of the upright, straightened page; None: no text


Matrix = tuple[float, float, float, float, float, float]


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` (PDF's row-vector convention: a point p maps to p·m·n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _turn(degrees: float, cx: float, cy: float) -> Matrix:
    """A clockwise turn by ``degrees`` about (cx, cy), in PDF's y-up space."""
    t = math.radians(degrees)
    cos, sin = math.cos(t), math.sin(t)
    return _multiply(_multiply((1, 0, 0, 1, -cx, -cy), (cos, -sin, sin, cos, 0, 0)), (1, 0, 0, 1, cx, cy))


def upright_matrix(width: float, height: float, rotation: int) -> Matrix:
    """Maps a ``width`` × ``height`` box, turned clockwise by ``rotation``, onto the origin."""
    turn = {0: (1, 0, 0, 1, 0, 0), 90: (0, -1, 1, 0, 0, width), 180: (-1, 0, 0, -1, width, height),
            270: (0, 1, -1, 0, height, 0)}
    return turn[rotation % 360]


def _cm(matrix: Matrix) -> bytes:
    return (" ".join(f"{v:.6f}".rstrip("0").rstrip(".") or "0" for v in matrix) + " cm").encode()


def _add_layer(page: pikepdf.Page, layer: Path | None, rect: pikepdf.Rectangle) -> None:
    if layer is None:
        return
    with pikepdf.open(layer) as text:
        # The layer is as big as the upright page; placed over the page's displayed box.
        page.add_overlay(text.pages[0], rect)


def image_page(encoded: bytes, dpi: int, plan: PagePlan, out: Path) -> None:
    """A one-page PDF of an encoded scan (JPEG, PNG, TIFF) at ``dpi``, with its text layer.

    The image goes in as img2pdf embeds it: JPEG and JPEG 2000 unchanged, PNG and CCITT
    group 4 data copied, other images losslessly Flate-compressed.
    """
    data = img2pdf.convert(encoded, layout_fun=img2pdf.get_fixed_dpi_layout_fun((dpi, dpi)),
                           rotation=img2pdf.Rotation.none)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        box = page.mediabox
        width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
        name = next(iter(page.resources.XObject.keys()))
        upright = (height, width) if plan.rotation % 180 else (width, height)
        matrix = _multiply(upright_matrix(width, height, plan.rotation), _turn(plan.skew, upright[0] / 2, upright[1] / 2))
        draw = b"q " + _cm(matrix) + b" " + _cm((width, 0, 0, height, 0, 0)) + f" {name} Do Q".encode()
        page.obj.Contents = pdf.make_stream(draw)
        page.obj.MediaBox = pikepdf.Array([0, 0, upright[0], upright[1]])
        _add_layer(page, plan.layer, pikepdf.Rectangle(0, 0, upright[0], upright[1]))
        pdf.save(out)


def pdf_page(source: Path, number: int, plan: PagePlan, out: Path) -> None:
    """Page ``number`` of a scanned PDF, turned upright by ``/Rotate``, straightened, with its text layer."""
    with pikepdf.open(source) as src, pikepdf.new() as pdf:
        pdf.pages.append(src.pages[number - 1])
        page = pdf.pages[0]
        for image in (page.resources.get("/XObject") or {}).values():
            if image.get("/Interpolate") is not None:
                image.Interpolate = False  # PDF/A forbids smoothing on display; the image data is unchanged
        box = page.cropbox
        if plan.skew:
            cx, cy = (float(box[0]) + float(box[2])) / 2, (float(box[1]) + float(box[3])) / 2
            page.contents_add(pdf.make_stream(b"q " + _cm(_turn(plan.skew, cx, cy)) + b"\n"), prepend=True)
            page.contents_add(pdf.make_stream(b"\nQ"))
        if plan.rotation:
            page.rotate(plan.rotation, relative=True)
        _add_layer(page, plan.layer, pikepdf.Rectangle(*(float(v) for v in box)))
        pdf.save(out)


@lru_cache(maxsize=1)
def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


_XMP_NAMESPACES = {"pdfaid": "http://www.aiim.org/pdfa/ns/id/", "pdf": "http://ns.adobe.com/pdf/1.3/",
                   "xmp": "http://ns.adobe.com/xap/1.0/", "dc": "http://purl.org/dc/elements/1.1/"}


def _tidy_metadata(pdf: pikepdf.Pdf) -> None:
    """Declare the XMP namespaces once at the top (pikepdf repeats them on every property),
    so the packet reads ``<pdfaid:part>2</pdfaid:part>`` as other PDF/A writers put it."""
    packet = pdf.Root.Metadata.read_bytes()
    root = etree.fromstring(packet, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    etree.cleanup_namespaces(root, top_nsmap=_XMP_NAMESPACES)
    body = etree.tostring(root, encoding="utf-8")
    stream = pdf.make_stream(b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body
                             + b'\n<?xpacket end="w"?>')
    stream.Type, stream.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
    pdf.Root.Metadata = stream


def assemble(pages: list[Path], out: Path, title: str | None = None) -> str:
    """Join one-page PDFs into the PDF/A-2b ``out`` (written under a temporary name, then renamed).

    The page files stay open until the result is written (pikepdf copies their streams
    lazily), so memory holds page structures, not page images. Returns the format.
    """
    part = out.with_name(out.name + ".part")
    sources = []
    try:
        with pikepdf.new() as pdf:
            for path in pages:
                src = pikepdf.open(path)
                sources.append(src)
                pdf.pages.extend(src.pages)
            icc = pdf.make_stream(_srgb_profile())
            icc.N = 3
            pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
                Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1, DestOutputProfile=icc,
                OutputConditionIdentifier=pikepdf.String("sRGB IEC61966-2.1"), Info=pikepdf.String("sRGB"))])
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                meta["pdfaid:part"] = "2"
                meta["pdfaid:conformance"] = "B"
                meta["pdf:Producer"] = PRODUCER
                meta["xmp:CreatorTool"] = PRODUCER
                meta["xmp:CreateDate"] = now
                meta["xmp:ModifyDate"] = now
                meta["xmp:MetadataDate"] = now
                if title:
                    meta["dc:title"] = title
            _tidy_metadata(pdf)
            pdf.save(part, min_version="1.7", fix_metadata_version=False)
    finally:
        for src in sources:
            src.close()
    with open(part, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(part, out)
    return PDFA_FORMAT
