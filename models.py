"""The artefacts that flow through the pipeline, one frozen dataclass per stage.

``SourceFile`` (ingest) → ``OcrResult`` (ocr) → ``Classification`` (classify) →
``ArchiveRecord`` (archive). Every artefact is keyed by the SHA-256 of the original bytes,
holds tuples and plain types only (cheap to pickle into workers) and converts to and from
plain JSON for the manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any, Literal

PageSource = Literal["ocr", "text-layer", "imported"]
_OLD_SUGGEST = ":suggest:"  # how manifests before suggested_type spelled the suggestion in the method

# The media types an input may have (detected by content in ingest/sniff.py), and the file
# name extensions that go with them.
PDF, TIFF, PNG, JPEG = "application/pdf", "image/tiff", "image/png", "image/jpeg"
SUFFIXES = {PDF: (".pdf",), TIFF: (".tif", ".tiff"), PNG: (".png",), JPEG: (".jpg", ".jpeg")}


def now_iso() -> str:
    """The current UTC time, ISO 8601 with seconds: the form of every timestamp we write."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class SourceFile:
    """An input file that passed the ingest checks."""

    path: str
    sha256: str
    size: int
    media_type: str  # PDF, TIFF, PNG or JPEG
    page_count: int
    text_pages: tuple[int, ...] = ()  # 1-based pages that already carry a text layer

    @property
    def name(self) -> str:
        """The file name the scan arrived with."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def mislabelled(self) -> bool:
        """True when the file name's extension contradicts the content (worth a note)."""
        suffix = PurePath(self.path).suffix.lower()
        return bool(suffix) and suffix not in SUFFIXES[self.media_type]


@dataclass(frozen=True, slots=True)
class ImportMeta:
    """What a migration already knows about an input, kept instead of guessed again."""

    origin: str = ""  # where the item came from: "metadata.csv row 17", "paperless document 42"
    title: str | None = None
    doc_type: str | None = None
    reference: str | None = None
    doc_date: str | None = None  # ISO date
    extra: tuple[tuple[str, str], ...] = ()  # further fields, kept as given
    text: str | None = None  # text to keep instead of OCRing again (pages split by form feeds)
    archival_path: str | None = None  # an archival PDF made elsewhere, with a text layer
    checksum: str | None = None  # expected MD5 or SHA-256 of the original (hex)
    archival_checksum: str | None = None


@dataclass(frozen=True, slots=True)
class PageText:
    """Text of one page, and where it came from."""

    number: int
    text: str
    source: PageSource
    confidence: float | None  # mean Tesseract word confidence 0–100; None for text layers
    # What the scan station found (defaults: manifests written before it still load).
    rotation: int = 0  # clockwise degrees the scan was turned to stand upright
    dpi: int | None = None  # effective resolution the page was recognised at
    blank: bool = False  # an empty sheet (kept out of the text and the classifier)
    issues: tuple[str, ...] = ()  # quality issues, e.g. "low-dpi", "orientation-uncertain"
    in_archival: bool = True  # False: dropped from the archival PDF (blank page); the original keeps it
    separator: str | None = None  # barcode value when the page is a separator sheet

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageText:
        """Rebuild a page from its manifest form."""
        return cls(**{**data, "issues": tuple(data.get("issues", ()))})


@dataclass(frozen=True, slots=True)
class OcrResult:
    """Per-page text of a document plus the archival PDF that carries it."""

    source_sha256: str
    pages: tuple[PageText, ...]
    engine: str  # e.g. "tesseract 5.3.0 / ocrmypdf 17.13.0" or "text-layer"
    archival_pdf: str | None  # path of a produced PDF/A; None: the original is kept as is
    archival_format: str | None = None  # "PDF/A-2B"; "PDF" if PDF/A could not be made

    @property
    def text(self) -> str:
        """The whole document's text, pages separated by form feeds."""
        return "\f".join(p.text for p in self.pages)


@dataclass(frozen=True, slots=True)
class Field:
    """One extracted value and where in the text it was found."""

    kind: str  # "date", "aktenzeichen", "iban", "amount"
    value: str  # normalised: ISO date, compact IBAN, "1234.56 EUR", reference as written
    raw: str  # as it stood in the text
    page: int
    start: int  # character offsets within that page's text
    end: int


@dataclass(frozen=True, slots=True)
class Classification:
    """What the classify stage decided about a document."""

    doc_type: str | None = None
    confidence: float | None = None
    needs_review: bool = False
    method: str = "none"  # "none", "rule:<name>", "model:<version>", "manual", "import"
    fields: tuple[Field, ...] = ()
    doc_date: str | None = None  # ISO date of the document itself, if found
    reference: str | None = None  # the Aktenzeichen, if found
    suggested_type: str | None = None  # the model's unsure guess, for the review queue

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Classification:
        """Rebuild a classification from its manifest form.

        Manifests written before ``suggested_type`` was a field carry the suggestion in the
        method, ``model:<id>:suggest:<type>``; it is split off here, once.
        """
        values = dict(data)
        values["fields"] = tuple(Field(**f) for f in values.get("fields", ()))
        method, sep, suggestion = str(values.get("method", "none")).partition(_OLD_SUGGEST)
        if sep:
            values["method"] = method
            values.setdefault("suggested_type", suggestion or None)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    """A stored record: what the manifest holds and what the index is built from."""

    id: str  # = sha256 of the original
    sha256: str
    source_name: str
    media_type: str
    size: int
    page_count: int
    ingested_at: str  # ISO 8601 UTC
    title: str
    original_object: str  # path relative to the archive root
    archival_object: str | None  # relative path of the archival PDF; None = original serves
    archival_sha256: str | None
    pages: tuple[PageText, ...]
    engine: str
    classification: Classification = field(default_factory=Classification)
    audit: tuple[dict[str, Any], ...] = ()
    archival_format: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # fields brought along by a migration
    batch: str | None = None  # the scan batch (``akte ingest --batch NAME``) the record came in with
    # A document split from a batch file: the pages of the original it holds (its page i is
    # source_pages[i-1]) and the separator sheets of that file. Empty: the whole original.
    source_pages: tuple[int, ...] = ()
    separator_pages: tuple[int, ...] = ()

    @property
    def expected_id(self) -> str:
        """The id this record must have: the original's hash, or for a split document
        :func:`document_id` of it and its pages."""
        return document_id(self.sha256, self.source_pages) if self.source_pages else self.sha256

    @property
    def doc_type(self) -> str | None:
        """The document type, or None while unclassified."""
        return self.classification.doc_type

    @property
    def date(self) -> str:
        """The record's date for listing and filtering: the ingest day (YYYY-MM-DD)."""
        return self.ingested_at[:10]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form, as written to the manifest."""
        data = asdict(self)
        data["doc_type"] = self.doc_type
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArchiveRecord:
        """Rebuild a record from its manifest form."""
        return cls(
            id=data["id"],
            sha256=data["sha256"],
            source_name=data["source_name"],
            media_type=data["media_type"],
            size=data["size"],
            page_count=data["page_count"],
            ingested_at=data["ingested_at"],
            title=data["title"],
            original_object=data["original_object"],
            archival_object=data.get("archival_object"),
            archival_sha256=data.get("archival_sha256"),
            pages=tuple(PageText.from_json(p) for p in data["pages"]),
            engine=data["engine"],
            classification=Classification.from_json(data.get("classification") or {}),
            audit=tuple(data.get("audit", ())),
            archival_format=data.get("archival_format"),
            extra=tuple((str(k), str(v)) for k, v in data.get("extra", ())),
            batch=data.get("batch"),
            source_pages=tuple(data.get("source_pages", ())),
            separator_pages=tuple(data.get("separator_pages", ())),
        )


def document_id(sha256: str, pages: tuple[int, ...]) -> str:
    """Record id of the document on ``pages`` of the batch file with hash ``sha256``.

    Derived, not random: a rerun after a crash writes the same records again instead of
    new ones (exactly once).
    """
    return hashlib.sha256(f"{sha256}:pages={','.join(map(str, pages))}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked search result."""

    id: str
    title: str
    doc_type: str | None
    date: str
    score: float
    snippet: str  # with «…» around matched words
    page: int | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results plus the total count and a cursor for the next page."""

    hits: tuple[SearchHit, ...]
    total: int
    cursor: str | None = None
