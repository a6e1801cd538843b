"""scripts/module_map.py: the package's modules at a git revision, read without a checkout."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _module_map():
    spec = importlib.util.spec_from_file_location("module_map", REPO / "scripts" / "module_map.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_map_lists_package_modules_with_lines_and_docstring() -> None:
    rows = {path: (lines, doc) for path, lines, doc in _module_map().module_map("HEAD")}
    committed = subprocess.run(["git", "-C", str(REPO), "ls-files", "*.py"], capture_output=True, text=True,
                               check=True).stdout.split()
    assert "pipeline.py" in rows and "ocr/tools/process.py" in rows
    assert not [p for p in rows if p.split("/")[0] in ("tests", "bench", "scripts")]
    assert set(rows) <= set(committed)
    lines, doc = rows["cli.py"]
    assert lines == len(subprocess.run(["git", "-C", str(REPO), "show", "HEAD:cli.py"], capture_output=True,
                                       text=True, check=True).stdout.splitlines())
    assert doc.startswith("The ``akte`` command")


def test_summary_is_the_first_docstring_line() -> None:
    summary = _module_map().summary
    assert summary('"""First line.\n\nMore."""\nx = 1\n') == "First line."
    assert summary("x = 1\n") == ""
    assert summary("def (:\n") == "(does not parse)"
