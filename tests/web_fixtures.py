"""An archive for the web tests: born-digital PDFs (fpdf2) stored and indexed with known types,
users of every role created through the real ``akte user`` commands, and sign-in helpers.

The records are put into the real store and index directly (not through OCR and the
classifier), so each test knows exactly which type every record has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aktenarchiv.archive.registry import open_backend
from aktenarchiv.archive.seal import write_record
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import Settings
from aktenarchiv.fsio import sha256_file
from aktenarchiv.models import ArchiveRecord, Classification, PageText
from fastapi.testclient import TestClient

PASSWORD = "Geheim-Passwort-1"
# name → (role, --types or None)
USERS = {
    "admin": ("admin", None),
    "akten": ("records", None),
    "sach": ("clerk", None),  # the default clerk scope: everything but personal, no unclassified
    "hr": ("clerk", "personal,korrespondenz"),
}
# key → (title, pages, type, needs review, Aktenzeichen, document date, ingested)
RECORDS = {
    "bauantrag": ("Bauantrag Müller", ["Bauantrag für das Grundstück Müllerstraße 12",
                                       "Antragsteller: Hans Müller, Gärtnerweg 3"],
                  "antrag", False, "63.2-4711/24", "2024-03-01", "2024-03-05T09:00:00+00:00"),
    "personal": ("Personalakte Müller", ["Personalakte Hans Müller", "Gehaltsabrechnung und Beurteilung"],
                 "personal", False, "11.2-0007/24", "2024-02-01", "2024-04-01T09:00:00+00:00"),
    "bescheid": ("Gebührenbescheid Schröder", ["Gebührenbescheid für Frau Schröder über 1.234,56 €"],
                 "bescheid", True, "63.2-4711/24", "2023-05-08", "2023-05-10T10:00:00+00:00"),
    "offen": ("Schreiben Müßig", ["Sehr geehrte Damen und Herren, anbei die Unterlagen. Erika Müßig"],
              None, True, None, None, "2024-01-02T07:45:00+00:00"),
}


@dataclass
class WebArchive:
    """The archive of a web test: settings, record ids by key, API tokens by user."""

    settings: Settings
    ids: dict[str, str]
    tokens: dict[str, str]

    def record(self, key: str) -> ArchiveRecord:
        """The stored manifest of a record, as it is now."""
        return ArchiveStore(self.settings.archive_dir).read_record(self.ids[key])


def akte(settings: Settings, *args: str, input: str | None = None):
    """Run ``akte --archive <archive> …`` in-process."""
    from aktenarchiv.cli import app
    from typer.testing import CliRunner

    return CliRunner().invoke(app, ["--archive", str(settings.archive_dir), *args], input=input)


def build_archive(settings: Settings, make_text_pdf, folder: Path) -> WebArchive:
    """Store and index the RECORDS as born-digital PDFs; create USERS with the CLI."""
    store = ArchiveStore(settings.archive_dir)
    records = []
    for key, (title, pages, doc_type, review, ref, doc_date, ingested) in RECORDS.items():
        pdf = make_text_pdf(f"{key}.pdf", *[[line] for line in pages], folder=folder)
        sha = sha256_file(pdf)
        rel = store.put_original(pdf, sha)
        records.append(ArchiveRecord(
            id=sha, sha256=sha, source_name=f"{key}.pdf", media_type="application/pdf", size=pdf.stat().st_size,
            page_count=len(pages), ingested_at=ingested, title=title, original_object=rel, archival_object=None,
            archival_sha256=None, engine="text-layer",
            pages=tuple(PageText(n, text, "text-layer", None) for n, text in enumerate(pages, start=1)),
            classification=Classification(doc_type=doc_type, confidence=0.9 if doc_type else 0.4,
                                          needs_review=review, reference=ref, doc_date=doc_date,
                                          method="model:test",
                                          suggested_type="korrespondenz" if review else None),
        ))
    store_and_index(settings, records)
    return WebArchive(settings, {key: r.id for key, r in zip(RECORDS, records)}, add_users(settings))


def add_users(settings: Settings) -> dict[str, str]:
    """Create the USERS with ``akte user add``; returns their API tokens by name."""
    tokens = {}
    for name, (role, types) in USERS.items():
        args = ["user", "add", name, "--role", role, "--password-stdin"] + (["--types", types] if types else [])
        result = akte(settings, *args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        token = akte(settings, "user", "token", name)
        assert token.exit_code == 0, token.output
        tokens[name] = token.stdout.strip().splitlines()[-1]
    return tokens


# key → (lines of the letter, scan batch, type set by hand afterwards)
FLAGGED = {
    "sondernutzung": (["Stadt Musterstadt - Ordnungsamt", "Antrag auf Sondernutzung",
                       "Gehweg vor dem Haus Lindenallee 7", "Mit freundlichen Grüßen"], "stapel-a", "antrag"),
    "weber": (["Personalakte Weber", "Beurteilung der Beschäftigten", "Vertraulich"], "stapel-b", "personal"),
}


def ingest_flagged_scans(settings: Settings, folder: Path, keys=tuple(FLAGGED)) -> dict[str, str]:
    """Scan letters at 120 dpi (too coarse: the scan station flags them ``rescan-dpi``), ingest
    them through the real pipeline (Tesseract) into their batches, and set their type with
    ``akte label``; returns the record ids by key."""
    from aktenarchiv.pipeline import ingest
    from drawn_pages import letter_page

    ids = {}
    for key in keys:
        lines, batch, doc_type = FLAGGED[key]
        inbox = folder / key
        inbox.mkdir(parents=True)
        letter_page(lines).save(inbox / f"{key}.png", dpi=(120, 120))
        outcome = ingest([inbox], settings, batch=batch).outcomes[0]
        assert outcome.status == "archived", outcome
        (record,) = [r for r in ArchiveStore(settings.archive_dir).iter_records() if r.source_name == f"{key}.png"]
        assert record.pages[0].issues and "rescan-dpi" in record.pages[0].issues, record.pages[0]
        labelled = akte(settings, "label", record.id, doc_type)
        assert labelled.exit_code == 0, labelled.output
        ids[key] = record.id
    return ids


def store_and_index(settings: Settings, records: list[ArchiveRecord]) -> None:
    """Write the records' sealed manifests and index them (their objects are stored already)."""
    store = ArchiveStore(settings.archive_dir)
    for record in records:
        write_record(store, record, "sealed")
    backend = open_backend(settings)
    try:
        assert backend.index(records).errors == {}
    finally:
        backend.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD):
    """Sign in through the real form; returns the answer to the POST (not followed)."""
    form = client.get("/anmelden")
    return client.post("/anmelden", data={"name": name, "passwort": password, "csrf": csrf_of(form.text),
                                          "weiter": "/"}, follow_redirects=False)


def signed_in_client(app, name: str) -> TestClient:
    """A browser session of ``name``."""
    client = TestClient(app, raise_server_exceptions=False)
    answer = sign_in(client, name)
    assert answer.status_code == 303, answer.text
    return client


def api_get(app, token: str, path: str, **params):
    """A GET of the JSON API with ``token`` as the bearer."""
    client = TestClient(app, raise_server_exceptions=False)
    return client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
