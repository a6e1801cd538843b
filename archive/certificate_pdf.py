"""The release certificate as a printable PDF/A-2b (fpdf2): see :mod:`.certificate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

from ..errors import AkteError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {("Sans", ""): "DejaVuSans.ttf", ("Sans", "B"): "DejaVuSans-Bold.ttf", ("Mono", ""): "DejaVuSansMono.ttf"}


class _Sheet(FPDF):
    """An A4 page of PDF/A-2b with the certificate's identity in the footer of every page.

    fpdf2 writes the PDF/A parts itself (``enforce_compliance``): the XMP packet with
    ``pdfaid`` part 2, conformance B, and an sRGB output intent; it refuses any font that is
    not embedded, so the DejaVu TrueType fonts are required (Debian: fonts-dejavu-core).
    """

    def __init__(self, footer: str) -> None:
        missing = [name for name in FONTS.values() if not (FONT_DIR / name).is_file()]
        if missing:
            raise AkteError(f"the release certificate (PDF/A) embeds the DejaVu fonts, but {FONT_DIR} lacks "
                            f"{', '.join(missing)}: install them (Debian: apt-get install fonts-dejavu-core); "
                            "nothing was written")
        super().__init__(format="A4", enforce_compliance="PDF/A-2B")
        self.footer_text = footer
        for (family, style), name in FONTS.items():
            self.add_font(family, style=style, fname=str(FONT_DIR / name))

    def use(self, family: str, size: float, style: str = "") -> None:
        """One of the embedded fonts ("Sans", "Sans" bold, "Mono")."""
        self.set_font(family, style, size)

    def line_of(self, text: str, height: float = 5.0) -> None:
        """One paragraph, wrapped at the margins."""
        self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        self.set_y(-12)
        self.use("Mono", 6.5)
        self.cell(0, 4, f"{self.footer_text} · Seite {self.page_no()}/{{nb}}", align="C")


def render_pdf(certificate: dict[str, Any], json_sha: str) -> bytes:
    """The printable certificate: a German heading, the facts, one block per document."""
    batch, release = certificate["batch"], certificate["release"]
    pdf = _Sheet(f"Freigabe {batch['name']} · JSON sha256 {json_sha}")
    pdf.set_title(f"Freigabebescheinigung {batch['name']}")
    pdf.set_author(release["by"])
    pdf.set_creator("aktenarchiv (akte release)")
    pdf.set_lang("de-DE")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.use("Sans", 15, "B")
    pdf.line_of("Freigabebescheinigung – Ersetzendes Scannen (BSI TR-03138)", 8)
    pdf.use("Sans", 10)
    pdf.line_of(f"Stapel (batch): {batch['name']}, angelegt {batch['created_at']}")
    pdf.line_of(f"Dokumente: {batch['documents']} · Seiten: {batch['pages']} · Deckblatt: "
                f"{batch['expected_pages'] if batch['expected_pages'] is not None else 'keine Angabe'}")
    pdf.line_of(f"Schutzbedarf: {', '.join(batch['schutzbedarf'])}")
    pdf.line_of(f"Freigegeben von {release['by']} auf {release['host']} am {release['at']}")
    pdf.line_of(f"Audit-Kette vor der Freigabe: Eintrag {release['audit_head']['seq']}")
    pdf.use("Mono", 7.5)
    pdf.line_of(f"  {release['audit_head']['hash']}", 4)
    pdf.use("Sans", 10)
    qa, sample = certificate["qa"], certificate["sample"]
    pdf.line_of("Qualitätskontrolle: " + ", ".join(f"{k} {v}" for k, v in qa.items()))
    pdf.line_of(f"Stichprobe: {sample['pages']} Seite(n) geprüft, unterschrieben von "
                f"{', '.join(sample['signed_by']) or '–'}")
    pdf.line_of("Geprüft bei der Freigabe: " + "; ".join(certificate["checked"]))
    pdf.ln(2)
    for n, doc in enumerate(certificate["documents"], start=1):
        pdf.use("Sans", 9.5, "B")
        pdf.line_of(f"{n}. {doc['title']} ({doc['source_name']}, {doc['pages']} S., QA {doc['qa']})")
        pdf.use("Mono", 7)
        pdf.line_of(f"   id       {doc['id']}\n   original {doc['sha256']}\n   archiv   {doc['archival_sha256'] or '–'}"
                    f"\n   manifest {doc['manifest_sha256']}", 3.6)
        pdf.ln(1)
    pdf.use("Sans", 8.5)
    pdf.ln(2)
    pdf.line_of("Diese Bescheinigung belegt, dass bei der Freigabe jedes Dokument des Stapels archiviert, "
                "indiziert und gegen seine Prüfsummen geprüft war, die Qualitätskontrolle bestanden oder "
                "freigegeben war und die Stichprobe nach Schutzbedarf abgezeichnet war. Sie ist mit ihren "
                "Prüfsummen in der Audit-Kette des Archivs versiegelt (akte verify).", 4.2)
    return bytes(pdf.output())
