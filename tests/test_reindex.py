"""``akte reindex``: pending records indexed, the whole index rebuilt from the store."""

import json
import sqlite3

from aktenarchiv.archive.base import SearchQuery
from aktenarchiv.archive.registry import open_backend
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


def _refuse_in_the_index(archive_dir, record_id: str) -> None:
    """Make the SQLite index refuse one record for real (a trigger aborts its insert), and
    leave it waiting in the journal as after an outage."""
    backend = open_backend(load_settings(archive_dir, environ={}))
    backend.delete(backend.ids())
    backend.close()
    with sqlite3.connect(archive_dir / "index.sqlite") as db:
        db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON docs WHEN NEW.id = '{record_id}'"
                   " BEGIN SELECT RAISE(ABORT, 'refused for the test'); END")
    with sqlite3.connect(archive_dir / "journal.sqlite") as db:
        db.execute("UPDATE inputs SET state = 'stored'")


def test_an_index_failure_is_kept_shown_by_verify_and_not_retried_for_ever(cli, make_text_pdf, archive_dir):
    pdf = make_text_pdf("brief.pdf", ["Bauantrag Müllerstraße 12"])
    record_id = json.loads(cli("ingest", pdf, "--json").stdout)["outcomes"][0]["record_id"]
    _refuse_in_the_index(archive_dir, record_id)
    other = make_text_pdf("zweiter.pdf", ["Rechnung Nr. 4711 über die Prüfung des Bauantrags"])

    first = cli("ingest", other)  # opening the run retries the pending record, which fails

    assert "not indexed" in first.stderr and "refused for the test" in first.stderr
    verify = cli("verify", "--json")
    refused = json.loads(verify.stdout)["index_errors"]
    assert [(r["attempts"], "refused for the test" in r["reason"]) for r in refused] == [(1, True)]
    assert "refused by the index" in verify.stderr
    for _ in range(2):
        cli("list")  # a read-only command does not retry
        cli("ingest", other)
    given_up = cli("ingest", other)
    assert "refused by the search index repeatedly" in given_up.stderr and "not indexed" not in given_up.stderr
    assert json.loads(cli("verify", "--json").stdout)["index_errors"][0]["attempts"] == 3

    pending = cli("reindex", "--pending")  # retries it anyway, and fails loudly
    assert pending.exit_code == 5 and "refused by the search index" in pending.stderr
    assert cli("reindex").exit_code == 0  # a fresh index version takes it; the error is cleared
    assert json.loads(cli("verify", "--json").stdout)["index_errors"] == []
