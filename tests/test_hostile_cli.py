"""Hostile input at the command line: ids, output paths, settings files, credentials, bugs.

Each test runs the real ``akte`` (in-process through Typer's runner, or as ``python -m
aktenarchiv`` in a subprocess) on an archive made at test time, and checks the exit code,
that the message names the id/file and the reason, that no traceback reaches the user, that
no ``.part`` file is left behind, and that nothing outside the archive is read or written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer
from aktenarchiv.commands._errors import AkteGroup
from aktenarchiv.config import load_settings
from aktenarchiv.errors import ConfigError
from drawn_pages import DPI, draw_page
from typer.testing import CliRunner

pytest_plugins = ("es_fixtures",)

REPO = Path(__file__).resolve().parents[1]


def akte(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m aktenarchiv ARGS`` as a user runs it, with no AKTE_* from the caller."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AKTE_") or k == "AKTE_DECOMPOUND_DICT"}
    return subprocess.run(
        [sys.executable, "-m", "aktenarchiv", *map(str, args)],
        env={**clean, **(env or {})}, cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def no_traceback(result) -> None:
    text = result.stderr + (result.stdout or "")
    assert "Traceback" not in text, text


@pytest.fixture(scope="module")
def base_archive(tmp_path_factory) -> tuple[Path, str]:
    """An archive holding one scan (original + archival PDF); made once, copied per test.

    The tests are about hostile ids, paths and manifests, not OCR: the instant fake engine reads the scan.
    """
    root = tmp_path_factory.mktemp("base")
    (root / "eingang").mkdir()
    draw_page(["Stadt Musterstadt", "Bauantrag Gartenhaus"]).save(root / "eingang" / "bauantrag.png", dpi=(DPI, DPI))
    from aktenarchiv.cli import app

    with pytest.MonkeyPatch.context() as env:  # in-process: the test process has the package loaded already
        for key in [k for k in os.environ if k.startswith("AKTE_") and k != "AKTE_DECOMPOUND_DICT"]:
            env.delenv(key)
        env.setenv("AKTE_OCR_ENGINE", "fake_engines:InstantEngine")
        env.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])))
        result = CliRunner().invoke(app, ["--archive", str(root / "archiv"), "ingest", str(root / "eingang")])
    assert result.exit_code == 0, result.output
    [record_id] = [p.stem for p in (root / "archiv" / "records").glob("*/*.json")]
    return root / "archiv", record_id


@pytest.fixture
def archive(base_archive, tmp_path) -> tuple[Path, str, dict]:
    """A private copy of the base archive: (archive dir, record id, manifest)."""
    source, record_id = base_archive
    target = tmp_path / "archiv"
    shutil.copytree(source, target)
    manifest = json.loads((target / "records" / record_id[:2] / f"{record_id}.json").read_text())
    return target, record_id, manifest


@pytest.fixture
def run(archive, monkeypatch):
    """``akte --archive <copy> ARGS`` in-process."""
    for key in list(os.environ):
        if key.startswith("AKTE_") and key != "AKTE_DECOMPOUND_DICT":
            monkeypatch.delenv(key)
    from aktenarchiv.cli import app

    return lambda *args: CliRunner().invoke(app, ["--archive", str(archive[0]), *map(str, args)])


def snapshot(folder: Path) -> dict[str, bytes]:
    # The archive's log (logs/akte.log) records every refusal by design; all else must stay.
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.parent.name != "logs"}


# ---- ids (issue 8, item 10) -------------------------------------------------------------------


def test_only_hex_prefixes_are_ids_nothing_outside_is_read(run, archive, tmp_path):
    root, record_id, manifest = archive
    # A record planted where the old `records/<id[:2]>/<id>.json` led for this id.
    hostile = "../evil/" + "a" * 56
    planted = Path(os.path.normpath(root / "records" / hostile[:2] / f"{hostile}.json"))
    planted.parent.mkdir(parents=True)
    planted.write_text(json.dumps({**manifest, "title": "GESTOHLEN"}))
    assert not planted.is_relative_to(root)
    before = snapshot(tmp_path)
    for bad in (hostile, "../evil/abcdef", "/etc/passwd", "abc", "g" * 64, "a" * 65, "abcdef\n../x", "ab cd ef"):
        for args in (("show", bad), ("show", bad, "--json"), ("get", bad, "-o", tmp_path / "out.pdf"),
                     ("label", bad, "bescheid")):
            result = run(*args)
            assert result.exit_code == 1, (args, result.output)
            assert "is not a record id" in result.stderr and "hex" in result.stderr, result.stderr
            assert "GESTOHLEN" not in result.output
            no_traceback(result)
    assert snapshot(tmp_path) == before
    # Upper case and a short prefix are fine.
    shown = run("show", record_id[:8].upper(), "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == record_id


def test_store_never_builds_a_path_from_a_non_id(archive):
    from aktenarchiv.archive.store import ArchiveStore
    from aktenarchiv.errors import RecordNotFoundError

    store = ArchiveStore(archive[0])
    assert not store.has_record("../" + "a" * 61)
    with pytest.raises(RecordNotFoundError, match="not a record id"):
        store.read_record("../../../../etc/passwd")
    assert store.has_record(archive[1]) and store.read_record(archive[1]).id == archive[1]


# ---- get -o ... (issue 8, item 6) -------------------------------------------------------------


def test_get_into_a_folder_then_existing_file_needs_force(run, archive, tmp_path):
    root, record_id, manifest = archive
    out = tmp_path / "ausgabe"
    out.mkdir()
    result = run("get", record_id[:10], "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["bauantrag.pdf"]
    assert (out / "bauantrag.pdf").read_bytes() == (root / manifest["archival_object"]).read_bytes()
    result = run("get", record_id, "--original", "-o", out)
    assert result.exit_code == 0 and (out / "bauantrag.png").read_bytes() == (root / manifest["original_object"]).read_bytes()

    (out / "bauantrag.pdf").write_bytes(b"meine Notizen")
    for target in (out, out / "bauantrag.pdf"):
        result = run("get", record_id, "-o", target)
        assert result.exit_code == 2 and "bauantrag.pdf" in result.stderr and "--force" in result.stderr
        no_traceback(result)
    assert (out / "bauantrag.pdf").read_bytes() == b"meine Notizen"
    assert run("get", record_id, "-o", out, "--force").exit_code == 0
    assert (out / "bauantrag.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.rglob("*.part"))


def test_get_refuses_missing_folders_and_the_archive_itself(run, archive, tmp_path):
    root, record_id, _ = archive
    before = snapshot(root)
    for target, reason in ((tmp_path / "fehlt" / "x.pdf", "does not exist"), (root / "x.pdf", "inside the archive"),
                           (root / "records", "inside the archive")):
        result = run("get", record_id, "-o", target)
        assert result.exit_code == 2 and reason in result.stderr, result.stderr
        no_traceback(result)
    assert snapshot(root) == before and not (tmp_path / "fehlt").exists()


@pytest.mark.parametrize("damage", ["missing", "altered", "fifo"])
def test_get_of_a_damaged_object_is_an_integrity_failure(run, archive, tmp_path, damage):
    root, record_id, manifest = archive
    obj = root / manifest["archival_object"]
    if damage == "missing":
        obj.unlink()
    elif damage == "altered":
        obj.chmod(0o644)
        obj.write_bytes(obj.read_bytes() + b"\n% angehaengt")
    else:
        obj.unlink()
        os.mkfifo(obj)
    out = tmp_path / "kopie.pdf"
    result = run("get", record_id[:12], "-o", out)
    assert result.exit_code == 6, result.output
    assert record_id in result.stderr and manifest["archival_object"] in result.stderr
    assert {"missing": "missing", "altered": "altered", "fifo": "not a regular file"}[damage] in result.stderr
    no_traceback(result)
    assert not out.exists() and not list(tmp_path.rglob("*.part")) and not list(tmp_path.glob(".*"))


def test_get_never_follows_a_manifest_out_of_the_store(run, archive, tmp_path):
    root, record_id, manifest = archive
    outside = tmp_path / "geheim.bin"
    shutil.copy(root / manifest["original_object"], outside)  # same bytes, so the hash would match
    manifest_path = root / "records" / record_id[:2] / f"{record_id}.json"
    for rel in ("objects/../../geheim.bin", str(outside), "records/../../geheim.bin"):
        manifest_path.write_text(json.dumps({**manifest, "original_object": rel}))
        result = run("get", record_id, "--original", "-o", tmp_path / "raus.bin")
        assert result.exit_code == 6 and "leaves the object store" in result.stderr, result.stderr
        assert record_id in result.stderr
        assert not (tmp_path / "raus.bin").exists()


def test_broken_manifest_is_an_integrity_failure(run, archive):
    root, record_id, _ = archive
    (root / "records" / record_id[:2] / f"{record_id}.json").write_text("[1, 2]")
    for args in (("show", record_id), ("get", record_id, "-o", root.parent / "x.pdf")):
        result = run(*args)
        assert result.exit_code == 6 and "manifest" in result.stderr and record_id in result.stderr
        no_traceback(result)


@pytest.mark.slow  # a whole `akte` process
def test_get_as_a_subprocess(archive, tmp_path):
    root, record_id, _ = archive
    out = tmp_path / "out"
    out.mkdir()
    result = akte("--archive", root, "get", record_id, "-o", out)
    assert result.returncode == 0 and (out / "bauantrag.pdf").is_file(), result.stderr
    result = akte("--archive", root, "get", "../" + record_id[:10], "-o", out)
    assert result.returncode == 1 and "is not a record id" in result.stderr
    no_traceback(result)
    assert sorted(p.name for p in out.iterdir()) == ["bauantrag.pdf"]


# ---- settings files (issue 8, item 6) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[classify]\nrules = 5\n", "[classify] rules: 5 is not a table"),
        ("[classify.rules]\nrechnung = 'Rechnung'\n", "[classify.rules.rechnung]: 'Rechnung' is not a table"),
        ("[classify.rules.rechnung]\nkeywords = 'Rechnung'\n", "keywords: 'Rechnung' is not a non-empty list"),
        ("[classify.rules.rechnung]\npatterns = [5]\n", "patterns: [5] is not a non-empty list of texts"),
        ("[classify.rules.rechnung]\nkeyword = ['x']\n", "unknown setting 'keyword'"),
        ("[classify.rules.kochrezept]\nkeywords = ['x']\n", "'kochrezept' is not in the taxonomy"),
        ("[classify]\ntaxonomy = 'antrag'\n", "[classify] taxonomy: 'antrag' is not a non-empty list"),
        ("[classify]\nreview_threshold = 'hoch'\n", "[classify] review_threshold: 'hoch' is not a number"),
        ("[classify]\nreview_threshold = 1.5\n", "between 0 and 1"),
        ("[classify]\nreview_threshold = nan\n", "not a finite number"),
        ("[classify]\nmodel_path = 3\n", "[classify] model_path: 3 is not a text"),
        ("[ocr]\nworkers = 'vier'\n", "[ocr] workers: 'vier' is not a whole number"),
        ("[ocr]\nworkers = 2.5\n", "[ocr] workers: 2.5 is not a whole number"),
        ("[ocr]\nworkers = true\n", "[ocr] workers: True is not a whole number"),
        ("[ocr]\nworkers = -1\n", "must be at least 0"),
        ("[ocr]\ntimeout_per_page = 0\n", "must be above 0"),
        ("[ocr]\ndeskew = 5\n", "[ocr] deskew: 5 is not true or false"),
        ("[ocr]\nlanguages = ['deu']\n", "[ocr] languages: ['deu'] is not a text"),
        ("[ocr]\nlanguages.deu = 1\n", "[ocr] languages: {'deu': 1} is not a text"),
        ("ocr = 5\n", "[ocr]: 5 is not a table"),
        ("[elastic]\ntimeout = 'lang'\n", "[elastic] timeout: 'lang' is not a number"),
        ("[elastic]\nurl = 9200\n", "[elastic] url: 9200 is not a text"),
        ("backend = ['sqlite']\n", "backend: ['sqlite'] is not a text"),
    ],
)
def test_every_setting_is_type_checked(tmp_path, toml, expected):
    path = tmp_path / "akte.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert str(path) in str(info.value) and expected in str(info.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"AKTE_OCR_WORKERS": "zwei"}, "AKTE_OCR_WORKERS: 'zwei' is not a whole number"),
     ({"AKTE_OCR_DESKEW": "vielleicht"}, "AKTE_OCR_DESKEW: 'vielleicht' is not true or false"),
     ({"AKTE_REVIEW_THRESHOLD": "7"}, "AKTE_REVIEW_THRESHOLD: '7' must lie between 0 and 1")],
)
def test_environment_values_are_checked(tmp_path, env, expected):
    with pytest.raises(ConfigError, match=expected):
        load_settings(tmp_path, environ=env)
    assert load_settings(tmp_path, environ={"AKTE_OCR_WORKERS": "3", "AKTE_OCR_DESKEW": "no"}).ocr.workers == 3


def test_good_settings_still_load(tmp_path):
    (tmp_path / "akte.toml").write_text(
        "backend = 'sqlite'\n[ocr]\nworkers = 2\ndeskew = false\n[classify]\nreview_threshold = 1\n"
        "[classify.rules.rechnung]\nkeywords = ['Rechnungsnummer']\npatterns = ['Re\\.-Nr\\.\\s*\\d+']\n"
    )
    settings = load_settings(tmp_path, environ={})
    assert settings.ocr.workers == 2 and settings.ocr.deskew is False
    assert settings.classify.review_threshold == 1.0
    assert settings.classify.rules == (("rechnung", ("Rechnungsnummer",), (r"Re\.-Nr\.\s*\d+",)),)


@pytest.mark.slow  # a whole `akte` process
@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"[ocr]\nlanguages = 'd\xfcu'\n", "not UTF-8 (byte 0xfc in line 2)"),
     (b"[classify]\nrules = 5\n", "[classify] rules: 5 is not a table"),
     (b"[ocr\n", "Expected ']'")],
)
def test_bad_settings_file_in_a_subprocess(tmp_path, content, expected):
    archive = tmp_path / "archiv"
    archive.mkdir()
    (archive / "akte.toml").write_bytes(content)
    result = akte("--archive", archive, "list")
    assert result.returncode == 1 and expected in result.stderr and "akte.toml" in result.stderr, result.stderr
    no_traceback(result)


@pytest.mark.slow  # a whole `akte` process
def test_settings_file_that_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "akte.toml"
    os.mkfifo(fifo)  # opening it would block for ever
    result = akte("--config", fifo, "--archive", tmp_path, "list")
    assert result.returncode == 1 and "not a regular file" in result.stderr


@pytest.mark.slow  # a whole `akte` process
def test_invalid_rule_regex_fails_before_any_ocr(tmp_path):
    archive = tmp_path / "archiv"
    archive.mkdir()
    (archive / "akte.toml").write_text("[classify.rules.rechnung]\npatterns = ['Re-Nr (x+']\n")
    (tmp_path / "eingang").mkdir()
    draw_page(["Rechnung"]).save(tmp_path / "eingang" / "scan.png", dpi=(DPI, DPI))
    result = akte("--archive", archive, "ingest", tmp_path / "eingang")
    assert result.returncode == 1, result.stderr
    assert "[classify.rules.rechnung] pattern 'Re-Nr (x+': missing ), unterminated subpattern" in result.stderr
    no_traceback(result)
    assert sorted(p.name for p in archive.iterdir()) == ["akte.toml"]  # no journal, no objects: nothing ran


def test_rules_set_in_code_are_checked_when_the_run_starts():
    from dataclasses import replace

    from aktenarchiv.classify import load_stage_model
    from aktenarchiv.config import ClassifySettings

    bad = replace(ClassifySettings(), rules=(("rechnung", (), ("Re-Nr (x+",)),))
    with pytest.raises(ConfigError, match=r"\[classify.rules.rechnung\] pattern 'Re-Nr \(x\+': missing \)"):
        load_stage_model(bad, None)


# ---- the last-resort error handler ------------------------------------------------------------


def _app_that_fails(exc: BaseException) -> typer.Typer:
    app = typer.Typer(cls=AkteGroup)  # the root group of akte, which maps errors to exit codes

    @app.callback()
    def root() -> None:
        pass

    @app.command()
    def fail(verbose: bool = typer.Option(False, "--verbose")) -> None:
        import logging

        logging.getLogger().setLevel(logging.DEBUG if verbose else logging.WARNING)
        raise exc

    return app


def test_unexpected_exception_is_one_line_and_a_nonzero_exit():
    app = _app_that_fails(ZeroDivisionError("division by zero"))
    result = CliRunner().invoke(app, ["fail"])
    assert result.exit_code == 70
    assert "internal error: ZeroDivisionError: division by zero" in result.stderr
    assert "--verbose" in result.stderr and "Traceback" not in result.stderr
    verbose = CliRunner().invoke(app, ["fail", "--verbose"])
    assert verbose.exit_code == 70 and "Traceback" in verbose.stderr and "raise exc" in verbose.stderr


@pytest.mark.slow  # a whole `akte` process
@pytest.mark.parametrize("args", [("show", "--json"), ("show",)])
def test_a_reader_that_leaves_early_is_no_error(archive, args):
    # `akte show --json ID | head -c0`: stdout closes before akte writes.
    proc = subprocess.Popen([sys.executable, "-m", "aktenarchiv", "--archive", archive[0], *args, archive[1]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 1 and stderr == ""


def test_typer_usage_errors_stay_as_they_are(run):
    missing = run("get", "abcdef")
    assert missing.exit_code == 2 and "Missing option" in missing.output
    bad_flag = run("search", "x", "--from", "gestern")
    assert bad_flag.exit_code == 2 and "not a date" in bad_flag.output
    assert run("show").exit_code == 2 and run("--version").exit_code == 0


# ---- Elasticsearch credentials (issue 8, item 11) ---------------------------------------------


def _with_userinfo(url: str, userinfo: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{userinfo}@{rest}"


@pytest.mark.slow  # a whole `akte` process
def test_password_is_redacted_against_an_unreachable_port(tmp_path):
    url = "http://elastic:ge%2Fheim%40Wort@127.0.0.1:9"  # a well-formed URL; nothing listens there
    result = akte("--archive", tmp_path, "--backend", "elasticsearch", "-v", "search", "Antrag",
                  env={"AKTE_ES_URL": url, "AKTE_ES_PASSWORD": "zweites-Geheimnis"})
    assert result.returncode == 5 and "Elasticsearch at http://127.0.0.1:9 is unreachable" in result.stderr
    assert "127.0.0.1:9" in result.stderr  # the -v log lines are there, redacted
    for secret in ("ge%2Fheim", "ge/heim", "heim@Wort", "Wort", "zweites-Geheimnis"):
        assert secret not in result.stderr + result.stdout
    quiet = akte("--archive", tmp_path, "--backend", "elasticsearch", "search", "Antrag", env={"AKTE_ES_URL": url})
    assert quiet.returncode == 5 and "Traceback" not in quiet.stderr and "heim" not in quiet.stderr


@pytest.mark.es
@pytest.mark.parametrize("userinfo", ["elastic:Ge/Heimnis", "elastic:9200/Geheimnis", "u:Pa@ss/Ge?Heim#Wort"])
def test_unencoded_password_against_the_real_node(es_settings, tmp_path, userinfo):
    url = _with_userinfo(es_settings.url, userinfo)
    env = {"AKTE_ES_URL": url, "AKTE_ES_INDEX_PREFIX": es_settings.index_prefix}
    result = akte("--archive", tmp_path, "--backend", "elasticsearch", "-v", "search", "Antrag", env=env)
    assert result.returncode == 1 and "must be percent-encoded" in result.stderr, result.stderr
    assert "%2F" in result.stderr  # tells how to write it
    password = userinfo.partition(":")[2]
    parts = password.replace("?", "/").replace("#", "/").split("/")
    for part in {password, *(p for p in parts if len(p) >= 4 and not p.isdigit())}:
        assert part not in result.stderr + result.stdout, part


@pytest.mark.es
def test_encoded_password_works_and_never_shows_on_the_real_node(es_settings, tmp_path):
    url = _with_userinfo(es_settings.url, "elastic:ge%2Fheim%3FWort")
    env = {"AKTE_ES_URL": url, "AKTE_ES_INDEX_PREFIX": es_settings.index_prefix}
    result = akte("--archive", tmp_path, "--backend", "elasticsearch", "-v", "search", "Antrag", env=env)
    assert result.returncode == 0 and "no hits" in result.stderr, result.stderr
    assert "DEBUG" in result.stderr or "INFO" in result.stderr  # -v logged the requests …
    for secret in ("ge%2Fheim", "ge/heim", "heim?Wort", "%3FWort"):
        assert secret not in result.stderr + result.stdout  # … without the password


# ---- the shipped model and its scikit-learn pin -----------------------------------------------


def test_shipped_model_loads_and_the_pin_matches_it():
    import sklearn
    from aktenarchiv.classify import load_model, shipped_model_path
    from packaging.requirements import Requirement

    model = load_model(shipped_model_path())
    assert model.rank("Bescheid über die Festsetzung der Grundsteuer")[0][1] > 0
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    [pin] = [Requirement(d) for d in deps if Requirement(d).name == "scikit-learn"]
    assert pin.specifier.contains(model.meta["sklearn_version"]), (pin, model.meta["sklearn_version"])
    assert pin.specifier.contains(sklearn.__version__)
    # The pin allows no other minor version, which load_model would refuse.
    major, minor = map(int, model.meta["sklearn_version"].split(".")[:2])
    assert not pin.specifier.contains(f"{major}.{minor + 1}.0")
    assert not pin.specifier.contains(f"{major}.{minor - 1}.99")
