"""``akte reindex``: pending records indexed, the whole index rebuilt from the store."""

import sqlite3

from aktenarchiv.archive.base import SearchQuery, open_backend
from aktenarchiv.config import load_settings


def test_reindex_pending_indexes_what_an_earlier_run_left_stored(cli, make_text_pdf, archive_dir):
    pdf = make_text_pdf("brief.pdf", ["Bauantrag Müllerstraße 12"])
    assert cli("ingest", pdf).exit_code == 0
    # As after a backend outage: the record is stored, the index lacks it, the journal says "stored".
    backend = open_backend(load_settings(archive_dir, environ={}))
    backend.delete(backend.ids())
    backend.close()
    with sqlite3.connect(archive_dir / "journal.sqlite") as db:
        db.execute("UPDATE inputs SET state = 'stored'")

    result = cli("reindex", "--pending")

    assert result.exit_code == 0, result.stderr
    assert "1 pending record(s) indexed into sqlite" in result.stderr
    backend = open_backend(load_settings(archive_dir, environ={}))
    try:
        assert backend.search(SearchQuery(text="Bauantrag")).total == 1
    finally:
        backend.close()
    with sqlite3.connect(archive_dir / "journal.sqlite") as db:
        assert db.execute("SELECT state FROM inputs").fetchall() == [("archived",)]


def test_reindex_rejects_an_unknown_backend(cli):
    result = cli("reindex", "--backend", "solr")
    assert result.exit_code == 1 and "use 'sqlite' or 'elasticsearch'" in result.stderr
