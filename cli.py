"""The ``akte`` command: global options, and the command groups of ``commands/`` joined once.

Each group is a ``typer.Typer()`` in its own module; joined without a name, its commands
stand at the top level (``akte ingest``, ``akte label``, ``akte serve``); ``migrate``, ``audit``,
``qa``, ``batch`` and ``user`` are named groups.
Errors become exit codes in one place, the root group (``commands._errors.AkteGroup``).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .commands import audit, batch, classify, index, migrate, qa, records, release, web
from .commands._common import out
from .commands._errors import AkteGroup, keep_secret, setup_logging
from .config import load_settings

app = typer.Typer(
    cls=AkteGroup,
    help="aktenarchiv: ingest scanned records, OCR them, archive them verifiably, search them in German.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(records.app)
app.add_typer(release.app)  # akte release; it also adds sample and signoff to akte qa
app.add_typer(index.app)
app.add_typer(classify.app)
app.add_typer(migrate.app, name="migrate")
app.add_typer(audit.app, name="audit")
app.add_typer(qa.app, name="qa")
app.add_typer(batch.app, name="batch")
app.add_typer(web.app)
app.add_typer(web.user_app, name="user")


def _print_version(value: bool) -> None:
    if value:
        out.print(f"aktenarchiv {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    archive: Annotated[Optional[Path], typer.Option("--archive", "-a", help="Archive directory [env AKTE_ARCHIVE].")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Settings file (TOML) [env AKTE_CONFIG].")] = None,
    backend: Annotated[Optional[str], typer.Option("--backend", help="sqlite (default) or elasticsearch [env AKTE_BACKEND].")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs and tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    """Global options; the settings are built once here."""
    setup_logging(None, verbose)  # stderr first: loading the settings may fail
    ctx.obj = load_settings(archive, config, {"backend": backend})
    setup_logging(ctx.obj.archive_dir, verbose)
    keep_secret(ctx.obj.elastic.secrets())


def _terminate(signum, frame) -> None:
    # A service manager's SIGTERM ends a batch like Ctrl-C: workers stopped, journal intact.
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    app()

