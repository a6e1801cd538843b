"""The OCR engine seam, with fake engines (tests/fake_engines.py): pipeline logic in seconds,
and what a crashing, hanging, vanishing or buggy OCR program leads to (exit codes 3 and 4).
"""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from aktenarchiv.archive.base import SearchQuery
from aktenarchiv.archive.registry import open_backend
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.errors import ConfigError
from aktenarchiv.fsio import sha256_file
from aktenarchiv.ingest.journal import Journal
from aktenarchiv.ocr.registry import get_engine
from aktenarchiv.ocr.tools import process
from aktenarchiv.ocr.tools.process import run_in_own_group
from aktenarchiv.pipeline import ingest
from aktenarchiv.states import OutcomeStatus
from fake_engines import FIXED_TEXT, processes_with


def test_instant_engine_runs_the_whole_pipeline(tmp_path, make_scan, make_text_pdf, instant_settings):
    instant_settings = replace(instant_settings, ocr=replace(instant_settings.ocr, in_process=False))  # in a worker
    folder = tmp_path / "eingang"
    make_scan("Hundesteuer.png", folder=folder)
    make_scan("akte.tiff", ["Seite eins"], ["Seite zwei"], folder=folder)
    make_scan("Sondernutzung.pdf", folder=folder)
    make_text_pdf("satzung.pdf", ["Satzung über die Erhebung der Hundesteuer"], folder=folder)
    (folder / "leer.pdf").write_bytes(b"")
    (folder / "kopie.png").write_bytes((folder / "Hundesteuer.png").read_bytes())

    report = ingest([folder], instant_settings)
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert {n: o.status for n, o in by_name.items()} == {
        "Hundesteuer.png": OutcomeStatus.ARCHIVED, "akte.tiff": OutcomeStatus.ARCHIVED, "Sondernutzung.pdf": OutcomeStatus.ARCHIVED, "satzung.pdf": OutcomeStatus.ARCHIVED,
        "leer.pdf": OutcomeStatus.QUARANTINED, "kopie.png": OutcomeStatus.DUPLICATE}
    assert report.exit_code == 4
    store = ArchiveStore(instant_settings.archive_dir)
    tiff = store.read_record(by_name["akte.tiff"].record_id)
    assert [p.source for p in tiff.pages] == ["ocr", "ocr"] and tiff.engine == "fake-instant 1.0"
    assert tiff.pages[1].text.endswith("Vorgang akte, Seite 2") and FIXED_TEXT in tiff.pages[0].text
    assert tiff.archival_object and tiff.archival_format == "PDF"
    digital = store.read_record(by_name["satzung.pdf"].record_id)
    assert digital.pages[0].source == "text-layer" and digital.archival_object is None  # no engine needed
    backend = open_backend(instant_settings)
    assert [h.title for h in backend.search(SearchQuery(text="Sondernutzung")).hits] == ["Sondernutzung"]
    assert backend.search(SearchQuery(text="Hundesteuer")).total == 2
    assert store.verify().ok

    again = ingest([folder], instant_settings)
    assert again.count(OutcomeStatus.DUPLICATE) == 5 and again.count(OutcomeStatus.ARCHIVED) == 0


def _batch(make_scan, make_text_pdf, tmp_path) -> Path:
    folder = tmp_path / "eingang"
    make_scan("scan.png", ["Ein gescannter Brief"], folder=folder)
    make_text_pdf("digital.pdf", ["Ein Brief aus der Textverarbeitung"], folder=folder)
    return folder


def _said(text: str) -> str:
    """Console output with its line breaks undone (messages are wrapped at the terminal width)."""
    return " ".join(text.split())


def _reasons(archive_dir: Path) -> dict[str, dict]:
    found = {}
    for path in archive_dir.glob("quarantine/*/reason.json"):
        info = json.loads(path.read_text(encoding="utf-8"))
        found[Path(info["source"]).name] = info
    return found


def test_crashing_program_quarantines_the_scan_exit_4(cli, ocr_engine, make_scan, make_text_pdf, tmp_path,
                                                      archive_dir):
    ocr_engine("CrashingEngine")
    result = cli("ingest", _batch(make_scan, make_text_pdf, tmp_path), "--json")
    assert result.exit_code == 4, result.output
    [shown] = [o for o in json.loads(result.stdout)["outcomes"] if o["status"] == OutcomeStatus.QUARANTINED]
    assert shown["path"].endswith("scan.png") and "fake-tesseract was killed by SIGSEGV" in shown["reason"]
    reason = _reasons(archive_dir)["scan.png"]
    assert reason["copy_kept"] and reason["reason"].startswith("OCR failed: fake-tesseract was killed by SIGSEGV")
    assert "fake tesseract: bad page" in reason["reason"]  # the program's last words
    assert len(list(ArchiveStore(archive_dir).record_ids())) == 1  # the born-digital PDF needs no OCR


def test_hanging_program_is_stopped_by_the_timeout_exit_4(cli, ocr_engine, make_scan, make_text_pdf, tmp_path,
                                                          archive_dir):
    ocr_engine("HangingEngine")
    archive_dir.mkdir(parents=True)
    (archive_dir / "akte.toml").write_text("[ocr]\ntimeout_base = 0\ntimeout_per_page = 1\n", encoding="utf-8")
    folder = _batch(make_scan, make_text_pdf, tmp_path)
    started = time.monotonic()
    result = cli("ingest", folder)
    assert result.exit_code == 4, result.output
    assert time.monotonic() - started < 30
    assert "OCR took longer than 1 s and was stopped" in _reasons(archive_dir)["scan.png"]["reason"]
    assert processes_with(str(folder / "scan.png")) == []  # killed, not left running


def test_vanished_program_stops_the_run_exit_3_and_the_scan_is_redone(cli, ocr_engine, make_scan, make_text_pdf,
                                                                       tmp_path, archive_dir):
    ocr_engine("VanishingEngine")
    folder = _batch(make_scan, make_text_pdf, tmp_path)
    result = cli("ingest", folder)
    assert result.exit_code == 3, result.output
    assert "cannot start fake-tesseract" in _said(result.stderr)
    assert _reasons(archive_dir) == {}  # not the scan's fault: nothing quarantined
    journal = Journal(archive_dir / "journal.sqlite")
    assert journal.get(sha256_file(folder / "scan.png")).state == "started"  # to be redone
    journal.close()

    ocr_engine("InstantEngine")
    assert cli("ingest", folder).exit_code == 0
    assert len(list(ArchiveStore(archive_dir).record_ids())) == 2


def test_engine_bug_quarantines_the_scan_as_internal_error(cli, ocr_engine, make_scan, make_text_pdf, tmp_path,
                                                           archive_dir):
    ocr_engine("BuggyEngine")
    result = cli("ingest", _batch(make_scan, make_text_pdf, tmp_path))
    assert result.exit_code == 4, result.output
    assert "internal error" in _reasons(archive_dir)["scan.png"]["reason"]


def test_missing_tesseract_is_exit_3_before_the_archive_is_touched(tmp_path, make_scan):
    """The real engine's check: no tesseract on PATH (the ocrmypdf module is still there)."""
    folder = tmp_path / "eingang"
    make_scan("scan.png", folder=folder)
    archive = tmp_path / "archiv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKTE_")}
    env["PATH"] = str(tmp_path / "leer")
    done = subprocess.run([sys.executable, "-m", "aktenarchiv", "--archive", str(archive), "ingest", str(folder)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "tesseract is not installed" in _said(done.stderr) and "Traceback" not in done.stderr
    assert not archive.exists()


@pytest.mark.parametrize("name", ["nosuch", "fake_engines:NoSuchEngine", "fake_engines:FIXED_TEXT", "nomodule:X"])
def test_unknown_engine_is_a_settings_error(name, cli, monkeypatch, make_scan, tmp_path):
    with pytest.raises(ConfigError, match="OCR engine"):
        get_engine(name)
    monkeypatch.setenv("AKTE_OCR_ENGINE", name)
    make_scan("eingang/scan.png")
    result = cli("ingest", tmp_path / "eingang")
    assert result.exit_code == 1 and "OCR engine" in _said(result.stderr)


def test_an_interrupted_ocr_program_is_killed_not_left_running(tmp_path):
    """Ctrl-C in a run without workers (``ocr.in_process``) lands in the OCR call itself: its
    program must go with it (a worker's SIGTERM handler does the same for a worker's run)."""
    marker = str(tmp_path / "unterbrochen.png")

    def interrupt(signum, frame):
        # Once the program runs: a Ctrl-C while Popen still starts it (which can take longer
        # than any fixed delay on a busy machine) is not what this test is about.
        if not process._running:
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_in_own_group([sys.executable, "-c", "import time; time.sleep(60)", marker], what="fake-tesseract",
                             env=None, cwd=tmp_path, timeout=60, input_file=Path(marker))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []
