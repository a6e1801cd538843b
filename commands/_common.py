"""What every command group of ``akte`` shares: consoles, progress bars, settings, JSON output,
and the one place where errors become exit codes (:class:`AkteGroup`).

Data and JSON go to stdout; progress bars, summaries of problems and errors to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from typer.core import TyperGroup

from ..config import Settings, load_settings
from ..errors import AkteError

out = Console(soft_wrap=True)
err = Console(stderr=True)


class AkteGroup(TyperGroup):
    """The root command group: turns our typed errors into a message on stderr and the matching exit code.

    Every command, and the root callback, runs inside the root group's ``invoke``, so this
    is the one place that maps errors, for the console script and ``CliRunner`` alike.
    """

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AkteError as exc:
            err.print(f"[red]error:[/red] {escape(exc.message)}")
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                err.print_exception()
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/yellow]: run the same command again to continue")
            raise typer.Exit(130) from None


def emit_json(data: Any) -> None:
    """Write JSON to stdout as it is encoded: a report of 100 000 items never sits in memory
    as one string (rich's pretty printer would also build styled text for every token)."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    sys.stdout.flush()


def settings_of(ctx: typer.Context) -> Settings:
    """The run's settings, built in the root callback."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = load_settings()
    return root.obj


class _Rate(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        unit = task.fields.get("unit", self.unit)
        return Text(f"{speed:.2f} {unit}/s" if speed else f"– {unit}/s", style="cyan")


class BarProgress:
    """Draws the pipeline's progress phases as bars on stderr."""

    def __init__(self, progress: Progress, fixed_total: int | None = None, label: str = "") -> None:
        self.progress = progress
        self.task = None
        if fixed_total is not None:  # migrations: one bar of items for the whole job
            self.task = progress.add_task(label, total=fixed_total)
            self.fixed = True
        else:
            self.fixed = False

    def phase(self, label: str, total: int, unit: str) -> None:
        if self.fixed:
            return
        if self.task is not None:
            self.progress.update(self.task, visible=False)
        self.task = self.progress.add_task(label, total=total, unit=unit)

    def advance(self, amount: int, name: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=amount)


def progress_bars(unit: str = "pages") -> Progress:
    """Progress bars on stderr with a rate in ``unit`` per second and an ETA."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        _Rate(unit), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=err, transient=False,
    )
