"""Shared helpers for the classify tests: scanned letters OCRed at test time, records, models."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aktenarchiv.archive.registry import open_backend
from aktenarchiv.archive.seal import write_record
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import Settings
from aktenarchiv.models import ArchiveRecord, Classification, OcrResult, PageText
from drawn_pages import draw_letter

# Four letters as an office receives them; phrased independently of the corpus templates.
LETTERS = {
    "rechnung": """
        Elektro Krause GmbH · Industriestraße 12 · 12345 Musterstadt
        Stadt Musterstadt, Gebäudemanagement, Rathausplatz 1, 12345 Musterstadt
        Datum: 05.03.2024
        Rechnung Nr. RE-2024-117
        Sehr geehrte Damen und Herren,
        für die Prüfung der elektrischen Anlagen in der Grundschule berechnen wir:
        Prüfung ortsveränderlicher Geräte, 120 Stück, netto 1.200,00 €
        zzgl. 19 % Umsatzsteuer 228,00 €, Rechnungsbetrag 1.428,00 €
        Bitte überweisen Sie den Betrag innerhalb von 14 Tagen auf unser Konto
        IBAN DE89 3704 0044 0532 0130 00 unter Angabe der Rechnungsnummer.
        Mit freundlichen Grüßen
    """,
    "bescheid": """
        Stadt Musterstadt – Ordnungsamt – Rathausplatz 1 – 12345 Musterstadt
        Herrn Peter Schneider, Lindenweg 4, 12345 Musterstadt
        Az.: 32-2024-0815
        Musterstadt, 5. März 2024
        Gebührenbescheid für die Sondernutzung öffentlicher Verkehrsflächen
        Sehr geehrter Herr Schneider,
        für die Aufstellung eines Containers vor Ihrem Haus wird die Gebühr
        auf 85,00 € festgesetzt. Der Betrag ist bis zum 02.04.2024 zu zahlen.
        Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines
        Monats nach Bekanntgabe Widerspruch erhoben werden.
        Im Auftrag
    """,
    "widerspruch": """
        Maria Wagner, Gartenstraße 7, 12345 Musterstadt
        An die Stadt Musterstadt, Bauaufsicht
        Musterstadt, den 20.03.2024
        Widerspruch gegen Ihren Bescheid vom 12.02.2024
        Aktenzeichen: 63.2-4711/24
        Sehr geehrte Damen und Herren,
        gegen den oben genannten Bescheid lege ich hiermit fristgerecht
        Widerspruch ein. Die Nebenbestimmung zur Stellplatzpflicht ist
        unverhältnismäßig. Ich bitte um Aufhebung des Bescheids.
        Mit freundlichen Grüßen
    """,
    "protokoll": """
        Stadt Musterstadt
        Niederschrift über die 12. Sitzung des Bauausschusses
        Datum: 14. März 2024, Beginn 18:00 Uhr, Sitzungssaal des Rathauses
        Anwesend: Frau Hoffmann (Vorsitz), sieben Ausschussmitglieder
        TOP 1: Genehmigung der Niederschrift der letzten Sitzung
        Die Niederschrift wird einstimmig genehmigt.
        TOP 2: Sanierung der Turnhalle, Beschluss: 8 Ja-Stimmen, 1 Enthaltung
        Ende der Sitzung: 19:30 Uhr. Für die Richtigkeit: Schriftführer
    """,
}


def ocr_png(path: Path) -> str:
    """Tesseract (deu) text of an image, one thread per process (see DESIGN.md)."""
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    return pytesseract.image_to_string(str(path), lang="deu")


def ocr_letters(tmp_dir: Path, letters: dict[str, str]) -> dict[str, str]:
    """Draw and OCR letters in parallel; returns type → OCR text."""
    paths = {t: draw_letter(text, tmp_dir / f"{t}.png") for t, text in letters.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        texts = dict(zip(paths, pool.map(ocr_png, paths.values())))
    return texts


def ocr_result(text: str, key: str = "x" * 64) -> OcrResult:
    """An OcrResult with one page of text (as the OCR stage would return it)."""
    return OcrResult(key, (PageText(1, text, "ocr", 90.0),), "tesseract", None)


def make_record(store: ArchiveStore, text: str, classification: Classification, n: int) -> ArchiveRecord:
    """Write a minimal record (manifest only) whose id is derived from ``n``."""
    import hashlib

    sha = hashlib.sha256(f"record-{n}-{text[:40]}".encode()).hexdigest()
    record = ArchiveRecord(
        id=sha, sha256=sha, source_name=f"scan{n}.pdf", media_type="application/pdf", size=len(text),
        page_count=1, ingested_at="2024-03-05T10:00:00+00:00", title=f"Scan {n}",
        original_object=f"objects/{sha[:2]}/{sha}", archival_object=None, archival_sha256=None,
        pages=(PageText(1, text, "ocr", 91.0),), engine="tesseract", classification=classification,
    )
    write_record(store, record)
    return record


def make_archive(tmp_path: Path, records: list[tuple[str, Classification]]) -> tuple[Settings, list[ArchiveRecord]]:
    """An archive directory with the given records written and indexed."""
    settings = Settings(archive_dir=tmp_path / "archiv")
    store = ArchiveStore(settings.archive_dir)
    written = [make_record(store, text, cls, i) for i, (text, cls) in enumerate(records)]
    backend = open_backend(settings)
    try:
        backend.index(written)
    finally:
        backend.close()
    return settings, written
