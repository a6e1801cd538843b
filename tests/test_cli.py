"""The ``akte`` command as records staff and clerks use it: output and exit codes."""

import json

import pytest
from aktenarchiv.cli import app


def test_every_command_has_help(cli):
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert command.help, f"akte {name} has no help text"
        result = cli(name, "--help")
        assert result.exit_code == 0, name


@pytest.mark.slow  # about real OCR output: confidences, PDF/A
def test_ingest_search_show_get_list(cli, make_scan, make_text_pdf, tmp_path):
    make_scan("eingang/bauantrag.png")
    make_text_pdf("eingang/satzung.pdf", ["Satzung über die Erhebung der Hundesteuer in der Stadt"])
    result = cli("ingest", tmp_path / "eingang")
    assert result.exit_code == 0, result.output
    assert "archived 2" in result.stderr and "quarantined 0" in result.stderr

    result = cli("search", "Hundesteuer", "--json")
    assert result.exit_code == 0
    hits = json.loads(result.stdout)
    assert [h["title"] for h in hits] == ["satzung"]
    assert {"id", "title", "doc_type", "date", "score", "snippet"} <= hits[0].keys()
    assert "«Hundesteuer»" in hits[0]["snippet"]

    result = cli("search", "Antrag", "--json")
    [hit] = json.loads(result.stdout)
    shown = json.loads(cli("show", hit["id"][:10], "--json").stdout)
    assert shown["source_name"] == "bauantrag.png" and shown["media_type"] == "image/png"
    assert shown["page_count"] == 1
    # A confirmation letter about an application: filed as correspondence or sent to review.
    cls = shown["classification"]
    assert shown["doc_type"] == "korrespondenz" or (shown["doc_type"] is None and cls["needs_review"])
    assert shown["pages"][0]["source"] == "ocr" and shown["pages"][0]["confidence"] > 50
    assert "Bauantrag" in shown["pages"][0]["text"]
    assert shown["archival_format"] == "PDF/A-2B"

    out = tmp_path / "kopie.png"
    assert cli("get", hit["id"], "--original", "-o", out).exit_code == 0
    assert out.read_bytes() == (tmp_path / "eingang" / "bauantrag.png").read_bytes()
    pdf = tmp_path / "kopie.pdf"
    assert cli("get", hit["id"], "-o", pdf).exit_code == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"

    listed = json.loads(cli("list", "--json").stdout)
    assert len(listed) == 2
    first = cli("search", "Stadt", "--limit", "1", "--json", "--counts")
    assert "more: add --cursor 1" in first.stderr and "per type:" in first.stderr
    second = cli("search", "Stadt", "--limit", "1", "--json", "--cursor", "1")
    assert json.loads(first.stdout)[0]["id"] != json.loads(second.stdout)[0]["id"]
    human = cli("search", "Bauantrag")
    assert "bauantrag" in human.stdout and "«" in human.stdout


def test_quarantine_gives_exit_4_and_names_file_and_reason(cli, ocr_engine, make_scan, tmp_path):
    ocr_engine()
    make_scan("eingang/gut.png")
    (tmp_path / "eingang" / "leer.tif").write_bytes(b"")
    result = cli("ingest", tmp_path / "eingang")
    assert result.exit_code == 4
    assert "leer.tif" in result.stderr and "empty file" in result.stderr


def test_unreadable_file_is_quarantined(cli, ocr_engine, make_scan, tmp_path, archive_dir):
    ocr_engine()
    make_scan("eingang/gut.png")
    (tmp_path / "eingang" / "weg.pdf").symlink_to(tmp_path / "gibt-es-nicht.pdf")
    result = cli("ingest", tmp_path / "eingang", "--json")
    assert result.exit_code == 4
    outcomes = {o["path"].rsplit("/", 1)[-1]: o for o in json.loads(result.stdout)["outcomes"]}
    assert outcomes["weg.pdf"]["status"] == "quarantined"
    assert "cannot read" in outcomes["weg.pdf"]["reason"]


def test_missing_input_path_is_exit_2(cli, tmp_path):
    result = cli("ingest", tmp_path / "tippfehler")
    assert result.exit_code == 2
    text = " ".join(result.stderr.split())  # the console wraps long paths (pytest's tmp counter grows)
    assert "tippfehler" in text and "no such file" in text


def test_unknown_record_and_bad_query(cli):
    assert cli("show", "abcdef123").exit_code == 1
    result = cli("search", "--", "-nur")
    assert result.exit_code == 1 and "no word" in result.stderr


def test_bad_settings_file_is_exit_1(cli, archive_dir):
    archive_dir.mkdir(parents=True)
    (archive_dir / "akte.toml").write_text("[ocr]\nsprache = 'deu'\n")
    result = cli("list")
    assert result.exit_code == 1 and "unknown setting 'sprache'" in result.stderr


def test_verify_detects_altered_missing_and_orphaned(cli, ocr_engine, make_scan, tmp_path, archive_dir):
    ocr_engine()
    make_scan("eingang/a.png", ["Erste Akte"])
    make_scan("eingang/b.png", ["Zweite Akte"])
    assert cli("ingest", tmp_path / "eingang").exit_code == 0
    assert cli("verify").exit_code == 0
    import sqlite3

    with sqlite3.connect(archive_dir / "index.sqlite") as db:  # lose one index entry
        db.execute("DELETE FROM docs WHERE rowid = (SELECT min(rowid) FROM docs)")
    gap = cli("verify")
    assert gap.exit_code == 0 and "1 record(s) not indexed" in gap.stderr
    assert cli("reindex").exit_code == 0 and "not indexed" not in cli("verify").stderr
    originals = sorted(archive_dir.glob("objects/*/*"))
    originals[0].write_bytes(originals[0].read_bytes() + b"x")
    archivals = sorted(archive_dir.glob("archival/*/*"))
    archivals[0].unlink()
    (archive_dir / "objects" / "00").mkdir()
    (archive_dir / "objects" / "00" / ("0" * 64)).write_bytes(b"stray")
    result = cli("verify", "--json")
    assert result.exit_code == 6
    report = json.loads(result.stdout)
    assert len(report["altered"]) == 1 and len(report["missing"]) == 1 and len(report["orphaned"]) == 1
    assert "integrity check failed" in result.stderr


@pytest.mark.parametrize("flag", ["--from", "--to"])
def test_bad_date_flag_is_a_usage_error(cli, flag):
    result = cli("search", "Antrag", flag, "5.3.2024")
    assert result.exit_code == 2 and "not a date" in result.output + result.stderr
