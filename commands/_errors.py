"""How ``akte`` reports problems: typed errors become exit codes, nothing else leaks.

:class:`AkteGroup` is the root command group; every command and the root callback run inside
its ``invoke``, so it is the one place where errors become exit codes: an ``AkteError``
prints one line and exits with its code; any other exception is a bug, reported as
``internal error: <type>: <message>`` (exit 70). The log file of the archive keeps every
error with its traceback; stderr shows the traceback only under ``--verbose``. Typer's own
exits and usage errors pass through. Every message, log line and traceback goes through
:func:`config.redact` first, so the run's secrets (Elasticsearch password, API key, URL user
info) are never printed.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from typer.core import TyperGroup

from .. import logs
from ..config import Settings, redact
from ..errors import AkteError, ExitCode

# Characters a terminal acts on instead of showing them: C0/C1 controls but tab and newline
# (escape sequences can clear lines, move the cursor, set the title), bidi overrides and line
# separators (they make text read differently than it is stored).
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with the characters a terminal would act on shown as escapes (``\\x1b``)."""
    return _HIDDEN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class SafeConsole(Console):
    """A console that never lets printed text drive the terminal: titles, reasons, notes and
    names come from users, scanners and migrated systems, and an auditor must see them as
    they are stored (an escape sequence in a QA reason could otherwise hide audit lines)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """See ``rich.console.Console.print``; strings are passed through :func:`visible`."""
        super().print(*(visible(o) if isinstance(o, str) else o for o in objects), **kwargs)


err = SafeConsole(stderr=True, soft_wrap=True)  # messages are never broken inside a path or a reason
log = logging.getLogger(__name__)


class _Redactor(logging.Filter):
    """Takes the run's secrets (Elasticsearch password, API key, URL user info) out of every
    log line, on every handler: the HTTP client logs node URLs, even at the default WARNING
    level. (Tracebacks stay in the log file; stderr shows them only with ``--verbose``.)"""

    secrets: tuple[str, ...] = ()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg, record.args = redact(record.getMessage(), self.secrets), ()
            if record.exc_info and not record.exc_text:
                record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip(), self.secrets)
        return True


_REDACTOR = _Redactor()


def _print_traceback(exc: BaseException) -> None:
    """The traceback, with the secrets taken out, when ``--verbose`` asked for it."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        err.print(Text(redact("".join(traceback.format_exception(exc)), _REDACTOR.secrets)), soft_wrap=True)


class AkteGroup(TyperGroup):
    """The root command group: turns errors into a message on stderr and the matching exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AkteError as exc:
            log.info("%s (exit %d)", exc.message, int(exc.exit_code), exc_info=True, extra={"shown": True})
            err.print(f"[red]error:[/red] {escape(redact(exc.message, _REDACTOR.secrets))}")
            _print_traceback(exc)
            raise typer.Exit(int(exc.exit_code)) from None
        except BrokenPipeError:
            # The reader left (`akte list --json | head`): end quietly, as rich does for
            # its own output, with stdout on /dev/null so the final flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            log.info("interrupted", extra={"shown": True})
            err.print("[yellow]interrupted[/yellow]: run the same command again to continue")
            raise typer.Exit(130) from None
        except Exception as exc:
            if type(exc).__module__.partition(".")[0] in ("typer", "click"):
                raise  # Exit, Abort, BadParameter …: Typer reports these itself
            log.error("internal error", exc_info=True, extra={"shown": True})
            err.print(f"[red]internal error:[/red] {escape(redact(f'{type(exc).__name__}: {exc}', _REDACTOR.secrets))}")
            where = logs.log_path(ctx.obj.archive_dir) if isinstance(ctx.obj, Settings) else None
            if not logging.getLogger().isEnabledFor(logging.DEBUG):
                kept = f"the traceback is in {escape(str(where))}; " if where and where.is_file() else ""
                err.print(f"[dim]{kept}rerun with --verbose to see it here, and please report it[/dim]")
            _print_traceback(exc)
            raise typer.Exit(int(ExitCode.INTERNAL)) from None


def setup_logging(archive_dir: Path | None, verbose: bool) -> None:
    """Log to stderr (DEBUG with ``--verbose``, else WARNING) and to the archive's log file,
    through the redacting filter."""
    logs.setup_logging(archive_dir, verbose, filters=(_REDACTOR,))
    if archive_dir is None:
        _REDACTOR.secrets = ()


def keep_secret(secrets: tuple[str, ...]) -> None:
    """Texts that no message, log line or traceback of this run may show."""
    _REDACTOR.secrets = secrets
