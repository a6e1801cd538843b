"""Elasticsearch goes down in the middle of an ingest: nothing is lost, the rest is indexed later.

This test really stops the local test node (scripts/elasticsearch.sh) and starts it again,
so it runs only against a node that script manages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.ingest.journal import Journal
from ci import unavailable

pytest_plugins = ("es_fixtures",)
pytestmark = pytest.mark.es
ES_URL = os.environ.get("AKTE_ES_URL", "http://127.0.0.1:9200")
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "elasticsearch.sh"


def node(action: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), action], capture_output=True, text=True, timeout=300)


@pytest.fixture
def our_node(es_client):
    """The script's node; started again after the test whatever happens."""
    if node("status").returncode != 0:
        unavailable("the Elasticsearch node is not managed by scripts/elasticsearch.sh; cannot stop it")
    yield
    if node("status").returncode != 0:
        started = node("start")
        assert started.returncode == 0, started.stdout + started.stderr


def akte(archive: Path, env: dict, *args, **kwargs):
    cmd = [sys.executable, "-m", "aktenarchiv", "--archive", str(archive), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, **kwargs)


def test_node_stopped_mid_ingest_then_pending_indexed(our_node, es_settings, make_text_pdf, tmp_path, es_client):
    folder = tmp_path / "stapel"
    words = ["Hundesteuer", "Sondernutzung", "Gewerbeanmeldung", "Wohngeld", "Grundsteuer", "Baumfällung"]
    for i, word in enumerate(words):
        make_text_pdf(f"akte_{i}.pdf", [f"Vorgang {word} mit laufender Nummer {i}"] * 40, folder=folder)
    archive = tmp_path / "archiv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKTE_")}
    env.update(AKTE_BACKEND="elasticsearch", AKTE_ES_URL=ES_URL, AKTE_ES_INDEX_PREFIX=es_settings.index_prefix,
               AKTE_OCR_WORKERS="1")

    cmd = [sys.executable, "-m", "aktenarchiv", "--archive", str(archive), "ingest", str(folder)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(archive.glob("records/*/*.json")):
        time.sleep(0.02)
    stopped = node("stop")
    assert stopped.returncode == 0, stopped.stderr
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr  # every file archived; the index is what waits
    store = ArchiveStore(archive)
    assert len(list(store.record_ids())) == len(words)
    pending = Journal(archive / "journal.sqlite").pending()
    assert pending, "some records should wait for the index"
    assert "wait to be indexed" in stderr and "unavailable" in stderr

    down = akte(archive, env, "search", "Hundesteuer")
    assert down.returncode == 5 and "127.0.0.1" in down.stderr

    started = node("start")
    assert started.returncode == 0, started.stdout + started.stderr
    result = akte(archive, env, "reindex", "--pending")
    assert result.returncode == 0, result.stderr
    assert f"{len(pending)} pending record(s) indexed" in result.stderr
    assert Journal(archive / "journal.sqlite").pending() == []
    for word in words:
        found = akte(archive, env, "search", word, "--json")
        assert found.returncode == 0 and word in found.stdout, word
