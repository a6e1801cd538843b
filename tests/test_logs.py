"""Failures keep their evidence: the archive's log file, tracebacks under -v, quarantine reasons."""

import json

import aktenarchiv.commands.records
import aktenarchiv.pipeline


def _log(archive_dir) -> str:
    return (archive_dir / "logs" / "akte.log").read_text(encoding="utf-8")


def test_a_bug_while_checking_quarantines_the_file_and_logs_the_traceback(cli, make_text_pdf, archive_dir,
                                                                          monkeypatch):
    good = make_text_pdf("eingang/gut.pdf", ["Bauantrag für das Grundstück Müllerstraße 12"])
    bad = make_text_pdf("eingang/kaputt.pdf", ["Widerspruch gegen den Bescheid vom 5. März 2024"])
    real_sniff = aktenarchiv.pipeline.sniff

    def sniff_with_a_bug(path, *args):  # stands in for a decoder bug on one file
        if path == bad:
            raise ZeroDivisionError("division by zero in a decoder")
        return real_sniff(path, *args)

    monkeypatch.setattr(aktenarchiv.pipeline, "sniff", sniff_with_a_bug)
    result = cli("ingest", good.parent, "--json")

    assert result.exit_code == 4
    outcomes = {o["path"]: o for o in json.loads(result.stdout)["outcomes"]}
    assert outcomes[str(good)]["status"] == "archived"
    reason = outcomes[str(bad)]["reason"]
    log_file = archive_dir / "logs" / "akte.log"
    assert reason.startswith("internal error during checking (ZeroDivisionError") and reason.endswith(
        f"see log {log_file}")
    assert "Traceback" in _log(archive_dir) and "sniff_with_a_bug" in _log(archive_dir)
    assert "Traceback" not in result.stderr
    kept = json.loads(next((archive_dir / "quarantine").glob("*/reason.json")).read_text(encoding="utf-8"))
    assert "see log" in json.dumps(kept)


def test_a_bug_in_a_command_is_an_internal_error_with_its_traceback_in_the_log(cli, archive_dir, monkeypatch):
    archive_dir.mkdir()

    def broken(settings):
        raise KeyError("a bug")

    monkeypatch.setattr(aktenarchiv.commands.records, "open_backend", broken)
    result = cli("list")

    assert result.exit_code == 70
    assert "internal error: KeyError" in result.stderr and str(archive_dir / "logs" / "akte.log") in result.stderr
    assert "Traceback" not in result.stderr
    assert "Traceback" in _log(archive_dir) and "KeyError: 'a bug'" in _log(archive_dir)

    verbose = cli("-v", "list")
    assert verbose.exit_code == 70 and "Traceback" in verbose.stderr


def test_errors_are_logged_but_a_missing_archive_is_not_created_for_a_log(cli, archive_dir):
    assert cli("show", "abcdef123456").exit_code != 0
    assert not archive_dir.exists()
    archive_dir.mkdir()
    result = cli("show", "abcdef123456")
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert "abcdef123456" in _log(archive_dir)


def test_a_bug_in_the_ocr_engine_quarantines_with_a_pointer_to_its_traceback(cli, ocr_engine, make_scan, archive_dir):
    ocr_engine("BuggyEngine")  # raises KeyError in the worker process: a programming error
    scan = make_scan("eingang/scan.png", ["Ein gescannter Brief"])

    result = cli("ingest", scan.parent, "--json")

    assert result.exit_code == 4
    [outcome] = json.loads(result.stdout)["outcomes"]
    assert outcome["reason"].startswith("internal error during OCR (KeyError")
    assert outcome["reason"].endswith(f"see log {archive_dir / 'logs' / 'akte.log'}")
    logged = _log(archive_dir)
    # The worker's own traceback travels with the exception into the log.
    assert "internal error during OCR of" in logged and "in recognize" in logged and "page-000001" in logged
    assert "Traceback" not in result.stderr
