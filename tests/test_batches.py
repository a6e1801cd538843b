"""Scan batches: ``akte ingest --batch NAME --expect-pages N`` and ``akte batch show``."""

from __future__ import annotations

import json

import pytest
from aktenarchiv.batches import Batch, batch_summary, check_name, open_batch
from aktenarchiv.errors import ConfigError
from aktenarchiv.models import ArchiveRecord, PageText
from drawn_pages import blank_back, letter_page


def _record(name: str, batch: str | None, *pages: PageText) -> ArchiveRecord:
    return ArchiveRecord(id=name * 64, sha256=name * 64, source_name=f"{name}.tiff", media_type="image/tiff",
                         size=1, page_count=len(pages), ingested_at="2026-01-01T00:00:00+00:00", title=name,
                         original_object="objects/x", archival_object=None, archival_sha256=None, pages=pages,
                         engine="tesseract", batch=batch)


def test_batch_names_become_file_names_so_they_are_checked(tmp_path):
    assert check_name("2024-03-05_bauamt.1") == "2024-03-05_bauamt.1"
    for bad in ("", "../etc", "a/b", ".hidden", "x" * 81, "Stapel 1"):
        with pytest.raises(ConfigError):
            check_name(bad)
    first = open_batch(tmp_path, "stapel-1", 10)
    again = open_batch(tmp_path, "stapel-1", None)  # a rerun keeps the cover-sheet count
    assert again == first and first.expected_pages == 10
    with pytest.raises(ConfigError):
        open_batch(tmp_path, "stapel-2", 0)


def test_the_summary_counts_pages_and_compares_with_the_cover_sheet():
    ocr = dict(source="ocr", confidence=90.0, dpi=300)
    records = [
        _record("a", "s1", PageText(1, "Antrag", **ocr), PageText(2, "", blank=True, issues=("blank",),
                                                                   **{**ocr, "confidence": None})),
        _record("b", "s1", PageText(1, "", separator="PATCHT", **ocr), PageText(2, "Bescheid", issues=("low-dpi",),
                                                                                 **ocr)),
        _record("c", "other", PageText(1, "Vertrag", **ocr)),
    ]
    summary = batch_summary(Batch("s1", "2026-01-01", 5), records)
    assert (summary["documents"], summary["pages"], summary["blank_pages"], summary["separator_pages"]) == (2, 4, 1, 1)
    assert summary["qa"] == {"passed": 1, "review": 1, "approved": 0, "rejected": 0}
    assert (summary["complete"], summary["missing_pages"], summary["extra_pages"]) == (False, 1, 0)
    assert batch_summary(Batch("s1", "2026-01-01", 4), records)["complete"] is True
    assert batch_summary(Batch("s1", "2026-01-01"), records)["complete"] is None


@pytest.mark.slow
def test_ingest_into_a_batch_and_show_it(cli, tmp_path):
    inbox = tmp_path / "stapel"
    inbox.mkdir()
    letter_page().save(inbox / "brief.tiff", save_all=True, append_images=[blank_back(seed=2)], dpi=(150, 150))
    assert cli("ingest", inbox, "--expect-pages", "3").exit_code == 1  # needs --batch
    assert cli("ingest", inbox, "--batch", "../weg").exit_code == 1
    result = cli("ingest", inbox, "--batch", "2024-03-05-bauamt", "--expect-pages", "3")
    assert result.exit_code == 0
    assert "2 pages archived, the cover sheet says 3" in result.stderr
    summary = json.loads(cli("batch", "show", "2024-03-05-bauamt", "--json").stdout)
    assert (summary["documents"], summary["pages"], summary["blank_pages"]) == (1, 2, 1)
    assert (summary["complete"], summary["missing_pages"]) == (False, 1)
    assert summary["qa"]["review"] == 1  # 150 dpi: low-dpi
    assert [r["title"] for r in json.loads(cli("qa", "--batch", "2024-03-05-bauamt", "--json").stdout)] == ["brief"]
    assert json.loads(cli("qa", "--batch", "anderer-stapel", "--json").stdout) == []
    shown = cli("batch", "show", "2024-03-05-bauamt")
    assert shown.exit_code == 0 and "1 missing" in shown.stdout
    assert cli("batch", "show", "gibt-es-nicht").exit_code == 1
    assert cli("verify").exit_code == 0  # batches/ belongs to the archive's layout: no stray
