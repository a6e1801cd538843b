"""Attacks on the commands of the last session: batch names, user names, cursors, edits, sign-offs,
releases, and files hidden in the archive from ``akte verify``.

Each test is one thing an adversary or a careless user types; the archive is real (ingested with
the instant fake OCR engine), and each test checks the message, the exit code and that nothing
was written where it must not be.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aktenarchiv.archive.store import ArchiveStore
from drawn_pages import write_text_pdf
from web_fixtures import akte


@pytest.fixture
def batch(cli, ocr_engine, tmp_path) -> dict[str, str]:
    """Two letters ingested as batch ``b1``: their record ids by file name."""
    ocr_engine()
    folder = tmp_path / "stapel"
    write_text_pdf(folder / "brief1.pdf", ["Bauantrag Müller, Grundstück 12"], ["Seite zwei"])
    write_text_pdf(folder / "brief2.pdf", ["Rechnung der Stadtwerke 4711"])
    result = cli("ingest", folder, "--batch", "b1", "--expect-pages", "3")
    assert result.exit_code == 0, result.output
    listed = json.loads(cli("list", "--json").stdout)
    return {hit["title"]: hit["id"] for hit in listed}


def _archive_files(archive: Path) -> set[str]:
    return {p.relative_to(archive).as_posix() for p in archive.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["b2\n", "b2\r", "../b2", "/etc/b2", "b2/../../x", ".b2", "-b2", "b" * 81,
                                  "Stapel ä", "b2\x00", "b2 ", "b2;rm -rf", "b２"])
def test_a_batch_name_that_is_no_plain_file_name_is_refused(cli, ocr_engine, tmp_path, archive_dir, name) -> None:
    ocr_engine()
    write_text_pdf(tmp_path / "in" / "brief.pdf", ["Ein Brief"])
    result = cli("ingest", tmp_path / "in", "--batch", name)
    assert result.exit_code == 1, (name, result.output)
    assert "batch name" in result.output
    assert not (archive_dir / "batches").exists() or list((archive_dir / "batches").iterdir()) == []
    for command in (("batch", "show", name), ("qa", "sample", name), ("release", name)):
        answer = cli(*command)
        if name.startswith("-"):  # an option to the parser: its own usage error
            assert answer.exit_code == 2, (command, answer.output)
            continue
        assert answer.exit_code == 1 and "batch name" in answer.output, (command, answer.output)
    assert not (archive_dir / "releases").exists()


@pytest.mark.parametrize("name", ["bob\n", "bob\r", "Bob", "../bob", "bob ", "", "b" * 65, "böb"])
def test_a_user_name_that_is_not_plain_is_refused(settings, name) -> None:
    result = akte(settings, "user", "add", name, "--role", "clerk", "--password-stdin", input="langes-passwort-1\n")
    assert result.exit_code == 1, (name, result.output)
    assert "user name" in result.output


def test_a_forged_cursor_is_a_usage_error(cli, batch) -> None:
    for cursor in ("99999999999999999999", "-1", "abc", "1.5", "١"):
        result = cli("search", "Müller", "--cursor", cursor)
        assert result.exit_code == 1, (cursor, result.output)
        assert "invalid search cursor" in result.output and "internal error" not in result.output
    assert cli("search", "Bauantrag OR Rechnung", "--limit", "1", "--cursor", "1").exit_code == 0


def test_a_file_named_like_a_manifest_plus_a_newline_is_no_hiding_place(cli, batch, archive_dir) -> None:
    record_id = next(iter(batch.values()))
    manifest = ArchiveStore(archive_dir).manifest_path(record_id)
    hidden = manifest.with_name(record_id + "\n.json")
    hidden.write_bytes(manifest.read_bytes())
    (archive_dir / "index.sqlite\n").write_bytes(b"x")
    result = cli("verify")
    assert result.exit_code == 6, result.output
    assert result.output.count("stray") >= 2, result.output


def test_text_from_users_never_drives_the_terminal(cli, batch, ocr_engine, tmp_path) -> None:
    record_id = batch["brief1"]
    # A QA reason with escape sequences (erase the line, set the window title) is kept as typed …
    reason = "Seite fehlt\x1b[2K\x1b[1A\x1b]0;alles gut\x07"
    assert cli("qa", "reject", record_id, "--reason", reason).exit_code == 0
    # … but an auditor sees it as text.
    shown = cli("audit", "show", record_id).output
    assert "\x1b" not in shown and "\\x1b[2K" in shown
    # A scan whose file name carries an escape sequence: listed and searched as text.
    write_text_pdf(tmp_path / "böse" / "scan\x1b[31m.pdf", ["Widerspruch gegen den Bescheid"])
    assert cli("ingest", tmp_path / "böse").exit_code == 0
    for command in (("list",), ("search", "Widerspruch"), ("review",)):
        assert "\x1b" not in cli(*command).output, command
    # Edits refuse every control character and bidi override, not only those below 32.
    for value in ("Amt\x7f", "Amt\x85", "Amt\u202egpj.exe", "Amt\u2028Zeile", "Amt\x1b[2J"):
        result = cli("edit", record_id, "--correspondent", value)
        assert result.exit_code == 1 and "control characters" in result.output, repr(value)


@pytest.mark.parametrize("content", ['{"name": "../../draussen", "created_at": "2024-01-01T00:00:00+00:00"}',
                                     "[]", "{}", "null", '{"name": "b1", "created_at": 5}',
                                     '{"name": "b1", "created_at": "t", "expected_pages": "zwei"}',
                                     '{"name": "b1", "created_at": "t", "expected_pages": true}'])
def test_a_tampered_batch_file_is_refused_and_no_certificate_lands_outside(cli, ocr_engine, tmp_path, archive_dir,
                                                                            monkeypatch, content) -> None:
    ocr_engine()
    monkeypatch.setenv("AKTE_OPERATOR", "scanner")  # someone else scanned: our sign-off counts
    write_text_pdf(tmp_path / "in" / "brief.pdf", ["Bauantrag Müller, Grundstück 12"])
    assert cli("ingest", tmp_path / "in", "--batch", "b1").exit_code == 0
    monkeypatch.delenv("AKTE_OPERATOR")
    for page in json.loads(cli("qa", "sample", "b1", "--json").stdout):
        assert cli("qa", "signoff", page["record"], str(page["page"])).exit_code == 0
    batch_file = archive_dir / "batches" / "b1.json"
    batch_file.write_text(content, encoding="utf-8")
    for command in (("release", "b1"), ("batch", "show", "b1"), ("qa", "sample", "b1")):
        result = cli(*command)
        assert result.exit_code == 1, (command, result.output)
        assert "b1.json" in result.output and "internal error" not in result.output, (command, result.output)
    assert not list(tmp_path.glob("draussen*")) and not (archive_dir / "releases").exists()
