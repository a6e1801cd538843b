"""A batch killed with SIGKILL mid-way resumes: every file archived exactly once."""

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
from aktenarchiv.archive.seal import check_store
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.ingest.journal import Journal
from aktenarchiv.pipeline import ingest

WORDS = ["Baugenehmigung", "Hundesteuer", "Sondernutzung", "Gewerbeanmeldung", "Wohngeld", "Grundsteuer"]


def run_akte(archive, *args, **kwargs):
    cmd = [sys.executable, "-m", "aktenarchiv", "--archive", str(archive), *map(str, args)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **kwargs)


# The resume logic is the same whatever the OCR: a fake engine at a human pace checks it in
# seconds; the real one (Tesseract children killed with the batch) runs in the slow tier.
@pytest.mark.parametrize("engine", ["fake_engines:PacedEngine", pytest.param("ocrmypdf", marks=pytest.mark.slow)])
def test_kill_9_mid_batch_then_resume(tmp_path, make_scan, settings, engine):
    folder = tmp_path / "stapel"
    for i, word in enumerate(WORDS):
        make_scan(f"{word}.png", [f"Vorgang {word}", f"Laufende Nummer {i}"], folder=folder)
    archive = settings.archive_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKTE_")}
    env["AKTE_OCR_WORKERS"] = "1"  # one document at a time: the kill lands between records
    env["AKTE_OCR_ENGINE"] = engine
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")]))

    proc = run_akte(archive, "ingest", folder, env=env)
    records = archive / "records"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(records.glob("*/*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = len(list(records.glob("*/*.json")))
    assert 2 <= first < len(WORDS), "the kill should land mid-batch"

    # The next run (in this process: what is tested is what it finds, not how it starts).
    resumed = ingest([folder], replace(settings, ocr=replace(settings.ocr, engine=engine, workers=1)))
    assert resumed.exit_code == 0, [(o.path, o.status, o.reason) for o in resumed.outcomes]

    store = ArchiveStore(archive)
    ids = list(store.record_ids())
    assert len(ids) == len(WORDS) == len(set(ids))
    assert store.verify().ok  # no orphaned or half-written objects left behind
    chain = store.audit.verify()
    assert chain.ok and check_store(store, chain).ok  # every manifest sealed once, the chain unbroken
    journal = Journal(archive / "journal.sqlite")
    assert journal.pending() == []
    backend = open_backend(settings)
    assert backend.ids() == set(ids)
    for word in WORDS:
        assert backend.search(SearchQuery(text=word)).total == 1, word
