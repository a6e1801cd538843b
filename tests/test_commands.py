"""The command tree of ``akte``: every command documented, errors mapped in one place."""

import pytest
import typer
from aktenarchiv.cli import app
from typer.testing import CliRunner


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, typer.core.TyperGroup):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(app)))


def test_the_command_tree_is_complete():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert names >= {"ingest", "search", "list", "show", "get", "verify", "reindex", "label", "train", "review",
                     "classify-eval", "migrate", "migrate import-folder", "migrate import-paperless",
                     "migrate export", "migrate import", "qa", "qa approve", "qa reject", "batch",
                     "batch show", "serve", "user", "user add", "user list", "user disable", "user token"}


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) or "akte" for p, _ in COMMANDS])
def test_every_command_has_help(path, command):
    assert (command.help or "").strip(), f"akte {' '.join(path)} has no help text"
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_errors_of_a_merged_group_become_exit_codes(cli):
    # label lives in commands/classify.py; its error is mapped by the root group like any other.
    result = cli("label", "abcdef123456", "memo")
    assert result.exit_code == 1 and "error: unknown type 'memo'" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_errors_of_a_named_group_become_exit_codes(cli, tmp_path):
    result = cli("migrate", "import", tmp_path / "no-export")
    assert result.exit_code == 2 and "error:" in result.stderr and "not an aktenarchiv export" in result.stderr


def test_errors_of_the_scan_station_groups_become_exit_codes(cli):
    # qa and batch live in commands/qa.py and commands/batch.py; no handler of their own.
    result = cli("batch", "show", "B1")
    assert result.exit_code == 1 and "error: no batch named 'B1'" in result.stderr
    result = cli("qa", "approve", "not-an-id")
    assert result.exit_code == 1 and "is not a record id" in result.stderr
