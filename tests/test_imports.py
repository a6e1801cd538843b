"""Imports inside the package run one way: no cycles, and each layer imports only lower ones.

The graph is read from the source (``import``/``from`` statements, parsed with ``ast``),
not from a running interpreter, so a cycle that happens to import fine today still fails
here. Cycles are looked for among module-level imports (those run on import); the layers
hold for every import, also the late ones inside functions. Also here, as part of the same
shape: no module grows past the developers' guide's 400 lines.
"""

from __future__ import annotations

import ast
import functools
import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository root is the package
PACKAGE = "aktenarchiv"

# Layers from the top down; a module may import from lower layers, and from its own layer.
# Among the stages, each package is a unit of its own: ingest, ocr and classify do not
# import each other (what they share lives in the base modules).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # cli.py joins the command groups of commands/ (one module each, shared helpers in _common).
    ("cli", ("__main__", "cli", "commands", "commands.*")),
    ("web", ("web", "web.*")),
    ("jobs", ("migrate", "migrate.*")),
    # workers, batches and qa arrive with the worker-pool and scan-station changes.
    ("pipeline", ("pipeline", "run", "workers", "batches", "qa", "qa_decisions", "sampling", "release")),
    ("stages", ("ingest", "ingest.*", "ocr", "ocr.*", "classify", "classify.*")),
    ("store", ("archive", "archive.*")),
    ("settings", ("config", "config_sources")),
    ("base", ("__init__", "errors", "models", "fsio", "textnorm", "states", "logs", "pdftext")),
)
PEER_UNITS = {"stages"}

def _modules() -> dict[str, Path]:
    """Every module of the installed packages, by dotted name relative to the package."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    modules = {}
    for package in config["tool"]["setuptools"]["packages"]:
        rel = package.removeprefix(PACKAGE).lstrip(".")
        folder = ROOT.joinpath(*rel.split(".")) if rel else ROOT
        for path in folder.glob("*.py"):
            name = ".".join(p for p in (rel, path.stem) if p)
            modules[(rel or "__init__") if path.stem == "__init__" else name] = path
    return modules


def _top_level(body: list[ast.stmt]):
    """Import statements run when the module is imported (not those under TYPE_CHECKING)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _top_level(block)
        elif isinstance(node, ast.With):
            yield from _top_level(node.body)


@functools.cache
def _parsed(path: Path) -> ast.Module:
    """A module's syntax tree, parsed once for all the tests here (read, never changed)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def _graph(module_level: bool = True) -> dict[str, set[str]]:
    """Module → the package's modules it imports (at module level, or anywhere)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = [] if name == "__init__" else name.split(".")
        package = here if is_package else here[:-1]
        tree = _parsed(path)
        if module_level:
            imports = list(_top_level(tree.body))
        else:
            imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        for node in imports:
            if isinstance(node, ast.Import):
                targets = [(alias.name, None) for alias in node.names]
            elif node.level:
                base = package[: len(package) - (node.level - 1)]
                dotted = ".".join([PACKAGE, *base, *([node.module] if node.module else [])])
                targets = [(dotted, alias.name) for alias in node.names]
            else:
                targets = [(node.module or "", alias.name) for alias in node.names]
            for dotted, member in targets:
                if dotted != PACKAGE and not dotted.startswith(PACKAGE + "."):
                    continue
                rel = dotted.removeprefix(PACKAGE).lstrip(".") or "__init__"
                sub = f"{rel}.{member}" if rel != "__init__" else member
                target = sub if member and sub in modules else rel
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _layer(module: str) -> tuple[int, str]:
    """(rank, unit): rank 0 is the top layer; the unit is the module's top-level package."""
    for rank, (layer, patterns) in enumerate(LAYERS):
        if any(fnmatch(module, pattern) for pattern in patterns):
            return rank, (module.split(".")[0] if layer in PEER_UNITS else layer)
    raise AssertionError(f"{PACKAGE}.{module} belongs to no layer: add it to LAYERS in {Path(__file__).name}")


def test_the_graph_sees_the_imports_it_should():
    """Guards the parser itself: known edges of each import form are found."""
    graph = _graph()
    assert "archive.base" in graph["archive.registry"]  # from .base import …
    assert "errors" in graph["ocr.tools.ocrmypdf"]  # from ...errors import …
    assert "ocr.tools.ocrmypdf" in graph["ocr.recognize"]  # from .tools import ocrmypdf as …
    assert "commands.records" in graph["cli"]  # from .commands import records
    assert "run" not in graph["commands.index"]  # imported inside a function: not module level


def test_no_import_cycles():
    # Imports inside functions count too: a lazy import only hides a cycle, it does not remove it.
    cycles = _cycles(_graph(module_level=False))
    assert not cycles, "import cycles: " + "; ".join(" ↔ ".join(sorted(c)) for c in cycles)


def test_imports_point_down_the_layers():
    wrong = []
    for module, targets in sorted(_graph(module_level=False).items()):
        rank, unit = _layer(module)
        for target in sorted(targets):
            target_rank, target_unit = _layer(target)
            if target_rank < rank or (target_rank == rank and target_unit != unit):
                wrong.append(f"{module} → {target}")
    assert not wrong, "imports against the layers (" + " > ".join(n for n, _ in LAYERS) + "): " + ", ".join(wrong)


def test_the_search_interface_knows_no_backend():
    """Backends import the interface; the registry above both picks one."""
    # Text analysis (analysis, identifiers), the query language and record fields (query,
    # recordfields) are shared below the interface; everything else in archive/ that stores
    # or searches is a backend or stands above the interface.
    shared = {"archive.base", "archive.analysis", "archive.identifiers", "archive.query", "archive.recordfields"}
    backends = {m for m in _modules() if m.startswith("archive.")} - shared
    assert not _graph(module_level=False)["archive.base"] & backends


MAX_LINES = 400  # the developers' guide: modules of 100-400 lines


def test_no_module_is_longer_than_the_guide_allows():
    too_long = {name: lines for name, path in sorted(_modules().items())
                if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines (split them along a seam): {too_long}"


def test_every_package_folder_is_installed():
    """A folder of modules missing from pyproject's packages would be left out of the wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join([PACKAGE, *init.parent.relative_to(ROOT).parts])
        for init in ROOT.rglob("__init__.py")
        if not ({"tests", ".venv", ".git", "build"} & set(init.relative_to(ROOT).parts))
    }
    assert found == declared


def test_tests_skip_only_where_ci_fails_instead():
    """A skip in CI would pass a suite that did not check (tests/ci.py): every test skips through
    ``ci.unavailable``, which fails when CI=true."""
    ways_out = ("pytest.skip(", "mark.skip", "skipif", "importorskip", "pytest.xfail", "mark.xfail")
    found = [f"{path.name}:{number}" for path in sorted((ROOT / "tests").glob("*.py")) if path.name != "ci.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if any(way in line for way in ways_out) and "ways_out" not in line]
    assert found == []
