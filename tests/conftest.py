"""Shared fixtures: scans drawn with Pillow at test time, a born-digital PDF, settings, CLI runner."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from aktenarchiv.config import Settings, load_settings
from drawn_pages import draw_page, save_scan, write_text_pdf
from typer.testing import CliRunner

LETTER = [
    "Stadt Musterstadt - Bauamt",
    "Bauantrag für das Grundstück Müllerstraße 12",
    "Sehr geehrte Frau Müßig,",
    "wir bestätigen den Eingang Ihres Bauantrags.",
    "Die Prüfung dauert etwa vier Wochen.",
]


@pytest.fixture
def make_scan(tmp_path):
    """Factory: write pages of text as png/jpeg/tiff/pdf (image-only) and return the path."""

    def make(name: str, *pages: list[str], folder: Path | None = None) -> Path:
        return save_scan([draw_page(lines) for lines in (pages or (LETTER,))], (folder or tmp_path) / name)

    return make


@pytest.fixture
def make_text_pdf(tmp_path):
    """Factory: a born-digital PDF (see :func:`write_text_pdf`) under ``tmp_path``."""

    def make(name: str, *pages: list[str], folder: Path | None = None) -> Path:
        return write_text_pdf((folder or tmp_path) / name, *(pages or (LETTER,)))

    return make


@pytest.fixture
def archive_dir(tmp_path) -> Path:
    """An empty archive directory."""
    return tmp_path / "archiv"


@pytest.fixture
def settings(archive_dir) -> Settings:
    """Default settings on an empty archive, isolated from the caller's environment."""
    return load_settings(archive_dir, environ={})


@pytest.fixture
def cli(archive_dir, monkeypatch):
    """Run ``akte --archive <archive_dir> ...`` in-process; returns the result."""
    from aktenarchiv.cli import app

    for key in list(os.environ):
        if key.startswith("AKTE_") and key not in ("AKTE_ES_URL", "AKTE_DECOMPOUND_DICT"):
            monkeypatch.delenv(key)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["--archive", str(archive_dir), *map(str, args)])

    return run


FAKE_ENGINE = "fake_engines:{}"  # tests/fake_engines.py, for settings.ocr.engine


def _fake_engines_importable(monkeypatch) -> None:
    """Let any Python process the run starts import ``fake_engines`` (pytest's own has tests/)."""
    tests = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")])))


@pytest.fixture
def instant_settings(settings, monkeypatch) -> Settings:
    """``settings`` with the instant fake OCR engine: pipeline logic without Tesseract.

    One worker process: starting one costs more than the instant engine's work on a test's few scans.
    """
    _fake_engines_importable(monkeypatch)
    return replace(settings, ocr=replace(settings.ocr, engine=FAKE_ENGINE.format("InstantEngine"), workers=1))


@pytest.fixture
def ocr_engine(cli, monkeypatch):
    """Choose the fake OCR engine of ``cli`` runs by class name; returns the setting's value."""
    _fake_engines_importable(monkeypatch)

    def use(name: str = "InstantEngine") -> str:
        value = FAKE_ENGINE.format(name)
        monkeypatch.setenv("AKTE_OCR_ENGINE", value)  # after cli's clean-up of AKTE_* variables
        monkeypatch.setenv("AKTE_OCR_WORKERS", "1")  # as for instant_settings
        return value

    return use


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on a real Elasticsearch node is a slow one too: the fast tier runs without a node (CI runs both)."""
    for item in items:
        if item.get_closest_marker("es") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
