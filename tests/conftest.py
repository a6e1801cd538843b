"""Shared fixtures: scans drawn with Pillow at test time, a born-digital PDF, settings, CLI runner."""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from pathlib import Path

import pytest
import typer.main
import typer.testing
from aktenarchiv.config import Settings, load_settings
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from drawn_pages import draw_page, save_scan, write_text_pdf
from typer.testing import CliRunner

# Typer builds the click command tree from the functions' signatures on every invoke (~50 ms
# for akte); the tree never changes within a test run, so the in-process runner builds it once.
typer.testing._get_command = functools.cache(typer.main.get_command)

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


def in_fast_tier(request: pytest.FixtureRequest) -> bool:
    """True for a test of the fast tier (not marked slow)."""
    return request.node.get_closest_marker("slow") is None


@pytest.fixture
def settings(archive_dir, request) -> Settings:
    """Default settings on an empty archive, isolated from the caller's environment.

    In the fast tier the OCR runs in the test's process (``ocr.in_process``): starting a
    worker process costs more than a test's few born-digital or fake-OCR pages. Worker
    processes are tested with the failing fake engines (tests/test_ocr_engines.py), by the
    tests that start ``akte`` as a process, and in the slow tier, which runs as users do.
    """
    loaded = load_settings(archive_dir, environ={})
    return replace(loaded, ocr=replace(loaded.ocr, in_process=True)) if in_fast_tier(request) else loaded


@pytest.fixture
def cli(archive_dir, monkeypatch, request):
    """Run ``akte --archive <archive_dir> ...`` in-process; returns the result."""
    from aktenarchiv.cli import app

    for key in list(os.environ):
        if key.startswith("AKTE_") and key not in ("AKTE_ES_URL", "AKTE_DECOMPOUND_DICT"):
            monkeypatch.delenv(key)
    if in_fast_tier(request):
        monkeypatch.setenv("AKTE_OCR_IN_PROCESS", "true")  # as for ``settings``
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

    The OCR runs in the test's process, as for ``settings``.
    """
    _fake_engines_importable(monkeypatch)
    return replace(settings, ocr=replace(settings.ocr, engine=FAKE_ENGINE.format("InstantEngine"), workers=1,
                                         in_process=True))


@pytest.fixture
def ocr_engine(cli, monkeypatch):
    """Choose the fake OCR engine of ``cli`` runs by class name; returns the setting's value.

    The instant engine runs in process (as for ``instant_settings``); the crashing, hanging,
    vanishing and buggy ones in one worker process, whose failure paths they are there to test.
    """
    _fake_engines_importable(monkeypatch)

    def use(name: str = "InstantEngine") -> str:
        value = FAKE_ENGINE.format(name)
        monkeypatch.setenv("AKTE_OCR_ENGINE", value)  # after cli's clean-up of AKTE_* variables
        monkeypatch.setenv("AKTE_OCR_WORKERS", "1")
        monkeypatch.setenv("AKTE_OCR_IN_PROCESS", str(name == "InstantEngine").lower())
        return value

    return use


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    """Argon2id with argon2-cffi's CHEAPEST parameters (made for tests) instead of the RFC 9106
    profile, which costs ~0.1 s per sign-in. Yields the product's hasher and dummy hash."""
    from aktenarchiv.web import users

    product = users._HASHER, users._DUMMY_HASH
    cheap = PasswordHasher.from_parameters(CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_HASHER", cheap)
        patch.setattr(users, "_DUMMY_HASH", cheap.hash("dummy"))
        yield product


@pytest.fixture
def product_password_hashes(_cheap_password_hashes, monkeypatch) -> None:
    """The product's password hashing, for the test that checks it."""
    from aktenarchiv.web import users

    monkeypatch.setattr(users, "_HASHER", _cheap_password_hashes[0])
    monkeypatch.setattr(users, "_DUMMY_HASH", _cheap_password_hashes[1])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """How many processes ``-n auto`` (pyproject's addopts) starts: one per core this process
    may use (at most ``--maxprocesses``) for the fast tier; one process, no xdist, for any
    other run and on a single core.

    The fast tier is ``-m "not slow"``, or ``not slow and`` more conditions: an expression
    that can select no slow test. The slow tier runs test by test, as in CI: its tests share
    one Elasticsearch node (one of them stops it) and its OCR uses every core anyway. ``-s``
    needs the test's own process to print, as ``--pdb`` does (xdist sees to that one itself);
    ``-n 0`` is one process always.
    """
    expression = " ".join((config.option.markexpr or "").split())
    fast = expression == "not slow" or (expression.startswith("not slow and ") and " or " not in expression
                                        and "(" not in expression)
    if not fast or config.option.capture == "no":
        return 0
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own way to choose
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 else 0  # one core: a worker process would only add its start-up


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on a real Elasticsearch node is a slow one too: the fast tier runs without a node (CI runs both)."""
    for item in items:
        if item.get_closest_marker("es") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
