"""A batch killed with SIGKILL mid-way resumes: every file archived exactly once."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
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


def start_batch(settings, folder: Path, engine: str) -> tuple[int, Callable[[], object]]:
    """Start the run that gets killed, in a process group of its own; its group id and how to reap it.

    The real engine runs as a whole ``akte`` process, whose Tesseract children must die with
    it. The fake one runs the same ingest in a fork of this process, which has the classifier
    loaded already: a new ``akte`` process spends ~2.5 s on imports and the model alone.
    """
    if engine.startswith("fake_engines:"):
        pid = os.fork()
        if pid == 0:  # the child: never back into pytest, whatever happens
            code = 1
            try:
                os.setpgid(0, 0)
                ingest([folder], replace(settings, ocr=replace(settings.ocr, engine=engine, workers=1)))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        with contextlib.suppress(OSError):  # the child may have done it already
            os.setpgid(pid, pid)
        return pid, lambda: os.waitpid(pid, 0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKTE_")}
    env["AKTE_OCR_WORKERS"] = "1"  # one document at a time: the kill lands between records
    env["AKTE_OCR_ENGINE"] = engine
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")]))
    proc = run_akte(settings.archive_dir, "ingest", folder, env=env)
    return proc.pid, proc.wait


# The resume logic is the same whatever the OCR: a fake engine at a human pace checks it in
# seconds; the real one (Tesseract children killed with the batch) runs in the slow tier.
@pytest.mark.parametrize("engine", ["fake_engines:PacedEngine", pytest.param("ocrmypdf", marks=pytest.mark.slow)])
def test_kill_9_mid_batch_then_resume(tmp_path, make_scan, settings, engine):
    folder = tmp_path / "stapel"
    for i, word in enumerate(WORDS):
        make_scan(f"{word}.png", [f"Vorgang {word}", f"Laufende Nummer {i}"], folder=folder)
    archive = settings.archive_dir

    group, reap = start_batch(settings, folder, engine)
    records = archive / "records"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(records.glob("*/*.json"))) < 2:
            time.sleep(0.05)
    finally:  # killed and reaped, even when the test fails or is interrupted while it waits
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        reap()
    first = len(list(records.glob("*/*.json")))
    assert 2 <= first < len(WORDS), "the kill should land mid-batch"

    # The next run (in this process: what is tested is what it finds, not how it starts; and
    # with no pace: nothing is killed in it).
    again = "fake_engines:InstantEngine" if engine.startswith("fake_engines:") else engine
    resumed = ingest([folder], replace(settings, ocr=replace(settings.ocr, engine=again, workers=1)))
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
