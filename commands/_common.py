"""What every command group of ``akte`` shares: consoles, progress bars, settings, JSON output.

(Errors become exit codes in :mod:`._errors`.)

Data and JSON go to stdout; progress bars, summaries of problems and errors to stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
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

from ..config import Settings, load_settings
from ._errors import SafeConsole, err

out = SafeConsole(soft_wrap=True)


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


def print_index_problems(report) -> None:
    """What a run's ``run.BatchReport`` says about the search index, on stderr."""
    if report.index_message:
        err.print(f"[yellow]warning:[/yellow] {escape(report.index_message)}")
    for record_id, reason in report.index_errors.items():
        err.print(f"  [red]not indexed[/red] {record_id[:12]}: {escape(reason)}")
    if report.index_given_up:
        err.print(f"[yellow]{report.index_given_up} record(s) were refused by the search index repeatedly[/yellow] "
                  "and are no longer retried by each run: see `akte verify`, retry with `akte reindex --pending`")
