"""After importing a paperless-ngx export and a legacy folder with a metadata CSV, every kept
field value finds its record from the search box and as a filter, on both backends; a
clerk's edit is audited and searchable at once; an index of older code is rebuilt by reindex."""

from __future__ import annotations

import json
import sqlite3

import pytest
from aktenarchiv.archive.store import ArchiveStore
from test_migrate import _paperless_export, write_metadata

pytest_plugins = ("es_fixtures",)


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.es)])
def backend_env(request, cli, monkeypatch):
    """Run the CLI on SQLite, or on this test's own Elasticsearch index."""
    if request.param == "elasticsearch":
        prefix = request.getfixturevalue("es_settings").index_prefix
        monkeypatch.setenv("AKTE_BACKEND", "elasticsearch")
        monkeypatch.setenv("AKTE_ES_INDEX_PREFIX", prefix)
    return request.param


def _legacy_share(tmp_path, make_text_pdf):
    src = tmp_path / "altablage"
    make_text_pdf("akte_1.pdf", ["Wasserleitung im Ortsteil Nord, Schreiben vom Mai"], folder=src)
    make_text_pdf("akte_2.pdf", ["Sitzung des Ausschusses"], folder=src)
    rows = [
        {"Pfad": "akte_1.pdf", "Aktenzeichen": "MIG-D3/13336", "Korrespondent": "Stadtwerke Beispielstadt",
         "Schlagworte": "Eilt; Wasser", "Kassenzeichen": "4711-0815", "Bemerkung": "Rückfrage beim Bauherrn"},
        {"Pfad": "akte_2.pdf", "Aktenzeichen": "", "Korrespondent": "", "Schlagworte": "", "Kassenzeichen": "",
         "Bemerkung": ""},
    ]
    return src, write_metadata(tmp_path / "altablage.csv", rows)


def _ids(cli, *args) -> list[str]:
    result = cli("search", *args, "--json", "--limit", "50")
    assert result.exit_code == 0, result.output
    return [h["id"] for h in json.loads(result.stdout)]


def _imported(cli, tmp_path, make_scan, make_text_pdf, archive_dir):
    export = _paperless_export(tmp_path, make_scan, make_text_pdf)
    assert cli("migrate", "import-paperless", export, "--json").exit_code == 4  # two broken items in the export
    src, meta = _legacy_share(tmp_path, make_text_pdf)
    result = cli("migrate", "import-folder", src, "--metadata", meta, "--json")
    assert result.exit_code == 0, result.output
    records = {r.source_name: r for r in ArchiveStore(archive_dir).iter_records()}
    return records["0000001.pdf"].id, records["akte_1.pdf"].id


def test_every_kept_field_finds_its_record(cli, ocr_engine, backend_env, tmp_path, make_scan, make_text_pdf,
                                           archive_dir):
    ocr_engine()
    paperless, legacy = _imported(cli, tmp_path, make_scan, make_text_pdf, archive_dir)
    from_the_box = {
        paperless: ["70.3-2023/17", "Abfallwirtschaftsbetrieb", "Gebühren", "EUR123.45", "geprüft", "scan_0815.pdf",
                    "815"],
        legacy: ["MIG-D3/13336", "MIG", "13336", "Stadtwerke Beispielstadt", "Eilt", "4711-0815", "Rückfrage",
                 "akte_1.pdf"],
    }
    for record_id, values in from_the_box.items():
        for value in values:
            # The record first; a file name may also match others' in part (0000001.pdf for 1.pdf).
            found = _ids(cli, value)
            assert found[0] == record_id and (found == [record_id] or value.endswith(".pdf")), value
    as_filters = {
        paperless: [("--ref", "70.3-2023/17"), ("--correspondent", "Abfallwirtschaftsbetrieb"), ("--tag", "2023"),
                    ("Betrag:EUR123.45",), ("paperless_asn:815",), ('Korrespondent:"Abfallwirtschaftsbetrieb"',)],
        legacy: [("--ref", "MIG-D3/13336"), ("--correspondent", "stadtwerke beispielstadt"), ("--tag", "Eilt"),
                 ("--tag", "Wasser", "--tag", "eilt"), ("Kassenzeichen:4711-0815",), ("Aktenzeichen:MIG-D3/13336",)],
    }
    for record_id, filters in as_filters.items():
        for given in filters:
            args = ("", *given) if given[0].startswith("--") else given
            assert _ids(cli, *args) == [record_id], given
    snippet = json.loads(cli("search", "MIG", "--json").stdout)[0]["snippet"]
    assert snippet.startswith("Aktenzeichen: «MIG-D3»/13336")
    counts = cli("search", "", "--counts")
    assert "per correspondent: Abfallwirtschaftsbetrieb: 1, Stadtwerke Beispielstadt: 1" in counts.stderr
    assert "Eilt: 1" in counts.stderr and "Gebühren: 1" in counts.stderr

    shown = json.loads(cli("show", legacy, "--json").stdout)["fields"]
    assert shown == {"reference": "MIG-D3/13336", "correspondent": "Stadtwerke Beispielstadt",
                     "tags": ["Eilt", "Wasser"], "custom_fields": {"Kassenzeichen": "4711-0815"},
                     "notes": ["Rückfrage beim Bauherrn"], "file_names": ["akte_1.pdf"]}
    plain = cli("show", legacy[:12]).stdout
    assert "Stadtwerke Beispielstadt" in plain and "Eilt, Wasser" in plain and "Kassenzeichen" in plain


def test_edit_is_audited_and_searchable_at_once(cli, ocr_engine, backend_env, tmp_path, make_scan, make_text_pdf,
                                               archive_dir):
    ocr_engine()
    _, legacy = _imported(cli, tmp_path, make_scan, make_text_pdf, archive_dir)
    result = cli("edit", legacy[:12], "--ref", "32.1-77/2024", "--correspondent", "Landratsamt", "--tag", "Frist",
                 "--untag", "wasser", "--field", "Kassenzeichen=", "--field", "Vorgang=V-12", "--type", "bescheid",
                 "--note", "Akte gesichtet")
    assert result.exit_code == 0, result.output
    assert "reference: MIG-D3/13336 → 32.1-77/2024" in result.stdout
    assert _ids(cli, "32.1-77/2024") == [legacy] and _ids(cli, "", "--correspondent", "landratsamt") == [legacy]
    assert _ids(cli, "Frist") == [legacy] and _ids(cli, "Vorgang:V-12") == [legacy]
    assert _ids(cli, "MIG-D3/13336") == [] and _ids(cli, "", "--tag", "Wasser") == []
    assert _ids(cli, "Kassenzeichen:4711-0815") == [] and _ids(cli, "", "--type", "bescheid", "--tag", "Frist") == [legacy]

    record = ArchiveStore(archive_dir).read_record(legacy)
    entry = record.audit[-1]
    assert entry["action"] == "edit" and entry["note"] == "Akte gesichtet" and entry["to_type"] == "bescheid"
    assert entry["changes"]["reference"] == {"from": "MIG-D3/13336", "to": "32.1-77/2024"}
    assert entry["changes"]["tags"] == {"from": ["Eilt", "Wasser"], "to": ["Eilt", "Frist"]}
    assert entry["changes"]["fields"] == {"Kassenzeichen": {"from": "4711-0815", "to": None},
                                          "Vorgang": {"from": None, "to": "V-12"}}
    audit = json.loads(cli("audit", "show", legacy[:12], "--json").stdout)
    assert any(e["event"] == "edit" and e["details"]["changes"]["correspondent"]["to"] == "Landratsamt"
               for e in audit)
    assert cli("verify").exit_code == 0

    nothing = cli("edit", legacy[:12], "--tag", "Frist")
    assert nothing.exit_code == 1 and "nothing changed" in nothing.stderr
    bad = cli("edit", legacy[:12], "--field", "Korrespondent=X")
    assert bad.exit_code == 1 and "built-in field" in bad.stderr
    assert cli("edit", legacy[:12], "--field", "ohne-gleich").exit_code == 2
    assert cli("label", legacy[:12], "antrag").exit_code == 0  # label still works: a type-only edit
    assert ArchiveStore(archive_dir).read_record(legacy).audit[-1]["action"] == "label"


# The layout of the embedded index before metadata fields (layout 3, analysis 2).
_OLD_LAYOUT = """
CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, title TEXT NOT NULL, doc_type TEXT,
    needs_review INTEGER NOT NULL DEFAULT 0, reference TEXT, doc_date TEXT, date TEXT NOT NULL,
    ingested_at TEXT NOT NULL, page_count INTEGER NOT NULL);
CREATE TABLE doc_text (rowid INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE INDEX docs_reference ON docs(reference);
CREATE VIRTUAL TABLE docs_fts USING fts5(body, parts, title_terms, idents, ident_exact,
    tokenize = "unicode61 remove_diacritics 0 tokenchars './-_'");
INSERT INTO docs VALUES (1, 'x', 't', NULL, 0, 'MIG-D3/13336', NULL, '2024-01-01', '2024-01-01', 1);
INSERT INTO doc_text VALUES (1, 'Text');
PRAGMA user_version = 2003;
"""


def test_an_index_of_older_code_is_rebuilt_by_reindex(cli, ocr_engine, tmp_path, make_scan, make_text_pdf,
                                                      archive_dir):
    ocr_engine()
    _, legacy = _imported(cli, tmp_path, make_scan, make_text_pdf, archive_dir)
    index = archive_dir / "index.sqlite"
    for suffix in ("", "-wal", "-shm"):
        (archive_dir / f"index.sqlite{suffix}").unlink(missing_ok=True)
    old = sqlite3.connect(index)
    old.executescript(_OLD_LAYOUT)
    old.close()
    refused = cli("search", "MIG")
    assert refused.exit_code == 5 and "akte reindex" in refused.stderr
    rebuilt = cli("reindex")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _ids(cli, "MIG") == [legacy] and _ids(cli, "", "--tag", "Eilt") == [legacy]
