"""Test records for the backend suites: German texts built directly as ArchiveRecords.

Umlauts and ß in both spellings, compounds (Bauantrag, Gebührenbescheid), a phrase, a
multi-page record, an unclassified one, several doc types, dates and file references.
"""

from __future__ import annotations

import hashlib

from aktenarchiv.archive.base import SearchBackend, SearchQuery
from aktenarchiv.models import ArchiveRecord, Classification, PageText


def make_record(
    key: str,
    title: str,
    pages: tuple[str, ...],
    ingested_at: str,
    doc_type: str | None = None,
    reference: str | None = None,
    doc_date: str | None = None,
    needs_review: bool = False,
) -> ArchiveRecord:
    """An archive record as the pipeline would store it; ``key`` names it in the tests."""
    sha = hashlib.sha256(key.encode()).hexdigest()
    return ArchiveRecord(
        id=sha,
        sha256=sha,
        source_name=f"{key}.pdf",
        media_type="application/pdf",
        size=1000,
        page_count=len(pages),
        ingested_at=ingested_at,
        title=title,
        original_object=f"objects/{sha[:2]}/{sha}",
        archival_object=None,
        archival_sha256=None,
        pages=tuple(PageText(n, t, "text-layer", None) for n, t in enumerate(pages, start=1)),
        engine="text-layer",
        classification=Classification(
            doc_type=doc_type, reference=reference, doc_date=doc_date, needs_review=needs_review
        ),
    )


CORPUS = {
    r.source_name[:-4]: r
    for r in (
        make_record(
            "bauantrag", "Bauantrag Müller",
            ("Bauantrag für ein Einfamilienhaus in der Hauptstraße 5. Antragsteller: Hans Müller."
             " Antrag auf Erteilung einer Baugenehmigung nach der Landesbauordnung.",),
            "2024-03-05T09:00:00Z", "antrag", "63.2-4711/24", "2024-03-01",
        ),
        make_record(
            "gebuehren", "Gebührenbescheid",
            ("Bescheid über die Gebühren für die Baugenehmigung. Sehr geehrter Herr Mueller,"
             " die Gebühr beträgt 1.234,56 € und ist binnen eines Monats zu zahlen.",),
            "2024-05-10T10:30:00Z", "bescheid", "63.2-4711/24", "2024-05-08",
        ),
        make_record(
            "rechnung", "Rechnung Reinigung",
            ("Rechnung über die Reinigung der Straße vor dem Rathaus. Zahlbar innerhalb von"
             " 14 Tagen ohne Abzug.",),
            "2023-11-20T08:00:00Z", "rechnung", "20.1-0815/23", "2023-11-15",
        ),
        make_record(
            "widerspruch", "Widerspruch gegen Gebührenbescheid",
            ("Hiermit lege ich Widerspruch gegen den Gebührenbescheid zum Bauvorhaben ein."
             " Die Berechnung ist fehlerhaft.",),
            "2024-06-01T12:00:00Z", "widerspruch", "63.2-4711/24", "2024-05-30",
        ),
        make_record(
            "protokoll", "Protokoll Gemeinderat",
            ("Protokoll der Sitzung des Gemeinderats. Tagesordnung: Anträge der Fraktionen,"
             " Haushalt, Kindergarten.",),
            "2023-02-14T17:00:00Z", "protokoll", None, "2023-02-14",
        ),
        make_record(
            "schreiben", "Schreiben ohne Zuordnung",
            ("Sehr geehrte Damen und Herren, anbei die Unterlagen zur Kenntnis."
             " Mit freundlichen Grüßen, Erika Müßig",),
            "2024-01-02T07:45:00Z", None, None, None, needs_review=True,
        ),
        make_record(
            "mietvertrag", "Mietvertrag Schröder",
            ("Mietvertrag zwischen der Stadt und Frau Schröder über die Wohnung im Rathaus.",
             "Die Miete beträgt 500 Euro. Eine Kündigung ist mit drei Monaten Frist möglich."),
            "2022-07-01T09:15:00Z", "vertrag", "23.1-0042/22", "2022-06-28",
        ),
    )
}
ID = {key: record.id for key, record in CORPUS.items()}
KEY = {record.id: key for key, record in CORPUS.items()}


def keys(backend: SearchBackend, text: str | None = None, **filters) -> list[str]:
    """The corpus keys of the hits, in ranking order (all of them, one page)."""
    page = backend.search(SearchQuery(text=text, limit=50, **filters))
    assert page.total == len(page.hits)
    return [KEY[h.id] for h in page.hits]
