"""The release certificate's PDF is PDF/A-2b: fonts embedded, pdfaid XMP, sRGB output intent;
veraPDF accepts it (veraPDF missing fails in CI, as in test_direct_ocr)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from aktenarchiv.archive import certificate_pdf as certificate
from aktenarchiv.archive.certificate_pdf import render_pdf
from aktenarchiv.errors import AkteError
from ci import unavailable

REPO = Path(__file__).resolve().parent.parent
CERTIFICATE = {
    "batch": {"name": "2026-01-05-bauamt", "created_at": "2026-01-05T08:00:00+00:00", "documents": 1, "pages": 2,
              "expected_pages": 2, "schutzbedarf": ["hoch"], "blank_pages": 0, "separator_pages": 0},
    "release": {"by": "leiterin", "host": "scanplatz-1", "at": "2026-01-06T09:00:00+00:00",
                "audit_head": {"seq": 42, "hash": "a" * 64}},
    "qa": {"approved": 1}, "sample": {"pages": 1, "signed_by": ["prüferin"], "items": []},
    "checked": ["every document archived and journaled"],
    "documents": [{"id": "b" * 64, "title": "Bauantrag Müller – Flurstück 12/3 (S. 1–2)", "source_name": "stapel.tiff",
                   "pages": 2, "qa": "approved", "sha256": "c" * 64, "archival_sha256": "d" * 64,
                   "manifest_sha256": "e" * 64}],
}


@pytest.fixture
def certificate_pdf(tmp_path) -> Path:
    path = tmp_path / "freigabe.pdf"
    path.write_bytes(render_pdf(CERTIFICATE, "f" * 64))
    return path


def test_the_certificate_declares_pdfa_2b_and_embeds_its_fonts(certificate_pdf):
    with pikepdf.open(certificate_pdf) as pdf:
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "B")
        assert meta["dc:title"] == "Freigabebescheinigung 2026-01-05-bauamt"
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.N == 3
        fonts = [font for page in pdf.pages for font in page.Resources.Font.values()]
        assert fonts and all("/FontFile2" in font.DescendantFonts[0].FontDescriptor for font in fonts)


def test_without_the_dejavu_fonts_no_certificate_is_made(tmp_path, monkeypatch):
    monkeypatch.setattr(certificate, "FONT_DIR", tmp_path)
    with pytest.raises(AkteError, match="fonts-dejavu-core"):
        render_pdf(CERTIFICATE, "f" * 64)


@pytest.mark.slow
def test_verapdf_accepts_the_certificate(certificate_pdf):
    if not (shutil.which("java") and shutil.which("mvn")):
        # CI must never pass by not checking: there the missing tools are a failure, not a skip.
        unavailable("veraPDF needs java and mvn (bash scripts/setup.sh installs them)")
    proc = subprocess.run(["bash", str(REPO / "scripts" / "verapdf.sh"), str(certificate_pdf)],
                          capture_output=True, text=True, timeout=600)
    assert proc.stdout.startswith("PASS"), proc.stdout + proc.stderr
